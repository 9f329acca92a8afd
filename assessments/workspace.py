"""The unit workspace: the criteria tree with the unit's items, progress and totals.

Loaded with a fixed number of queries whatever the size of the set (criteria, items, evidence
counts, assignments), then built in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import results, scoring, services
from .access import is_assigned
from .models import (
    Assignment,
    CriteriaSet,
    CriterionNode,
    ItemScore,
    Round,
    Unit,
    UnitAssessment,
    UnitRole,
    build_tree,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Filters of the workspace (query parameter "loc").
FILTER_MISSING = "chua-cham"
FILTER_NO_EVIDENCE = "thieu-tai-lieu"
FILTER_MINE = "cua-toi"
FILTER_NA = "khong-ap-dung"
FILTERS = (FILTER_MISSING, FILTER_NO_EVIDENCE, FILTER_MINE, FILTER_NA)


@dataclass
class Row:
    node: CriterionNode
    item: ItemScore | None = None
    evidence_count: int = 0
    assignee: Any = None
    editable: bool = False
    mine: bool = False

    @property
    def criterion(self) -> Any:
        return self.node.criterion

    @property
    def is_leaf(self) -> bool:
        return self.node.criterion.is_leaf

    @property
    def is_survey(self) -> bool:
        return self.node.criterion.method == scoring.SURVEY

    @property
    def is_scored(self) -> bool:
        return self.item is not None and self.item.is_scored

    @property
    def scores(self) -> results.ItemScores | None:
        """The item's scores from the results ledger (None for a branch row)."""
        if self.item is None:
            return None
        return results.item_scores(results.row_of(self.item, self.criterion.method))

    @property
    def needs_evidence(self) -> bool:
        """Scored above 0 on a leaf that requires evidence, with neither evidence nor a reason."""
        return self.item is not None and services.lacks_evidence(
            self.criterion, self.item, self.evidence_count
        )

    def matches(self, filter_: str, query: str, user_id: int | None) -> bool:
        if query:
            haystack = f"{self.criterion.code} {self.criterion.title}".lower()
            if query.lower() not in haystack:
                return False
        if filter_ == FILTER_MISSING:
            return not self.is_survey and not self.is_scored
        if filter_ == FILTER_NO_EVIDENCE:
            return self.needs_evidence
        if filter_ == FILTER_MINE:
            return self.mine
        if filter_ == FILTER_NA:
            return self.item is not None and self.item.not_applicable
        return True


@dataclass
class Section:
    head: Row
    rows: list[Row]
    score: Decimal = Decimal("0")
    max_points: Decimal = Decimal("0")
    applicable: int = 0
    scored: int = 0
    with_evidence: int = 0

    @property
    def percent_done(self) -> int:
        return round(100 * self.scored / self.applicable) if self.applicable else 100


@dataclass
class Workspace:
    assessment: UnitAssessment
    sections: list[Section]
    totals: scoring.Totals
    role: str | None
    applicable: int = 0
    scored: int = 0
    missing_evidence: int = 0
    mine: int = 0
    people: dict[int, Any] = field(default_factory=dict)

    @property
    def percent_done(self) -> int:
        return round(100 * self.scored / self.applicable) if self.applicable else 100

    def leaf_rows(self) -> list[Row]:
        """Every leaf row with its item, in the order of the criteria set."""
        return [
            row
            for section in self.sections
            for row in [section.head, *section.rows]
            if row.is_leaf and row.item is not None
        ]

    def items(self) -> list[ItemScore]:
        """The unit's items with their criteria loaded (for the submission checks and the
        results ledger, without querying them again)."""
        return [row.item for row in self.leaf_rows() if row.item is not None]

    def evidence_counts(self) -> dict[int, int]:
        """item id → number of linked documents, as loaded."""
        return {row.item.pk: row.evidence_count for row in self.leaf_rows() if row.item}

    def section(self, code: str) -> Section | None:
        """The section of one field (a top-level criterion), or ``None``."""
        return next((s for s in self.sections if s.head.criterion.code == code), None)

    def submission(self) -> Submission:
        """What the leader would submit, and what stops it (§5.2, §7)."""
        items = self.items()
        problems = services.submission_problems(items, self.evidence_counts())
        self_assessed = [
            row for row in self.leaf_rows() if not row.is_survey and row.item is not None
        ]
        return Submission(
            problems=problems,
            items=len(self_assessed),
            without_evidence=self.without_evidence(),
        )

    def without_evidence(self) -> list[Row]:
        """Scored leaves that require evidence and have no document linked (the sign-off page
        and the self-assessment report list them with the unit's explanation)."""
        return [
            row
            for section in self.sections
            for row in [section.head, *section.rows]
            if row.is_leaf
            and row.item
            and row.criterion.evidence_required
            and row.item.has_points
            and not row.evidence_count
        ]


