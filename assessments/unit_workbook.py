"""The offline self-assessment workbook of one unit (DESIGN §9, §10).

``build_unit_workbook`` writes the unit's items to an ``.xlsx`` file that the unit fills in
Excel; ``parse_unit_workbook`` reads it back, checks every row and returns the planned
changes (or raises ``ImportFailed`` with every bad row); ``apply_changes`` saves them all or
nothing through ``services.save_item``. Views and the ``export_unit_workbook`` /
``import_unit_workbook`` commands share these functions.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from . import access, results, scoring, services
from .importers import ImportFailed, Problem, parse_flag, read_table, require_columns
from .models import (
    Criterion,
    CriterionNode,
    Event,
    EventAction,
    ItemScore,
    Method,
    UnitAssessment,
    build_tree,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The columns the import reads (DESIGN §10): key -> (English key, Vietnamese label written by
# the export). Every other column is informational and ignored on import.
UNIT_COLUMNS: dict[str, Sequence[str]] = {
    "code": ("code", "Mã"),
    "value": ("value", "Giá trị tự đánh giá"),
    "not_applicable": ("not_applicable", "Không áp dụng"),
    "na_reason": ("na_reason", "Lý do không áp dụng"),
    "note": ("note", "Ghi chú"),
}
INPUT_KEYS = ("value", "not_applicable", "na_reason", "note")
SHEET = "Tự đánh giá"
GUIDE_SHEET = "Hướng dẫn"
# A workbook-level defined name records whose workbook this is; Excel and LibreOffice keep it,
# so a file downloaded for one unit cannot be imported into another by mistake.
IDENTITY_NAME = "CCHC_TU_DANH_GIA"

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
INFO_FILL = PatternFill("solid", fgColor="F2F2F2")
GROUP_FILL = PatternFill("solid", fgColor="E7E6E6")
LOCKED = Protection(locked=True)
UNLOCKED = Protection(locked=False)
NOT_ENTERED = frozenset(scoring.BRANCH_METHODS | {scoring.SURVEY})


# ---------------------------------------------------------------------------------------------
# Loading


def load_tree(assessment: UnitAssessment) -> list[CriterionNode]:
    """The assessment's criteria tree, from one query."""
    return build_tree(Criterion.objects.filter(criteria_set_id=assessment.criteria_set_id))


def load_items(assessment: UnitAssessment) -> list[ItemScore]:
    """Every item of the assessment with its criterion, from one query."""
    items = list(
        ItemScore.objects.filter(assessment=assessment)
        .select_related("criterion")
        .order_by("criterion__position")
    )
    for item in items:
        item.assessment = assessment
    return items


# ---------------------------------------------------------------------------------------------
# Export


def _description(criterion: Criterion) -> str:
    try:
        params = scoring.parse_params(criterion.method, criterion.params, criterion.max_points)
        return scoring.describe(criterion.method, params, criterion.max_points)
    except scoring.ScoringError as error:  # pragma: no cover - imports validate params
        return error.message


def allowed_values(criterion: Criterion) -> str:
    """What the unit may write in the value cell (DESIGN §4.1), shown beside it."""
    method = criterion.method
    if method == scoring.YES_NO:
        hint = "có / không"
    elif method == scoring.CHOICE:
        hint = "; ".join(criterion.levels)
    elif method in (scoring.THRESHOLD, scoring.PROPORTIONAL):
        hint = _("a number (e.g. 97,5) or a/b (e.g. 45/50)")
    elif method == scoring.MANUAL:
        params = scoring.parse_params(method, criterion.params, criterion.max_points)
        assert isinstance(params, scoring.ManualParams)  # noqa: S101 - method is manual
        hint = _("points from 0 to %(max)s in steps of %(step)s") % {
            "max": scoring.format_points(criterion.max_points),
            "step": scoring.format_points(params.step),
        }
    elif method == scoring.DEDUCTION:
        hint = _("the number of lapses (0, 1, 2 …)")
    elif method == scoring.SURVEY:
        return _("sociological survey (not entered by the unit)")
    else:
        return ""
    if criterion.allows_na:
        hint += "\n" + _("may be marked not applicable (“x” and a reason)")
    return hint


