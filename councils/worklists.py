"""Loaders of the appraisal pages (DESIGN §5.2): the lines an appraiser works through, the
progress per field, the unit's explanation page. A fixed number of queries each; the views
call these after the access checks and never query a unit's items themselves."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import BooleanField, Case, Count, Prefetch, Q, QuerySet, Value, When
from django.urls import reverse

from assessments import results, scoring, states
from assessments.models import (
    CriteriaSet,
    Criterion,
    EvidenceLink,
    ItemScore,
    UnitAssessment,
)
from assessments.services import evidence_counts_for, lacks_evidence

from .access import AppraisalScope, code_q, field_code
from .models import AppraiserAssignment, ExplanationRequest
from .services import (
    FLAGGED,
    PENDING_REAPPRAISAL,
    acceptable,
    pending_reappraisal,
    unappraised_items,
)

# Where an appraiser has work (§5.2): round 1 on a submitted unit, round 2 once it explained.
WORK_STATES = states.APPRAISABLE | states.REAPPRAISABLE
# The appraisal home lists this many units a page (§13: no page lists thousands of units).
UNITS_PER_PAGE = 50


@dataclass
class Line:
    """One item on an appraisal page: the unit's side, the appraisal side, and what the user
    may do with it."""

    item: ItemScore
    links: list[EvidenceLink]
    can_appraise: bool
    round2: bool

    @property
    def pending_reappraisal(self) -> bool:
        """Flagged and not re-appraised yet (:func:`services.pending_reappraisal`, read from
        the annotation of :func:`items_with_context`)."""
        return bool(getattr(self.item, "pending", False))

    @property
    def criterion(self) -> Criterion:
        return self.item.criterion

    @property
    def unit(self) -> Any:
        return self.item.assessment.unit

    @property
    def levels(self) -> list[str]:
        return self.item.criterion.levels

    @property
    def scores(self) -> results.ItemScores:
        return results.item_scores(self.item)

    @property
    def lacks_evidence(self) -> bool:
        """§7's rule (the one of submission): red "no evidence" only where it applies."""
        return lacks_evidence(self.item.criterion, self.item, len(self.links))

    @property
    def acceptable(self) -> bool:
        """Bulk accept takes this line's self score (see :func:`services.acceptable`)."""
        return self.can_appraise and not self.round2 and acceptable(self.item, len(self.links))


