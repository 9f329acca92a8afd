"""Workbook builders for the criteria set (DESIGN §10). Pure: objects in, bytes out."""

from __future__ import annotations

import io
from collections.abc import Sequence

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .importers import CRITERIA_COLUMNS, CriterionRow

# Widths for the criteria sheet, in the order of CRITERIA_COLUMNS.
WIDTHS = {
    "code": 9,
    "title": 60,
    "max_points": 11,
    "method": 15,
    "params": 34,
    "allows_na": 12,
    "evidence_required": 14,
    "evidence_hint": 36,
    "english": 40,
    "guidance": 40,
}
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def criteria_workbook(rows: Sequence[CriterionRow], title: str) -> bytes:
    """The criteria workbook: one sheet in import format, one sheet explaining it.

    Headers are the Vietnamese labels, which ``import_criteria`` reads back, so an
    export imports losslessly into another round.
    """
    workbook = Workbook()
    sheet = workbook.worksheets[0]
    sheet.title = "Tiêu chí"
    keys = list(CRITERIA_COLUMNS)
    sheet.append([CRITERIA_COLUMNS[key][-1] for key in keys])
    for row in rows:
        sheet.append(
            [
                row.code,
                row.title,
                row.max_points,
                row.method,
                row.params,
                "x" if row.allows_na else "",
                "x" if row.evidence_required else "",
                row.evidence_hint,
                row.english_title,
                row.guidance,
            ]
        )
    bold = Font(bold=True)
    for index, key in enumerate(keys, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = bold
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS[key]
    for (cell,) in sheet.iter_rows(min_row=2, min_col=3, max_col=3):
        cell.number_format = "0.00"
    for row_cells in sheet.iter_rows(min_row=2):
        # Text columns as text so Excel keeps codes like "1.10" and params as typed, and a
        # title starting with "=" stays text instead of becoming a formula.
        for index in (1, 2, 4, 5, 8, 9, 10):
            cell = row_cells[index - 1]
            cell.number_format = "@"
            if isinstance(cell.value, str):
                cell.data_type = "s"
        row_cells[1].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "C2"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.oddHeader.center.text = title

    guide = workbook.create_sheet("Hướng dẫn")
    guide.column_dimensions["A"].width = 22
    guide.column_dimensions["B"].width = 90
    guide.append([title])
    guide["A1"].font = Font(bold=True, size=13)
    guide.append([])
    for method, text in method_help():
        guide.append([method, text])
        guide.cell(row=guide.max_row, column=2).alignment = Alignment(wrap_text=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def method_help() -> list[tuple[str, str]]:
    """One line per method for the workbook's help sheet (DESIGN §4.1)."""
    return [
        (
            "group",
            _("A field or criterion that groups items; its maximum is the sum of its items."),
        ),
        ("bonus", _("The bonus block “B”; its maximum is the cap on bonus points.")),
        ("penalty", _("The penalty block “P”; its maximum is the cap on penalty points.")),
        ("yes_no", _("Yes or no: full points or 0. No parameters.")),
        ("choice", _("Levels with points, e.g. “Good=2.5; Complete=2; Incomplete=1; None=0”.")),
        (
            "threshold",
            _("Bands “lower bound:points”, highest first, e.g. “100:5; 98:4; 95:3; 0:0”."),
        ),
        (
            "proportional",
            _("Points in proportion to a percentage; parameter: the target (default 100)."),
        ),
        ("manual", _("Points entered by hand; parameter: the step (default 0.25).")),
        ("deduction", _("Maximum minus points per lapse; parameter: the points per lapse.")),
        ("survey", _("Scored by the sociological survey; not self-assessed. No parameters.")),
        ("allows_na", _("“x” when the item may be marked not applicable.")),
        ("evidence_required", _("“x” when points above 0 need an evidence document.")),
    ]
