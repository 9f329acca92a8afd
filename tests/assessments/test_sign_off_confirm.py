"""Submitting asks first (DESIGN §11, issue 10 item 4): the leader sees the blocking items before
pressing "Nộp", the confirmation states the numbers, the typed text survives the round-trip and
a refusal, and a contributor's primary button does not lead to sign-off."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from assessments import services
from assessments.confirm import CONFIRM_FIELD
from assessments.models import AssessmentState, Event, EventAction, ItemScore, Round, UnitAssessment
from tests.builders import fill
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

URL = reverse("sign_off", args=[2016, "STP"])
TYPED = {
    "action": "submit",
    "difficulties": "Thiếu nhân lực chuyên trách",
    "recommendations": "Tập huấn về tài liệu kiểm chứng",
}


@pytest.fixture
def assessment(criteria_sets: Any, units: Any, open_round: Round) -> UnitAssessment:
    return services.get_or_create_assessment(open_round, units["STP"])


def counts(assessment: UnitAssessment) -> tuple[int, int]:
    """Self-assessed items, and those scored above 0 without a document but explained."""
    items = ItemScore.objects.filter(assessment=assessment).select_related("criterion")
    self_assessed = [i for i in items if i.criterion.method != "survey"]
    explained = [
        i for i in self_assessed if i.criterion.evidence_required and i.has_points
    ]  # fill() explains every one of them
    return len(self_assessed), len(explained)


def state(assessment: UnitAssessment) -> str:
    return UnitAssessment.objects.get(pk=assessment.pk).state


def test_the_first_submit_changes_nothing_and_states_the_numbers(
    leader: Any, assessment: UnitAssessment
) -> None:
    fill(assessment, leader)
    items, explained = counts(assessment)
    response = client_for(leader).post(URL, TYPED)
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        f"Nộp {items} tiêu chí, {explained} thiếu tài liệu (có giải trình); "
        "sau khi nộp đơn vị không thể sửa."
    ) in body
    assert "Tổng điểm tự đánh giá" in body and "chỉ số" in body
    assert f'name="{CONFIRM_FIELD}" value="1"' in body
    # The typed text goes through the confirmation as hidden fields.
    assert 'type="hidden" name="difficulties" value="Thiếu nhân lực chuyên trách"' in body
    assert 'type="hidden" name="recommendations" value="Tập huấn về tài liệu kiểm chứng"' in body
    assert state(assessment) == AssessmentState.DRAFT
    assert UnitAssessment.objects.get(pk=assessment.pk).difficulties == ""
    assert not Event.objects.filter(action=EventAction.SUBMITTED).exists()


def test_the_confirmed_submit_submits_with_the_carried_text(
    leader: Any, assessment: UnitAssessment
) -> None:
    fill(assessment, leader)
    response = client_for(leader).post(URL, {**TYPED, CONFIRM_FIELD: "1"})
    assert response.status_code == 302
    submitted = UnitAssessment.objects.get(pk=assessment.pk)
    assert submitted.state == AssessmentState.SUBMITTED and submitted.submitted_by == leader
    assert submitted.difficulties == "Thiếu nhân lực chuyên trách"
    assert submitted.recommendations == "Tập huấn về tài liệu kiểm chứng"
    assert Event.objects.filter(action=EventAction.SUBMITTED).count() == 1


def test_without_javascript_the_confirmation_form_posts_back_to_the_sign_off(
    leader: Any, assessment: UnitAssessment
) -> None:
    fill(assessment, leader)
    client = client_for(leader)
    body = client.post(URL, TYPED).content.decode()
    form = re.search(r'<form method="post" action="([^"]+)" class="d-flex', body)
    assert form is not None and form.group(1) == URL
    carried = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body))
    assert carried["action"] == "submit"
    response = client.post(form.group(1), {**carried, CONFIRM_FIELD: "1"})
    assert response.status_code == 302 and state(assessment) == AssessmentState.SUBMITTED
    # Cancelling is a plain link back to the page.
    assert f'href="{URL}"' in body


def test_the_leader_sees_the_blocking_items_before_pressing_submit(
    leader: Any, assessment: UnitAssessment
) -> None:
    body = client_for(leader).get(URL).content.decode()
    assert 'data-testid="problems"' in body
    assert reverse("item_edit", args=[2016, "STP", "1.1.1"]) in body
    assert "chưa chấm" in body
    fill(assessment, leader)
    body = client_for(leader).get(URL).content.decode()
    assert 'data-testid="problems"' not in body
    items, explained = counts(assessment)
    assert f"Nộp {items} tiêu chí, {explained} thiếu tài liệu (có giải trình)." in body


def test_a_refused_submit_keeps_the_typed_text_and_submits_nothing(
    leader: Any, assessment: UnitAssessment
) -> None:
    response = client_for(leader).post(URL, TYPED)
    assert response.status_code == 422
    body = response.content.decode()
    assert "Thiếu nhân lực chuyên trách</textarea>" in body
    assert "Tập huấn về tài liệu kiểm chứng</textarea>" in body
    assert "Chưa thể nộp kết quả tự đánh giá" in body
    assert f'name="{CONFIRM_FIELD}"' not in body  # no confirmation while items block it
    assert state(assessment) == AssessmentState.DRAFT


def test_a_confirmed_submit_that_the_service_refuses_keeps_the_typed_text(
    leader: Any, assessment: UnitAssessment
) -> None:
    # Confirmed, but an item is not scored (someone cleared it meanwhile): refused by §7.
    response = client_for(leader).post(URL, {**TYPED, CONFIRM_FIELD: "1"})
    assert response.status_code == 422
    assert "Thiếu nhân lực chuyên trách</textarea>" in response.content.decode()
    assert UnitAssessment.objects.get(pk=assessment.pk).difficulties == (
        "Thiếu nhân lực chuyên trách"
    )
    assert state(assessment) == AssessmentState.DRAFT


@pytest.mark.parametrize("persona", ["focal", "contributor"])
def test_only_the_leader_submits_even_when_confirmed(
    persona: str, request: Any, assessment: UnitAssessment
) -> None:
    user = request.getfixturevalue(persona)
    response = client_for(user).post(URL, {**TYPED, CONFIRM_FIELD: "1"})
    assert response.status_code == 403
    assert state(assessment) == AssessmentState.DRAFT


def test_an_outsider_gets_404(other_unit_focal: Any, assessment: UnitAssessment) -> None:
    assert client_for(other_unit_focal).post(URL, {**TYPED, CONFIRM_FIELD: "1"}).status_code == 404


def test_a_contributors_primary_button_is_their_items_not_the_sign_off(
    contributor: Any, focal: Any, leader: Any, assessment: UnitAssessment
) -> None:
    workspace = reverse("unit_workspace", args=[2016, "STP"])
    body = client_for(contributor).get(workspace).content.decode()
    primary = re.search(
        r'<a class="btn btn-sm btn-portal" href="([^"]+)" data-testid="primary"', body
    )
    assert primary is not None and primary.group(1) == "?loc=cua-toi"
    assert URL not in body
    for person in (focal, leader):
        body = client_for(person).get(workspace).content.decode()
        primary = re.search(
            r'<a class="btn btn-sm btn-portal" href="([^"]+)" data-testid="primary"', body
        )
        assert primary is not None and primary.group(1) == URL
