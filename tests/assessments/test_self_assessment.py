"""The unit's self-assessment: item input, versions, roles, deadlines, sign-off (DESIGN §5, §7)."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments import services
from assessments.confirm import CONFIRM_FIELD
from assessments.models import (
    AssessmentState,
    Assignment,
    Event,
    EventAction,
    Evidence,
    EvidenceLink,
    ItemScore,
    Round,
    UnitAssessment,
)
from tests.builders import small_rows
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def assessment(criteria_sets: Any, units: Any, open_round: Round) -> UnitAssessment:
    return services.get_or_create_assessment(open_round, units["STP"])


def item_url(code: str, unit: str = "STP") -> str:
    return reverse("item_edit", args=[2016, unit, code])


def item(assessment: UnitAssessment, code: str) -> ItemScore:
    return ItemScore.objects.select_related("criterion").get(
        assessment=assessment, criterion__code=code
    )


def save(client: Any, assessment: UnitAssessment, code: str, **data: Any) -> Any:
    data.setdefault("version", item(assessment, code).version)
    return client.post(item_url(code), data)


@pytest.mark.parametrize(
    ("code", "value", "stored", "points"),
    [
        ("1.1.1", "có", "có", "0.50"),  # yes_no
        ("1.1.1", "Không", "không", "0.00"),
        ("1.1.2", "97,5", "97,5", "0.50"),  # threshold 100:1; 80:0.5; 0:0 with a decimal comma
        ("3.3", "3/4", "3/4", "0.00"),  # threshold 100:5; 98:4; 95:3; 90:1; 0:0 → 75 % → 0
        ("3.3", "49/50", "49/50", "4.00"),  # 98 % exactly on the bound
        ("1.6", "3/4", "3/4", "1.50"),  # proportional 2 × 75/100
        ("7.3", "1,5", "1,5", "1.50"),  # manual, step 0.5
        ("1.2", "2", "2", "0.50"),  # deduction 1 − 2 × 0.25
        ("1.5", "1 sáng kiến", "1 sáng kiến", "0.50"),  # choice
    ],
)
def test_the_focal_officer_saves_every_kind_of_input_to_the_cent(
    focal: Any, assessment: UnitAssessment, code: str, value: str, stored: str, points: str
) -> None:
    response = save(client_for(focal), assessment, code, value=value)
    assert response.status_code == 200, response.content.decode()[:500]
    saved = item(assessment, code)
    assert (saved.self_value, saved.self_score, saved.version) == (stored, Decimal(points), 1)
    event = Event.objects.get(action=EventAction.SCORE_SAVED, criterion=saved.criterion)
    assert event.actor == focal and event.detail["new"]["score"] == points


@pytest.mark.parametrize(
    ("code", "value", "fragment"),
    [
        ("7.3", "7,5", "từ 0 đến 7"),  # above the maximum
        ("7.3", "1,25", "theo bước 0,5"),  # off the step
        ("1.5", "Ba sáng kiến", "Từ 2 sáng kiến trở lên"),  # unknown level, lists the levels
        ("1.2", "-1", "số nguyên"),  # negative count
        ("1.1.2", "3/0", "a/b"),
        ("1.1.1", "có lẽ", "có"),
    ],
)
def test_it_refuses_invalid_input_naming_the_item_and_the_allowed_values_and_saves_nothing(
    focal: Any, assessment: UnitAssessment, code: str, value: str, fragment: str
) -> None:
    response = save(client_for(focal), assessment, code, value=value)
    body = response.content.decode()
    assert response.status_code == 422
    assert code in body and fragment in body
    if code not in ("1.5", "1.1.1"):  # a select or radio can only show its own options
        assert f'value="{value}"' in body  # what was typed comes back
    assert item(assessment, code).version == 0
    assert not Event.objects.filter(action=EventAction.SCORE_SAVED).exists()


def test_not_applicable_needs_a_reason_and_a_leaf_that_allows_it(
    focal: Any, assessment: UnitAssessment
) -> None:
    client = client_for(focal)
    assert save(client, assessment, "3.3", not_applicable="on", na_reason="  ").status_code == 422
    assert (
        save(client, assessment, "1.1.1", not_applicable="on", na_reason="Không có").status_code
        == 422
    )
    response = save(
        client, assessment, "3.3", not_applicable="on", na_reason="Đơn vị không giải quyết TTHC"
    )
    assert response.status_code == 200
    saved = item(assessment, "3.3")
    assert saved.not_applicable and saved.self_score is None


def test_the_second_of_two_people_saving_the_same_item_is_told_and_sees_the_other_value(
    focal: Any, leader: Any, assessment: UnitAssessment
) -> None:
    assert save(client_for(focal), assessment, "1.1.1", value="có", version=0).status_code == 200
    response = save(client_for(leader), assessment, "1.1.1", value="không", version=0)
    body = response.content.decode()
    assert response.status_code == 409
    assert "stp.daumoi" in body  # who saved first
    assert 'value="có" id="v-yes" checked' in body  # the other value is shown
    assert item(assessment, "1.1.1").self_value == "có"  # nothing overwritten


def test_a_contributor_edits_only_the_items_assigned_to_them(
    contributor: Any, focal: Any, assessment: UnitAssessment
) -> None:
    field = assessment.criteria_set.criteria.get(code="2")
    services.assign_items(
        assessment, field, contributor, by=focal, due_date=datetime.date(2026, 12, 1)
    )
    client = client_for(contributor)
    assert save(client, assessment, "2.2.1", value="có").status_code == 200
    assert save(client, assessment, "1.1.1", value="có").status_code == 403
    assert item(assessment, "1.1.1").version == 0


def test_assignment_e_mails_the_assignee(
    contributor: Any,
    focal: Any,
    assessment: UnitAssessment,
    django_capture_on_commit_callbacks: Any,
) -> None:
    contributor.email = "cv1@stp.example"
    contributor.save()
    field = assessment.criteria_set.criteria.get(code="3")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(focal).post(
            reverse("assignments", args=[2016, "STP"]),
            {"criterion": field.pk, "assignee": contributor.pk},
        )
    assert response.status_code == 302
    assert Assignment.objects.filter(assessment=assessment, assignee=contributor).count() == 1
    assert mail.outbox[-1].to == ["cv1@stp.example"]
    assert "3 Cải cách thủ tục hành chính" in mail.outbox[-1].body


def test_the_assignments_page_is_for_the_leader_and_focal_officer(
    contributor: Any, other_unit_focal: Any, no_role_user: Any, assessment: UnitAssessment
) -> None:
    url = reverse("assignments", args=[2016, "STP"])
    assert client_for(contributor).get(url).status_code == 403
    assert client_for(other_unit_focal).get(url).status_code == 404
    assert client_for(no_role_user).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 302


def test_a_user_of_another_unit_gets_404_and_an_account_without_role_403(
    other_unit_focal: Any, no_role_user: Any, assessment: UnitAssessment
) -> None:
    for url in (reverse("unit_workspace", args=[2016, "STP"]), item_url("1.1.1")):
        assert client_for(other_unit_focal).get(url).status_code == 404
        assert client_for(no_role_user).get(url).status_code == 403
        assert client_for(None).get(url).status_code == 302
    assert (
        client_for(other_unit_focal)
        .post(item_url("1.1.1"), {"value": "có", "version": 0})
        .status_code
        == 404
    )


def test_province_staff_read_a_unit_but_cannot_write(
    appraiser: Any, assessment: UnitAssessment
) -> None:
    client = client_for(appraiser)
    assert client.get(reverse("unit_workspace", args=[2016, "STP"])).status_code == 200
    assert client.get(item_url("1.1.1")).status_code == 200
    assert save(client, assessment, "1.1.1", value="có").status_code == 403


def test_any_write_after_submission_is_refused_even_as_a_direct_post(
    focal: Any, assessment: UnitAssessment
) -> None:
    UnitAssessment.objects.filter(pk=assessment.pk).update(
        state=AssessmentState.SUBMITTED, submitted_at=timezone.now()
    )
    response = save(client_for(focal), assessment, "1.1.1", value="có")
    assert response.status_code == 422 and "đã nộp" in response.content.decode()
    assert item(assessment, "1.1.1").version == 0


def test_any_write_after_the_deadline_is_refused_unless_the_unit_has_an_extension(
    focal: Any, secretariat_lead: Any, assessment: UnitAssessment, open_round: Round
) -> None:
    open_round.self_assessment_deadline = timezone.now() - datetime.timedelta(minutes=1)
    open_round.save()
    client = client_for(focal)
    response = save(client, assessment, "1.1.1", value="có")
    assert response.status_code == 422 and "hạn" in response.content.decode()
    services.grant_extension(
        assessment,
        by=secretariat_lead,
        until=timezone.now() + datetime.timedelta(days=2),
        reason="Sự cố mạng",
    )
    assert save(client, assessment, "1.1.1", value="có").status_code == 200


def test_the_server_shows_the_points_before_saving(focal: Any, assessment: UnitAssessment) -> None:
    response = client_for(focal).post(
        reverse("item_preview", args=[2016, "STP", "1.6"]), {"value": "45/50"}
    )
    assert response.status_code == 200 and "1,8" in response.content.decode()
    assert item(assessment, "1.6").version == 0


def test_the_item_shows_its_history_old_to_new(focal: Any, assessment: UnitAssessment) -> None:
    client = client_for(focal)
    save(client, assessment, "1.1.2", value="80")
    save(client, assessment, "1.1.2", value="100")
    body = client.get(item_url("1.1.2")).content.decode()
    assert "80 → <strong>100</strong>" in body
    assert Event.objects.filter(action=EventAction.SCORE_SAVED).count() == 2


def fill_all(assessment: UnitAssessment, user: Any) -> None:
    for entry in ItemScore.objects.filter(assessment=assessment).select_related("criterion"):
        method = entry.criterion.method
        value = {"yes_no": "không", "threshold": "0", "proportional": "0", "manual": "0"}.get(
            method
        )
        if method == "deduction":
            value = "99"
        if method == "choice":
            value = entry.criterion.params.split(";")[-1].split("=")[0].strip()
        if value is not None:
            # Some levels give points even at 0 % (7.2 "0:1"): those need an explanation.
            entry_input = services.ItemInput(
                value=value, no_evidence_reason="Không phát sinh văn bản"
            )
            services.save_item(entry, entry_input, by=user, expected_version=entry.version)


def test_the_leader_submits_once_everything_is_scored_and_the_secretariat_is_told(
    leader: Any,
    secretariat_lead: Any,
    assessment: UnitAssessment,
    django_capture_on_commit_callbacks: Any,
) -> None:
    secretariat_lead.email = "cchc@snv.example"
    secretariat_lead.save()
    client = client_for(leader)
    url = reverse("sign_off", args=[2016, "STP"])
    response = client.post(
        url, {"action": "submit", "difficulties": "Thiếu nhân lực", "recommendations": ""}
    )
    assert response.status_code == 422
    assert "1.1.1" in response.content.decode()  # every failing item is listed
    assert "Thiếu nhân lực" in response.content.decode()  # the typed text comes back
    fill_all(assessment, leader)
    one = item(assessment, "1.1.1")
    services.save_item(one, services.ItemInput(value="có"), by=leader, expected_version=one.version)
    confirmed = {"action": "submit", "difficulties": "", "recommendations": "", CONFIRM_FIELD: "1"}
    response = client.post(url, confirmed)
    assert (
        response.status_code == 422 and "không có tài liệu kiểm chứng" in response.content.decode()
    )
    one = item(assessment, "1.1.1")
    services.save_item(
        one,
        services.ItemInput(value="có", no_evidence_reason="Văn bản mật"),
        by=leader,
        expected_version=one.version,
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {
                "action": "submit",
                "difficulties": "",
                "recommendations": "Tập huấn",
                CONFIRM_FIELD: "1",
            },
        )
    assert response.status_code == 302
    submitted = UnitAssessment.objects.get(pk=assessment.pk)
    assert submitted.state == AssessmentState.SUBMITTED and submitted.submitted_by == leader
    assert Event.objects.filter(action=EventAction.SUBMITTED, unit=assessment.unit).count() == 1
    assert mail.outbox[-1].to == ["cchc@snv.example"]


def test_evidence_satisfies_the_rule_of_section_7(leader: Any, assessment: UnitAssessment) -> None:
    fill_all(assessment, leader)
    one = item(assessment, "1.1.1")
    services.save_item(one, services.ItemInput(value="có"), by=leader, expected_version=one.version)
    document = Evidence.objects.create(
        unit=assessment.unit,
        round=assessment.round,
        file="x",
        original_name="kh.pdf",
        title="Kế hoạch",
        size=10,
        content_type="application/pdf",
        sha256="a" * 64,
    )
    EvidenceLink.objects.create(evidence=document, item=one, page_ref="trang 1")
    services.submit_assessment(assessment, by=leader)
    assert UnitAssessment.objects.get(pk=assessment.pk).state == AssessmentState.SUBMITTED


@pytest.mark.parametrize("persona", ["focal", "contributor"])
def test_only_the_leader_submits(persona: str, request: Any, assessment: UnitAssessment) -> None:
    user = request.getfixturevalue(persona)
    response = client_for(user).post(reverse("sign_off", args=[2016, "STP"]), {"action": "submit"})
    assert response.status_code == 403
    assert UnitAssessment.objects.get(pk=assessment.pk).state == AssessmentState.DRAFT


def test_the_focal_officer_sends_to_the_leader(
    focal: Any, leader: Any, assessment: UnitAssessment, django_capture_on_commit_callbacks: Any
) -> None:
    leader.email = "giamdoc@stp.example"
    leader.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(focal).post(
            reverse("sign_off", args=[2016, "STP"]), {"action": "send"}
        )
    assert response.status_code == 302
    assert UnitAssessment.objects.get(pk=assessment.pk).sent_to_leader_at is not None
    assert mail.outbox[-1].to == ["giamdoc@stp.example"]


def test_the_secretariat_lead_returns_a_submitted_unit_before_the_deadline_only(
    leader: Any, secretariat_lead: Any, focal: Any, assessment: UnitAssessment, open_round: Round
) -> None:
    UnitAssessment.objects.filter(pk=assessment.pk).update(
        state=AssessmentState.SUBMITTED, submitted_at=timezone.now()
    )
    url = reverse("unit_deadline", args=[2016, "STP"])
    assert client_for(focal).post(url, {"action": "return", "reason": "x"}).status_code == 403
    assert (
        client_for(secretariat_lead).post(url, {"action": "return", "reason": ""}).status_code
        == 422
    )
    response = client_for(secretariat_lead).post(
        url, {"action": "return", "reason": "Thiếu tài liệu mục 3"}
    )
    assert response.status_code == 302
    assert UnitAssessment.objects.get(pk=assessment.pk).state == AssessmentState.DRAFT
    assert Event.objects.get(action=EventAction.RETURNED_TO_DRAFT).reason == "Thiếu tài liệu mục 3"
    UnitAssessment.objects.filter(pk=assessment.pk).update(
        state=AssessmentState.SUBMITTED, submitted_at=timezone.now()
    )
    Round.objects.filter(pk=open_round.pk).update(
        self_assessment_deadline=timezone.now() - datetime.timedelta(hours=1)
    )
    with pytest.raises(services.ServiceError):
        services.return_to_draft(
            UnitAssessment.objects.get(pk=assessment.pk), by=secretariat_lead, reason="muộn"
        )


def test_lock_deadlines_locks_drafts_once_and_a_second_run_changes_nothing(
    assessment: UnitAssessment, open_round: Round, units: Any
) -> None:
    Round.objects.filter(pk=open_round.pk).update(
        self_assessment_deadline=timezone.now() - datetime.timedelta(minutes=5)
    )
    call_command("lock_deadlines", verbosity=0)
    states = dict(UnitAssessment.objects.values_list("unit__code", "state"))
    # STP had opened its assessment; SYT and HBS never did and are locked empty (§4.4).
    assert states == {"STP": "submitted", "SYT": "submitted", "HBS": "submitted"}
    assert UnitAssessment.objects.filter(auto_locked=True).count() == 3
    rows = UnitAssessment.objects.order_by("pk").values_list("state", "submitted_at", "auto_locked")
    before = (Event.objects.count(), list(rows))
    call_command("lock_deadlines", verbosity=0)
    assert (Event.objects.count(), list(rows)) == before


def test_lock_deadlines_spares_a_unit_with_an_extension(
    assessment: UnitAssessment, open_round: Round, secretariat_lead: Any
) -> None:
    services.grant_extension(
        assessment,
        by=secretariat_lead,
        until=open_round.self_assessment_deadline + datetime.timedelta(days=1),
        reason="Lũ lụt",
    )
    Round.objects.filter(pk=open_round.pk).update(
        self_assessment_deadline=timezone.now() - datetime.timedelta(minutes=5)
    )
    services.lock_deadlines()
    assert UnitAssessment.objects.get(pk=assessment.pk).state == AssessmentState.DRAFT


def test_the_workspace_shows_progress_filters_and_time_left(
    focal: Any, assessment: UnitAssessment
) -> None:
    client = client_for(focal)
    save(client, assessment, "1.1.1", value="có")
    body = client.get(reverse("unit_workspace", args=[2016, "STP"])).content.decode()
    assert "Sở Tư pháp" in body
    assert '<div class="fs-4 fw-semibold">1 / 51</div>' in body  # 57 leaves − 6 survey leaves
    assert re.search(r"Còn \d+ ngày", body)
    missing = client.get(
        reverse("unit_workspace", args=[2016, "STP"]) + "?loc=chua-cham"
    ).content.decode()
    assert item_url("1.1.2") in missing and item_url("1.1.1") not in missing
    no_evidence = client.get(
        reverse("unit_workspace", args=[2016, "STP"]) + "?loc=thieu-tai-lieu"
    ).content.decode()
    assert item_url("1.1.1") in no_evidence and item_url("1.1.2") not in no_evidence
    found = client.get(
        reverse("unit_workspace", args=[2016, "STP"]) + "?q=tuyên truyền"
    ).content.decode()
    assert item_url("1.4.1") in found and item_url("1.1.1") not in found


def test_the_workspace_runs_the_same_number_of_queries_for_10_and_120_leaves(
    groups: Any, units: Any, focal: Any
) -> None:
    counts = []
    for year, leaves in ((2031, 10), (2032, 120)):
        round_ = Round.objects.create(
            year=year,
            opens_at=timezone.now() - datetime.timedelta(days=1),
            self_assessment_deadline=timezone.now() + datetime.timedelta(days=5),
        )
        services.import_criteria_set(round_, groups["SO"], small_rows(leaves), by=None)
        assessment = services.get_or_create_assessment(round_, units["STP"])
        for entry in ItemScore.objects.filter(assessment=assessment)[:5]:
            services.save_item(entry, services.ItemInput(value="có"), by=focal, expected_version=0)
        client = client_for(focal)
        url = reverse("unit_workspace", args=[year, "STP"])
        client.get(url)  # warm the session
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_a_survey_leaf_refuses_any_unit_input_even_not_applicable(
    focal: Any, assessment: UnitAssessment
) -> None:
    # 3.6 is a survey leaf that allows N/A in the departments' set.
    response = save(client_for(focal), assessment, "3.6", not_applicable="on", na_reason="Không có")
    assert response.status_code == 422
    assert not item(assessment, "3.6").not_applicable


def test_a_conflict_keeps_everything_the_user_typed(
    focal: Any, leader: Any, assessment: UnitAssessment
) -> None:
    save(client_for(focal), assessment, "1.1.1", value="có", version=0)
    response = save(
        client_for(leader),
        assessment,
        "1.1.1",
        value="không",
        note="Ghi chú dài của lãnh đạo",
        no_evidence_reason="Văn bản đang trình ký",
        version=0,
    )
    body = response.content.decode()
    assert response.status_code == 409
    assert "Ghi chú dài của lãnh đạo" in body and "Văn bản đang trình ký" in body


def test_an_extension_must_end_after_the_rounds_deadline(
    secretariat_lead: Any, assessment: UnitAssessment, open_round: Round
) -> None:
    with pytest.raises(services.ServiceError):
        services.grant_extension(
            assessment,
            by=secretariat_lead,
            until=open_round.self_assessment_deadline - datetime.timedelta(days=1),
            reason="Sớm hơn",
        )


def test_a_returned_unit_can_write_again_within_its_extension(
    secretariat_lead: Any, focal: Any, assessment: UnitAssessment, open_round: Round
) -> None:
    UnitAssessment.objects.filter(pk=assessment.pk).update(
        state=AssessmentState.SUBMITTED, submitted_at=timezone.now()
    )
    services.grant_extension(
        assessment,
        by=secretariat_lead,
        until=open_round.self_assessment_deadline + datetime.timedelta(days=3),
        reason="Bổ sung hồ sơ",
    )
    Round.objects.filter(pk=open_round.pk).update(
        self_assessment_deadline=timezone.now() - datetime.timedelta(hours=1)
    )
    services.return_to_draft(
        UnitAssessment.objects.get(pk=assessment.pk), by=secretariat_lead, reason="Bổ sung mục 3"
    )
    assert save(client_for(focal), assessment, "1.1.1", value="có").status_code == 200


def test_lock_deadlines_leaves_past_rounds_alone_for_units_created_later(
    assessment: UnitAssessment, open_round: Round, groups: Any
) -> None:
    from assessments.models import Unit

    Round.objects.filter(pk=open_round.pk).update(
        self_assessment_deadline=timezone.now() - datetime.timedelta(minutes=5)
    )
    services.lock_deadlines()
    count = UnitAssessment.objects.count()
    Unit.objects.create(code="SMOI", name="Sở mới thành lập", group=groups["SO"])
    services.lock_deadlines()
    assert UnitAssessment.objects.count() == count


def test_an_assignment_removal_with_a_bad_id_is_404(focal: Any, assessment: UnitAssessment) -> None:
    response = client_for(focal).post(reverse("assignments", args=[2016, "STP"]), {"remove": "abc"})
    assert response.status_code == 404


def test_nobody_opens_a_unit_before_the_round_opens(
    appraiser: Any, groups: Any, units: Any, db: None
) -> None:
    from tests.conftest import criteria_rows

    prepared = Round.objects.create(year=2020)
    services.import_criteria_set(
        prepared, groups["SO"], criteria_rows("criteria-departments.csv"), by=None
    )
    assert (
        client_for(appraiser).get(reverse("unit_workspace", args=[2020, "STP"])).status_code == 404
    )
    assert not UnitAssessment.objects.filter(round=prepared).exists()


def test_an_htmx_save_after_the_session_expired_reloads_the_login_page_as_a_page(
    assessment: UnitAssessment,
) -> None:
    from django.test import Client

    url = item_url("1.1.1")
    response = Client().post(
        url,
        {"value": "có", "version": 0},
        headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{url}"},
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("login") + "?next=" + url.replace("/", "%2F")
    assert item(assessment, "1.1.1").version == 0
