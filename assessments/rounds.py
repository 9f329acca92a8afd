"""Where a round stands, from its units' states (DESIGN §5.1, §5.2): the home pages and the
council's round list read it from here."""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable

from django.db.models import Count
from django.utils.translation import gettext as _

from .models import AssessmentState, Round, UnitAssessment
from .states import AWAITING_COUNCIL, FINAL

S = AssessmentState


def round_stage(round_: Round, states: Counter[str], now: datetime.datetime) -> str:
    """What a round is at, from its units' states (published, approved, with the council),
    else by the calendar (§5.1)."""
    total = sum(states.values())
    if total and states[S.PUBLISHED] == total:
        return _("Published")
    if total and sum(states[s] for s in FINAL) == total:
        return _("Approved, not published yet")
    if total and sum(states[s] for s in AWAITING_COUNCIL) == total:
        return _("With the council")
    return round_.current_phase(now)


def state_counts(round_ids: Iterable[int]) -> dict[int, Counter[str]]:
    """round id → number of assessments per state (one query)."""
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    rows = (
        UnitAssessment.objects.filter(round_id__in=list(round_ids))
        .values_list("round_id", "state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for round_id, state, n in rows:
        counts[round_id][state] = n
    return counts
