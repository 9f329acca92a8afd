"""The unit reads its result (issue 10 item 5): once round 1 is finished the workspace shows
the appraised total, index and band beside the self scores, field by field; round 2 only once
finished; the rank once published; N/A spelled out."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from assessments import results, services
from assessments.models import AssessmentState, ItemScore, Round, UnitAssessment, UnitRole
from councils import services as council_services
from reporting import services as reporting_services
from tests.builders import appraised, fill, submitted
from tests.conftest import client_for, unit_user

pytestmark = pytest.mark.django_db

WORKSPACE = reverse("unit_workspace", args=[2016, "STP"])


@pytest.fixture
def assessment(criteria_sets: Any, units: Any, open_round: Round) -> UnitAssessment:
    return services.get_or_create_assessment(open_round, units["STP"])


def panel(body: str) -> str:
    found = re.search(r'data-testid="unit-result">(.*?)</section>', body, re.S)
    return found.group(1) if found else ""


def finished(assessment: UnitAssessment, leader: Any, appraiser: Any, lead: Any) -> Any:
    """Submitted, appraised with 1.1.1 lowered to "không" (0 instead of 0.5), finished."""
    submitted(assessment, leader)
    return appraised(assessment, appraiser, lead, scores={"1.1.1": "không"})


def test_before_round_1_is_finished_the_unit_sees_no_appraised_result(
    leader: Any, appraiser: Any, assessment: UnitAssessment
) -> None:
    submitted(assessment, leader)
    one = ItemScore.objects.select_related("criterion").get(
        assessment=assessment, criterion__code="1.1.1"
    )
    one.assessment = assessment
    council_services.save_appraisal(one, by=appraiser, value="không")
    body = client_for(leader).get(WORKSPACE).content.decode()
    assert panel(body) == ""
    assert "Tổng điểm thẩm định" not in body


def test_after_round_1_the_workspace_shows_the_appraised_total_index_band_and_fields(
    leader: Any, appraiser: Any, secretariat_lead: Any, assessment: UnitAssessment
) -> None:
    finished(assessment, leader, appraiser, secretariat_lead)
    result = results.unit_result(UnitAssessment.objects.get(pk=assessment.pk))
    body = client_for(leader).get(WORKSPACE).content.decode()
    shown = panel(body)
    assert "Kết quả thẩm định" in shown
    total = re.search(r'data-testid="appraised-total">([^<]+)<', shown)
    assert total is not None
    assert total.group(1).replace("\u202f", " ").split(" / ")[0] == (
        f"{result.total.normalize():f}".replace(".", ",")
    )
    assert result.band and f'data-testid="band">{result.band}<' in shown
    assert "khi kết quả được công bố" in shown  # no rank before publication
    # Field 1 lost the 0.5 of item 1.1.1: self, appraised, difference.
    field = next(f for f in result.fields if f.code == "1")
    assert field.difference == Decimal("-0.5")
    row = re.search(r"1\. Công tác chỉ đạo[^<]*</th>(.*?)</tr>", shown, re.S)
    assert row is not None and "-0,5" in row.group(1)
    assert 'data-testid="total-difference">-0,5<' in shown
    assert "KAD" not in shown


def test_a_contributor_reads_the_result_too_and_a_focal_officer_of_another_unit_gets_404(
    leader: Any,
    appraiser: Any,
    secretariat_lead: Any,
    other_unit_focal: Any,
    assessment: UnitAssessment,
    units: Any,
) -> None:
    finished(assessment, leader, appraiser, secretariat_lead)
    reader = unit_user("stp.cv9", units["STP"], UnitRole.CONTRIBUTOR)
    assert "Tổng điểm thẩm định" in panel(client_for(reader).get(WORKSPACE).content.decode())
    assert client_for(other_unit_focal).get(WORKSPACE).status_code == 404


def test_round_2_scores_reach_the_unit_only_once_round_2_is_finished(
    leader: Any, appraiser: Any, secretariat_lead: Any, assessment: UnitAssessment
) -> None:
    submitted(assessment, leader)
    criteria_set = assessment.criteria_set
    for field in criteria_set.criteria.filter(parent__isnull=True):
        council_services.assign_appraisers(criteria_set, field, appraiser, by=secretariat_lead)
    for item in ItemScore.objects.filter(assessment=assessment).select_related("criterion"):
        if item.criterion.method == "survey":
            continue
        item.assessment = assessment
        council_services.accept_self_score(item, by=appraiser)
    flagged = ItemScore.objects.select_related("criterion").get(
        assessment=assessment, criterion__code="1.1.1"
    )
    flagged.assessment = assessment
    council_services.flag_explanation(flagged, "Văn bản ký ngày nào?", by=appraiser)
    council_services.finish_round1(
        UnitAssessment.objects.get(pk=assessment.pk), by=secretariat_lead
    )
    assert UnitAssessment.objects.get(pk=assessment.pk).state == (
        AssessmentState.EXPLANATION_REQUESTED
    )
    assert "Tổng điểm thẩm định" in panel(client_for(leader).get(WORKSPACE).content.decode())
    flagged.assessment = UnitAssessment.objects.get(pk=assessment.pk)
    council_services.answer_explanation(flagged, "Ký ngày 20/12.", by=leader)
    council_services.submit_explanations(UnitAssessment.objects.get(pk=assessment.pk), by=leader)
    flagged = ItemScore.objects.select_related("criterion").get(pk=flagged.pk)
    flagged.assessment = UnitAssessment.objects.get(pk=assessment.pk)
    council_services.save_appraisal(flagged, by=appraiser, value="không")  # round 2, typed
    shown = panel(client_for(leader).get(WORKSPACE).content.decode())
    assert "Đang thẩm định lần 2" in shown
    assert "Tổng điểm thẩm định" not in shown  # the typed round-2 score does not leak
    council_services.finish_round2(
        UnitAssessment.objects.get(pk=assessment.pk), by=secretariat_lead
    )
    shown = panel(client_for(leader).get(WORKSPACE).content.decode())
    assert 'data-testid="total-difference">-0,5<' in shown


def test_once_published_the_unit_is_sent_to_its_rank_on_the_public_page(
    leader: Any,
    appraiser: Any,
    secretariat_lead: Any,
    chair: Any,
    assessment: UnitAssessment,
    units: Any,
    open_round: Round,
) -> None:
    finished(assessment, leader, appraiser, secretariat_lead)
    for code in ("SYT", "HBS"):
        other = services.get_or_create_assessment(open_round, units[code])
        other_leader = unit_user(code.lower(), units[code], UnitRole.LEADER)
        submitted(other, other_leader)
        appraised(other, appraiser, secretariat_lead)
    reporting_services.approve_round(
        open_round, by=chair, number="15/QĐ-UBND", date=datetime.date(2017, 3, 1), signer="A"
    )
    shown = panel(client_for(leader).get(WORKSPACE).content.decode())
    assert "Kết quả đã phê duyệt" in shown and "khi kết quả được công bố" in shown
    reporting_services.publish_round(open_round, by=chair)
    shown = panel(client_for(leader).get(WORKSPACE).content.decode())
    assert "Kết quả đã công bố" in shown
    # The rank is the published snapshot's, on the public page the workspace links to.
    public = reverse("public_unit", args=[2016, "STP"])
    assert f'href="{public}"' in shown
    snapshot_units = {
        unit["code"]: unit
        for group in reporting_services.published_snapshot(2016).data["groups"]  # type: ignore[union-attr]
        for unit in group["units"]
    }
    page = client_for(None).get(public).content.decode()
    assert f'<dd class="h3 mb-0">{snapshot_units["STP"]["rank"]}/2</dd>' in page


def test_not_applicable_is_spelled_out_on_the_item_page_and_in_its_history(
    leader: Any, appraiser: Any, secretariat_lead: Any, assessment: UnitAssessment
) -> None:
    fill(assessment, leader)
    na = ItemScore.objects.select_related("criterion").get(
        assessment=assessment, criterion__code="3.1.1"
    )
    na.assessment = assessment
    services.save_item(
        na,
        services.ItemInput(not_applicable=True, na_reason="Không có TTHC"),
        by=leader,
        expected_version=na.version,
    )
    services.submit_assessment(assessment, by=leader)
    appraised(assessment, appraiser, secretariat_lead)
    body = client_for(leader).get(reverse("item_edit", args=[2016, "STP", "3.1.1"]))
    text = body.content.decode()
    value = re.search(r'data-testid="value">([^<]*)<', text)
    assert value is not None and value.group(1) == "Không áp dụng"
    history = text.split('data-testid="history"', 1)[1]
    assert "(Không áp dụng)" in history and "KAD" not in history
