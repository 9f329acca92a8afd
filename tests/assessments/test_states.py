"""The §5.2 state table, walked row by row: every allowed transition succeeds, every other
one is refused, and each service moves only from its row's state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from assessments import services as unit_services
from assessments import states
from assessments.models import AssessmentState, Event, Round, UnitAssessment
from councils import services as council_services

pytestmark = pytest.mark.django_db

ALL_STATES = [state.value for state in AssessmentState]


@pytest.fixture
def assessment(criteria_sets: Any, units: Any, open_round: Round) -> UnitAssessment:
    return unit_services.get_or_create_assessment(open_round, units["STP"])


def put_in(assessment: UnitAssessment, state: str) -> UnitAssessment:
    """The starting state of a row (set directly: this test is about the table itself)."""
    UnitAssessment.objects.filter(pk=assessment.pk).update(
        state=state, submitted_at=None if state == AssessmentState.DRAFT else assessment.created_at
    )
    return UnitAssessment.objects.select_related("round", "unit").get(pk=assessment.pk)


def test_the_table_is_section_5_2() -> None:
    rows = {(row.name, row.source, row.target) for row in states.TRANSITIONS}
    S = AssessmentState
    assert rows == {
        ("submit", S.DRAFT, S.SUBMITTED),
        ("auto_lock", S.DRAFT, S.SUBMITTED),
        ("return_to_draft", S.SUBMITTED, S.DRAFT),
        ("start_appraisal", S.SUBMITTED, S.APPRAISING),
        ("finish_round1", S.APPRAISING, S.APPRAISED),
        ("request_explanations", S.APPRAISING, S.EXPLANATION_REQUESTED),
        ("submit_explanations", S.EXPLANATION_REQUESTED, S.EXPLAINED),
        ("lock_explanations", S.EXPLANATION_REQUESTED, S.EXPLAINED),
        ("finish_round2", S.EXPLAINED, S.APPRAISED),
        ("send_back", S.APPRAISED, S.APPRAISING),
        ("approve", S.APPRAISED, S.APPROVED),
        ("publish", S.APPROVED, S.PUBLISHED),
    }
    assert len(states.BY_NAME) == len(states.TRANSITIONS)


@pytest.mark.parametrize("row", states.TRANSITIONS, ids=lambda row: row.name)
@pytest.mark.parametrize("start", ALL_STATES)
def test_every_row_moves_only_from_its_state(
    row: states.Transition, start: str, assessment: UnitAssessment, secretariat_lead: Any
) -> None:
    current = put_in(assessment, start)
    events = Event.objects.count()
    if start == row.source:
        # Leaving a draft records when (a database constraint), as the services do.
        changes = {"submitted_at": timezone.now()} if start == AssessmentState.DRAFT else {}
        assert unit_services.transition(
            current, row.name, by=secretariat_lead, reason="lý do", changes=changes
        )
        stored = UnitAssessment.objects.get(pk=assessment.pk)
        assert stored.state == current.state == row.target
        event = Event.objects.latest("pk")
        assert (event.action, event.detail["old"], event.detail["new"]) == (
            row.event,
            row.source,
            row.target,
        )
        assert event.reason == "lý do"
    else:
        with pytest.raises(unit_services.ServiceError):
            unit_services.transition(current, row.name, by=secretariat_lead)
        assert not unit_services.transition(current, row.name, by=None, refuse=False)
        assert UnitAssessment.objects.get(pk=assessment.pk).state == start
        assert Event.objects.count() == events


def test_the_named_sets_are_made_of_states() -> None:
    every = set(ALL_STATES)
    for name in (
        "SUBMITTED_OR_LATER",
        "IN_APPRAISAL",
        "APPRAISABLE",
        "VISIBLE_TO_UNIT",
        "COUNCIL_REVIEW",
        "AWAITING_COUNCIL",
        "FINAL",
        "EXTENDABLE",
        "EXPLAINING",
    ):
        assert getattr(states, name) <= every, name
    assert every - {AssessmentState.DRAFT} == states.SUBMITTED_OR_LATER
    assert states.FINAL <= states.COUNCIL_REVIEW <= states.VISIBLE_TO_UNIT


# Each service that performs one row, called on an assessment in any other state, refuses
# with a message and changes nothing.
SERVICES: dict[str, Callable[[UnitAssessment, dict[str, Any]], Any]] = {
    "submit": lambda a, p: unit_services.submit_assessment(a, by=p["leader"]),
    "return_to_draft": lambda a, p: unit_services.return_to_draft(
        a, by=p["secretariat_lead"], reason="Thiếu tài liệu"
    ),
    "finish_round1": lambda a, p: council_services.finish_round1(a, by=p["secretariat_lead"]),
    "submit_explanations": lambda a, p: council_services.submit_explanations(a, by=p["leader"]),
    "finish_round2": lambda a, p: council_services.finish_round2(a, by=p["secretariat_lead"]),
    "send_back": lambda a, p: council_services.send_back(a, by=p["chair"], reason="Xem lại mục 3"),
}


@pytest.mark.parametrize(
    ("name", "start"),
    [
        (name, start)
        for name in sorted(SERVICES)
        for start in ALL_STATES
        if start != states.BY_NAME[name].source  # the allowed move: the service's own tests
    ],
)
def test_each_service_refuses_outside_its_row(
    name: str,
    start: str,
    assessment: UnitAssessment,
    leader: Any,
    secretariat_lead: Any,
    chair: Any,
) -> None:
    current = put_in(assessment, start)
    events = Event.objects.count()
    people = {"leader": leader, "secretariat_lead": secretariat_lead, "chair": chair}
    with pytest.raises(unit_services.ServiceError):
        SERVICES[name](current, people)
    assert UnitAssessment.objects.get(pk=assessment.pk).state == start
    assert Event.objects.count() == events
