"""Loaders of the council's pages (DESIGN §5.3, §6): the round's ranking beside the self
totals and the opinions, and one unit's largest differences, explanations and opinions. Every
number comes from the results ledger (``assessments.results``); a fixed number of queries."""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessments import results
from assessments.confirm import Confirmation
from assessments.models import AssessmentState, EvidenceLink, ItemScore, Round, UnitAssessment
from assessments.roles import Roles
from assessments.rounds import round_stage, state_counts
from assessments.states import AWAITING_COUNCIL
from councils.models import Opinion

from .access import council_reads_unit
from .models import ResultSnapshot
from .presentation import BANDS
from .services import not_appraised

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


@dataclass
class RoundEntry:
    """One round on the council's round list: its stage and what waits for the council."""

    round: Round
    stage: str
    units: int
    waiting: int  # appraised, waiting for the council's review (AWAITING_COUNCIL)
    approved: bool
    published: bool

    @property
    def waits_for_council(self) -> bool:
        return bool(self.waiting) and not self.approved


def council_rounds(now: datetime.datetime | None = None) -> list[RoundEntry]:
    """Every round with criteria, newest first, with its stage (three queries)."""
    now = now or timezone.now()
    rounds = list(Round.objects.filter(criteria_sets__isnull=False).distinct().order_by("-year"))
    counts = state_counts(r.pk for r in rounds)
    approved = set(
        ResultSnapshot.objects.filter(round__in=rounds).values_list("round_id", flat=True)
    )
    return [
        RoundEntry(
            round=r,
            stage=round_stage(r, counts[r.pk], now),
            units=sum(counts[r.pk].values()),
            waiting=sum(counts[r.pk][s] for s in AWAITING_COUNCIL),
            approved=r.pk in approved,
            published=bool(counts[r.pk][AssessmentState.PUBLISHED]),
        )
        for r in rounds
    ]


def council_years() -> list[int]:
    """The years of the rounds with criteria, newest first (the round switch; one query)."""
    return list(
        Round.objects.filter(criteria_sets__isnull=False)
        .distinct()
        .order_by("-year")
        .values_list("year", flat=True)
    )


@dataclass
class GroupPreview:
    name: str
    units: int
    bands: list[tuple[str, int]]


@dataclass
class ApprovalPreview:
    """What approval would freeze: per group, the units and how many fall in each band."""

    groups: list[GroupPreview]
    missing: list[str]
    approved: bool

    @property
    def units(self) -> int:
        return sum(g.units for g in self.groups)


def approval_preview(round_: Round, roles: Roles) -> ApprovalPreview:
    approved = ResultSnapshot.objects.filter(round=round_).exists()
    _provisional, groups = ranking(round_, None, roles)
    previews = []
    for group in groups:
        bands = Counter(row.band for row in group.rows)
        previews.append(
            GroupPreview(group.name, len(group.rows), [(b, bands[b]) for b in BANDS if bands[b]])
        )
    return ApprovalPreview(
        groups=previews, missing=[] if approved else not_appraised(round_), approved=approved
    )


def publication_confirmation(round_: Round, latest: ResultSnapshot) -> Confirmation:
    units = sum(len(group["units"]) for group in latest.data["groups"])
    return Confirmation(
        title=_("Publish the results of %(year)s?") % {"year": round_.year},
        consequences=[
            ngettext(
                "Version %(version)s of the results of %(n)s unit becomes public at "
                "/cong-khai/%(year)s/, with the open data (JSON, CSV), for anyone.",
                "Version %(version)s of the results of %(n)s units becomes public at "
                "/cong-khai/%(year)s/, with the open data (JSON, CSV), for anyone.",
                units,
            )
            % {"version": latest.version, "n": units, "year": round_.year},
            _("Every unit's leader and focal officer is told by e-mail and in the inbox."),
            _("Publication cannot be taken back; a later change is a correction (a new version)."),
        ],
        button=_("Publish the results"),
        cancel_url=reverse("council_round", args=[round_.year]),
    )


def correction_confirmation(
    round_: Round, latest: ResultSnapshot, reason: str, cancel_url: str
) -> Confirmation:
    consequences = [
        _(
            "The results are computed again and frozen as version %(new)s; version %(old)s "
            "stays readable."
        )
        % {"new": latest.version + 1, "old": latest.version},
        _("Reason recorded: %(reason)s") % {"reason": reason},
    ]
    if latest.published_at:
        consequences.append(
            _("The round is published: version %(new)s is published at once, as a correction.")
            % {"new": latest.version + 1}
        )
    return Confirmation(
        title=_("Save a corrected version of %(year)s?") % {"year": round_.year},
        consequences=consequences,
        button=_("Save the corrected version"),
        cancel_url=cancel_url,
        danger=True,
    )
