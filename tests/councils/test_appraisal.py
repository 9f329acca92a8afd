"""Appraisal round 1 → explanation → round 2 (DESIGN §5.2), with its permissions."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments import confirm, results
from assessments import services as unit_services
from assessments.models import (
    AssessmentState,
    Event,
    EventAction,
    ItemScore,
    Notification,
    Round,
    Unit,
    UnitAssessment,
)
from councils import services
from councils.models import ExplanationRequest
from tests.builders import small_rows
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def submit_all(assessment: UnitAssessment, user: Any) -> UnitAssessment:
    """Fill every self-assessed leaf and mark the assessment submitted."""
    for item in ItemScore.objects.filter(assessment=assessment).select_related("criterion"):
        method = item.criterion.method
        value = {"yes_no": "có", "threshold": "100", "proportional": "100", "deduction": "0"}.get(
            method
        )
        if method == "manual":
            value = "0"
        if method == "choice":
            value = item.criterion.params.split(";")[0].split("=")[0].strip()
        if value is not None:
            item.self_value, item.self_score = unit_services.evaluate(
                item.criterion, unit_services.ItemInput(value=value)
            )
            item.save(update_fields=["self_value", "self_score"])
    UnitAssessment.objects.filter(pk=assessment.pk).update(
        state=AssessmentState.SUBMITTED, submitted_at=timezone.now()
    )
    return UnitAssessment.objects.get(pk=assessment.pk)


@pytest.fixture
def submitted(criteria_sets: Any, units: Any, open_round: Round, leader: Any) -> UnitAssessment:
    return submit_all(unit_services.get_or_create_assessment(open_round, units["STP"]), leader)


@pytest.fixture
def field3_appraiser(appraiser: Any, criteria_sets: Any, secretariat_lead: Any) -> Any:
    field = criteria_sets["SO"].criteria.get(code="3")
    services.assign_appraisers(criteria_sets["SO"], field, appraiser, by=secretariat_lead)
    return appraiser


def item(assessment: UnitAssessment, code: str) -> ItemScore:
    return ItemScore.objects.select_related("criterion", "assessment").get(
        assessment=assessment, criterion__code=code
    )


def appraise(client: Any, target: ItemScore, *, htmx: bool = False, **data: Any) -> Any:
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse("appraise_item", args=[target.pk]), data, headers=headers)


def appraise_everything(assessment: UnitAssessment, by: Any) -> None:
    for entry in (
        ItemScore.objects.filter(assessment=assessment)
        .select_related("criterion")
        .exclude(criterion__method="survey")
    ):
        entry.assessment = assessment
        services.accept_self_score(entry, by=by)


def test_an_appraiser_appraises_an_assigned_field_and_the_unit_moves_to_appraising(
    field3_appraiser: Any, submitted: UnitAssessment
) -> None:
    response = appraise(
        client_for(field3_appraiser),
        item(submitted, "3.3"),
        value="96",
        comment="Theo báo cáo hệ thống: 96 %",
    )
    assert response.status_code == 302
    appraised = item(submitted, "3.3")
    assert (appraised.appraisal1_value, appraised.appraisal1_score) == ("96", Decimal("3.00"))
    assert UnitAssessment.objects.get(pk=submitted.pk).state == AssessmentState.APPRAISING
    assert Event.objects.filter(action=EventAction.APPRAISAL_STARTED).count() == 1
    assert Event.objects.get(action=EventAction.APPRAISED).detail["new"]["score"] == "3.00"


def test_an_appraiser_of_field_3_cannot_appraise_field_5(
    field3_appraiser: Any, submitted: UnitAssessment
) -> None:
    response = appraise(client_for(field3_appraiser), item(submitted, "5.1"), value="có")
    assert response.status_code == 403
    assert not item(submitted, "5.1").is_appraised


@pytest.mark.parametrize("persona", ["focal", "leader", "other_unit_focal", "no_role_user"])
def test_units_and_accounts_without_a_role_cannot_appraise(
    persona: str, request: Any, submitted: UnitAssessment
) -> None:
    response = appraise(
        client_for(request.getfixturevalue(persona)), item(submitted, "3.3"), value="100"
    )
    assert response.status_code == 404
    assert not item(submitted, "3.3").is_appraised


def test_the_appraisal_input_is_validated_like_the_units(
    field3_appraiser: Any, submitted: UnitAssessment
) -> None:
    response = appraise(
        client_for(field3_appraiser), item(submitted, "3.4"), value="150/100x", htmx=True
    )
    assert response.status_code == 422
    assert "3.4" in response.content.decode()
    assert not item(submitted, "3.4").is_appraised


def test_a_draft_cannot_be_appraised(
    field3_appraiser: Any, criteria_sets: Any, units: Any, open_round: Round
) -> None:
    draft = unit_services.get_or_create_assessment(open_round, units["STP"])
    response = appraise(client_for(field3_appraiser), item(draft, "3.3"), value="100", htmx=True)
    assert response.status_code == 422
    assert not item(draft, "3.3").is_appraised


def test_accept_in_one_click_and_bulk_accept_take_the_self_scores(
    field3_appraiser: Any, submitted: UnitAssessment
) -> None:
    client = client_for(field3_appraiser)
    appraise(client, item(submitted, "3.3"), action="accept")
    assert item(submitted, "3.3").appraisal1_score == item(submitted, "3.3").self_score
    document = submitted.unit.evidence.create(
        round=submitted.round,
        file="x",
        original_name="x.pdf",
        title="Báo cáo",
        size=1,
        content_type="application/pdf",
        sha256="c" * 64,
    )
    for code in ("3.1.1", "3.2.1"):
        document.links.create(item=item(submitted, code))
    response = client.post(reverse("appraisal_bulk_accept", args=[2016, "STP"]))
    assert response.status_code == 302
    assert item(submitted, "3.1.1").is_appraised and item(submitted, "3.2.1").is_appraised
    assert not item(submitted, "3.1.2").is_appraised  # no evidence: left for a closer look
    assert not item(submitted, "5.1").is_appraised  # not the appraiser's field


def test_a_unit_does_not_see_appraisal_results_before_round_1_is_finished(
    field3_appraiser: Any, focal: Any, submitted: UnitAssessment
) -> None:
    appraise(
        client_for(field3_appraiser), item(submitted, "3.3"), value="90", comment="Nhận xét nội bộ"
    )
    assert (
        client_for(focal).get(reverse("unit_explanations", args=[2016, "STP"])).status_code == 403
    )
    body = client_for(focal).get(reverse("unit_workspace", args=[2016, "STP"])).content.decode()
    assert (
        "Nhận xét nội bộ" not in body
        and reverse("unit_explanations", args=[2016, "STP"]) not in body
    )


def test_finishing_round_1_with_an_unappraised_leaf_is_refused_listing_them(
    field3_appraiser: Any, secretariat_lead: Any, submitted: UnitAssessment
) -> None:
    appraise(client_for(field3_appraiser), item(submitted, "3.3"), value="100")
    client = client_for(secretariat_lead)
    response = client.post(
        reverse("appraisal_finish", args=[2016, "STP"]), {"round": "1"}, follow=True
    )
    body = response.content.decode()
    assert "1.1.1" in body and "7.6" in body
    assert UnitAssessment.objects.get(pk=submitted.pk).state == AssessmentState.APPRAISING


def test_only_the_secretariat_lead_finishes_a_round(
    field3_appraiser: Any, chair: Any, council_member: Any, submitted: UnitAssessment
) -> None:
    appraise_everything(submitted, field3_appraiser)
    for user in (field3_appraiser, chair, council_member):
        assert (
            client_for(user)
            .post(reverse("appraisal_finish", args=[2016, "STP"]), {"round": "1"})
            .status_code
            == 403
        )
    assert UnitAssessment.objects.get(pk=submitted.pk).state == AssessmentState.APPRAISING


def test_the_full_cycle_round_1_explanation_round_2(
    field3_appraiser: Any,
    secretariat_lead: Any,
    leader: Any,
    focal: Any,
    submitted: UnitAssessment,
    django_capture_on_commit_callbacks: Any,
) -> None:
    for user, address in (
        (leader, "ld@stp.example"),
        (focal, "dm@stp.example"),
        (field3_appraiser, "td1@snv.example"),
        (secretariat_lead, "cchc@snv.example"),
    ):
        user.email = address
        user.save()
    appraise_everything(submitted, field3_appraiser)
    flagged = item(submitted, "3.3")
    appraiser = client_for(field3_appraiser)
    appraise(appraiser, flagged, value="95", comment="Số liệu chưa khớp hệ thống")
    appraise(
        appraiser, flagged, action="flag", question="Đề nghị cung cấp trích xuất hệ thống tháng 12"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.finish_round1(submitted, by=secretariat_lead)
    assessment = UnitAssessment.objects.get(pk=submitted.pk)
    assert assessment.state == AssessmentState.EXPLANATION_REQUESTED
    assert {to for m in mail.outbox for to in m.to} >= {"ld@stp.example", "dm@stp.example"}
    assert Notification.objects.filter(user=leader, subject__contains="giải trình").exists()

    # The unit sees its results now, and answers only flagged items.
    unit = client_for(focal)
    page = unit.get(reverse("unit_explanations", args=[2016, "STP"]))
    assert page.status_code == 200 and "Số liệu chưa khớp hệ thống" in page.content.decode()
    refused = unit.post(
        reverse("unit_explanations", args=[2016, "STP"]), {"code": "1.1.1", "answer": "Giải trình"}
    )
    assert refused.status_code == 422
    answered = unit.post(
        reverse("unit_explanations", args=[2016, "STP"]),
        {"code": "3.3", "answer": "Đã bổ sung trích xuất"},
    )
    assert answered.status_code == 302
    assert ExplanationRequest.objects.get(item=flagged).answer == "Đã bổ sung trích xuất"
    assert (
        unit.post(
            reverse("unit_explanations", args=[2016, "STP"]), {"action": "submit"}
        ).status_code
        == 403
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(leader).post(
            reverse("unit_explanations", args=[2016, "STP"]),
            {"action": "submit", confirm.CONFIRM_FIELD: "1"},
        )
    assert response.status_code == 302
    assert UnitAssessment.objects.get(pk=submitted.pk).state == AssessmentState.EXPLAINED
    assert {to for m in mail.outbox for to in m.to} >= {"td1@snv.example", "cchc@snv.example"}

    # Round 2: only flagged items; then the lead finishes.
    assert appraise(appraiser, item(submitted, "3.4"), value="100", htmx=True).status_code == 422
    with pytest.raises(unit_services.ServiceError):
        services.finish_round2(UnitAssessment.objects.get(pk=submitted.pk), by=secretariat_lead)
    appraise(appraiser, item(submitted, "3.3"), value="100", comment="Đã đối chiếu trích xuất")
    assert results.item_scores(item(submitted, "3.3")).final_points == Decimal("5.00")
    services.finish_round2(UnitAssessment.objects.get(pk=submitted.pk), by=secretariat_lead)
    assert UnitAssessment.objects.get(pk=submitted.pk).state == AssessmentState.APPRAISED
    # The unit never edits its self scores after submission.
    response = client_for(focal).post(
        reverse("item_edit", args=[2016, "STP", "3.3"]),
        {"value": "100", "version": item(submitted, "3.3").version},
    )
    assert response.status_code == 422


def test_two_leads_finishing_the_same_unit_at_once_one_succeeds_and_one_event(
    field3_appraiser: Any, secretariat_lead: Any, submitted: UnitAssessment, transactional_db: None
) -> None:
    if connection.vendor == "sqlite":
        # SQLite serialises writers without row locks; the conditional UPDATE is what decides.
        appraise_everything(submitted, field3_appraiser)
        services.finish_round1(submitted, by=secretariat_lead)
        with pytest.raises(unit_services.ServiceError, match="kết thúc trước đó"):
            services.finish_round1(submitted, by=secretariat_lead)
    else:
        appraise_everything(submitted, field3_appraiser)
        results: list[str] = []

        def finish() -> None:
            try:
                services.finish_round1(
                    UnitAssessment.objects.get(pk=submitted.pk), by=secretariat_lead
                )
                results.append("ok")
            except unit_services.ServiceError as error:
                results.append(error.message)
            finally:
                connection.close()

        threads = [threading.Thread(target=finish) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results)[-1] == "ok" and results.count("ok") == 1, results
    assert (
        Event.objects.filter(action=EventAction.ROUND1_FINISHED, unit=submitted.unit).count() == 1
    )


def test_explanations_lock_at_their_deadline(
    field3_appraiser: Any, secretariat_lead: Any, submitted: UnitAssessment, open_round: Round
) -> None:
    appraise_everything(submitted, field3_appraiser)
    services.flag_explanation(item(submitted, "3.3"), "Vì sao?", by=field3_appraiser)
    services.finish_round1(submitted, by=secretariat_lead)
    Round.objects.filter(pk=open_round.pk).update(
        self_assessment_deadline=timezone.now() - datetime.timedelta(days=3),
        appraisal1_deadline=timezone.now() - datetime.timedelta(days=2),
        explanation_deadline=timezone.now() - datetime.timedelta(minutes=1),
    )
    assert services.lock_explanations() == 1
    assert services.lock_explanations() == 0
    assert UnitAssessment.objects.get(pk=submitted.pk).state == AssessmentState.EXPLAINED


def test_the_field_table_runs_the_same_queries_for_5_and_30_units(
    groups: Any, secretariat_lead: Any, appraiser: Any, leader: Any
) -> None:
    counts = []
    for year, how_many in ((2041, 5), (2042, 30)):
        round_ = Round.objects.create(
            year=year,
            opens_at=timezone.now() - datetime.timedelta(days=30),
            self_assessment_deadline=timezone.now() - datetime.timedelta(days=1),
        )
        criteria_set = unit_services.import_criteria_set(
            round_, groups["SO"], small_rows(6), by=None
        )
        services.assign_appraisers(
            criteria_set, criteria_set.criteria.get(code="1"), appraiser, by=secretariat_lead
        )
        for n in range(how_many):
            unit, _ = Unit.objects.get_or_create(
                code=f"U{n:02d}", defaults={"name": f"Đơn vị {n:02d}", "group": groups["SO"]}
            )
            assessment = submit_all(unit_services.get_or_create_assessment(round_, unit), leader)
            first = (
                ItemScore.objects.filter(assessment=assessment).select_related("criterion").first()
            )
            first.assessment = assessment
            services.save_appraisal(first, by=appraiser, value="có", comment="ok")
            services.flag_explanation(first, "Bổ sung?", by=appraiser)
        client = client_for(appraiser)
        url = reverse("appraisal_field", args=[year, "SO", "1"])
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_the_field_table_is_for_assigned_appraisers_and_the_lead(
    field3_appraiser: Any,
    secretariat_lead: Any,
    council_member: Any,
    focal: Any,
    submitted: UnitAssessment,
) -> None:
    url = reverse("appraisal_field", args=[2016, "SO", "3"])
    assert client_for(field3_appraiser).get(url).status_code == 200
    assert client_for(secretariat_lead).get(url).status_code == 200
    assert (
        client_for(field3_appraiser)
        .get(reverse("appraisal_field", args=[2016, "SO", "5"]))
        .status_code
        == 403
    )
    assert client_for(council_member).get(url).status_code == 403
    assert client_for(focal).get(url).status_code == 404
    assert client_for(None).get(url).status_code == 302


def test_the_unit_adds_supplementary_evidence_while_explaining_but_not_after(
    field3_appraiser: Any,
    secretariat_lead: Any,
    focal: Any,
    submitted: UnitAssessment,
    open_round: Round,
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from assessments import evidence
    from demo.builders import tiny_pdf

    appraise_everything(submitted, field3_appraiser)
    services.flag_explanation(item(submitted, "3.3"), "Bổ sung trích xuất?", by=field3_appraiser)
    services.finish_round1(submitted, by=secretariat_lead)
    explaining = UnitAssessment.objects.select_related("round", "unit").get(pk=submitted.pk)
    pdf = SimpleUploadedFile(
        "trich-xuat.pdf", tiny_pdf(["Trich xuat"]), content_type="application/pdf"
    )
    result = evidence.add_evidence(explaining, [(pdf, "Trích xuất", "", None)], by=focal)
    assert len(result.created) == 1
    Round.objects.filter(pk=open_round.pk).update(
        self_assessment_deadline=timezone.now() - datetime.timedelta(days=3),
        appraisal1_deadline=timezone.now() - datetime.timedelta(days=2),
        explanation_deadline=timezone.now() - datetime.timedelta(minutes=1),
    )
    late = SimpleUploadedFile("muon.pdf", tiny_pdf(["Muon"]), content_type="application/pdf")
    with pytest.raises(unit_services.ServiceError):
        evidence.add_evidence(
            UnitAssessment.objects.select_related("round", "unit").get(pk=submitted.pk),
            [(late, "Muộn", "", None)],
            by=focal,
        )


def test_the_appraisal_home_lists_the_appraisers_fields_for_staff_only(
    field3_appraiser: Any,
    secretariat_lead: Any,
    focal: Any,
    no_role_user: Any,
    submitted: UnitAssessment,
) -> None:
    url = reverse("appraisal_home")
    body = client_for(field3_appraiser).get(url).content.decode()
    assert reverse("appraisal_field", args=[2016, "SO", "3"]) in body
    assert client_for(secretariat_lead).get(url).status_code == 200
    assert client_for(focal).get(url).status_code == 403
    assert client_for(no_role_user).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 302


def test_the_secretariat_home_opens_the_latest_rounds_dashboard(
    secretariat_lead: Any, appraiser: Any, submitted: UnitAssessment
) -> None:
    response = client_for(secretariat_lead).get(reverse("secretariat_home"))
    assert response.status_code == 302 and response.url == reverse(
        "secretariat_dashboard", args=[2016]
    )
    assert client_for(appraiser).get(reverse("secretariat_home")).status_code == 403


def test_the_unit_page_of_appraisal_is_for_province_staff(
    field3_appraiser: Any, focal: Any, other_unit_focal: Any, submitted: UnitAssessment
) -> None:
    url = reverse("appraisal_unit", args=[2016, "STP"])
    assert client_for(field3_appraiser).get(url).status_code == 200
    assert client_for(focal).get(url).status_code == 403
    assert client_for(other_unit_focal).get(url).status_code == 404


def test_the_item_history_hides_the_appraisal_from_the_unit_until_round_1_is_finished(
    field3_appraiser: Any, secretariat_lead: Any, focal: Any, submitted: UnitAssessment
) -> None:
    appraise(client_for(field3_appraiser), item(submitted, "3.3"), value="90", comment="x")
    url = reverse("item_edit", args=[2016, "STP", "3.3"])
    assert "Thẩm định tiêu chí" not in client_for(focal).get(url).content.decode()
    assert "Thẩm định tiêu chí" in client_for(field3_appraiser).get(url).content.decode()
    appraise_everything(submitted, field3_appraiser)
    services.finish_round1(submitted, by=secretariat_lead)
    assert "Thẩm định tiêu chí" in client_for(focal).get(url).content.decode()


def test_lock_deadlines_also_locks_explanations(
    field3_appraiser: Any, secretariat_lead: Any, submitted: UnitAssessment, open_round: Round
) -> None:
    from django.core.management import call_command

    appraise_everything(submitted, field3_appraiser)
    services.flag_explanation(item(submitted, "3.3"), "Vì sao?", by=field3_appraiser)
    services.finish_round1(submitted, by=secretariat_lead)
    Round.objects.filter(pk=open_round.pk).update(
        self_assessment_deadline=timezone.now() - datetime.timedelta(days=3),
        appraisal1_deadline=timezone.now() - datetime.timedelta(days=2),
        explanation_deadline=timezone.now() - datetime.timedelta(minutes=1),
    )
    call_command("lock_deadlines", verbosity=0)
    assert UnitAssessment.objects.get(pk=submitted.pk).state == AssessmentState.EXPLAINED
    assert Event.objects.filter(action=EventAction.EXPLANATIONS_LOCKED).count() == 1


def test_a_pdf_opens_in_the_browser_sandboxed_for_appraisers(
    field3_appraiser: Any, focal: Any, submitted: UnitAssessment
) -> None:
    from django.core.files.base import ContentFile

    from demo.builders import tiny_pdf

    document = submitted.unit.evidence.create(
        round=submitted.round,
        original_name="bc.pdf",
        title="Báo cáo",
        size=10,
        content_type="application/pdf",
        sha256="d" * 64,
    )
    document.file.save("bc.pdf", ContentFile(tiny_pdf(["Bao cao"])))
    url = reverse("evidence_download", args=[2016, "STP", document.pk])
    inline = client_for(field3_appraiser).get(url + "?xem=1")
    assert inline.status_code == 200 and inline["Content-Disposition"].startswith("inline")
    assert (
        inline["Content-Security-Policy"].startswith("sandbox")
        and inline["X-Content-Type-Options"] == "nosniff"
    )
    assert client_for(focal).get(url)["Content-Disposition"].startswith("attachment")


def test_a_survey_item_cannot_be_flagged(field3_appraiser: Any, submitted: UnitAssessment) -> None:
    response = appraise(
        client_for(field3_appraiser), item(submitted, "3.6"), action="flag", question="?", htmx=True
    )
    assert response.status_code == 422
    assert not item(submitted, "3.6").explanation_required


def test_a_question_starts_the_appraisal_like_a_first_score(
    field3_appraiser: Any, submitted: UnitAssessment
) -> None:
    appraise(
        client_for(field3_appraiser),
        item(submitted, "3.3"),
        action="flag",
        question="Đề nghị bổ sung?",
    )
    assert UnitAssessment.objects.get(pk=submitted.pk).state == AssessmentState.APPRAISING
    assert (
        Event.objects.filter(action=EventAction.APPRAISAL_STARTED, unit=submitted.unit).count() == 1
    )


def test_the_council_reads_the_appraisal_only_once_the_unit_is_appraised(
    field3_appraiser: Any, secretariat_lead: Any, council_member: Any, submitted: UnitAssessment
) -> None:
    url = reverse("appraisal_unit", args=[2016, "STP"])
    assert client_for(council_member).get(url).status_code == 403
    appraise_everything(submitted, field3_appraiser)
    services.finish_round1(submitted, by=secretariat_lead)
    assert client_for(council_member).get(url).status_code == 200


def test_round_1_cannot_send_questions_after_the_explanation_deadline(
    field3_appraiser: Any, secretariat_lead: Any, submitted: UnitAssessment, open_round: Round
) -> None:
    appraise_everything(submitted, field3_appraiser)
    services.flag_explanation(item(submitted, "3.3"), "Vì sao?", by=field3_appraiser)
    Round.objects.filter(pk=open_round.pk).update(
        self_assessment_deadline=timezone.now() - datetime.timedelta(days=3),
        appraisal1_deadline=timezone.now() - datetime.timedelta(days=2),
        explanation_deadline=timezone.now() - datetime.timedelta(minutes=1),
    )
    with pytest.raises(unit_services.ServiceError):
        services.finish_round1(
            UnitAssessment.objects.select_related("round").get(pk=submitted.pk), by=secretariat_lead
        )


def test_the_unit_sees_round_2_scores_only_when_round_2_is_finished(
    field3_appraiser: Any, secretariat_lead: Any, leader: Any, focal: Any, submitted: UnitAssessment
) -> None:
    appraise_everything(submitted, field3_appraiser)
    flagged = item(submitted, "3.3")
    services.save_appraisal(flagged, by=field3_appraiser, value="90", comment="Lần một")
    services.flag_explanation(flagged, "Vì sao?", by=field3_appraiser)
    services.finish_round1(submitted, by=secretariat_lead)
    services.answer_explanation(item(submitted, "3.3"), "Giải trình", by=focal)
    services.submit_explanations(UnitAssessment.objects.get(pk=submitted.pk), by=leader)
    services.save_appraisal(
        item(submitted, "3.3"), by=field3_appraiser, value="100", comment="Bí mật lần hai"
    )
    url = reverse("unit_explanations", args=[2016, "STP"])
    assert "Bí mật lần hai" not in client_for(focal).get(url).content.decode()
    services.finish_round2(UnitAssessment.objects.get(pk=submitted.pk), by=secretariat_lead)
    assert "Bí mật lần hai" in client_for(focal).get(url).content.decode()


def test_the_bonus_and_penalty_blocks_can_be_assigned_from_the_page(
    secretariat_lead: Any, submitted: UnitAssessment
) -> None:
    body = (
        client_for(secretariat_lead)
        .get(reverse("appraiser_assignments", args=[2016]))
        .content.decode()
    )
    assert "Điểm thưởng" in body and "Điểm trừ" in body


def test_after_a_send_back_the_reappraisal_changes_the_final_score_and_needs_no_new_explanation(
    field3_appraiser: Any,
    secretariat_lead: Any,
    leader: Any,
    focal: Any,
    chair: Any,
    submitted: UnitAssessment,
) -> None:
    appraise_everything(submitted, field3_appraiser)
    services.flag_explanation(item(submitted, "3.3"), "Vì sao?", by=field3_appraiser)
    services.finish_round1(submitted, by=secretariat_lead)
    services.answer_explanation(item(submitted, "3.3"), "Giải trình", by=focal)
    services.submit_explanations(UnitAssessment.objects.get(pk=submitted.pk), by=leader)
    services.save_appraisal(item(submitted, "3.3"), by=field3_appraiser, value="100")
    services.finish_round2(UnitAssessment.objects.get(pk=submitted.pk), by=secretariat_lead)
    services.send_back(
        UnitAssessment.objects.get(pk=submitted.pk), by=chair, reason="Xem lại mục 3.3"
    )
    services.save_appraisal(
        item(submitted, "3.3"), by=field3_appraiser, value="90", comment="Sau khi Hội đồng trả lại"
    )
    assert results.item_scores(item(submitted, "3.3")).final_points == Decimal("1.00")
    services.finish_round1(UnitAssessment.objects.get(pk=submitted.pk), by=secretariat_lead)
    assert UnitAssessment.objects.get(pk=submitted.pk).state == AssessmentState.APPRAISED
    assert Event.objects.filter(action=EventAction.SENT_BACK, reason="Xem lại mục 3.3").count() == 1
