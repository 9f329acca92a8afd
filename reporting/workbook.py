"""The round workbook (DESIGN §9): rankings per group, scores per field, the detail matrix
(units × items: self, appraisal 1, appraisal 2, final) and the explanations, for printing and
filing.

The numbers of the ranking and field sheets are the results engine's: the frozen snapshot once
the council has approved (the published one for the public), ``results.compute(provisional=True)``
before. Loading runs a fixed number of queries whatever the number of units; the workbook is
written in openpyxl's write-only mode, which streams each row to a temporary file, so 2,000 units
stay small in memory.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from assessments import results
from assessments.models import ItemScore, Round
from assessments.states import COUNCIL_REVIEW
from councils.models import ExplanationRequest

from .models import ResultSnapshot

POINTS_FORMAT = "0.00"
DATE_FORMAT = "dd/mm/yyyy hh:mm"
FLAG = "x"
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
WARNING_FILL = PatternFill("solid", fgColor="FCE4D6")
BOLD = Font(bold=True)
TITLE_FONT = Font(bold=True, size=13)
WARNING_FONT = Font(bold=True, color="C00000")
WRAP = Alignment(wrap_text=True, vertical="top")
# Characters Excel refuses in a sheet title; a title has at most 31 characters.
SHEET_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", "-"))
# Row 1 is the title, row 2 the status (provisional / final version); headers follow.
FIRST_HEADER_ROW = 3


@dataclass
class Source:
    """Everything a workbook shows, loaded in a fixed number of queries."""

    year: int
    data: dict[str, Any]  # the §10 JSON: a snapshot's data or ``results.as_json``
    status: str  # the line under every sheet's title
    field_titles: dict[tuple[str, str], str]  # (group code, field code) -> title
    # Staff only (``None`` in the public workbook): one dict per unit × leaf, and explanations.
    detail: Iterable[dict[str, Any]] | None = None
    explanations: list[dict[str, Any]] | None = None
    # Units whose appraisal this reader may not see yet (council before council review).
    appraisal_hidden: bool = False

    @property
    def provisional(self) -> bool:
        return bool(self.data.get("provisional"))


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def field_titles(round_id: int) -> dict[tuple[str, str], str]:
    """(group code, field code) -> title of the round's top-level criteria (one query)."""
    return {
        (group, code): title
        for group, by_code in results.field_titles(round_id).items()
        for code, title in by_code.items()
    }


DETAIL_FIELDS = (
    "assessment__state",
    "assessment__criteria_set__group__code",
    "assessment__unit__code",
    "assessment__unit__name",
    "criterion__code",
    "criterion__title",
    "criterion__max_points",
    "criterion__method",
    *results.SCORE_FIELDS,
)


def detail_rows(round_: Round) -> Iterator[dict[str, Any]]:
    """Every leaf of every active unit (one query, streamed), in group, unit, tree order."""
    return (
        ItemScore.objects.filter(assessment__round=round_, assessment__unit__is_active=True)
        .order_by(
            "assessment__criteria_set__group__position",
            "assessment__criteria_set__group__code",
            "assessment__unit__code",
            "criterion__position",
        )
        .values(*DETAIL_FIELDS)
        .iterator(chunk_size=2000)
    )


def explanation_rows(round_: Round) -> list[dict[str, Any]]:
    """Every explanation request of the round (one query)."""
    return [
        dict(row)
        for row in ExplanationRequest.objects.filter(item__assessment__round=round_)
        .order_by(
            "item__assessment__criteria_set__group__position",
            "item__assessment__unit__code",
            "item__criterion__position",
        )
        .values(
            "item__assessment__state",
            "item__assessment__unit__code",
            "item__assessment__unit__name",
            "item__criterion__code",
            "question",
            "answer",
            "asked_at",
            "answered_at",
        )
    ]


def staff_source(round_: Round, snapshot: ResultSnapshot | None, *, full_detail: bool) -> Source:
    """The secretariat's and the council's workbook: ``snapshot``'s final numbers, or
    provisional ones computed now when the round is not approved (``snapshot`` is None).

    ``full_detail``: the secretariat lead and appraisers follow the appraisal as it happens;
    the council reads a unit's appraisal and explanations once it is appraised (§6, as
    ``councils.access.appraisal_visible_to_staff``).
    """
    if snapshot is None:
        data = results.as_json(results.compute(round_, provisional=True))
        status = _("PROVISIONAL – not approved by the council")
    else:
        data = snapshot.data
        status = _("Final results approved by the council, version %(version)s") % {
            "version": snapshot.version
        }
    return Source(
        year=round_.year,
        data=data,
        status=status,
        field_titles=field_titles(round_.pk),
        detail=detail_rows(round_),
        explanations=explanation_rows(round_),
        appraisal_hidden=not full_detail,
    )