def items_with_context() -> Any:
    """Items with what an appraisal line shows, in a fixed number of queries; ``pending``
    says whether round 2 still has to re-appraise the item (:data:`PENDING_REAPPRAISAL`)."""
    pending = Case(
        When(PENDING_REAPPRAISAL, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )
    return (
        ItemScore.objects.annotate(pending=pending)
        .select_related(
            "criterion",
            "assessment__unit",
            "assessment__round",
            *results.APPRAISERS,
            "explanation",
        )
        .prefetch_related(
            Prefetch("evidence_links", queryset=EvidenceLink.objects.select_related("evidence")),
            "explanation__evidence",
        )
    )


def line_for(item: ItemScore, can: bool) -> Line:
    state = item.assessment.state
    round2 = state in states.REAPPRAISABLE
    editable = can and (state in states.APPRAISABLE or (round2 and item.explanation_required))
    return Line(item, list(item.evidence_links.all()), editable, round2)


def field_progress(assignments: Iterable[AppraiserAssignment]) -> dict[tuple[int, str], list[int]]:
    """(criteria set id, field code) → [items, appraised] over the units in appraisal, from
    one query over the items."""
    rows = list(assignments)
    counts = (
        ItemScore.objects.filter(
            assessment__criteria_set__in={a.criteria_set_id for a in rows},
            assessment__state__in=states.IN_APPRAISAL,
        )
        .exclude(criterion__method=scoring.SURVEY)
        .annotate(appraised=Case(When(results.APPRAISED, then=1), default=0))
        .values_list("assessment__criteria_set_id", "criterion__code", "appraised")
    )
    totals: dict[tuple[int, str], list[int]] = {}
    for set_id, code, appraised in counts:
        entry = totals.setdefault((set_id, field_code(code)), [0, 0])
        entry[0] += 1
        entry[1] += appraised
    return totals


def field_items(
    criteria_set: CriteriaSet, field: Criterion, unit_ids: set[int] | None
) -> QuerySet[ItemScore]:
    """The items of one field across the units in appraisal (those of ``unit_ids`` only)."""
    items = (
        items_with_context()
        .filter(
            assessment__criteria_set=criteria_set,
            assessment__state__in=states.IN_APPRAISAL,
            criterion__code__startswith=f"{field.code}.",
        )
        .exclude(criterion__method=scoring.SURVEY)
    )
    if unit_ids is not None:
        items = items.filter(assessment__unit_id__in=unit_ids)
    return items


def lines_by_criterion(items: QuerySet[ItemScore], can: bool) -> list[tuple[Criterion, list[Line]]]:
    """The field page: for each item, every unit's line, units by name."""
    by_criterion: dict[int, list[Line]] = {}
    criteria: dict[int, Criterion] = {}
    for item in items.order_by("criterion__position", "assessment__unit__name"):
        criteria[item.criterion_id] = item.criterion
        by_criterion.setdefault(item.criterion_id, []).append(line_for(item, can))
    return [(criteria[cid], lines) for cid, lines in by_criterion.items()]


def unit_lines(
    assessment: UnitAssessment,
    fields: set[str],
    shown: set[str] | None = None,
    *,
    only_flagged: bool = False,
) -> list[Line]:
    """One unit, item by item; the lines of ``fields`` are the user's to appraise. Only the
    fields ``shown`` (``None``: every field), only the flagged items if ``only_flagged``."""
    items = (
        items_with_context().filter(assessment=assessment).exclude(criterion__method=scoring.SURVEY)
    )
    if shown is not None:
        items = items.filter(_fields_q(shown, "criterion__"))
    if only_flagged:
        items = items.filter(explanation_required=True)
    lines = [
        line_for(item, field_code(item.criterion.code) in fields)
        for item in items.order_by("criterion__position")
    ]
    for line in lines:
        line.item.assessment = assessment
    return lines


def items_to_accept(
    assessment: UnitAssessment, fields: set[str]
) -> tuple[list[ItemScore], dict[int, int]]:
    """The unit's items of ``fields`` that bulk accept takes (:func:`services.acceptable`) and the
    number of documents linked to each (two queries)."""
    counts = evidence_counts_for(assessment)
    items = [
        item
        for item in ItemScore.objects.filter(assessment=assessment)
        .filter(_fields_q(fields, "criterion__"))
        .select_related("criterion")
        .order_by("criterion__position")
        if acceptable(item, counts.get(item.pk, 0))
    ]
    return items, counts


def _fields_q(fields: Iterable[str], prefix: str = "") -> Q:
    """The criteria of any of ``fields`` (nothing for no field)."""
    combined = Q(pk__in=[])
    for code in sorted(fields):
        combined |= code_q(code, prefix)
    return combined


# --- the units an appraiser works through ----------------------------------------------------


def round_of(state: str) -> int | None:
    """The appraisal round a unit in ``state`` is in for the appraisers: 1, 2, or ``None``
    (waiting for the unit's explanations, or appraised)."""
    if state in states.APPRAISABLE:
        return 1
    if state in states.REAPPRAISABLE:
        return 2
    return None


@dataclass
class Progress:
    """Counts of one unit's items in scope (one field, or all of them): every item, those
    appraised in round 1, those flagged for explanation and those re-appraised in round 2."""

    items: int = 0
    appraised: int = 0
    flagged: int = 0
    reappraised: int = 0

    def add(self, other: Progress) -> None:
        self.items += other.items
        self.appraised += other.appraised
        self.flagged += other.flagged
        self.reappraised += other.reappraised

    def of_round(self, round_no: int | None) -> tuple[int, int]:
        """(done, total) of the work of ``round_no``: re-appraised of flagged in round 2,
        appraised of every item otherwise."""
        if round_no == 2:
            return self.reappraised, self.flagged
        return self.appraised, self.items


@dataclass
class FieldProgress:
    code: str
    title: str
    done: int
    total: int


@dataclass
class UnitProgress:
    """One unit on the appraisal home: its round and the user's progress, per field."""

    assessment: UnitAssessment
    total: Progress
    fields: list[FieldProgress] = field(default_factory=list)

    @property
    def round_no(self) -> int | None:
        return round_of(self.assessment.state)

    @property
    def done(self) -> int:
        return self.total.of_round(self.round_no)[0]

    @property
    def count(self) -> int:
        return self.total.of_round(self.round_no)[1]

    @property
    def remaining(self) -> int:
        return self.count - self.done if self.round_no else 0

    @property
    def url(self) -> str:
        return unit_url(self.assessment.round.year, self.assessment.unit.code)


def unit_url(year: int, code: str) -> str:
    return reverse("appraisal_unit", args=[year, code])


def _progress_rows(items: QuerySet[ItemScore], *by: Any, **named: Any) -> QuerySet[Any]:
    """The counts of :class:`Progress` grouped by ``by`` (one query)."""
    return (
        items.exclude(criterion__method=scoring.SURVEY)
        .values(*by, **named)
        .annotate(
            n_items=Count("pk"),
            n_appraised=Count("pk", filter=results.APPRAISED),
            n_flagged=Count("pk", filter=FLAGGED),
            n_pending=Count("pk", filter=PENDING_REAPPRAISAL),
        )
        .order_by()
    )


def _progress(row: dict[str, Any]) -> Progress:
    flagged = row["n_flagged"]
    return Progress(row["n_items"], row["n_appraised"], flagged, flagged - row["n_pending"])


def scope_assessments(scope: AppraisalScope, *, every_state: bool = False) -> QuerySet[Any]:
    """The unit assessments the user works through, in the order of every appraisal list
    (newest round, group, unit name): those with appraisal work (round 1 or 2), or, with
    ``every_state``, every unit not yet approved."""
    wanted = states.IN_APPRAISAL if every_state else WORK_STATES
    return (
        UnitAssessment.objects.filter(scope.assessments_q(), state__in=wanted)
        .select_related("unit__group", "round")
        .order_by("-round__year", "unit__group__position", "unit__name", "unit__code")
    )


def units_page(
    scope: AppraisalScope, *, every_state: bool = False, number: str | int | None = 1
) -> tuple[Page[Any], list[UnitProgress]]:
    """The appraisal home: one page of the user's units with their progress per field (a
    count, the page, the field titles and the counts: four queries)."""
    page = Paginator(scope_assessments(scope, every_state=every_state), UNITS_PER_PAGE).get_page(
        number
    )
    assessments = list(page.object_list)
    if not assessments:
        return page, []
    set_ids = {a.criteria_set_id for a in assessments}
    titles: dict[int, dict[str, str]] = {}
    for set_id, code, title in (
        Criterion.objects.filter(criteria_set_id__in=set_ids, parent__isnull=True)
        .order_by("position")
        .values_list("criteria_set_id", "code", "title")
    ):
        titles.setdefault(set_id, {})[code] = title
    codes = sorted({code for by_code in titles.values() for code in by_code})
    field_of = Case(
        *[When(code_q(code, "criterion__"), then=Value(code)) for code in codes],
        default=Value(""),
    )
    counts: dict[int, dict[str, Progress]] = {}
    rows = _progress_rows(
        ItemScore.objects.filter(scope.items_q(), assessment__in=[a.pk for a in assessments]),
        "assessment_id",
        field_code_=field_of,
    )
    for row in rows:
        counts.setdefault(row["assessment_id"], {})[row["field_code_"]] = _progress(row)
    units = []
    for assessment in assessments:
        by_field = counts.get(assessment.pk, {})
        total = Progress()
        fields = []
        round_no = round_of(assessment.state)
        for code, title in titles.get(assessment.criteria_set_id, {}).items():
            progress = by_field.get(code)
            if progress is None:
                continue
            total.add(progress)
            done, count = progress.of_round(round_no)
            if count:
                fields.append(FieldProgress(code, title, done, count))
        units.append(UnitProgress(assessment, total, fields))
    return page, units


def neighbours(
    scope: AppraisalScope, assessment: UnitAssessment
) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
    """The previous and next unit (code, name) of the same round in the user's list (one
    query), for "previous / next unit" on the unit page."""
    rows = list(
        scope_assessments(scope, every_state=assessment.state not in WORK_STATES)
        .filter(round_id=assessment.round_id)
        .values_list("unit__code", "unit__name")
    )
    codes = [code for code, _name in rows]
    if assessment.unit.code not in codes:
        return None, None
    at = codes.index(assessment.unit.code)
    return (rows[at - 1] if at > 0 else None), (rows[at + 1] if at + 1 < len(rows) else None)


@dataclass
class FieldSection:
    """One field on the unit page, with the user's lines and their progress."""

    code: str
    title: str
    lines: list[Line]

    @property
    def round2(self) -> bool:
        return bool(self.lines) and self.lines[0].round2

    @property
    def done(self) -> int:
        """Round 1: items appraised; round 2: flagged items re-appraised."""
        if self.round2:
            return self.total - sum(1 for line in self.lines if line.pending_reappraisal)
        return sum(1 for line in self.lines if line.item.is_appraised)

    @property
    def total(self) -> int:
        if self.round2:
            return sum(1 for line in self.lines if line.item.explanation_required)
        return len(self.lines)


def sections_of(assessment: UnitAssessment, lines: Sequence[Line]) -> list[FieldSection]:
    """The lines grouped by field, with the field titles (one query)."""
    titles = dict(
        Criterion.objects.filter(
            criteria_set_id=assessment.criteria_set_id, parent__isnull=True
        ).values_list("code", "title")
    )
    sections: dict[str, FieldSection] = {}
    for line in lines:
        code = field_code(line.criterion.code)
        if code not in sections:
            sections[code] = FieldSection(code, titles.get(code, ""), [])
        sections[code].lines.append(line)
    return list(sections.values())


@dataclass(frozen=True)
class UnitTask:
    """A unit with items still to appraise for one appraiser."""

    code: str
    name: str
    remaining: int
    total: int
    url: str


@dataclass(frozen=True)
class AppraiserTask:
    """An appraiser's work in one appraisal round of one year."""

    year: int
    round_no: int  # 1: appraisal round 1; 2: re-appraisal of the explained items
    deadline: datetime.datetime | None  # the round's appraisal 1 or 2 deadline, if set
    units: list[UnitTask]  # the units with items left, in the order of the appraisal home

    @property
    def remaining(self) -> int:
        """Items left over every unit."""
        return sum(unit.remaining for unit in self.units)

    @property
    def next_url(self) -> str:
        """The unit page of the first unit with items left."""
        return self.units[0].url


def appraiser_tasks(user: Any) -> list[AppraiserTask]:
    """What an appraiser still has to appraise, for the home page.

    Returns a list of :class:`AppraiserTask`, newest year first and round 1 before round 2:
    ``year``, ``round_no`` (1 or 2), ``deadline`` (``Round.appraisal1_deadline`` or
    ``appraisal2_deadline``, may be ``None``), ``units`` (a list of :class:`UnitTask`:
    ``code``, ``name``, ``remaining`` and ``total`` items of this appraiser's fields, ``url``
    of the unit's appraisal page), ``remaining`` (items over all units) and ``next_url`` (the
    page of the first unit with items left). Only units with items left are listed, and only
    rounds with such units. Round 1 counts the items of the user's fields not appraised yet;
    round 2 the flagged items not re-appraised yet. A user who is not an appraiser gets ``[]``
    (no query beyond the roles); an appraiser costs three queries (the assignments, their
    units, the counts), whatever the number of units.
    """
    from .access import appraisal_scope

    scope = appraisal_scope(user)
    if not scope.assigned:
        return []
    own = AppraisalScope(assigned=scope.assigned)
    rows = _progress_rows(
        ItemScore.objects.filter(own.items_q(), assessment__state__in=WORK_STATES),
        "assessment__state",
        "assessment__unit__code",
        "assessment__unit__name",
        "assessment__unit__group__position",
        "assessment__round__year",
        "assessment__round__appraisal1_deadline",
        "assessment__round__appraisal2_deadline",
    )
    tasks: dict[tuple[int, int], tuple[datetime.datetime | None, list[UnitTask]]] = {}
    ordered = sorted(
        rows,
        key=lambda r: (
            -r["assessment__round__year"],
            r["assessment__unit__group__position"],
            r["assessment__unit__name"],
            r["assessment__unit__code"],
        ),
    )
    for row in ordered:
        round_no = round_of(row["assessment__state"])
        if round_no is None:
            continue
        done, total = _progress(row).of_round(round_no)
        if done >= total:
            continue
        year = row["assessment__round__year"]
        deadline = row[f"assessment__round__appraisal{round_no}_deadline"]
        code = row["assessment__unit__code"]
        unit = UnitTask(
            code, row["assessment__unit__name"], total - done, total, unit_url(year, code)
        )
        tasks.setdefault((year, round_no), (deadline, []))[1].append(unit)
    return [
        AppraiserTask(year, round_no, deadline, units)
        for (year, round_no), (deadline, units) in sorted(
            tasks.items(), key=lambda pair: (-pair[0][0], pair[0][1])
        )
    ]


def explanations_of(assessment: UnitAssessment) -> list[ExplanationRequest]:
    """The unit's explanation requests with their answers and documents, in tree order."""
    return list(
        ExplanationRequest.objects.filter(item__assessment=assessment)
        .select_related("item__criterion", "asked_by", "answered_by")
        .prefetch_related("evidence")
        .order_by("item__criterion__position")
    )


def appraised_items(assessment: UnitAssessment) -> list[ItemScore]:
    """The unit's appraised items, in tree order."""
    return list(
        ItemScore.objects.filter(results.APPRAISED, assessment=assessment)
        .select_related("criterion")
        .order_by("criterion__position")
    )


# --- what finishing a round does (the confirmation page) -----------------------------------


@dataclass
class RoundSummary:
    """One unit's appraisal as the lead finishes a round: the items, those not appraised
    in round 1, the explanation requests finishing round 1 sends, the flagged items not
    re-appraised in round 2 (codes in tree order)."""

    items: int
    unappraised: list[str]
    to_explain: int
    flagged: int
    not_reappraised: list[str]

    @property
    def appraised(self) -> int:
        return self.items - len(self.unappraised)

    @property
    def reappraised(self) -> int:
        return self.flagged - len(self.not_reappraised)


def round_summary(assessment: UnitAssessment) -> RoundSummary:
    """The counts of :class:`RoundSummary` (one query over the unit's items). Round 1 sends
    a request for every flagged item not re-appraised before a send-back, as
    ``finish_round1`` does."""
    items = ItemScore.objects.filter(assessment=assessment)
    rows = (
        items.exclude(criterion__method=scoring.SURVEY)
        .annotate(
            unappraised=_member_of(unappraised_items(items)),
            pending=_member_of(pending_reappraisal(items)),
        )
        .order_by("criterion__position")
        .values_list("criterion__code", "unappraised", "explanation_required", "pending")
    )
    summary = RoundSummary(0, [], 0, 0, [])
    for code, unappraised, flagged, pending in rows:
        summary.items += 1
        summary.flagged += flagged
        if unappraised:
            summary.unappraised.append(code)
        if pending:
            summary.to_explain += 1
            summary.not_reappraised.append(code)
    return summary


def _member_of(items: QuerySet[ItemScore]) -> Case:
    """1 for the items among ``items`` (a subquery on the same table), else 0."""
    return Case(When(pk__in=items.values("pk"), then=Value(1)), default=Value(0))


def open_requests(assessment: UnitAssessment) -> tuple[int, list[ExplanationRequest]]:
    """Of the unit's explanation requests still flagged: the number answered and the
    unanswered ones in tree order (``ExplanationRequest.objects.unanswered()``, what
    ``submit_explanations`` checks; two queries)."""
    requests = ExplanationRequest.objects.filter(item__assessment=assessment)
    unanswered = list(
        requests.unanswered()
        .select_related("item__criterion")
        .order_by("item__criterion__position")
    )
    return requests.flagged().count() - len(unanswered), unanswered
