"""Loaders of the council's pages (DESIGN §5.3, §6): the round's ranking beside the self
totals and the opinions, and one unit's largest differences, explanations and opinions. Every
number comes from the results ledger (``assessments.results``); a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q

from assessments import results
from assessments.models import AssessmentState, EvidenceLink, ItemScore, Round, UnitAssessment
from assessments.roles import Roles
from councils.models import Opinion

from .access import council_reads_unit
from .models import ResultSnapshot

TOP_DIFFERENCES = 10


@dataclass
class Row:
    code: str
    name: str
    state: str
    self_total: Decimal
    self_index: Decimal
    total: Decimal
    index: Decimal
    rank: int
    band: str
    agree: int
    disagree: int
    readable: bool

    @property
    def difference(self) -> Decimal:
        return self.total - self.self_total

    @property
    def state_label(self) -> str:
        return str(AssessmentState(self.state).label)


@dataclass
class GroupRows:
    code: str
    name: str
    rows: list[Row] = field(default_factory=list)


def opinion_counts(round_: Round) -> dict[str, tuple[int, int]]:
    """Agree / disagree counts per unit code, in one query."""
    rows = (
        Opinion.objects.filter(assessment__round=round_)
        .values("assessment__unit__code")
        .annotate(
            agree=Count("pk", filter=Q(agrees=True)), disagree=Count("pk", filter=Q(agrees=False))
        )
    )
    return {r["assessment__unit__code"]: (r["agree"], r["disagree"]) for r in rows}


def ranking(
    round_: Round, snapshot: ResultSnapshot | None, roles: Roles
) -> tuple[bool, list[GroupRows]]:
    """The groups' rankings: provisional before approval (§4.4), else the snapshot's final
    numbers beside the self scores. A fixed number of queries: ``results.compute`` and one
    count of opinions."""
    provisional = snapshot is None
    computed = results.compute(round_, provisional=provisional)
    counts = opinion_counts(round_)
    by_code = {unit.code: unit for group in computed.groups for unit in group.units}

    def row(unit: results.UnitResult, frozen: dict[str, Any] | None) -> Row:
        agree, disagree = counts.get(unit.code, (0, 0))
        return Row(
            code=unit.code,
            name=unit.name,
            state=unit.state,
            self_total=unit.self_total,
            self_index=unit.self_index,
            total=Decimal(frozen["total"]) if frozen else unit.total,
            index=Decimal(frozen["index"]) if frozen else unit.index,
            rank=frozen["rank"] if frozen else unit.rank,
            band=frozen["band"] if frozen else unit.band,
            agree=agree,
            disagree=disagree,
            readable=council_reads_unit(roles, unit.state),
        )

    if snapshot is None:
        return True, [
            GroupRows(group.code, group.name, [row(unit, None) for unit in group.units])
            for group in computed.groups
        ]
    groups = []
    for group in snapshot.data["groups"]:
        block = GroupRows(group["code"], group["name"])
        for frozen in group["units"]:
            unit = by_code.get(frozen["code"])
            if unit is not None:
                block.rows.append(row(unit, frozen))
        groups.append(block)
    return False, groups


@dataclass
class Difference:
    item: ItemScore
    scores: results.ItemScores
    links: list[EvidenceLink] = field(default_factory=list)

    @property
    def difference(self) -> Decimal:
        return self.scores.final_points - self.scores.self_points


def items_of(assessment: UnitAssessment) -> list[ItemScore]:
    """The unit's items with their criteria, in tree order (one query)."""
    return list(
        ItemScore.objects.filter(assessment=assessment)
        .select_related("criterion")
        .order_by("criterion__position")
    )


def largest_differences(items: list[ItemScore]) -> list[Difference]:
    """Appraised items whose final score differs from the self score (or whose N/A was not
    accepted), largest difference first."""
    found = []
    for item in items:
        scores = results.item_scores(item)
        if scores.changed_by_appraisal:
            found.append(Difference(item, scores))
    found.sort(key=lambda d: (-abs(d.difference), d.item.criterion.position))
    found = found[:TOP_DIFFERENCES]
    links: dict[int, list[EvidenceLink]] = {}
    for link in (
        EvidenceLink.objects.filter(item_id__in=[d.item.pk for d in found])
        .select_related("evidence")
        .order_by("evidence__title")
    ):
        links.setdefault(link.item_id, []).append(link)
    for difference in found:
        difference.links = links.get(difference.item.pk, [])
    return found


def opinions_of(assessment: UnitAssessment) -> list[Opinion]:
    return list(
        Opinion.objects.filter(assessment=assessment)
        .select_related("member")
        .order_by("-updated_at")
    )