def public_source(snapshot: ResultSnapshot, year: int) -> Source:
    """The public workbook: the published snapshot's rankings and field scores only."""
    return Source(
        year=year,
        data=snapshot.data,
        status=_("Published results, version %(version)s") % {"version": snapshot.version},
        field_titles=field_titles(snapshot.round_id),
    )


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def sheet_title(text: str, used: set[str]) -> str:
    title = text.translate(SHEET_FORBIDDEN)[:31]
    base, number = title, 2
    while title.lower() in used:
        suffix = f" {number}"
        title, number = base[: 31 - len(suffix)] + suffix, number + 1
    used.add(title.lower())
    return title


class Writer:
    """Styled cells for one write-only sheet (cells must be created per sheet)."""

    def __init__(self, sheet: WriteOnlyWorksheet) -> None:
        self.sheet = sheet

    def cell(
        self,
        value: Any,
        *,
        font: Font | None = None,
        fill: PatternFill | None = None,
        number_format: str | None = None,
        alignment: Alignment | None = None,
    ) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.sheet, value=value)
        if isinstance(value, str) and value.startswith("="):
            # Text typed by people (answers, titles) stays text, never a live formula.
            cell.data_type = "s"
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        if number_format is not None:
            cell.number_format = number_format
        if alignment is not None:
            cell.alignment = alignment
        return cell

    def points(self, value: Decimal | str | None) -> Any:
        """A score: a real number with two decimals (Excel can sort and sum it), or empty."""
        if value is None or value == "":
            return None
        return self.cell(Decimal(value), number_format=POINTS_FORMAT)

    def header(self, labels: list[str]) -> list[WriteOnlyCell]:
        return [self.cell(label, font=BOLD, fill=HEADER_FILL, alignment=WRAP) for label in labels]


def new_sheet(
    workbook: Workbook,
    source: Source,
    used: set[str],
    *,
    name: str,
    heading: str,
    widths: list[int],
    header_rows: int = 1,
    frozen_columns: int = 0,
    note: str | None = None,
) -> tuple[WriteOnlyWorksheet, Writer]:
    """A sheet with its widths, frozen panes and print set-up (all of which write-only mode
    needs before the first row), and its title and status rows written."""
    sheet = workbook.create_sheet(sheet_title(name, used))
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    last_header = FIRST_HEADER_ROW + header_rows - 1
    sheet.freeze_panes = f"{get_column_letter(frozen_columns + 1)}{last_header + 1}"
    sheet.print_title_rows = f"1:{last_header}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as needed
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    writer = Writer(sheet)
    sheet.append(
        [
            writer.cell(
                _("PAR index %(year)s") % {"year": source.year} + " – " + heading, font=TITLE_FONT
            )
        ]
    )
    status = (
        writer.cell(source.status, font=WARNING_FONT, fill=WARNING_FILL)
        if source.provisional
        else writer.cell(source.status, font=BOLD)
    )
    # A note goes on the status row, in the fifth column, so the header row stays row 3.
    sheet.append([status] + ([None, None, None, writer.cell(note)] if note else []))
    return sheet, writer


def field_codes(group: dict[str, Any]) -> list[str]:
    return [f["code"] for f in results.first_fields({"groups": [group]})]


def write_ranking(
    workbook: Workbook, source: Source, group: dict[str, Any], used: set[str]
) -> None:
    codes = field_codes(group)
    sheet, w = new_sheet(
        workbook,
        source,
        used,
        name=_("Ranking %(group)s") % {"group": group["code"]},
        heading=_("Ranking: %(group)s") % {"group": group["name"]},
        widths=[9, 11, 42, 10, 12, 10, 12, 10, 10] + [11] * len(codes),
        frozen_columns=3,
    )
    sheet.append(
        w.header(
            [
                _("Rank"),
                _("Unit code"),
                _("Unit"),
                _("Index (%)"),
                _("Band"),
                _("Total"),
                _("Applicable maximum"),
                _("Bonus"),
                _("Penalty"),
            ]
            + [_("Field %(code)s") % {"code": code} for code in codes]
        )
    )
    for unit in group["units"]:
        scores = {f["code"]: f["score"] for f in unit["fields"]}
        sheet.append(
            [
                unit["rank"],
                unit["code"],
                unit["name"],
                w.points(unit["index"]),
                unit["band"],
                w.points(unit["total"]),
                w.points(unit["applicable_max"]),
                w.points(unit["bonus"]),
                w.points(unit["penalty"]),
                *[w.points(scores.get(code)) for code in codes],
            ]
        )


