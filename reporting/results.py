"""The results engine (DESIGN §4.3–§4.6): per unit, field and criterion scores, bonus,
penalty, total, applicable maximum, index, rank within its group, band; ranks per field and
per criterion. Provisional (self score where there is no appraisal, §4.4) or final.

A fixed number of queries whatever the number of units: the round's criteria (one query), its
assessments with units (one), and every leaf's scores as plain values (one); the arithmetic is
``assessments.scoring`` over plain data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from assessments import scoring
from assessments.models import (
    AssessmentState,
    CriteriaSet,
    Criterion,
    ItemScore,
    Round,
    UnitAssessment,
    build_tree,
)

ZERO = Decimal("0.00")
# The ItemScore columns that decide which score counts (§4.4); ``leaf_score`` reads them.
SCORE_FIELDS = (
    "self_score",
    "not_applicable",
    "appraisal1_at",
    "appraisal1_score",
    "appraisal1_na",
    "appraisal2_at",
    "appraisal2_score",
    "appraisal2_na",
    "survey_score",
)
SUBMITTED_STATES = frozenset(
    {
        AssessmentState.SUBMITTED,
        AssessmentState.APPRAISING,
        AssessmentState.EXPLANATION_REQUESTED,
        AssessmentState.EXPLAINED,
        AssessmentState.APPRAISED,
        AssessmentState.APPROVED,
        AssessmentState.PUBLISHED,
    }
)


@dataclass
class FieldScore:
    code: str
    title: str
    score: Decimal
    max: Decimal
    rank: int = 0


@dataclass
class UnitResult:
    code: str
    name: str
    state: str
    fields: list[FieldScore]
    nodes: dict[str, tuple[Decimal, Decimal]]  # every criterion code -> (score, applicable max)
    bonus: Decimal
    penalty: Decimal
    total: Decimal
    applicable_max: Decimal
    index: Decimal
    self_total: Decimal
    self_index: Decimal
    rank: int = 0
    band: str = ""


@dataclass
class GroupResult:
    code: str
    name: str
    units: list[UnitResult] = field(default_factory=list)
    field_titles: list[tuple[str, str, Decimal]] = field(default_factory=list)  # (code, title, max)


@dataclass
class RoundResults:
    year: int
    provisional: bool
    groups: list[GroupResult]


def leaf_score(row: dict[str, Any], *, provisional: bool, submitted: bool) -> scoring.LeafScore:
    """Which score counts for one leaf (§4.4)."""
    if row["criterion__method"] == scoring.SURVEY:
        # Survey leaves take the survey score (§4.4), for every unit; until the survey is in,
        # they score 0 and stay applicable.
        return scoring.LeafScore(row["survey_score"], False)
    if row["appraisal2_at"] is not None:
        return scoring.LeafScore(row["appraisal2_score"], row["appraisal2_na"])
    if row["appraisal1_at"] is not None:
        return scoring.LeafScore(row["appraisal1_score"], row["appraisal1_na"])
    if provisional and submitted:
        return scoring.LeafScore(row["self_score"], row["not_applicable"])
    # Final results, or a unit that never submitted: nothing counts, the leaf stays applicable.
    return scoring.LeafScore(None, False)


def compute(round_: Round, *, provisional: bool) -> RoundResults:
    """Every unit of the round, ranked within its group."""
    sets = list(
        CriteriaSet.objects.filter(round=round_)
        .select_related("group")
        .order_by("group__position", "group__code")
    )
    criteria_by_set: dict[int, list[Any]] = {s.pk: [] for s in sets}
    for criterion in Criterion.objects.filter(criteria_set__round=round_).order_by("position"):
        criteria_by_set[criterion.criteria_set_id].append(criterion)
    trees = {set_id: build_tree(criteria) for set_id, criteria in criteria_by_set.items()}
    assessments = list(
        UnitAssessment.objects.filter(round=round_, unit__is_active=True).select_related("unit")
    )
    rows_by_assessment: dict[int, list[dict[str, Any]]] = {a.pk: [] for a in assessments}
    for row in ItemScore.objects.filter(assessment__round=round_).values(
        "assessment_id", "criterion__code", "criterion__method", *SCORE_FIELDS
    ):
        rows_by_assessment.setdefault(row["assessment_id"], []).append(dict(row))

    groups: list[GroupResult] = []
    bands = round_.bands()
    for criteria_set in sets:
        roots = trees[criteria_set.pk]
        nodes = [root.to_scoring() for root in roots]
        group = GroupResult(
            code=criteria_set.group.code,
            name=criteria_set.group.name,
            field_titles=[
                (r.criterion.code, r.criterion.title, r.criterion.max_points)
                for r in roots
                if r.criterion.method == scoring.GROUP
            ],
        )
        for assessment in assessments:
            if assessment.criteria_set_id != criteria_set.pk:
                continue
            submitted = assessment.state in SUBMITTED_STATES
            rows = rows_by_assessment.get(assessment.pk, [])
            scores = {
                row["criterion__code"]: leaf_score(
                    row, provisional=provisional, submitted=submitted
                )
                for row in rows
            }
            # The unit's own view, with the same survey scores, so that "appraised − self"
            # measures the appraisal only (how well the unit assesses itself).
            self_scores = {
                row["criterion__code"]: scoring.LeafScore(row["survey_score"], False)
                if row["criterion__method"] == scoring.SURVEY
                else scoring.LeafScore(
                    row["self_score"] if submitted else None, row["not_applicable"] and submitted
                )
                for row in rows
            }
            totals = scoring.aggregate(nodes, scores)
            self_totals = scoring.aggregate(nodes, self_scores)
            titles = {code: title for code, title, _max in group.field_titles}
            group.units.append(
                UnitResult(
                    code=assessment.unit.code,
                    name=assessment.unit.name,
                    state=assessment.state,
                    fields=[
                        FieldScore(code, titles.get(code, ""), score, max_)
                        for code, score, max_ in totals.fields
                    ],
                    nodes={
                        code: (totals.node_scores[code], totals.node_max[code])
                        for code in totals.node_scores
                    },
                    bonus=totals.bonus,
                    penalty=totals.penalty,
                    total=totals.total,
                    applicable_max=totals.applicable_max,
                    index=totals.index,
                    self_total=self_totals.total,
                    self_index=self_totals.index,
                    band=scoring.classify(totals.index, bands),
                )
            )
        order = scoring.rank([(u.code, u.name, u.index) for u in group.units])
        by_code = {u.code: u for u in group.units}
        group.units = []
        for code, rank in order:
            by_code[code].rank = rank
            group.units.append(by_code[code])
        rank_fields(group)
        groups.append(group)
    return RoundResults(year=round_.year, provisional=provisional, groups=groups)


def rank_fields(group: GroupResult) -> None:
    """Rank the units on every field too (who is strongest on e-government, etc.)."""
    for position in range(len(group.field_titles)):
        entries = [
            (u.code, u.name, u.fields[position].score)
            for u in group.units
            if position < len(u.fields)
        ]
        ranks = dict(scoring.rank(entries))
        for unit in group.units:
            if position < len(unit.fields):
                unit.fields[position].rank = ranks[unit.code]


def criterion_ranking(group: GroupResult, code: str) -> list[tuple[UnitResult, Decimal, int]]:
    """Units ranked on one criterion (any node of the tree)."""
    entries = [(u.code, u.name, u.nodes.get(code, (ZERO, ZERO))[0]) for u in group.units]
    ranks = scoring.rank(entries)
    by_code = {u.code: u for u in group.units}
    return [(by_code[c], by_code[c].nodes.get(code, (ZERO, ZERO))[0], r) for c, r in ranks]


def two(value: Decimal) -> str:
    return f"{scoring.round_half_up(Decimal(value), 2):.2f}"


def as_json(results: RoundResults) -> dict[str, Any]:
    """The open-data JSON of DESIGN §10: decimals as strings with two places, units in rank
    order then by name."""
    return {
        "round": results.year,
        "provisional": results.provisional,
        "groups": [
            {
                "code": group.code,
                "name": group.name,
                "units": [
                    {
                        "code": unit.code,
                        "name": unit.name,
                        "rank": unit.rank,
                        "index": two(unit.index),
                        "total": two(unit.total),
                        "applicable_max": two(unit.applicable_max),
                        "band": unit.band,
                        "bonus": two(unit.bonus),
                        "penalty": two(unit.penalty),
                        "fields": [
                            {"code": f.code, "score": two(f.score), "max": two(f.max)}
                            for f in unit.fields
                        ],
                    }
                    for unit in group.units
                ],
            }
            for group in results.groups
        ],
    }


CSV_HEADER = [
    "group",
    "group_name",
    "rank",
    "code",
    "name",
    "index",
    "band",
    "total",
    "applicable_max",
    "bonus",
    "penalty",
]


def as_rows(data: dict[str, Any]) -> list[list[str]]:
    """The CSV open data (one row per unit) from the JSON above, so both always agree."""
    rows = [CSV_HEADER + [f"field_{f['code']}" for f in first_fields(data)]]
    for group in data["groups"]:
        for unit in group["units"]:
            rows.append(
                [
                    group["code"],
                    group["name"],
                    str(unit["rank"]),
                    unit["code"],
                    unit["name"],
                    unit["index"],
                    unit["band"],
                    unit["total"],
                    unit["applicable_max"],
                    unit["bonus"],
                    unit["penalty"],
                    *[f["score"] for f in unit["fields"]],
                ]
            )
    return rows


def first_fields(data: dict[str, Any]) -> list[dict[str, Any]]:
    longest: list[dict[str, Any]] = []
    for group in data["groups"]:
        for unit in group["units"]:
            if len(unit["fields"]) > len(longest):
                longest = unit["fields"]
    return longest


UNIT_KEYS = (
    "code",
    "name",
    "rank",
    "index",
    "total",
    "applicable_max",
    "band",
    "bonus",
    "penalty",
    "fields",
)


def ordered(data: dict[str, Any]) -> dict[str, Any]:
    """The §10 JSON with its keys in the documented order (a snapshot read back from
    PostgreSQL's jsonb has them sorted differently)."""
    return {
        "round": data["round"],
        "provisional": data["provisional"],
        "groups": [
            {
                "code": group["code"],
                "name": group["name"],
                "units": [
                    {key: unit[key] for key in UNIT_KEYS}
                    | {
                        "fields": [
                            {"code": f["code"], "score": f["score"], "max": f["max"]}
                            for f in unit["fields"]
                        ]
                    }
                    for unit in group["units"]
                ],
            }
            for group in data["groups"]
        ],
    }
