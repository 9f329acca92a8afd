"""Loaders of the appraisal pages (DESIGN §5.2): the lines an appraiser works through, the
progress per field, the unit's explanation page. A fixed number of queries each; the views
call these after the access checks and never query a unit's items themselves."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Prefetch, QuerySet, When

from assessments import results, scoring, states
from assessments.models import (
    AssessmentState,
    CriteriaSet,
    Criterion,
    EvidenceLink,
    ItemScore,
    UnitAssessment,
)
from assessments.services import evidence_counts_for

from .access import field_code
from .models import AppraiserAssignment, ExplanationRequest


@dataclass
class Line:
    """One item on an appraisal page: the unit's side, the appraisal side, and what the user
    may do with it."""

    item: ItemScore
    links: list[EvidenceLink]
    can_appraise: bool
    round2: bool

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


def items_with_context() -> Any:
    """Items with what an appraisal line shows, in a fixed number of queries."""
    return ItemScore.objects.select_related(
        "criterion",
        "assessment__unit",
        "assessment__round",
        *results.APPRAISERS,
        "explanation",
    ).prefetch_related(
        Prefetch("evidence_links", queryset=EvidenceLink.objects.select_related("evidence")),
        "explanation__evidence",
    )


def line_for(item: ItemScore, can: bool) -> Line:
    state = item.assessment.state
    round2 = state == AssessmentState.EXPLAINED
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


def unit_lines(assessment: UnitAssessment, fields: set[str]) -> list[Line]:
    """One unit, item by item; the lines of ``fields`` are the user's to appraise."""
    items = (
        items_with_context().filter(assessment=assessment).exclude(criterion__method=scoring.SURVEY)
    )
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
    """The unit's items of ``fields`` and the number of documents linked to each (two
    queries), for "accept every item with a self score and evidence"."""
    items = [
        item
        for item in ItemScore.objects.filter(assessment=assessment).select_related("criterion")
        if field_code(item.criterion.code) in fields
    ]
    counts = evidence_counts_for(assessment)
    return items, counts


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