def _list_validation(values: Sequence[str]) -> DataValidation | None:
    """An in-cell drop-down list, when Excel can hold it inline (no commas, ≤ 255 chars)."""
    if any("," in v or '"' in v for v in values):
        return None
    formula = '"' + ",".join(values) + '"'
    if len(formula) > 257:
        return None
    validation = DataValidation(type="list", formula1=formula, allow_blank=True)
    validation.errorTitle = _("Value not allowed")
    validation.error = _("Choose one of the values in the list.")
    validation.showErrorMessage = True
    return validation


def build_unit_workbook(
    assessment: UnitAssessment,
    roots: Sequence[CriterionNode],
    items: Iterable[ItemScore],
) -> bytes:
    """The unit's workbook: one sheet to fill (import format), one sheet of instructions.

    Group rows and survey items are informational (bold / grey, locked); only the value,
    not-applicable, reason and note cells of self-scored items are open for input.
    """
    round_, unit = assessment.round, assessment.unit
    by_criterion = {item.criterion_id: item for item in items}
    title = _("Self-assessment workbook – %(unit)s – round %(year)s") % {
        "unit": unit.name,
        "year": round_.year,
    }
    workbook = Workbook()
    sheet = workbook.worksheets[0]
    sheet.title = SHEET
    columns: list[tuple[str, str, float]] = [
        ("code", UNIT_COLUMNS["code"][-1], 9),
        ("title", _("Criterion"), 55),
        ("max_points", _("Maximum points"), 10),
        ("how", _("How it is scored"), 42),
        ("allowed", _("What to enter"), 28),
        ("value", UNIT_COLUMNS["value"][-1], 18),
        ("not_applicable", UNIT_COLUMNS["not_applicable"][-1], 11),
        ("na_reason", UNIT_COLUMNS["na_reason"][-1], 30),
        ("note", UNIT_COLUMNS["note"][-1], 30),
        ("score", _("Current self score"), 12),
    ]
    position = {key: index for index, (key, _label, _width) in enumerate(columns, start=1)}
    sheet.append([label for _key, label, _width in columns])
    for key, _label, width in columns:
        cell = sheet.cell(row=1, column=position[key])
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[get_column_letter(position[key])].width = width
    sheet.row_dimensions[1].height = 32

    yes_no = _list_validation(["có", "không"])
    na_flag = _list_validation(["x"])
    choice_lists: dict[tuple[str, ...], DataValidation | None] = {}
    wrap = Alignment(wrap_text=True, vertical="top")

    for root in roots:
        for node in root.walk():
            criterion = node.criterion
            item = by_criterion.get(criterion.pk)
            entered = criterion.method not in NOT_ENTERED and item is not None
            values: list[Any] = [
                criterion.code,
                criterion.title,
                criterion.max_points,
                _description(criterion),
                allowed_values(criterion),
                "",
                "",
                "",
                "",
                None,
            ]
            if entered:
                assert item is not None  # noqa: S101 - for mypy
                values[5] = item.self_value
                values[6] = "x" if item.not_applicable else ""
                values[7] = item.na_reason
                values[8] = item.note
                values[9] = results.item_scores(results.row_of(item, criterion.method)).unit_score
            sheet.append(values)
            row = sheet.max_row
            cells = {key: sheet.cell(row=row, column=position[key]) for key in position}
            cells["code"].number_format = "@"
            cells["max_points"].number_format = "0.00"
            cells["score"].number_format = "0.00"
            cells["title"].alignment = Alignment(
                wrap_text=True, vertical="top", indent=min(node.depth, 5)
            )
            for key in ("how", "allowed", "na_reason", "note"):
                cells[key].alignment = wrap
            for key in position:
                cells[key].protection = LOCKED
            if criterion.is_leaf:
                for key in ("code", "title", "max_points", "how", "allowed", "score"):
                    cells[key].fill = INFO_FILL
            else:
                for cell in cells.values():
                    cell.font = Font(bold=True)
                    cell.fill = GROUP_FILL
            if not entered:
                for key in INPUT_KEYS:
                    cells[key].fill = INFO_FILL if criterion.is_leaf else GROUP_FILL
                continue
            # Text cells keep "1,5" and "45/50" as typed (Excel would turn "1/2" into a date).
            for key in ("value", "na_reason", "note"):
                cells[key].number_format = "@"
                cells[key].protection = UNLOCKED
            if criterion.allows_na:
                cells["not_applicable"].protection = UNLOCKED
                if na_flag is not None:
                    na_flag.add(cells["not_applicable"].coordinate)
            else:
                cells["not_applicable"].fill = INFO_FILL
                cells["na_reason"].fill = INFO_FILL
                cells["na_reason"].protection = LOCKED
            if criterion.method == scoring.YES_NO and yes_no is not None:
                yes_no.add(cells["value"].coordinate)
            elif criterion.method == scoring.CHOICE:
                levels = tuple(criterion.levels)
                if levels not in choice_lists:
                    choice_lists[levels] = _list_validation(levels)
                validation = choice_lists[levels]
                if validation is not None:
                    validation.add(cells["value"].coordinate)

    for validation in [yes_no, na_flag, *choice_lists.values()]:
        if validation is not None and validation.sqref:
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "C2"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.oddHeader.center.text = title
    # Protection without a password: it guards against typing in the wrong cell, not against
    # the unit (the import checks every cell anyway). Column widths may still be changed.
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False

    _guide(workbook, assessment, title)
    workbook.defined_names[IDENTITY_NAME] = DefinedName(
        IDENTITY_NAME, attr_text=f'"{round_.year}/{unit.code}"'
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _guide(workbook: Workbook, assessment: UnitAssessment, title: str) -> None:
    guide = workbook.create_sheet(GUIDE_SHEET)
    guide.column_dimensions["A"].width = 28
    guide.column_dimensions["B"].width = 95
    guide.append([title])
    guide["A1"].font = Font(bold=True, size=13)
    deadline = assessment.deadline
    facts = [
        (_("Unit"), f"{assessment.unit.code} – {assessment.unit.name}"),
        (_("Round"), str(assessment.round.year)),
        (_("Downloaded at"), timezone.localtime().strftime("%H:%M %d/%m/%Y")),
        (
            _("Self-assessment deadline"),
            timezone.localtime(deadline).strftime("%H:%M %d/%m/%Y") if deadline else "—",
        ),
        (_("State"), str(assessment.get_state_display())),
    ]
    guide.append([])
    for label, value in facts:
        guide.append([label, value])
        guide.cell(row=guide.max_row, column=1).font = Font(bold=True)
    guide.append([])
    steps = [
        _(
            "Fill in only the white cells of the sheet “%(sheet)s”: the value, an “x” in the column “%(na)s” with its reason, and a note. Grey cells are for information and are not imported."
        )
        % {"sheet": SHEET, "na": UNIT_COLUMNS["not_applicable"][-1]},
        _(
            "Do not change the codes in the column “%(code)s”. A row you delete leaves its item as it is in the portal; rows cannot be added."
        )
        % {"code": UNIT_COLUMNS["code"][-1]},
        _(
            "A value cell left empty clears the value saved in the portal. An item that allows it may be marked not applicable: write “x”, give the reason and leave the value empty."
        ),
        _(
            "Upload the completed file on the portal (the unit's self-assessment page, “Workbook”). The whole file is checked first: if any row is wrong, nothing is saved and every problem is listed. Otherwise you see the changes and confirm them."
        ),
        _(
            "Only rows whose value, not-applicable mark, reason or note differ from the portal are saved. A contributor may change only the items assigned to them."
        ),
    ]
    for step in steps:
        guide.append(["", step])
        guide.cell(row=guide.max_row, column=2).alignment = Alignment(wrap_text=True)
    guide.append([])
    guide.append([_("What to enter"), ""])
    guide.cell(row=guide.max_row, column=1).font = Font(bold=True)
    labels = dict(Method.choices)
    for method, text in method_entry_help():
        guide.append([str(labels[method]), text])
        guide.cell(row=guide.max_row, column=2).alignment = Alignment(wrap_text=True)


def method_entry_help() -> list[tuple[str, str]]:
    """What a unit writes for each method (DESIGN §4.1), for the instructions sheet."""
    return [
        (scoring.YES_NO, _("“có” (yes) or “không” (no).")),
        (scoring.CHOICE, _("Exactly one of the levels listed in the column “What to enter”.")),
        (
            scoring.THRESHOLD,
            _(
                "The measured value, e.g. 97,5, or a ratio a/b such as 45/50 (counted as 100 × a ÷ b)."
            ),
        ),
        (scoring.PROPORTIONAL, _("A percentage, e.g. 80, or a ratio a/b such as 45/50.")),
        (scoring.MANUAL, _("Points, a multiple of the step, from 0 to the item's maximum.")),
        (scoring.DEDUCTION, _("The number of lapses, a whole number (0 if there were none).")),
        (scoring.SURVEY, _("Nothing: these items are scored by the sociological survey.")),
    ]


# ---------------------------------------------------------------------------------------------
# Import


@dataclass(frozen=True)
class Change:
    """One item whose workbook row differs from what the portal holds."""

    item_id: int
    code: str
    title: str
    row: int
    version: int
    old: services.ItemInput
    new: services.ItemInput
    old_score: Decimal | None
    new_score: Decimal | None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["old_score"] = None if self.old_score is None else str(self.old_score)
        data["new_score"] = None if self.new_score is None else str(self.new_score)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Change:
        return cls(
            **{
                **data,
                "old": services.ItemInput(**data["old"]),
                "new": services.ItemInput(**data["new"]),
                "old_score": None if data["old_score"] is None else Decimal(data["old_score"]),
                "new_score": None if data["new_score"] is None else Decimal(data["new_score"]),
            }
        )


def stored_input(item: ItemScore) -> services.ItemInput:
    """What the portal holds for an item, in the shape of a workbook row."""
    return services.ItemInput(
        value=item.self_value,
        not_applicable=item.not_applicable,
        na_reason=item.na_reason,
        note=item.note,
    )


def _same_value(criterion: Criterion, stored: str, typed: str) -> bool:
    """``97.5`` retyped as ``97,5`` (or a float cell for a text one) is not a change."""
    if stored == typed:
        return True
    if not stored or not typed or "/" in stored or "/" in typed:
        return False  # "45/50" records the counts behind the percentage: keep what is typed
    if criterion.method not in (
        scoring.THRESHOLD,
        scoring.PROPORTIONAL,
        scoring.MANUAL,
        scoring.DEDUCTION,
    ):
        return False
    try:
        params = scoring.parse_params(criterion.method, criterion.params, criterion.max_points)
        before = scoring.parse_value(criterion.method, params, criterion.max_points, stored)
        after = scoring.parse_value(criterion.method, params, criterion.max_points, typed)
    except scoring.ScoringError:
        return False
    return before == after


def _identity_problem(data: bytes, filename: str, assessment: UnitAssessment) -> Problem | None:
    """A problem when the workbook was downloaded for another unit or round."""
    if not filename.lower().endswith(".xlsx"):
        return None
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True)
        defined = workbook.defined_names.get(IDENTITY_NAME)
        sheet = workbook.worksheets[0].title
        workbook.close()
    except Exception:  # read_table has already reported an unreadable file
        return None
    if defined is None or not defined.attr_text:
        return None
    year, _slash, unit_code = defined.attr_text.strip('"').partition("/")
    expected = (str(assessment.round.year), assessment.unit.code)
    if (year, unit_code) == expected:
        return None
    return Problem(
        sheet,
        1,
        "",
        _(
            "This workbook was downloaded for the unit %(unit)s, round %(year)s, not for %(this_unit)s, round %(this_year)s. Download this unit's own workbook and fill it in."
        )
        % {
            "unit": unit_code,
            "year": year,
            "this_unit": assessment.unit.code,
            "this_year": assessment.round.year,
        },
    )


