"""The results ledger (DESIGN §4.3–§4.6): the only code that reads the score columns.

Which score counts for a leaf (§4.4) is written once here (:func:`appraised_leaf`,
:func:`self_leaf`, :func:`counted_leaf`); the totals, index, band and ranks of a unit and of a
round are computed from it, and every page, PDF, workbook and export reads them from here:

- :func:`compute` — every unit of a round, ranked within its group (the council's ranking,
  approval, the secretariat dashboard, exports);
- :func:`unit_result` — one unit (the council's unit page, the unit's own pages);
- :func:`self_totals` — the unit's own totals as typed (the workspace and sign-off);
- :func:`item_scores` — one item's self, appraisal and final scores (item pages, workbooks);
- :func:`field_ranks` / :func:`criterion_ranking` — ranks on the percentage of each node's
  applicable maximum (§4.5).

A fixed number of queries whatever the number of units: the round's criteria (one query), its
assessments with units (one), and every leaf's scores as plain values (one); the arithmetic is
``assessments.scoring`` over plain data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from assessments import scoring
from assessments.models import (
    CriteriaSet,
    Criterion,
    CriterionNode,
    ItemScore,
    Round,
    UnitAssessment,
    build_tree,
)
from assessments.states import FINAL, SUBMITTED_OR_LATER

ZERO = Decimal("0.00")
# The ItemScore columns that decide which score counts (§4.4). Nothing outside this module,
# the models and the services that write them names these columns (tests/test_architecture.py).
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
# §4.4 as data: the appraisal rounds, the latest first — (appraised at, score, not applicable).
APPRAISALS = (
    ("appraisal2_at", "appraisal2_score", "appraisal2_na"),
    ("appraisal1_at", "appraisal1_score", "appraisal1_na"),
)
# What the unit and the appraisers typed, shown beside the scores (not read by §4.4).
VALUE_FIELDS = ("self_value", "appraisal1_value", "appraisal2_value")
# Who appraised, for pages that show it (``select_related``).
APPRAISERS = ("appraisal1_by", "appraisal2_by")
# Conditions on items for progress counts, in the database.
SCORED = Q(not_applicable=True) | Q(self_score__isnull=False)  # the unit has scored it
APPRAISED = Q(appraisal1_at__isnull=False)  # round 1 has appraised it
REAPPRAISED = Q(appraisal2_at__isnull=False)  # round 2 has re-appraised it


# --------------------------------------------------------------------------------------------
# Which score counts (§4.4), for one leaf
# --------------------------------------------------------------------------------------------


def row_of(item: ItemScore, method: str | None = None) -> dict[str, Any]:
    """The score columns of a loaded item, keyed like the ``.values()`` rows :func:`compute`
    reads (``method`` when the item's criterion is not loaded)."""
    row = {name: getattr(item, name) for name in (*SCORE_FIELDS, *VALUE_FIELDS)}
    row["criterion__method"] = method or item.criterion.method
    return row


def appraised_leaf(row: Mapping[str, Any]) -> scoring.LeafScore | None:
    """The appraised score of a leaf: round 2 if set, else round 1; survey leaves take the
    survey score (until the survey is in they score 0 and stay applicable). ``None`` before
    appraisal."""
    if row["criterion__method"] == scoring.SURVEY:
        return scoring.LeafScore(row["survey_score"], False)
    for appraised_at, score, not_applicable in APPRAISALS:
        if row[appraised_at] is not None:
            return scoring.LeafScore(row[score], row[not_applicable])
    return None


def self_leaf(row: Mapping[str, Any], *, submitted: bool = True) -> scoring.LeafScore:
    """The unit's own score of a leaf, with the same survey score as :func:`appraised_leaf`,
    so that "appraised − self" measures the appraisal only. A unit that never submitted
    scores nothing on self-assessed leaves (they stay applicable)."""
    if row["criterion__method"] == scoring.SURVEY:
        return scoring.LeafScore(row["survey_score"], False)
    if not submitted:
        return scoring.LeafScore(None, False)
    return scoring.LeafScore(row["self_score"], row["not_applicable"])


def counted_leaf(
    row: Mapping[str, Any], *, provisional: bool, submitted: bool
) -> scoring.LeafScore:
    """The score that counts (§4.4): the appraised one; before appraisal, in provisional
    results only, the self score of a submitted unit; otherwise nothing."""
    appraised = appraised_leaf(row)
    if appraised is not None:
        return appraised
    if provisional:
        return self_leaf(row, submitted=submitted)
    return scoring.LeafScore(None, False)


def points(leaf: scoring.LeafScore | None) -> Decimal:
    """What a leaf score adds (N/A and nothing add 0)."""
    if leaf is None or leaf.not_applicable or leaf.points is None:
        return ZERO
    return leaf.points


@dataclass(frozen=True)
class ItemScores:
    """One item's scores as pages and workbooks show them."""

    survey: bool
    unit_score: Decimal | None  # the self score (None on survey leaves)
    self_na: bool
    appraisal1: scoring.LeafScore | None
    appraisal2: scoring.LeafScore | None
    final: scoring.LeafScore | None  # None before appraisal
    # What was typed: by the unit, in round 1, in round 2 ("" when not in the row).
    unit_value: str = ""
    round1_value: str = ""
    round2_value: str = ""

    @property
    def is_scored(self) -> bool:
        """The unit gave it points (0 included) or marked it N/A."""
        return self.self_na or self.unit_score is not None

    @property
    def is_appraised(self) -> bool:
        return self.appraisal1 is not None

    @property
    def self_points(self) -> Decimal:
        return points(scoring.LeafScore(self.unit_score, self.self_na))

    @property
    def final_points(self) -> Decimal:
        return points(self.final)

    @property
    def final_na(self) -> bool:
        return self.final is not None and self.final.not_applicable

    @property
    def changed_by_appraisal(self) -> bool:
        """Appraised to another score than the unit's, or its N/A not accepted."""
        return (
            not self.survey
            and self.final is not None
            and (self.final_points != self.self_points or self.final_na != self.self_na)
        )


def item_scores(source: ItemScore | Mapping[str, Any]) -> ItemScores:
    """The self, round-1, round-2 and final scores of one item (a loaded item or a row)."""
    row = row_of(source) if isinstance(source, ItemScore) else source
    survey = row["criterion__method"] == scoring.SURVEY
    rounds = {
        appraised_at: scoring.LeafScore(row[score], row[not_applicable])
        if row[appraised_at] is not None
        else None
        for appraised_at, score, not_applicable in APPRAISALS
    }
    return ItemScores(
        survey=survey,
        unit_score=None if survey else row["self_score"],
        self_na=not survey and row["not_applicable"],
        appraisal1=rounds["appraisal1_at"],
        appraisal2=rounds["appraisal2_at"],
        final=appraised_leaf(row),
        unit_value=row.get("self_value", ""),
        round1_value=row.get("appraisal1_value", ""),
        round2_value=row.get("appraisal2_value", ""),
    )


# --------------------------------------------------------------------------------------------
# Totals of a unit and of a round
# --------------------------------------------------------------------------------------------


@dataclass
class FieldScore:
    code: str
    title: str
    score: Decimal
    max: Decimal
    own_score: Decimal = ZERO  # the unit's own (self) score of the field
    rank: int | None = None  # on the percentage of the applicable maximum (§4.5)

    @property
    def share(self) -> Decimal | None:
        return scoring.share_percent(self.score, self.max)

    @property
    def difference(self) -> Decimal:
        return self.score - self.own_score


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
    provisional: bool = True
    submitted: bool = True
    rank: int = 0
    band: str = ""

    @property
    def difference(self) -> Decimal:
        """Appraised (or provisional) total − self total: negative when the unit claimed more
        than the appraisers gave."""
        return self.total - self.self_total


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

    def units(self) -> Iterator[tuple[GroupResult, UnitResult]]:
        for group in self.groups:
            for unit in group.units:
                yield group, unit

    def by_code(self) -> dict[str, UnitResult]:
        return {unit.code: unit for _group, unit in self.units()}


def _fields(roots: Sequence[CriterionNode]) -> list[tuple[str, str, Decimal]]:
    return [
        (r.criterion.code, r.criterion.title, r.criterion.max_points)
        for r in roots
        if r.criterion.method == scoring.GROUP
    ]


def _unit_result(
    assessment: UnitAssessment,
    roots: Sequence[CriterionNode],
    rows: Iterable[Mapping[str, Any]],
    *,
    provisional: bool,
    bands: Sequence[tuple[str, Decimal]],
) -> UnitResult:
    """One unit's totals from its leaf rows: the counted scores (§4.4) and its own."""
    nodes = [root.to_scoring() for root in roots]
    submitted = assessment.state in SUBMITTED_OR_LATER
    counted: dict[str, scoring.LeafScore] = {}
    own: dict[str, scoring.LeafScore] = {}
    for row in rows:
        code = row["criterion__code"]
        counted[code] = counted_leaf(row, provisional=provisional, submitted=submitted)
        own[code] = self_leaf(row, submitted=submitted)
    totals = scoring.aggregate(nodes, counted)
    self_totals = scoring.aggregate(nodes, own)
    titles = {code: title for code, title, _max in _fields(roots)}
    own_fields = {code: score for code, score, _max in self_totals.fields}
    return UnitResult(
        code=assessment.unit.code,
        name=assessment.unit.name,
        state=assessment.state,
        fields=[
            FieldScore(code, titles.get(code, ""), score, max_, own_fields.get(code, ZERO))
            for code, score, max_ in totals.fields
        ],
        nodes={
            code: (totals.node_scores[code], totals.node_max[code]) for code in totals.node_scores
        },
        bonus=totals.bonus,
        penalty=totals.penalty,
        total=totals.total,
        applicable_max=totals.applicable_max,
        index=totals.index,
        self_total=self_totals.total,
        self_index=self_totals.index,
        provisional=provisional,
        submitted=submitted,
        band=scoring.classify(totals.index, bands),
    )


def leaf_rows(
    items: QuerySet[ItemScore], *extra: str, **expressions: Any
) -> QuerySet[ItemScore, dict[str, Any]]:
    """The score columns of ``items`` as plain rows (with ``extra`` columns and annotated
    ``expressions``, for a page that counts progress from the same rows)."""
    return items.values(
        "assessment_id",
        "criterion__code",
        "criterion__method",
        *SCORE_FIELDS,
        *extra,
        **expressions,
    )


def compute(
    round_: Round,
    *,
    provisional: bool,
    assessments: Sequence[UnitAssessment] | None = None,
    rows: Iterable[Mapping[str, Any]] | None = None,
) -> RoundResults:
    """Every active unit of the round, ranked within its group, fields ranked too.

    ``assessments``: the assessments to compute, when the caller has loaded them already
    (with their units): one query less, and taken as given (the secretariat's dashboard passes
    inactive units too; results and rankings leave them out). ``rows``: the round's
    :func:`leaf_rows`, when the caller has fetched them already."""
    sets = list(
        CriteriaSet.objects.filter(round=round_)
        .select_related("group")
        .order_by("group__position", "group__code")
    )
    criteria_by_set: dict[int, list[Criterion]] = {s.pk: [] for s in sets}
    for criterion in Criterion.objects.filter(criteria_set__round=round_).order_by("position"):
        criteria_by_set[criterion.criteria_set_id].append(criterion)
    trees = {set_id: build_tree(criteria) for set_id, criteria in criteria_by_set.items()}
    if assessments is None:
        assessments = list(
            UnitAssessment.objects.filter(round=round_, unit__is_active=True).select_related("unit")
        )
    rows_by_assessment: dict[int, list[Mapping[str, Any]]] = {a.pk: [] for a in assessments}
    if rows is None:
        rows = leaf_rows(ItemScore.objects.filter(assessment__round=round_))
    for row in rows:
        rows_by_assessment.setdefault(row["assessment_id"], []).append(row)

    groups: list[GroupResult] = []
    bands = round_.bands()
    for criteria_set in sets:
        roots = trees[criteria_set.pk]
        group = GroupResult(
            code=criteria_set.group.code, name=criteria_set.group.name, field_titles=_fields(roots)
        )
        for assessment in assessments:
            if assessment.criteria_set_id == criteria_set.pk:
                group.units.append(
                    _unit_result(
                        assessment,
                        roots,
                        rows_by_assessment.get(assessment.pk, []),
                        provisional=provisional,
                        bands=bands,
                    )
                )
        order = scoring.rank([(u.code, u.name, u.index) for u in group.units])
        by_code = {u.code: u for u in group.units}
        group.units = []
        for code, rank in order:
            by_code[code].rank = rank
            group.units.append(by_code[code])
        for code, ranks in field_ranks(
            [(u.code, u.name, [(f.code, f.score, f.max) for f in u.fields]) for u in group.units]
        ).items():
            for f in by_code[code].fields:
                f.rank = ranks.get(f.code)
        groups.append(group)
    return RoundResults(year=round_.year, provisional=provisional, groups=groups)


def field_titles(round_id: int) -> dict[str, dict[str, str]]:
    """group code -> {field code: title} of a round's top-level criteria (one query); pages,
    PDFs and workbooks print the §10 JSON's fields with these."""
    titles: dict[str, dict[str, str]] = {}
    for group, code, title in Criterion.objects.filter(
        criteria_set__round_id=round_id, parent__isnull=True
    ).values_list("criteria_set__group__code", "code", "title"):
        titles.setdefault(group, {})[code] = title
    return titles


def is_provisional(assessment: UnitAssessment) -> bool:
    """A unit's own results are final once the council has approved the round."""
    return assessment.state not in FINAL


def unit_result(
    assessment: UnitAssessment,
    *,
    provisional: bool | None = None,
    items: Iterable[ItemScore] | None = None,
) -> UnitResult:
    """One unit's result, by the same rules as :func:`compute`, without computing every
    other unit of the round (two queries; one when the caller passes the unit's ``items``
    with their criteria). Provisional until the round is approved."""
    if provisional is None:
        provisional = is_provisional(assessment)
    roots = build_tree(Criterion.objects.filter(criteria_set_id=assessment.criteria_set_id))
    rows: Iterable[Mapping[str, Any]]
    if items is None:
        rows = leaf_rows(ItemScore.objects.filter(assessment=assessment))
    else:
        rows = [row_of(item) | {"criterion__code": item.criterion.code} for item in items]
    return _unit_result(
        assessment, roots, rows, provisional=provisional, bands=assessment.round.bands()
    )


def self_totals(roots: Sequence[CriterionNode], items: Mapping[int, ItemScore]) -> scoring.Totals:
    """The unit's own totals as typed so far (the workspace, sign-off and self-assessment
    report), with the survey scores like :func:`self_leaf`. ``items`` by criterion id."""
    scores = {}
    for root in roots:
        for node in root.leaves():
            item = items.get(node.criterion.pk)
            if item is not None:
                scores[node.criterion.code] = self_leaf(row_of(item, node.criterion.method))
    return scoring.aggregate([root.to_scoring() for root in roots], scores)


# --------------------------------------------------------------------------------------------
# Ranks per field and per criterion (§4.5): on the percentage of the applicable maximum
# --------------------------------------------------------------------------------------------


def field_ranks(
    units: Iterable[tuple[str, str, Iterable[tuple[str, Decimal, Decimal]]]],
) -> dict[str, dict[str, int]]:
    """unit code -> {field code: rank in the group on that field}, from (unit code, unit name,
    [(field code, score, applicable max)]). A field that does not apply to a unit (no maximum
    left) gives it no rank there."""
    entries: dict[str, list[tuple[str, str, Decimal, Decimal]]] = {}
    codes: list[str] = []
    for unit_code, name, fields in units:
        codes.append(unit_code)
        for code, score, maximum in fields:
            entries.setdefault(code, []).append((unit_code, name, score, maximum))
    ranks: dict[str, dict[str, int]] = {code: {} for code in codes}
    for field_code, field_entries in entries.items():
        for unit_code, rank in scoring.rank_on_share(field_entries).items():
            ranks[unit_code][field_code] = rank
    return ranks


def field_ranks_of(group: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """:func:`field_ranks` of one group of the §10 JSON (a snapshot's data)."""
    return field_ranks(
        (
            unit["code"],
            unit["name"],
            [(f["code"], Decimal(f["score"]), Decimal(f["max"])) for f in unit["fields"]],
        )
        for unit in group["units"]
    )


def criterion_ranking(
    group: GroupResult, code: str
) -> list[tuple[UnitResult, Decimal, Decimal | None, int | None]]:
    """Units ranked on one criterion (any node of the tree): (unit, score, percentage, rank),
    best first; units to which the node does not apply come last without a rank."""
    entries = [(u.code, u.name, *u.nodes.get(code, (ZERO, ZERO))) for u in group.units]
    ranks = scoring.rank_on_share(entries)
    by_code = {u.code: u for u in group.units}
    ranked = [
        (by_code[c], score, scoring.share_percent(score, maximum), ranks.get(c))
        for c, _name, score, maximum in entries
    ]
    ranked.sort(
        key=lambda e: (
            e[3] is None,
            e[3] or 0,
            scoring.vietnamese_sort_key(e[0].name),
        )
    )
    return ranked


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