def write_fields(workbook: Workbook, source: Source, group: dict[str, Any], used: set[str]) -> None:
    """Units × fields: score, applicable maximum and rank on the field (§4.5), per group."""
    codes = field_codes(group)
    sheet, w = new_sheet(
        workbook,
        source,
        used,
        name=_("Fields %(group)s") % {"group": group["code"]},
        heading=_("Scores per field: %(group)s") % {"group": group["name"]},
        widths=[9, 11, 42] + [10, 10, 9] * len(codes),
        header_rows=2,
        frozen_columns=3,
    )
    titles: list[Any] = [None, None, None]
    for code in codes:
        title = source.field_titles.get((group["code"], code), "")
        titles += [w.cell(f"{code}. {title}".rstrip(". "), font=BOLD, fill=HEADER_FILL), None, None]
    sheet.append(titles)
    sheet.append(
        w.header(
            [_("Rank"), _("Unit code"), _("Unit")]
            + [_("Score"), _("Maximum"), _("Rank in field")] * len(codes)
        )
    )
    ranks = results.field_ranks_of(group)
    for unit in group["units"]:
        by_code = {f["code"]: f for f in unit["fields"]}
        row: list[Any] = [unit["rank"], unit["code"], unit["name"]]
        for code in codes:
            entry = by_code.get(code)
            if entry is None:
                row += [None, None, None]
            else:
                row += [
                    w.points(entry["score"]),
                    w.points(entry["max"]),
                    ranks[unit["code"]].get(code),
                ]
        sheet.append(row)


def write_detail(
    workbook: Workbook, source: Source, rows: Iterable[dict[str, Any]], used: set[str]
) -> None:
    """One row per unit × leaf: self score, both appraisal rounds and the final score."""
    sheet, w = new_sheet(
        workbook,
        source,
        used,
        name=_("Detail"),
        heading=_("Scores per item"),
        widths=[10, 11, 34, 9, 60, 9, 10, 11, 11, 10, 12, 12],
        frozen_columns=4,
        note=_("Appraisal scores of units that are not appraised yet are not shown.")
        if source.appraisal_hidden
        else None,
    )
    sheet.append(
        w.header(
            [
                capfirst(_("Unit group")),
                _("Unit code"),
                _("Unit"),
                _("Code"),
                _("Criterion"),
                _("Maximum points"),
                _("Self score"),
                _("Appraisal round 1"),
                _("Appraisal round 2"),
                _("Final score"),
                _("Not applicable (unit)"),
                _("Not applicable (final)"),
            ]
        )
    )
    for row in rows:
        visible = not source.appraisal_hidden or row["assessment__state"] in COUNCIL_REVIEW
        scores = results.item_scores(row)
        survey = scores.survey
        final = scores.final if visible or survey else None
        appraisal1 = scores.appraisal1 if visible else None
        appraisal2 = scores.appraisal2 if visible else None
        sheet.append(
            [
                row["assessment__criteria_set__group__code"],
                row["assessment__unit__code"],
                row["assessment__unit__name"],
                row["criterion__code"],
                row["criterion__title"],
                w.points(row["criterion__max_points"]),
                w.points(scores.unit_score),
                w.points(appraisal1.points if appraisal1 else None),
                w.points(appraisal2.points if appraisal2 else None),
                w.points(final.points if final else None),
                FLAG if scores.self_na else None,
                FLAG if final is not None and final.not_applicable else None,
            ]
        )


def local(moment: datetime.datetime | None) -> datetime.datetime | None:
    """Excel has no time zones: the local time (Asia/Ho_Chi_Minh), naive."""
    if moment is None:
        return None
    return timezone.localtime(moment).replace(tzinfo=None)


def write_explanations(
    workbook: Workbook, source: Source, rows: list[dict[str, Any]], used: set[str]
) -> None:
    sheet, w = new_sheet(
        workbook,
        source,
        used,
        name=_("Explanations"),
        heading=_("Explanations"),
        widths=[11, 34, 9, 60, 60, 16, 16],
        frozen_columns=3,
    )
    sheet.append(
        w.header(
            [
                _("Unit code"),
                _("Unit"),
                _("Item"),
                capfirst(_("question")),
                capfirst(_("answer")),
                _("Asked at"),
                _("Answered at"),
            ]
        )
    )
    for row in rows:
        if source.appraisal_hidden and row["item__assessment__state"] not in COUNCIL_REVIEW:
            continue
        sheet.append(
            [
                row["item__assessment__unit__code"],
                row["item__assessment__unit__name"],
                row["item__criterion__code"],
                w.cell(row["question"], alignment=WRAP),
                w.cell(row["answer"] or None, alignment=WRAP),
                w.cell(local(row["asked_at"]), number_format=DATE_FORMAT),
                w.cell(local(row["answered_at"]), number_format=DATE_FORMAT),
            ]
        )


def build(source: Source) -> bytes:
    """The .xlsx file: ranking and field sheets per group, then (staff only) the detail
    matrix and the explanations."""
    workbook = Workbook(write_only=True)
    workbook.properties.title = _("PAR index %(year)s") % {"year": source.year}
    workbook.properties.subject = source.status
    used: set[str] = set()
    groups = source.data.get("groups") or [{"code": str(source.year), "name": "", "units": []}]
    for group in groups:
        write_ranking(workbook, source, group, used)
    for group in groups:
        write_fields(workbook, source, group, used)
    if source.detail is not None:
        write_detail(workbook, source, source.detail, used)
    if source.explanations is not None:
        write_explanations(workbook, source, source.explanations, used)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