def parse_unit_workbook(
    upload: IO[bytes] | Path,
    filename: str,
    assessment: UnitAssessment,
    items: Sequence[ItemScore],
    *,
    criteria: Iterable[Criterion] | None = None,
    assigned: set[str] | None = None,
) -> list[Change]:
    """Check every row of a filled workbook against the assessment's items.

    Returns the rows that change an item (unchanged rows are left out), or raises
    ``ImportFailed`` listing every bad row. ``assigned`` restricts a contributor to the codes
    assigned to them (``access.assigned_codes``); ``None`` lets every item change.
    Nothing is written here.
    """
    data = upload.read_bytes() if isinstance(upload, Path) else upload.read()
    table = read_table(io.BytesIO(data), filename, UNIT_COLUMNS)
    identity = _identity_problem(data, filename, assessment)
    if identity is not None:
        raise ImportFailed([identity])
    require_columns(table, ("code", "value"), UNIT_COLUMNS)
    if criteria is None:
        criteria = Criterion.objects.filter(criteria_set_id=assessment.criteria_set_id)
    criteria_by_code = {c.code: c for c in criteria}
    items_by_code = {item.criterion.code: item for item in items}
    problems: list[Problem] = []
    changes: list[Change] = []
    seen: dict[str, int] = {}

    def label(key: str) -> str:
        return table.headers.get(key) or UNIT_COLUMNS[key][-1]

    def bad(row: int, key: str, message: str) -> None:
        problems.append(Problem(table.sheet, row, label(key), message))

    for number, cells in table.rows:
        code = cells.get("code", "").strip().upper()
        if not code:
            bad(
                number, "code", _("The code is empty. Every filled row needs the code of its item.")
            )
            continue
        if code in seen:
            bad(
                number,
                "code",
                _("The code “%(code)s” is already used on row %(row)s. Each code must appear once.")
                % {"code": code, "row": seen[code]},
            )
            continue
        seen[code] = number
        criterion = criteria_by_code.get(code)
        item = items_by_code.get(code)
        if criterion is None or (criterion.method not in NOT_ENTERED and item is None):
            bad(
                number,
                "code",
                _(
                    "There is no item “%(code)s” in this unit's criteria set. Do not change the codes of the downloaded workbook."
                )
                % {"code": cells.get("code", "")},
            )
            continue
        if criterion.method in NOT_ENTERED:
            message = (
                _(
                    "“%(code)s” is scored by the sociological survey, not by the unit; leave this cell empty."
                )
                if criterion.method == scoring.SURVEY
                else _("“%(code)s” is a group of items, not an item; leave this cell empty.")
            ) % {"code": code}
            for key in INPUT_KEYS:
                if cells.get(key):
                    bad(number, key, message)
            continue
        assert item is not None  # noqa: S101 - checked above, for mypy
        problems_before = len(problems)
        flag: bool | None = item.not_applicable
        if "not_applicable" in table.headers:
            flag = parse_flag(cells.get("not_applicable", ""))
            if flag is None:
                bad(
                    number,
                    "not_applicable",
                    _(
                        "Item %(code)s: write “x” for not applicable or leave the cell empty; “%(value)s” is neither."
                    )
                    % {"code": code, "value": cells.get("not_applicable", "")},
                )
        value = cells.get("value", "")
        reason = cells.get("na_reason", "") if "na_reason" in table.headers else item.na_reason
        note = cells.get("note", "") if "note" in table.headers else item.note
        if flag and value:
            bad(
                number,
                "value",
                _(
                    "Item %(code)s is marked not applicable and also has a value. Either clear the value or remove the “x”."
                )
                % {"code": code},
            )
        if flag is False and reason.strip() and "na_reason" in table.headers:
            bad(
                number,
                "na_reason",
                _(
                    "Item %(code)s has a reason for not applicable but no “x” in the column “%(column)s”. Add the “x” or clear the reason."
                )
                % {"code": code, "column": label("not_applicable")},
            )
        if len(problems) > problems_before:
            continue
        typed = services.ItemInput(
            value=value, not_applicable=bool(flag), na_reason=reason, note=note
        )
        try:
            canonical, points = services.evaluate(criterion, typed)
        except services.ServiceError as error:
            if not flag:
                key = "value"
            elif not criterion.allows_na:
                key = "not_applicable"
            else:
                key = "na_reason"
            bad(number, key, error.message)
            continue
        old = stored_input(item)
        new = services.ItemInput(
            value=item.self_value
            if _same_value(criterion, item.self_value, canonical)
            else canonical,
            not_applicable=bool(flag),
            na_reason=reason.strip() if flag else "",
            note=note.strip(),
        )
        if new == old:
            continue
        if assigned is not None and not access.is_assigned(code, assigned):
            bad(
                number,
                "code",
                _(
                    "Item %(code)s is not assigned to you, so you cannot change it. Put back the values shown in the portal or delete the row."
                )
                % {"code": code},
            )
            continue
        changes.append(
            Change(
                item_id=item.pk,
                code=code,
                title=criterion.title,
                row=number,
                version=item.version,
                old=old,
                new=new,
                old_score=results.item_scores(results.row_of(item, criterion.method)).unit_score,
                new_score=points,
            )
        )
    if not table.rows:
        problems.append(Problem(table.sheet, 2, "", _("The file has no item rows.")))
    if problems:
        problems.sort(key=lambda p: (p.row, p.column))
        raise ImportFailed(problems)
    return changes


