"""`export_results --round YEAR [--provisional] --format json|csv|xlsx [-o FILE]` (DESIGN §10).

Final results are the latest frozen snapshot (what the council approved, with its corrections),
never a fresh computation; provisional results are computed now, self scores standing in where
there is no appraisal (§4.4).
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from assessments import results
from assessments.models import Round
from reporting.models import ResultSnapshot
from reporting.presentation import csv_text, json_text

FORMATS = ("json", "csv", "xlsx")
# The workbook's headers, in Vietnamese like the other exports (§11); fields follow.
XLSX_HEADER = [
    ("Xếp hạng", 10),
    ("Mã đơn vị", 12),
    ("Tên đơn vị", 42),
    ("Chỉ số (%)", 11),
    ("Xếp loại", 12),
    ("Tổng điểm", 11),
    ("Điểm tối đa áp dụng", 14),
    ("Điểm thưởng", 11),
    ("Điểm trừ", 11),
]
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
# Characters Excel refuses in a sheet title.
SHEET_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", "-"))


def results_workbook(data: dict[str, Any]) -> bytes:
    """One sheet per unit group: the ranking with totals and field scores, numbers with two
    decimals (real numbers, so Excel can sort and sum them)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.title = f"Chỉ số CCHC {data['round']}" + (
        " (tạm tính)" if data.get("provisional") else ""
    )
    bold = Font(bold=True)
    for group in data["groups"] or [{"code": str(data["round"]), "units": []}]:
        sheet = workbook.create_sheet(group["code"].translate(SHEET_FORBIDDEN)[:31])
        field_codes = [f["code"] for f in results.first_fields({"groups": [group]})]
        header = [label for label, _width in XLSX_HEADER] + [
            f"Lĩnh vực {code}" for code in field_codes
        ]
        sheet.append(header)
        for unit in group["units"]:
            scores = {f["code"]: Decimal(f["score"]) for f in unit["fields"]}
            sheet.append(
                [
                    unit["rank"],
                    unit["code"],
                    unit["name"],
                    Decimal(unit["index"]),
                    unit["band"],
                    Decimal(unit["total"]),
                    Decimal(unit["applicable_max"]),
                    Decimal(unit["bonus"]),
                    Decimal(unit["penalty"]),
                    *[scores.get(code) for code in field_codes],
                ]
            )
        for column, title in enumerate(header, start=1):
            cell = sheet.cell(row=1, column=column)
            cell.font = bold
            cell.fill = HEADER_FILL
            width = XLSX_HEADER[column - 1][1] if column <= len(XLSX_HEADER) else 12
            sheet.column_dimensions[get_column_letter(column)].width = max(width, len(title) + 2)
        for row in sheet.iter_rows(min_row=2, min_col=4, max_col=len(header)):
            for cell in row:
                if isinstance(cell.value, Decimal):
                    cell.number_format = "0.00"
        sheet.freeze_panes = "D2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class Command(BaseCommand):
    help = "Export a round's results (final or provisional) as JSON, CSV or an .xlsx workbook."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--round", type=int, required=True, dest="year")
        parser.add_argument("--provisional", action="store_true")
        parser.add_argument("--format", choices=FORMATS, required=True, dest="format")
        parser.add_argument("-o", "--output")

    def handle(self, *args: Any, **options: Any) -> None:
        year, output, kind = options["year"], options["output"], options["format"]
        round_ = Round.objects.filter(year=year).first()
        if round_ is None:
            raise CommandError(_("There is no round %(year)s.") % {"year": year})
        if kind == "xlsx" and not output:
            raise CommandError(_("An .xlsx export needs an output file: add -o FILE.xlsx."))
        if options["provisional"]:
            data = results.as_json(results.compute(round_, provisional=True))
        else:
            snapshot = ResultSnapshot.objects.filter(round=round_).order_by("-version").first()
            if snapshot is None:
                raise CommandError(
                    _(
                        "Round %(year)s has not been approved: its final results do not exist yet. Use --provisional for provisional results."
                    )
                    % {"year": year}
                )
            data = snapshot.data
        if kind == "xlsx":
            Path(output).write_bytes(results_workbook(data))
        else:
            text = json_text(data) if kind == "json" else csv_text(data)
            if output:
                # newline="" keeps the CSV's own line endings (\r\n) as the csv module wrote them.
                with Path(output).open("w", encoding="utf-8", newline="") as file:
                    file.write(text)
            else:
                self.stdout.write(text, ending="")
        if output:
            self.stderr.write(
                _("Wrote the results of %(year)s to %(path)s.") % {"year": year, "path": output}
            )
