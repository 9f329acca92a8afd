"""The council approves, the chair publishes (DESIGN §5.3): the council's round and unit pages,
their permissions (§6) and their query budget."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments import evidence, results
from assessments import services as unit_services
from assessments.confirm import CONFIRM_FIELD
from assessments.models import (
    AssessmentState,
    Event,
    EventAction,
    ItemScore,
    Round,
    StaffMembership,
    StaffRole,
    Unit,
    UnitAssessment,
    UnitGroup,
)
from councils import services as council_services
from councils.models import Decision, Opinion
from demo.builders import tiny_pdf
from reporting.models import ResultSnapshot
from tests.builders import small_rows
from tests.conftest import client_for
from tests.councils.test_appraisal import appraise_everything, submit_all

pytestmark = pytest.mark.django_db

ROUND_URL = reverse("council_round", args=[2016])
APPROVE_URL = reverse("council_approve", args=[2016])
CONFIRMED = {CONFIRM_FIELD: "1"}


def unit_url(code: str = "STP") -> str:
    return reverse("council_unit", args=[2016, code])


def appraised_unit(round_: Round, unit: Unit, leader: Any, appraiser: Any, lead: Any) -> Any:
    assessment = submit_all(unit_services.get_or_create_assessment(round_, unit), leader)
    appraise_everything(assessment, appraiser)
    return council_services.finish_round1(assessment, by=lead)


@pytest.fixture
def appraised(
    criteria_sets: Any,
    units: Any,
    open_round: Round,
    leader: Any,
    appraiser: Any,
    secretariat_lead: Any,
) -> dict[str, UnitAssessment]:
    """Every unit of round 2016 appraised: the round waits for the council."""
    return {
        code: appraised_unit(open_round, unit, leader, appraiser, secretariat_lead)
        for code, unit in units.items()
    }


def item(assessment: UnitAssessment, code: str) -> ItemScore:
    return ItemScore.objects.select_related("criterion", "assessment").get(
        assessment=assessment, criterion__code=code
    )


def approve(client: Any, **extra: Any) -> Any:
    data = {
        "number": "125/QĐ-UBND",
        "date": "28/02/2017",
        "signer": "Nguyễn Văn A",
        **CONFIRMED,
        **extra,
    }
    return client.post(APPROVE_URL, data)


def states() -> set[str]:
    return set(UnitAssessment.objects.values_list("state", flat=True))


# --- approval --------------------------------------------------------------------------------


def test_a_council_member_cannot_approve_the_round(
    appraised: Any, council_member: Any, open_round: Round
) -> None:
    response = approve(client_for(council_member))
    assert response.status_code == 403
    assert not Decision.objects.exists()
    assert not ResultSnapshot.objects.exists()
    assert states() == {AssessmentState.APPRAISED}


def test_the_chair_approves_and_the_final_results_are_frozen_as_version_1(
    appraised: Any, chair: Any, open_round: Round
) -> None:
    pdf = SimpleUploadedFile("qd.pdf", tiny_pdf(["Quyet dinh"]), content_type="application/pdf")
    response = approve(client_for(chair), signed_pdf=pdf)
    assert response.status_code == 302
    decision = Decision.objects.get(round=open_round)
    assert (decision.number, decision.date, decision.signer, decision.approved_by) == (
        "125/QĐ-UBND",
        datetime.date(2017, 2, 28),
        "Nguyễn Văn A",
        chair,
    )
    assert decision.signed_pdf
    assert states() == {AssessmentState.APPROVED}
    snapshot = ResultSnapshot.objects.get(round=open_round)
    assert snapshot.version == 1
    assert snapshot.data == results.as_json(results.compute(open_round, provisional=False))
    assert Event.objects.filter(action=EventAction.ROUND_APPROVED, round=open_round).exists()
    page = client_for(chair).get(ROUND_URL)
    assert 'data-testid="status"' in page.content.decode()
    assert "Kết quả tạm tính" not in page.content.decode()
    assert "phiên bản 1" in page.content.decode()
    assert page.context["provisional"] is False
    pdf_response = client_for(chair).get(reverse("council_decision_pdf", args=[2016]))
    assert pdf_response.status_code == 200
    assert b"".join(pdf_response.streaming_content).startswith(b"%PDF-")


def test_a_score_write_after_approval_is_refused_and_the_snapshot_is_unchanged(
    appraised: Any, chair: Any, appraiser: Any, leader: Any, open_round: Round
) -> None:
    assert approve(client_for(chair)).status_code == 302
    frozen = ResultSnapshot.objects.get(round=open_round).data
    target = item(appraised["STP"], "3.3")
    with pytest.raises(unit_services.ServiceError):
        council_services.save_appraisal(target, by=appraiser, value="0", comment="sau phê duyệt")
    with pytest.raises(unit_services.ServiceError):
        unit_services.save_item(
            target,
            unit_services.ItemInput(value="0"),
            by=leader,
            expected_version=target.version,
        )
    assert ResultSnapshot.objects.get(round=open_round).data == frozen
    assert ResultSnapshot.objects.count() == 1
    assert item(appraised["STP"], "3.3").appraisal1_score == target.appraisal1_score


def test_a_bad_decision_date_is_refused_and_the_typed_values_are_kept(
    appraised: Any, chair: Any
) -> None:
    response = approve(client_for(chair), date="31/02/2017")
    assert response.status_code == 422
    body = response.content.decode()
    assert "125/QĐ-UBND" in body
    assert "31/02/2017" in body
    assert not Decision.objects.exists()
    assert states() == {AssessmentState.APPRAISED}


def test_approval_is_refused_while_a_unit_is_not_appraised_and_the_page_lists_it(
    appraised: Any, chair: Any, secretariat_lead: Any
) -> None:
    council_services.send_back(appraised["SYT"], by=chair, reason="Xem lại lĩnh vực 3")
    page = client_for(chair).get(ROUND_URL)
    assert page.context["missing"] == ["Sở Y tế"]
    assert APPROVE_URL not in page.content.decode()
    response = approve(client_for(chair))
    assert response.status_code == 422
    assert "Sở Y tế" in response.content.decode()
    assert not Decision.objects.exists()
    assert not ResultSnapshot.objects.exists()


def test_the_round_page_shows_the_provisional_ranking_before_approval(
    appraised: Any, council_member: Any, open_round: Round
) -> None:
    Opinion.objects.create(assessment=appraised["STP"], member=council_member, agrees=True)
    response = client_for(council_member).get(ROUND_URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Tạm tính" in body
    assert response.context["provisional"] is True
    computed = results.compute(open_round, provisional=True)
    rows = {row.code: row for group in response.context["groups"] for row in group.rows}
    for group in computed.groups:
        for unit in group.units:
            assert (rows[unit.code].index, rows[unit.code].rank) == (unit.index, unit.rank)
            assert rows[unit.code].self_index == unit.self_index
    assert (rows["STP"].agree, rows["STP"].disagree) == (1, 0)
    assert reverse("council_unit", args=[2016, "STP"]) in body


# --- publication and correction ----------------------------------------------------------------


def test_the_chair_publishes_the_approved_results(
    appraised: Any, chair: Any, open_round: Round
) -> None:
    client = client_for(chair)
    assert approve(client).status_code == 302
    response = client.post(ROUND_URL, {"action": "publish", **CONFIRMED})
    assert response.status_code == 302
    assert ResultSnapshot.objects.get(round=open_round).published_at is not None
    assert states() == {AssessmentState.PUBLISHED}
    again = client.post(ROUND_URL, {"action": "publish", **CONFIRMED})
    assert again.status_code == 422
    assert Event.objects.filter(action=EventAction.ROUND_PUBLISHED).count() == 1


def test_publication_before_approval_is_refused(appraised: Any, chair: Any) -> None:
    response = client_for(chair).post(ROUND_URL, {"action": "publish", **CONFIRMED})
    assert response.status_code == 422
    assert not ResultSnapshot.objects.exists()
    assert states() == {AssessmentState.APPRAISED}


def test_a_correction_creates_version_2_while_version_1_stays_readable(
    appraised: Any, chair: Any, council_member: Any, open_round: Round
) -> None:
    client = client_for(chair)
    assert approve(client).status_code == 302
    response = client.post(
        ROUND_URL,
        {"action": "correct", "correction-reason": "Sửa lỗi đánh máy tên đơn vị", **CONFIRMED},
    )
    assert response.status_code == 302
    versions = list(ResultSnapshot.objects.filter(round=open_round).order_by("version"))
    assert [(s.version, s.reason) for s in versions] == [
        (1, ""),
        (2, "Sửa lỗi đánh máy tên đơn vị"),
    ]
    assert Event.objects.filter(action=EventAction.RESULTS_CORRECTED).count() == 1
    reader = client_for(council_member)
    latest = reader.get(ROUND_URL)
    assert latest.context["shown"].version == 2
    assert "Sửa lỗi đánh máy tên đơn vị" in latest.content.decode()
    first = reader.get(ROUND_URL + "?phien-ban=1")
    assert first.status_code == 200
    assert first.context["shown"].version == 1
    assert reader.get(ROUND_URL + "?phien-ban=9").status_code == 404


def test_a_correction_needs_a_reason(appraised: Any, chair: Any) -> None:
    client = client_for(chair)
    approve(client)
    response = client.post(ROUND_URL, {"action": "correct", "correction-reason": ""})
    assert response.status_code == 422
    assert ResultSnapshot.objects.count() == 1


@pytest.mark.parametrize("action", ["approve", "publish", "correct"])
def test_only_the_chair_approves_publishes_and_corrects(
    action: str, appraised: Any, council_member: Any, secretariat_lead: Any
) -> None:
    for user in (council_member, secretariat_lead):
        response = client_for(user).post(
            APPROVE_URL if action == "approve" else ROUND_URL,
            {
                "action": action,
                "number": "1",
                "date": "01/03/2017",
                "signer": "A",
                "correction-reason": "x",
                **CONFIRMED,
            },
        )
        assert response.status_code == 403
    assert not ResultSnapshot.objects.exists()
    assert states() == {AssessmentState.APPRAISED}


# --- opinions and send back ---------------------------------------------------------------------


def test_a_council_member_agrees_with_a_units_result(appraised: Any, council_member: Any) -> None:
    response = client_for(council_member).post(unit_url(), {"action": "opinion", "agrees": "1"})
    assert response.status_code == 302
    opinion = Opinion.objects.get(assessment=appraised["STP"], member=council_member)
    assert (opinion.agrees, opinion.note) == (True, "")


def test_a_disagreement_needs_a_note_and_the_typed_choice_is_kept(
    appraised: Any, council_member: Any
) -> None:
    client = client_for(council_member)
    refused = client.post(unit_url(), {"action": "opinion", "agrees": "0", "note": "  "})
    assert refused.status_code == 422
    assert "Hãy nêu lý do không đồng ý ở phần ghi chú." in refused.content.decode()
    assert refused.context["opinion_form"]["agrees"].value() == "0"
    assert not Opinion.objects.exists()
    accepted = client.post(
        unit_url(), {"action": "opinion", "agrees": "0", "note": "Mục 3.3 chấm quá cao"}
    )
    assert accepted.status_code == 302
    opinion = Opinion.objects.get(member=council_member)
    assert (opinion.agrees, opinion.note) == (False, "Mục 3.3 chấm quá cao")
    page = client.get(unit_url())
    assert "Mục 3.3 chấm quá cao" in page.content.decode()
    assert page.context["opinion_form"]["agrees"].value() == "0"
    rows = [row for group in client.get(ROUND_URL).context["groups"] for row in group.rows]
    assert sum(row.disagree for row in rows) == 1


def test_the_secretariat_lead_reads_but_records_no_opinion(
    appraised: Any, secretariat_lead: Any
) -> None:
    client = client_for(secretariat_lead)
    assert client.get(unit_url()).status_code == 200
    assert client.post(unit_url(), {"action": "opinion", "agrees": "1"}).status_code == 403
    assert not Opinion.objects.exists()


def test_the_chair_sends_a_unit_back_for_re_appraisal(
    appraised: Any, chair: Any, secretariat_lead: Any
) -> None:
    response = client_for(chair).post(
        unit_url(), {"action": "send_back", "back-reason": "Lĩnh vực 3 cần thẩm định lại"}
    )
    assert response.status_code == 302
    assert UnitAssessment.objects.get(pk=appraised["STP"].pk).state == AssessmentState.APPRAISING
    event = Event.objects.get(action=EventAction.SENT_BACK)
    assert (event.unit.code, event.reason, event.actor) == (
        "STP",
        "Lĩnh vực 3 cần thẩm định lại",
        chair,
    )
    assert event.detail == {"old": "appraised", "new": "appraising"}


def test_sending_back_needs_a_reason_and_the_chair(
    appraised: Any, chair: Any, council_member: Any
) -> None:
    refused = client_for(chair).post(unit_url(), {"action": "send_back", "back-reason": ""})
    assert refused.status_code == 422
    member = client_for(council_member).post(
        unit_url(), {"action": "send_back", "back-reason": "Xem lại"}
    )
    assert member.status_code == 403
    assert states() == {AssessmentState.APPRAISED}
    assert not Event.objects.filter(action=EventAction.SENT_BACK).exists()


def test_opinions_are_refused_once_the_round_is_approved(
    appraised: Any, chair: Any, council_member: Any
) -> None:
    approve(client_for(chair))
    response = client_for(council_member).post(unit_url(), {"action": "opinion", "agrees": "1"})
    assert response.status_code == 422
    assert not Opinion.objects.exists()


# --- the unit page -----------------------------------------------------------------------------


def test_the_unit_page_shows_fields_differences_explanations_and_their_evidence(
    criteria_sets: Any,
    units: Any,
    open_round: Round,
    leader: Any,
    focal: Any,
    appraiser: Any,
    secretariat_lead: Any,
    council_member: Any,
) -> None:
    assessment = submit_all(
        unit_services.get_or_create_assessment(open_round, units["STP"]), leader
    )
    appraise_everything(assessment, appraiser)
    council_services.save_appraisal(
        item(assessment, "3.3"), by=appraiser, value="96", comment="Theo hệ thống: 96 %"
    )
    council_services.flag_explanation(item(assessment, "3.3"), "Vì sao 100 %?", by=appraiser)
    council_services.finish_round1(assessment, by=secretariat_lead)
    explaining = UnitAssessment.objects.select_related("round", "unit").get(pk=assessment.pk)
    pdf = SimpleUploadedFile("bo-sung.pdf", tiny_pdf(["Bo sung"]), content_type="application/pdf")
    document = evidence.add_evidence(explaining, [(pdf, "Trích xuất bổ sung", "", None)], by=focal)
    added = document.created[0]
    council_services.answer_explanation(
        item(explaining, "3.3"), "Số liệu đã cập nhật", by=leader, evidence=[added]
    )
    council_services.submit_explanations(explaining, by=leader)
    council_services.save_appraisal(
        item(explaining, "3.3"), by=appraiser, value="98", comment="Chấp nhận một phần"
    )
    council_services.finish_round2(explaining, by=secretariat_lead)

    response = client_for(council_member).get(unit_url())
    assert response.status_code == 200
    body = response.content.decode()
    differences = response.context["differences"]
    assert [d.item.criterion.code for d in differences] == ["3.3"]
    assert differences[0].difference < 0
    assert "Chấp nhận một phần" in body
    assert "Vì sao 100 %?" in body and "Số liệu đã cập nhật" in body
    download = reverse("evidence_download", args=[2016, "STP", added.pk]) + "?xem=1"
    assert download in body
    fields = {line.code: line for line in response.context["fields"]}
    assert fields["3"].score - fields["3"].own_score == differences[0].difference
    final = results.compute(open_round, provisional=True)
    stp = next(u for g in final.groups for u in g.units if u.code == "STP")
    assert (response.context["result"].total, response.context["result"].self_total) == (
        stp.total,
        stp.self_total,
    )


# --- permissions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "round_status", "unit_status"),
    [
        (None, 302, 302),
        ("no_role_user", 403, 403),
        ("leader", 403, 404),
        ("other_unit_focal", 403, 404),
        ("appraiser", 403, 403),
        ("council_member", 200, 200),
        ("chair", 200, 200),
        ("secretariat_lead", 200, 200),
    ],
)
def test_who_reads_the_council_pages(
    persona: str | None, round_status: int, unit_status: int, request: Any, appraised: Any
) -> None:
    client = client_for(request.getfixturevalue(persona) if persona else None)
    assert client.get(ROUND_URL).status_code == round_status
    assert client.get(unit_url()).status_code == unit_status
    if persona is None:
        assert client.get(ROUND_URL)["Location"].startswith(reverse("login"))


def test_a_council_member_reads_a_unit_only_once_it_is_appraised(
    criteria_sets: Any,
    units: Any,
    open_round: Round,
    leader: Any,
    council_member: Any,
    chair: Any,
    secretariat_lead: Any,
) -> None:
    submit_all(unit_services.get_or_create_assessment(open_round, units["STP"]), leader)
    assert client_for(council_member).get(unit_url()).status_code == 403
    assert client_for(council_member).get(ROUND_URL).status_code == 200
    assert client_for(chair).get(unit_url()).status_code == 200
    assert client_for(secretariat_lead).get(unit_url()).status_code == 200


def test_the_council_pages_refuse_other_methods_and_unknown_rounds(
    appraised: Any, chair: Any
) -> None:
    client = client_for(chair)
    assert client.put(ROUND_URL).status_code == 405
    assert client.put(unit_url()).status_code == 405
    assert client.post(reverse("council_home")).status_code == 405
    assert client.get(reverse("council_round", args=[1999])).status_code == 404
    assert client.post(ROUND_URL, {"action": "nonsense"}).status_code == 400


def test_the_council_menu_lists_the_rounds_with_criteria_and_what_waits_in_each(
    appraised: Any, council_member: Any, leader: Any, appraiser: Any, chair: Any
) -> None:
    Round.objects.create(year=2099)  # no criteria set yet: not the council's round
    client = client_for(council_member)
    home = client.get(reverse("home"))
    assert reverse("council_home") in home.content.decode()
    response = client.get(reverse("council_home"))
    assert response.status_code == 200
    assert [e.round.year for e in response.context["entries"]] == [2016]
    assert response.context["entries"][0].waits_for_council
    assert ROUND_URL in response.content.decode()
    assert "2099" not in response.content.decode()
    # The chair's button says what he does there.
    assert (
        "Xem xét và phê duyệt 2016"
        in client_for(chair).get(reverse("council_home")).content.decode()
    )
    assert reverse("council_home") not in client_for(leader).get(reverse("home")).content.decode()
    assert client_for(leader).get(reverse("council_home")).status_code == 403
    assert client_for(appraiser).get(reverse("council_home")).status_code == 403


# --- query budget ------------------------------------------------------------------------------


def test_the_round_page_runs_the_same_queries_for_5_and_30_units(
    secretariat_lead: Any,
    appraiser: Any,
    leader: Any,
    chair: Any,
    council_member: Any,
) -> None:
    # A group of its own: the personas' units (STP, SYT) would otherwise stop the approval.
    communes = UnitGroup.objects.create(code="XA", name="UBND cấp xã", position=3)
    before: list[int] = []
    after: list[int] = []
    for year, how_many in ((2041, 5), (2042, 30)):
        round_ = Round.objects.create(
            year=year,
            opens_at=timezone.now() - datetime.timedelta(days=30),
            self_assessment_deadline=timezone.now() - datetime.timedelta(days=1),
        )
        unit_services.import_criteria_set(round_, communes, small_rows(6), by=None)
        for n in range(how_many):
            unit, _created = Unit.objects.get_or_create(
                code=f"U{n:02d}", defaults={"name": f"Xã {n:02d}", "group": communes}
            )
            assessment = appraised_unit(round_, unit, leader, appraiser, secretariat_lead)
            council_services.record_opinion(
                assessment, by=council_member, agrees=n % 2 == 0, note="Chưa thống nhất"
            )
        client = client_for(chair)
        url = reverse("council_round", args=[year])
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        before.append(len(queries))
        if how_many == 5:
            print("\n".join(q["sql"][:110] for q in queries.captured_queries))
        approval = {"number": f"{year}/QĐ", "date": "01/03/2017", "signer": "A", **CONFIRMED}
        response = client.post(reverse("council_approve", args=[year]), approval)
        assert response.status_code == 302, [str(m) for m in response.context["messages"]]
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        after.append(len(queries))
    assert before[0] == before[1], before
    assert after[0] == after[1], after
    print(f"council round page queries: before approval {before[0]}, after {after[0]}")


def test_a_member_who_also_appraises_reads_a_unit_on_the_council_pages_only_once_appraised(
    council_member: Any, criteria_sets: Any, units: Any, open_round: Round
) -> None:
    StaffMembership.objects.create(user=council_member, role=StaffRole.APPRAISER)
    unit_services.get_or_create_assessment(open_round, units["STP"])
    url = reverse("council_unit", args=[2016, "STP"])
    assert client_for(council_member).get(url).status_code == 403
    rows = {
        row.code: row
        for group in client_for(council_member).get(ROUND_URL).context["groups"]
        for row in group.rows
    }
    assert not rows["STP"].readable
