"""Each appraisal rule has one home, and what is written twice (a Python rule and its query
twin) agrees: who appraises what, the items round 2 still has to re-appraise, the explanation
requests still unanswered."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from assessments import states
from assessments.models import AssessmentState, ItemScore, Round, UnitAssessment
from councils import access, services, worklists
from councils.models import ExplanationRequest
from tests.conftest import client_for
from tests.councils.test_appraisal_by_unit import (
    appraise_everything,
    build_world,
    explain,
    item,
    with_deadlines,
)


@pytest.fixture
def world(open_round: Round, groups: Any, units: Any, appraiser: Any, secretariat_lead: Any) -> Any:
    return build_world(with_deadlines(open_round), groups, units, appraiser, secretariat_lead)


def codes(items: Any) -> list[str]:
    return sorted(items.values_list("criterion__code", flat=True))


# --- who appraises what ----------------------------------------------------------------------


def test_the_query_twins_agree_with_own_fields(world: Any, appraiser: Any) -> None:
    # The first appraiser has field 1 for every unit of the group; the second field 2 for
    # SYT only. Every assessment (the draft SXD too) and every item is checked both ways.
    for user in (appraiser, world["second"]):
        scope = access.appraisal_scope(user)
        in_q = set(
            UnitAssessment.objects.filter(scope.assessments_q()).values_list("pk", flat=True)
        )
        items_in_q = set(ItemScore.objects.filter(scope.items_q()).values_list("pk", flat=True))
        for assessment in UnitAssessment.objects.all():
            own = scope.own_fields(assessment.criteria_set_id, assessment.unit_id)
            assert access.assigned_fields(user, assessment) == own
            assert (assessment.pk in in_q) == bool(own)
            for entry in ItemScore.objects.filter(assessment=assessment).select_related(
                "criterion"
            ):
                assert (entry.pk in items_in_q) == (access.field_code(entry.criterion.code) in own)
    stp, syt = world["STP"], world["SYT"]
    assert access.assigned_fields(appraiser, stp) == {"1"}
    assert access.assigned_fields(world["second"], stp) == set()
    assert access.assigned_fields(world["second"], syt) == {"2"}


def test_the_lead_reads_everything_and_appraises_only_own_fields(
    world: Any, secretariat_lead: Any
) -> None:
    scope = access.appraisal_scope(secretariat_lead)
    assert scope.everything
    assert UnitAssessment.objects.filter(scope.assessments_q()).count() == 3
    assert access.assigned_fields(secretariat_lead, world["STP"]) == set()


# --- flagged and not yet re-appraised ----------------------------------------------------------


def test_pending_reappraisal_is_what_round_2_has_left(
    world: Any, appraiser: Any, secretariat_lead: Any, leader: Any
) -> None:
    explained = explain(world["STP"], appraiser, secretariat_lead, leader)
    assert explained.state in states.REAPPRAISABLE
    items = ItemScore.objects.filter(assessment=explained)
    assert codes(services.pending_reappraisal(items)) == ["1.3"]
    summary = worklists.round_summary(explained)
    assert (summary.flagged, summary.not_reappraised, summary.reappraised) == (1, ["1.3"], 0)
    assert summary.unappraised == codes(services.unappraised_items(items)) == []
    client = client_for(appraiser)
    url = reverse("appraisal_unit", args=[2016, "STP"])
    page = client.get(url)
    assert (page.context["reappraised"], page.context["flagged"]) == (0, 1)
    assert [(s.done, s.total) for s in page.context["sections"]] == [(0, 1)]
    with pytest.raises(services.ServiceError):
        services.finish_round2(explained, by=secretariat_lead)

    services.save_appraisal(item(explained, "1.3"), by=appraiser, value="có")
    assert codes(services.pending_reappraisal(items)) == []
    summary = worklists.round_summary(explained)
    assert (summary.flagged, summary.not_reappraised, summary.reappraised) == (1, [], 1)
    page = client.get(url)
    assert (page.context["reappraised"], page.context["flagged"]) == (1, 1)
    assert [(s.done, s.total) for s in page.context["sections"]] == [(1, 1)]
    finished = services.finish_round2(explained, by=secretariat_lead)
    assert finished.state == AssessmentState.APPRAISED


def test_round_1_sends_only_the_flagged_items_not_reappraised(
    world: Any, appraiser: Any, secretariat_lead: Any
) -> None:
    stp = world["STP"]
    appraise_everything(stp, appraiser)
    services.flag_explanation(item(stp, "1.3"), "Tài liệu ở đâu?", by=appraiser)
    items = ItemScore.objects.filter(assessment=stp)
    assert codes(services.pending_reappraisal(items)) == ["1.3"]
    assert worklists.round_summary(UnitAssessment.objects.get(pk=stp.pk)).to_explain == 1
    finished = services.finish_round1(stp, by=secretariat_lead)
    assert finished.state == AssessmentState.EXPLANATION_REQUESTED


# --- unanswered explanation requests ----------------------------------------------------------


def test_unanswered_requests_are_flagged_and_without_an_answer(
    world: Any, appraiser: Any, secretariat_lead: Any, leader: Any
) -> None:
    stp = world["STP"]
    appraise_everything(stp, appraiser)
    services.flag_explanation(item(stp, "1.3"), "Tài liệu ở đâu?", by=appraiser)
    services.flag_explanation(item(stp, "1.4"), "Vì sao?", by=appraiser)
    services.finish_round1(stp, by=secretariat_lead)
    unanswered = ExplanationRequest.objects.unanswered().filter(item__assessment=stp)
    assert codes_of(unanswered) == ["1.3", "1.4"]
    assert worklists.open_requests(stp)[0] == 0
    services.answer_explanation(item(stp, "1.3"), "Đã bổ sung", by=leader)
    assert codes_of(unanswered) == ["1.4"]
    answered, still_open = worklists.open_requests(stp)
    assert (answered, [r.item.criterion.code for r in still_open]) == (1, ["1.4"])
    with pytest.raises(services.ServiceError, match=r"1\.4"):
        services.submit_explanations(UnitAssessment.objects.get(pk=stp.pk), by=leader)
    # A request whose item is no longer flagged is not waiting for an answer.
    ItemScore.objects.filter(assessment=stp, criterion__code="1.4").update(
        explanation_required=False
    )
    assert codes_of(unanswered) == []
    assert worklists.open_requests(stp) == (1, [])
    submitted = services.submit_explanations(UnitAssessment.objects.get(pk=stp.pk), by=leader)
    assert submitted.state == AssessmentState.EXPLAINED


def codes_of(requests: Any) -> list[str]:
    return sorted(requests.values_list("item__criterion__code", flat=True))