def check_open(assessment: UnitAssessment) -> None:
    """Raise ``ServiceError`` (the services' own message) unless the unit may still write."""
    with transaction.atomic():
        services.lock_for_write(assessment)


@transaction.atomic
def apply_changes(assessment: UnitAssessment, changes: Sequence[Change], *, by: User | None) -> int:
    """Save every change through ``services.save_item`` in one transaction, or none.

    Refuses after submission or the deadline (``lock_for_write``) and when any item was saved
    by someone else since the workbook was checked; an invalid entry raises ``ServiceError``
    from ``save_item`` and rolls every earlier save back. Writes one ``WORKBOOK_IMPORTED``
    event with the count (none when nothing changed). ``by`` is ``None`` for the commands.
    """
    services.lock_for_write(assessment)  # also serialises concurrent imports of the same unit
    current = {
        item.pk: item
        for item in ItemScore.objects.select_related("criterion").filter(
            assessment=assessment, pk__in=[change.item_id for change in changes]
        )
    }
    stale = [
        change.code
        for change in changes
        if change.item_id not in current or current[change.item_id].version != change.version
    ]
    if stale:
        raise services.ServiceError(
            _(
                "Nothing was imported: item(s) %(codes)s were changed in the portal after the workbook was checked. Upload the workbook again to see the current values."
            )
            % {"codes": ", ".join(stale)}
        )
    for change in changes:
        item = current[change.item_id]
        item.assessment = assessment
        # The workbook has no column for the missing-evidence explanation: keep it.
        entry = replace(change.new, no_evidence_reason=item.no_evidence_reason)
        # save_item records the actor; None (a command run by an administrator) is allowed
        # by the nullable columns, though its annotation names a user.
        services.save_item(item, entry, by=cast("User", by), expected_version=change.version)
    if changes:
        Event.objects.create(
            actor=by,
            action=EventAction.WORKBOOK_IMPORTED,
            round_id=assessment.round_id,
            unit_id=assessment.unit_id,
            detail={"items": len(changes), "codes": [change.code for change in changes]},
        )
    return len(changes)
