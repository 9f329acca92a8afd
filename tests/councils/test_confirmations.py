"""Confirmations of the appraisal's irreversible acts (DESIGN §11, issue 10 item 4): finishing
appraisal round 1 and round 2, and the unit submitting its explanations. The first POST
changes nothing and states the consequences in numbers; the confirmed POST acts."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.urls import reverse

from assessments import confirm
from assessments.models import AssessmentState, Event, EventAction, UnitAssessment
from councils import services
from tests.conftest import client_for
from tests.councils.test_appraisal_by_unit import (
    appraise_everything,
    build_world,
    explain,
    item,
    with_deadlines,
)

pytestmark = pytest.mark.django_db

FINISH = reverse("appraisal_finish", args=[2016, "STP"])
EXPLANATIONS = reverse("unit_explanations", args=[2016, "STP"])


def state(assessment: UnitAssessment) -> str:
    return UnitAssessment.objects.get(pk=assessment.pk).state


def consequences(body: str) -> str:
    """The text of the confirmation page's list of consequences."""
    match = re.search(r'data-testid="consequences">(.*?)</ul>', body, re.S)
    assert match, body
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1)))


def has_confirm_button(body: str) -> bool:
    return f'name="{confirm.CONFIRM_FIELD}" value="1"' in body


@pytest.fixture
def world(open_round: Any, groups: Any, units: Any, appraiser: Any, secretariat_lead: Any) -> Any:
    return build_world(with_deadlines(open_round), groups, units, appraiser, secretariat_lead)


@pytest.fixture
def explained(world: Any, appraiser: Any, secretariat_lead: Any, leader: Any) -> UnitAssessment:
    return explain(world["STP"], appraiser, secretariat_lead, leader)


@pytest.fixture
def appraising(world: Any, appraiser: Any) -> UnitAssessment:
    """STP with every item appraised in round 1 and 1.3 flagged."""
    stp = world["STP"]
    appraise_everything(stp, appraiser)
    services.flag_explanation(item(stp, "1.3"), "Tài liệu ở đâu?", by=appraiser)
    return UnitAssessment.objects.get(pk=stp.pk)


# --- finishing round 1 -------------------------------------------------------------------------


def test_finishing_round_1_asks_first_with_the_numbers_and_changes_nothing(
    appraising: UnitAssessment, secretariat_lead: Any
) -> None:
    response = client_for(secretariat_lead).post(FINISH, {"round": "1"})
    assert response.status_code == 200
    body = response.content.decode()
    text = consequences(body)
    assert "Đã thẩm định lần 1 7/7 tiêu chí." in text
    assert "1 yêu cầu giải trình sẽ được gửi đến đơn vị" in text
    assert "không thể thay đổi điểm thẩm định lần 1" in text
    assert has_confirm_button(body) and 'name="round" value="1"' in body
    assert state(appraising) == AssessmentState.APPRAISING
    assert not Event.objects.filter(action=EventAction.ROUND1_FINISHED).exists()


def test_finishing_round_1_confirmed_sends_the_requests(
    appraising: UnitAssessment, secretariat_lead: Any
) -> None:
    response = client_for(secretariat_lead).post(FINISH, {"round": "1", confirm.CONFIRM_FIELD: "1"})
    assert response.status_code == 302
    assert state(appraising) == AssessmentState.EXPLANATION_REQUESTED


def test_finishing_round_1_without_questions_says_the_unit_will_be_appraised(
    world: Any, appraiser: Any, secretariat_lead: Any
) -> None:
    appraise_everything(world["STP"], appraiser)
    text = consequences(client_for(secretariat_lead).post(FINISH, {"round": "1"}).content.decode())
    assert "Không có tiêu chí nào yêu cầu giải trình" in text
    assert state(world["STP"]) == AssessmentState.APPRAISING


def test_finishing_round_1_with_items_left_is_blocked_and_lists_them(
    world: Any, appraiser: Any, secretariat_lead: Any
) -> None:
    services.accept_self_score(item(world["STP"], "1.1"), by=appraiser)
    body = client_for(secretariat_lead).post(FINISH, {"round": "1"}).content.decode()
    assert "Đã thẩm định lần 1 1/7 tiêu chí." in consequences(body)
    assert "còn 6 tiêu chí chưa được thẩm định" in consequences(body)
    assert not has_confirm_button(body)
    assert all(code in body for code in ("1.2", "1.5", "2.1", "2.2"))
    assert state(world["STP"]) == AssessmentState.APPRAISING


def test_only_the_lead_reaches_the_confirmation(
    appraising: UnitAssessment, appraiser: Any, chair: Any, focal: Any, other_unit_focal: Any
) -> None:
    for user in (appraiser, chair, focal):
        assert client_for(user).post(FINISH, {"round": "1"}).status_code == 403
    assert client_for(other_unit_focal).post(FINISH, {"round": "1"}).status_code == 404
    assert client_for(appraiser).get(FINISH).status_code == 405
    assert state(appraising) == AssessmentState.APPRAISING