@dataclass
class Submission:
    """The numbers of the sign-off page and of the confirmation before "Nộp"."""

    problems: list[tuple[Any, str]]
    items: int  # self-assessed leaves (survey leaves are scored by the secretariat)
    without_evidence: list[Row]

    @property
    def explained(self) -> int:
        """Scored items without a document whose explanation is written (§7)."""
        return sum(1 for row in self.without_evidence if row.item and row.item.no_evidence_reason)


@dataclass
class FieldTable:
    """One field of the workspace as a table of its leaves (the fast self-assessment page)."""

    section: Section
    rows: list[Row]  # the leaves the user sees, with the groups above them for context
    leaves: list[Row]  # the leaves only, in order (the keyboard walks these)

    def next_after(self, code: str) -> Row | None:
        """The next leaf the user may edit after ``code`` (Enter moves there)."""
        codes = [row.criterion.code for row in self.leaves]
        if code not in codes:
            return None
        return next((row for row in self.leaves[codes.index(code) + 1 :] if row.editable), None)


def field_table(workspace: Workspace, code: str) -> FieldTable | None:
    """The table of field ``code``; a contributor sees only the items assigned to them
    (§6: "edit assigned"), the others every leaf of the field."""
    section = workspace.section(code)
    if section is None:
        return None
    everything = [section.head, *section.rows]
    contributor = workspace.role == UnitRole.CONTRIBUTOR
    leaves = [
        row for row in everything if row.is_leaf and row.item and (row.mine or not contributor)
    ]
    wanted = {row.criterion.code for row in leaves}
    prefixes = {".".join(c.split(".")[:n]) for c in wanted for n in range(1, c.count(".") + 1)}
    rows = [
        row
        for row in section.rows
        if row.criterion.code in wanted or (not row.is_leaf and row.criterion.code in prefixes)
    ]
    if section.head.is_leaf and section.head.criterion.code in wanted:
        rows.insert(0, section.head)
    return FieldTable(section=section, rows=rows, leaves=leaves)


def matching_codes(workspace: Workspace, filter_: str, user_id: int | None) -> list[str]:
    """The leaves that match a workspace filter, in order (the item page's next/previous
    keep the filter the user chose)."""
    return [
        row.criterion.code for row in workspace.leaf_rows() if row.matches(filter_, "", user_id)
    ]


def entry_from(data: Any) -> services.ItemInput:
    """What the item page or a row of the field table sends for one item, cut to the
    columns' lengths (``services.evaluate`` decides what is valid)."""
    return services.ItemInput(
        value=data.get("value", "")[:200],
        not_applicable=data.get("not_applicable") == "on",
        na_reason=data.get("na_reason", "")[:2000],
        note=data.get("note", "")[:2000],
        no_evidence_reason=data.get("no_evidence_reason", "")[:2000],
    )


def version_from(data: Any) -> int:
    """The item version the user loaded (-1 when missing or garbled: always a conflict)."""
    try:
        return int(data.get("version", ""))
    except ValueError:
        return -1


