"""Loaders of the secretariat pages: the round dashboard and the appraiser assignments.

Each loader runs a fixed number of queries whatever the number of units (the item counts are
aggregated in the database per unit and field) and returns plain dataclasses; the arithmetic on
the loaded numbers is in small pure functions so that it can be tested without a database.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.http import Http404
from django.utils import timezone

from assessments import results, scoring
from assessments.access import User as AnyUser
from assessments.access import require_secretariat_lead
from assessments.models import (
    AssessmentState,
    CriteriaSet,
    Criterion,
    EvidenceLink,
    ItemScore,
    Round,
    StaffRole,
    Unit,
    UnitAssessment,
    UnitGroup,
)
from assessments.states import EXTENDABLE, SUBMITTED_OR_LATER

from . import access
from .models import AppraiserAssignment, Deadline

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# A unit that claims more than this many points above what the appraisers gave is shown in
# colour: it does not yet know how to assess itself.
OVER_SCORED_POINTS = Decimal("5")


def get_round_for_lead(user: AnyUser, year: int) -> Round:
    """The round of ``year`` for the secretariat lead: 403 for anyone else, 404 if unknown."""
    require_secretariat_lead(user)
    try:
        return Round.objects.get(year=year)
    except Round.DoesNotExist:
        raise Http404 from None


# --- the dashboard ---------------------------------------------------------------------------


@dataclass
class FieldProgress:
    code: str
    appraised: int = 0
    total: int = 0

    @property
    def done(self) -> bool:
        return self.total > 0 and self.appraised == self.total


@dataclass
class Counts:
    """What the database counts for one unit and one field (non-survey leaves only)."""

    leaves: int = 0
    scored: int = 0  # a self score or an N/A
    applicable: int = 0  # not marked N/A by the unit
    with_evidence: int = 0  # applicable and linked to at least one document
    appraised: int = 0
    open_explanations: int = 0  # flagged, asked, not answered yet

    def add(self, other: Counts) -> None:
        self.leaves += other.leaves
        self.scored += other.scored
        self.applicable += other.applicable
        self.with_evidence += other.with_evidence
        self.appraised += other.appraised
        self.open_explanations += other.open_explanations


@dataclass
class UnitRow:
    unit: Unit
    assessment: UnitAssessment | None
    counts: Counts = field(default_factory=Counts)
    fields: list[FieldProgress] = field(default_factory=list)
    timeliness: str = "pending"  # on_time | late | overdue | pending
    result: results.UnitResult | None = None  # the provisional totals (§4.4)

    @property
    def appraisal_started(self) -> bool:
        return self.assessment is not None and self.assessment.state in SUBMITTED_OR_LATER

    @property
    def can_extend(self) -> bool:
        return self.assessment is not None and self.assessment.state in EXTENDABLE

    @property
    def difference(self) -> Decimal | None:
        """Provisional total − self total, as on the council's pages (None before appraisal):
        negative when the unit claimed more than the appraisers gave."""
        if not self.counts.appraised or self.result is None:
            return None
        return self.result.difference

    @property
    def over_scored(self) -> bool:
        difference = self.difference
        return difference is not None and difference < -OVER_SCORED_POINTS


@dataclass
class GroupBlock:
    group: UnitGroup
    rows: list[UnitRow]


@dataclass
class AssignmentProgress:
    assignment: AppraiserAssignment
    unit_codes: list[str]  # empty: every unit of the group
    appraised: int = 0
    total: int = 0


@dataclass
class AppraiserRow:
    appraiser: User
    assignments: list[AssignmentProgress]

    @property
    def appraised(self) -> int:
        return sum(a.appraised for a in self.assignments)

    @property
    def total(self) -> int:
        return sum(a.total for a in self.assignments)


@dataclass
class NextDeadline:
    label: str
    at: datetime.datetime
    days: int


@dataclass
class Dashboard:
    round: Round
    groups: list[GroupBlock]
    appraisers: list[AppraiserRow]
    next_deadline: NextDeadline | None
    unit_count: int = 0
    submitted_count: int = 0


def next_deadline(round_: Round, now: datetime.datetime | None = None) -> NextDeadline | None:
    """The first of the four phase deadlines still ahead, in calendar days (local time)."""
    now = now or timezone.now()
    phases = [
        (Deadline.SELF_ASSESSMENT.label, round_.self_assessment_deadline),
        (Deadline.APPRAISAL1.label, round_.appraisal1_deadline),
        (Deadline.EXPLANATION.label, round_.explanation_deadline),
        (Deadline.APPRAISAL2.label, round_.appraisal2_deadline),
    ]
    ahead = sorted((at, str(label)) for label, at in phases if at is not None and at > now)
    if not ahead:
        return None
    at, label = ahead[0]
    days = (timezone.localdate(at) - timezone.localdate(now)).days
    return NextDeadline(label=label, at=at, days=days)


def timeliness(
    round_: Round, assessment: UnitAssessment | None, now: datetime.datetime | None = None
) -> str:
    """on_time / late (submitted after the unit's deadline, or locked automatically) /
    overdue (not submitted and the deadline has passed) / pending (not submitted yet)."""
    deadline = round_.self_assessment_deadline
    if assessment is not None:
        deadline = assessment.deadline
        if assessment.auto_locked:
            return "late"
        if assessment.submitted_at is not None:
            return "on_time" if deadline is None or assessment.submitted_at <= deadline else "late"
    if deadline is not None and deadline <= (now or timezone.now()):
        return "overdue"
    return "pending"


def _leaf_rows(round_: Round) -> list[dict[str, Any]]:
    """Every leaf of the round as the results ledger reads it, with what progress needs:
    whether evidence is linked and whether an explanation request is still open (one query;
    the same rows give the totals and the counts)."""
    return list(
        results.leaf_rows(
            ItemScore.objects.filter(assessment__round=round_),
            has_evidence=Exists(EvidenceLink.objects.filter(item_id=OuterRef("pk"))),
            open_explanation=ExpressionWrapper(
                Q(
                    explanation_required=True,
                    explanation__isnull=False,
                    explanation__answered_at__isnull=True,
                ),
                output_field=BooleanField(),
            ),
        )
    )


def _item_counts(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[int, str], Counts]:
    """(assessment id, field code) → counts of the self-assessed leaves (survey leaves are
    not the unit's work)."""
    counts: dict[tuple[int, str], Counts] = {}
    for row in rows:
        if row["criterion__method"] == scoring.SURVEY:
            continue
        scores = results.item_scores(row)
        entry = counts.setdefault(
            (row["assessment_id"], access.field_code(row["criterion__code"])), Counts()
        )
        entry.leaves += 1
        entry.scored += scores.is_scored
        if not scores.self_na:
            entry.applicable += 1
            entry.with_evidence += bool(row["has_evidence"])
        entry.appraised += scores.is_appraised
        entry.open_explanations += bool(row["open_explanation"])
    return counts


def _field_key(code: str) -> tuple[int, str]:
    return (int(code), code) if code.isdigit() else (10**6, code)


def _appraiser_rows(
    assignments: Sequence[AppraiserAssignment],
    appraisers: Iterable[User],
    assessments: Sequence[UnitAssessment],
    counts: dict[tuple[int, str], Counts],
) -> list[AppraiserRow]:
    """Progress of every appraiser over the units in an appraisable state that their
    assignments cover (an assignment without units covers the whole group)."""
    by_set: dict[int, list[UnitAssessment]] = defaultdict(list)
    for assessment in assessments:
        if assessment.state in SUBMITTED_OR_LATER:
            by_set[assessment.criteria_set_id].append(assessment)
    rows: dict[int, AppraiserRow] = {a.pk: AppraiserRow(a, []) for a in appraisers}
    for assignment in assignments:
        units = list(assignment.units.all())
        unit_ids = {u.pk for u in units}
        progress = AssignmentProgress(assignment, sorted(u.code for u in units))
        for assessment in by_set.get(assignment.criteria_set_id, []):
            if unit_ids and assessment.unit_id not in unit_ids:
                continue
            entry = counts.get((assessment.pk, assignment.field.code))
            if entry is not None:
                progress.appraised += entry.appraised
                progress.total += entry.leaves
        row = rows.setdefault(assignment.appraiser_id, AppraiserRow(assignment.appraiser, []))
        row.assignments.append(progress)
    return sorted(
        rows.values(),
        key=lambda r: (
            (r.appraiser.get_full_name() or r.appraiser.username).lower(),
            r.appraiser.pk,
        ),
    )


def load_dashboard(round_: Round, now: datetime.datetime | None = None) -> Dashboard:
    """Everything the secretariat lead watches in a round (a fixed number of queries: six
    here and those of ``results.compute``)."""
    now = now or timezone.now()
    units = list(
        Unit.objects.filter(Q(is_active=True) | Q(assessments__round=round_))
        .select_related("group")
        .distinct()
        .order_by("group__position", "group__code", "code")
    )
    assessments = list(UnitAssessment.objects.filter(round=round_).order_by())
    units_by_pk = {unit.pk: unit for unit in units}
    for loaded in assessments:
        loaded.unit = units_by_pk[loaded.unit_id]
    rows = _leaf_rows(round_)
    counts = _item_counts(rows)
    totals = results.compute(round_, provisional=True, assessments=assessments, rows=rows).by_code()
    assignments = list(
        AppraiserAssignment.objects.filter(criteria_set__round=round_)
        .select_related("appraiser", "field", "criteria_set__group")
        .prefetch_related("units")
        .order_by("criteria_set__group__position", "field__position", "appraiser__username")
    )
    appraisers = get_user_model().objects.filter(
        staff_memberships__role=StaffRole.APPRAISER, is_active=True
    )

    by_unit = {a.unit_id: a for a in assessments}
    fields_of: dict[int, dict[str, Counts]] = defaultdict(dict)
    for (assessment_id, code), entry in counts.items():
        fields_of[assessment_id][code] = entry
    blocks: dict[int, GroupBlock] = {}
    submitted = 0
    for unit in units:
        assessment = by_unit.get(unit.pk)
        row = UnitRow(unit=unit, assessment=assessment, result=totals.get(unit.code))
        if assessment is not None:
            assessment.round = round_  # the deadline property reads the round
            assessment.unit = unit
            for code in sorted(fields_of[assessment.pk], key=_field_key):
                entry = fields_of[assessment.pk][code]
                row.counts.add(entry)
                row.fields.append(FieldProgress(code, entry.appraised, entry.leaves))
            submitted += assessment.state != AssessmentState.DRAFT
        row.timeliness = timeliness(round_, assessment, now)
        blocks.setdefault(unit.group_id, GroupBlock(unit.group, [])).rows.append(row)
    return Dashboard(
        round=round_,
        groups=list(blocks.values()),
        appraisers=_appraiser_rows(assignments, appraisers, assessments, counts),
        next_deadline=next_deadline(round_, now),
        unit_count=len(units),
        submitted_count=submitted,
    )


# --- the appraiser assignment page -----------------------------------------------------------


@dataclass
class SetChoices:
    """One criteria set of the round with what its assignment form offers."""

    criteria_set: CriteriaSet
    fields: list[Criterion]
    units: list[Unit]
    assignments: list[AssignmentProgress] = field(default_factory=list)


@dataclass
class AssignmentPage:
    round: Round
    sets: list[SetChoices]
    appraisers: list[User]


def load_assignment_page(round_: Round) -> AssignmentPage:
    """The criteria sets of the round, their fields, the groups' units, the appraisal team
    and the current assignments (six queries)."""
    sets = list(
        CriteriaSet.objects.filter(round=round_)
        .select_related("group")
        .order_by("group__position", "group__code")
    )
    # Fields and the bonus/penalty blocks: every top-level branch needs an appraiser, or
    # round 1 can never be finished.
    fields = Criterion.objects.filter(
        criteria_set__in=sets, parent__isnull=True, method__in=sorted(scoring.BRANCH_METHODS)
    ).order_by("position")
    units = Unit.objects.filter(group_id__in={s.group_id for s in sets}, is_active=True).order_by(
        "code"
    )
    assignments = (
        AppraiserAssignment.objects.filter(criteria_set__in=sets)
        .select_related("appraiser", "field")
        .prefetch_related("units")
        .order_by("field__position", "appraiser__username")
    )
    appraisers = list(
        get_user_model()
        .objects.filter(staff_memberships__role=StaffRole.APPRAISER, is_active=True)
        .order_by("first_name", "last_name", "username")
    )
    choices = {s.pk: SetChoices(s, [], []) for s in sets}
    by_group = {s.group_id: choices[s.pk] for s in sets}
    for criterion in fields:
        choices[criterion.criteria_set_id].fields.append(criterion)
    for unit in units:
        by_group[unit.group_id].units.append(unit)
    for assignment in assignments:
        assignment.criteria_set = choices[assignment.criteria_set_id].criteria_set
        codes = sorted(u.code for u in assignment.units.all())
        choices[assignment.criteria_set_id].assignments.append(
            AssignmentProgress(assignment, codes)
        )
    return AssignmentPage(round=round_, sets=list(choices.values()), appraisers=appraisers)


def get_assignment_for_lead(user: AnyUser, year: int, pk: int) -> AppraiserAssignment:
    """An appraiser assignment of round ``year`` for the secretariat lead (403 / 404)."""
    require_secretariat_lead(user)
    try:
        return AppraiserAssignment.objects.select_related(
            "criteria_set__round", "criteria_set__group", "field", "appraiser"
        ).get(pk=pk, criteria_set__round__year=year)
    except AppraiserAssignment.DoesNotExist:
        raise Http404 from None
