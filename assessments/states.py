"""The state table of a unit's assessment (DESIGN §5.2), written once.

The named sets say which states a rule accepts; :data:`TRANSITIONS` is §5.2 row by row. Every
service moves a state through :func:`assessments.services.transition` (one row, one
conditional ``UPDATE``, one Event, notifications after the commit), and a test walks this
table: every allowed transition succeeds, every other one is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import AssessmentState, EventAction

S = AssessmentState

# --- the named sets ------------------------------------------------------------------------
# Handed to the secretariat: submitted (by the leader or by the deadline lock) and later.
SUBMITTED_OR_LATER = frozenset(
    {
        S.SUBMITTED,
        S.APPRAISING,
        S.EXPLANATION_REQUESTED,
        S.EXPLAINED,
        S.APPRAISED,
        S.APPROVED,
        S.PUBLISHED,
    }
)
# Handed to the appraisers and not frozen yet: their worklists.
IN_APPRAISAL = SUBMITTED_OR_LATER - {S.APPROVED, S.PUBLISHED}
# Appraisal round 1 writes (the first save starts the appraisal).
APPRAISABLE = frozenset({S.SUBMITTED, S.APPRAISING})
# The unit reads its appraisal results once round 1 is finished (§6).
VISIBLE_TO_UNIT = frozenset(
    {S.EXPLANATION_REQUESTED, S.EXPLAINED, S.APPRAISED, S.APPROVED, S.PUBLISHED}
)
# Council members read a unit (workspace, evidence, appraisal) only from here on (§6).
COUNCIL_REVIEW = frozenset({S.APPRAISED, S.APPROVED, S.PUBLISHED})
# Waiting for the council: opinions and "send back" (§5.2), and what approval requires.
AWAITING_COUNCIL = frozenset({S.APPRAISED})
# Frozen by the council's approval: final results (§4.4), nothing changes any more.
FINAL = frozenset({S.APPROVED, S.PUBLISHED})
# The secretariat lead may give more time to a unit that has not been appraised yet.
EXTENDABLE = frozenset({S.DRAFT, S.SUBMITTED})
# The unit answers explanation requests.
EXPLAINING = frozenset({S.EXPLANATION_REQUESTED})
# Appraisal round 2 writes: the unit has explained, its flagged items are re-appraised.
REAPPRAISABLE = frozenset({S.EXPLAINED})


@dataclass(frozen=True)
class Transition:
    """One row of §5.2: ``name`` moves an assessment from ``source`` to ``target``."""

    name: str
    source: str
    target: str
    event: str
    who: str  # the role of §6 that acts (or "system")


TRANSITIONS: tuple[Transition, ...] = (
    Transition("submit", S.DRAFT, S.SUBMITTED, EventAction.SUBMITTED, "unit leader"),
    Transition("auto_lock", S.DRAFT, S.SUBMITTED, EventAction.AUTO_LOCKED, "system"),
    Transition(
        "return_to_draft", S.SUBMITTED, S.DRAFT, EventAction.RETURNED_TO_DRAFT, "secretariat lead"
    ),
    Transition(
        "start_appraisal", S.SUBMITTED, S.APPRAISING, EventAction.APPRAISAL_STARTED, "appraiser"
    ),
    Transition(
        "finish_round1", S.APPRAISING, S.APPRAISED, EventAction.ROUND1_FINISHED, "secretariat lead"
    ),
    Transition(
        "request_explanations",
        S.APPRAISING,
        S.EXPLANATION_REQUESTED,
        EventAction.ROUND1_FINISHED,
        "secretariat lead",
    ),
    Transition(
        "submit_explanations",
        S.EXPLANATION_REQUESTED,
        S.EXPLAINED,
        EventAction.EXPLANATIONS_SUBMITTED,
        "unit leader",
    ),
    Transition(
        "lock_explanations",
        S.EXPLANATION_REQUESTED,
        S.EXPLAINED,
        EventAction.EXPLANATIONS_LOCKED,
        "system",
    ),
    Transition(
        "finish_round2", S.EXPLAINED, S.APPRAISED, EventAction.ROUND2_FINISHED, "secretariat lead"
    ),
    Transition("send_back", S.APPRAISED, S.APPRAISING, EventAction.SENT_BACK, "council chair"),
    Transition("approve", S.APPRAISED, S.APPROVED, EventAction.ROUND_APPROVED, "council chair"),
    Transition("publish", S.APPROVED, S.PUBLISHED, EventAction.ROUND_PUBLISHED, "council chair"),
)
BY_NAME = {row.name: row for row in TRANSITIONS}


def allowed(source: str, target: str) -> bool:
    """Whether §5.2 has a row from ``source`` to ``target``."""
    return any(row.source == source and row.target == target for row in TRANSITIONS)