def load_workspace(assessment: UnitAssessment, user: User, role: str | None) -> Workspace:
    roots = build_tree(assessment.criteria_set.criteria.all())
    items = {
        item.criterion_id: item
        for item in ItemScore.objects.filter(assessment=assessment).select_related("updated_by")
    }
    evidence = services.evidence_counts_for(assessment)
    assignments = list(
        Assignment.objects.filter(assessment=assessment).select_related("assignee", "criterion")
    )
    by_code = {a.criterion.code: a for a in assignments}
    my_codes = {code for code, a in by_code.items() if a.assignee_id == user.pk}

    totals = results.self_totals(roots, items)

    workspace = Workspace(assessment=assessment, sections=[], totals=totals, role=role)
    can_edit_all = role in (UnitRole.LEADER, UnitRole.FOCAL)
    for root in roots:
        rows = []
        for node in root.walk():
            code = node.criterion.code
            row = Row(node=node)
            owner = nearest_assignment(code, by_code)
            row.assignee = owner.assignee if owner else None
            if node.criterion.is_leaf:
                row.item = items.get(node.criterion.pk)
                if row.item is not None:
                    # The loaded criterion stands in for the foreign key (no query per item
                    # when the submission checks or the ledger read ``item.criterion``).
                    row.item.criterion = node.criterion
                row.evidence_count = evidence.get(row.item.pk, 0) if row.item else 0
                row.mine = is_assigned(code, my_codes)
                row.editable = not row.is_survey and (
                    can_edit_all or (role == UnitRole.CONTRIBUTOR and row.mine)
                )
            rows.append(row)
        section = Section(head=rows[0], rows=rows[1:])
        section.score = totals.node_scores.get(root.criterion.code, Decimal("0"))
        section.max_points = totals.node_max.get(root.criterion.code, root.criterion.max_points)
        for row in rows:
            if not row.is_leaf or row.is_survey or row.item is None:
                continue
            if row.item.not_applicable:
                continue
            section.applicable += 1
            section.scored += row.item.is_scored
            section.with_evidence += bool(row.evidence_count)
            workspace.missing_evidence += row.needs_evidence
            workspace.mine += row.mine
        workspace.applicable += section.applicable
        workspace.scored += section.scored
        workspace.sections.append(section)
    return workspace


def nearest_assignment(code: str, by_code: dict[str, Assignment]) -> Assignment | None:
    parts = code.split(".")
    for n in range(len(parts), 0, -1):
        found = by_code.get(".".join(parts[:n]))
        if found is not None:
            return found
    return None


def filter_sections(
    sections: list[Section], filter_: str, query: str, user_id: int | None
) -> list[Section]:
    """Keep the leaves that match, with the groups above them for context."""
    if not filter_ and not query:
        return sections
    kept = []
    for section in sections:
        leaves = [r for r in section.rows if r.is_leaf and r.matches(filter_, query, user_id)]
        if section.head.is_leaf and section.head.matches(filter_, query, user_id):
            leaves.insert(0, section.head)
        if not leaves:
            continue
        wanted = {r.criterion.code for r in leaves}
        prefixes = {
            ".".join(code.split(".")[:n]) for code in wanted for n in range(1, code.count(".") + 1)
        }
        rows = [
            r for r in section.rows if r.criterion.code in wanted or r.criterion.code in prefixes
        ]
        kept.append(
            Section(
                head=section.head,
                rows=rows,
                score=section.score,
                max_points=section.max_points,
                applicable=section.applicable,
                scored=section.scored,
                with_evidence=section.with_evidence,
            )
        )
    return kept


def round_roll(round_: Round) -> list[tuple[Unit, UnitAssessment | None]]:
    """Every active unit of the round's groups with its assessment, if it has one yet (the
    secretariat lead's home page; three queries)."""
    by_unit = {a.unit_id: a for a in UnitAssessment.objects.filter(round=round_)}
    group_ids = CriteriaSet.objects.filter(round=round_).values_list("group_id", flat=True)
    return [
        (unit, by_unit.get(unit.pk))
        for unit in Unit.objects.filter(group_id__in=group_ids, is_active=True).select_related(
            "group"
        )
    ]