def test_a_unit_not_in_round_1_is_refused_without_a_confirmation(
    world: Any, secretariat_lead: Any
) -> None:
    response = client_for(secretariat_lead).post(FINISH, {"round": "1"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("appraisal_unit", args=[2016, "STP"])
    assert state(world["STP"]) == AssessmentState.SUBMITTED


# --- finishing round 2 -------------------------------------------------------------------------


def test_finishing_round_2_asks_first_then_acts(
    explained: UnitAssessment,
    appraiser: Any,
    secretariat_lead: Any,
) -> None:
    client = client_for(secretariat_lead)
    blocked = client.post(FINISH, {"round": "2"}).content.decode()
    assert "Đã thẩm định lại 0/1 tiêu chí yêu cầu giải trình." in consequences(blocked)
    assert not has_confirm_button(blocked) and "1.3" in blocked
    services.save_appraisal(item(explained, "1.3"), by=appraiser, value="không", comment="Thiếu")
    body = client.post(FINISH, {"round": "2"}).content.decode()
    text = consequences(body)
    assert "Đã thẩm định lại 1/1 tiêu chí yêu cầu giải trình." in text
    assert "không thể thay đổi điểm thẩm định lần 2" in text
    assert has_confirm_button(body)
    assert state(explained) == AssessmentState.EXPLAINED
    response = client.post(FINISH, {"round": "2", confirm.CONFIRM_FIELD: "1"})
    assert response.status_code == 302
    assert state(explained) == AssessmentState.APPRAISED


# --- the unit submits its explanations ------------------------------------------------------------


@pytest.fixture
def explaining(appraising: UnitAssessment, secretariat_lead: Any) -> UnitAssessment:
    services.finish_round1(appraising, by=secretariat_lead)
    return UnitAssessment.objects.get(pk=appraising.pk)


def test_submitting_explanations_with_a_question_open_is_blocked(
    explaining: UnitAssessment, leader: Any
) -> None:
    body = client_for(leader).post(EXPLANATIONS, {"action": "submit"}).content.decode()
    assert "Đã trả lời 0/1 yêu cầu giải trình, còn 1 chưa trả lời." in consequences(body)
    assert not has_confirm_button(body) and "1.3" in body
    assert state(explaining) == AssessmentState.EXPLANATION_REQUESTED


def test_submitting_explanations_asks_first_then_acts(
    explaining: UnitAssessment, leader: Any
) -> None:
    client = client_for(leader)
    client.post(EXPLANATIONS, {"code": "1.3", "answer": "Đã bổ sung tài liệu"})
    body = client.post(EXPLANATIONS, {"action": "submit"}).content.decode()
    text = consequences(body)
    assert "Đã trả lời 1/1 yêu cầu giải trình, còn 0 chưa trả lời." in text
    assert "không thể sửa nội dung giải trình" in text
    assert has_confirm_button(body)
    assert state(explaining) == AssessmentState.EXPLANATION_REQUESTED
    response = client.post(EXPLANATIONS, {"action": "submit", confirm.CONFIRM_FIELD: "1"})
    assert response.status_code == 302
    assert state(explaining) == AssessmentState.EXPLAINED


def test_only_the_leader_submits_explanations(
    explaining: UnitAssessment, focal: Any, secretariat_lead: Any, other_unit_focal: Any
) -> None:
    data = {"action": "submit", confirm.CONFIRM_FIELD: "1"}
    assert client_for(focal).post(EXPLANATIONS, {"action": "submit"}).status_code == 403
    assert client_for(secretariat_lead).post(EXPLANATIONS, data).status_code == 403
    assert client_for(other_unit_focal).post(EXPLANATIONS, data).status_code == 404
    assert state(explaining) == AssessmentState.EXPLANATION_REQUESTED


# --- without JavaScript --------------------------------------------------------------------------


def submit_confirmation_form(client: Any, body: str) -> Any:
    """Post the confirmation page's form as a browser without JavaScript would: its action,
    its hidden fields and the confirm button's name and value, nothing else."""
    forms = re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', body, re.S)
    form = next((f for f in forms if confirm.CONFIRM_FIELD in f[1]), None)
    assert form, body
    action, inside = html.unescape(form[0]), form[1]
    data: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', inside):
        if name != "csrfmiddlewaretoken":
            data.setdefault(name, []).append(html.unescape(value))
    button = re.search(r'<button[^>]*type="submit" name="([^"]+)" value="([^"]+)"', inside)
    assert button, inside
    data[button.group(1)] = [button.group(2)]
    return client.post(action, data)


def test_the_confirmations_work_without_javascript(
    appraising: UnitAssessment, secretariat_lead: Any, leader: Any
) -> None:
    """The Django test client runs no JavaScript: each step here is a plain HTML form post,
    the button on the unit page, then the form of the confirmation page, exactly what a
    browser without scripts sends."""
    lead = client_for(secretariat_lead)
    page = lead.get(reverse("appraisal_unit", args=[2016, "STP"])).content.decode()
    assert f'action="{FINISH}"' in page
    asked = lead.post(FINISH, {"round": "1"})
    assert asked.status_code == 200 and state(appraising) == AssessmentState.APPRAISING
    done = submit_confirmation_form(lead, asked.content.decode())
    assert done.status_code == 302
    assert state(appraising) == AssessmentState.EXPLANATION_REQUESTED

    unit = client_for(leader)
    unit.post(EXPLANATIONS, {"code": "1.3", "answer": "Đã bổ sung"})
    asked = unit.post(EXPLANATIONS, {"action": "submit"})
    assert asked.status_code == 200
    assert state(appraising) == AssessmentState.EXPLANATION_REQUESTED
    assert submit_confirmation_form(unit, asked.content.decode()).status_code == 302
    assert state(appraising) == AssessmentState.EXPLAINED
