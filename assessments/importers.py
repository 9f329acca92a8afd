"""Reading and validating the criteria and unit workbooks (DESIGN §10).

Pure where possible: ``read_table`` turns an uploaded ``.xlsx`` or ``.csv`` into rows of text,
the ``validate_*`` functions turn rows into clean records or a list of every problem (sheet,
row, column, reason). Nothing here writes to the database; services do that.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from . import scoring

MAX_ROWS = 5000


@dataclass(frozen=True)
class Problem:
    """One bad cell or row: where it is and what is wrong, in the user's language."""

    sheet: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return _("Sheet “%(sheet)s”, row %(row)s, column “%(column)s”: %(message)s") % {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column or "—",
            "message": self.message,
        }


class ImportFailed(Exception):
    """The file cannot be imported; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = list(problems)


@dataclass
class Table:
    sheet: str
    # Column key -> the header as written in the file (for messages).
    headers: dict[str, str]
    # (row number in the file, {column key: cell text}).
    rows: list[tuple[int, dict[str, str]]]


def normalize_header(text: str) -> str:
    text = unicodedata.normalize("NFC", text).strip().lower()
    return re.sub(r"\s+", " ", text.rstrip("*").strip())


def cell_text(value: Any) -> str:
    """A cell as text: numeric and text cells alike (``0.5``, ``"0,5"``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "x" if value else ""
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.strftime("%d/%m/%Y")
    return unicodedata.normalize("NFC", str(value)).strip()


def csv_delimiter(text: str) -> str:
    """Comma, or semicolon: Excel on a Vietnamese Windows (decimal comma) saves CSV with ";"."""
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def read_table(upload: IO[bytes] | Path, filename: str, columns: dict[str, Sequence[str]]) -> Table:
    """Read the first sheet of an ``.xlsx`` or a ``.csv`` file into rows of text.

    ``columns`` maps each column key to the header texts accepted for it (the English key
    and the Vietnamese label). Raises :class:`ImportFailed` when the file cannot be read or
    a required header is missing.
    """
    lower = filename.lower()
    data = upload.read_bytes() if isinstance(upload, Path) else upload.read()
    if lower.endswith(".csv"):
        sheet = Path(filename).name
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ImportFailed(
                [
                    Problem(
                        sheet,
                        1,
                        "",
                        _("The CSV file is not UTF-8 text. Save it as “CSV UTF-8” and try again."),
                    )
                ]
            ) from None
        raw_rows: list[list[Any]] = list(
            csv.reader(io.StringIO(text), delimiter=csv_delimiter(text))
        )
    elif lower.endswith(".xlsx"):
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (InvalidFileException, OSError, KeyError, ValueError, Exception):
            # openpyxl raises many kinds of errors for a damaged or disguised file.
            raise ImportFailed(
                [
                    Problem(
                        Path(filename).name,
                        1,
                        "",
                        _("The file is not a readable Excel workbook (.xlsx)."),
                    )
                ]
            ) from None
        worksheet = workbook.worksheets[0]
        sheet = worksheet.title
        raw_rows = [list(row) for row in worksheet.iter_rows(values_only=True)]
        workbook.close()
    else:
        raise ImportFailed(
            [Problem(Path(filename).name, 1, "", _("Only .xlsx and .csv files can be imported."))]
        )

    if not raw_rows:
        raise ImportFailed([Problem(sheet, 1, "", _("The file is empty."))])
    accepted = {normalize_header(label): key for key, labels in columns.items() for label in labels}
    headers: dict[str, str] = {}
    positions: dict[str, int] = {}
    for index, header in enumerate(raw_rows[0]):
        text = cell_text(header)
        key = accepted.get(normalize_header(text))
        if key and key not in positions:
            positions[key] = index
            headers[key] = text
    rows: list[tuple[int, dict[str, str]]] = []
    for number, raw in enumerate(raw_rows[1:], start=2):
        values = {
            key: cell_text(raw[pos]) if pos < len(raw) else "" for key, pos in positions.items()
        }
        if any(values.values()):
            rows.append((number, values))
    if len(rows) > MAX_ROWS:
        raise ImportFailed(
            [Problem(sheet, 1, "", _("The file has more than %(max)s rows.") % {"max": MAX_ROWS})]
        )
    return Table(sheet=sheet, headers=headers, rows=rows)


def require_columns(
    table: Table, required: Iterable[str], labels: dict[str, Sequence[str]]
) -> None:
    missing = [key for key in required if key not in table.headers]
    if missing:
        raise ImportFailed(
            [
                Problem(
                    table.sheet,
                    1,
                    labels[key][-1],
                    _("The header row has no column “%(key)s” (or “%(label)s”).")
                    % {"key": key, "label": labels[key][-1]},
                )
                for key in missing
            ]
        )


def parse_flag(text: str) -> bool | None:
    """``x`` (any case) is yes, empty is no, anything else is ``None`` (invalid)."""
    if text == "":
        return False
    if text.lower() == "x":
        return True
    return None


# ---------------------------------------------------------------------------------------------
# Criteria workbook

CRITERIA_COLUMNS: dict[str, Sequence[str]] = {
    # key: (English key, Vietnamese label written by the export)
    "code": ("code", "Mã"),
    "title": ("title", "Tên tiêu chí"),
    "max_points": ("max_points", "Điểm tối đa"),
    "method": ("method", "Phương pháp chấm"),
    "params": ("params", "Tham số"),
    "allows_na": ("allows_na", "Cho phép không đánh giá"),
    "evidence_required": ("evidence_required", "Bắt buộc tài liệu kiểm chứng"),
    "evidence_hint": ("evidence_hint", "Tài liệu kiểm chứng"),
    "english": ("english", "Tên tiếng Anh"),
    "guidance": ("guidance", "Hướng dẫn chấm"),
}
CRITERIA_REQUIRED = ("code", "title", "max_points", "method")
# The model's field lengths: a longer cell is reported, not cut or crashed on (PostgreSQL).
CRITERIA_LIMITS = {"code": 30, "title": 500, "params": 500, "english": 500}


def too_long(limit: int) -> str:
    return _("The text is longer than %(limit)s characters; shorten it.") % {"limit": limit}


CODE_RE = re.compile(r"^[A-Z0-9]+(\.[0-9]+)*$")


@dataclass
class CriterionRow:
    """A validated criteria row, ready for the database."""

    code: str
    title: str
    max_points: Decimal
    method: str
    params: str
    allows_na: bool
    evidence_required: bool
    evidence_hint: str
    english_title: str
    guidance: str
    parent_code: str | None
    position: int

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["max_points"] = str(self.max_points)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CriterionRow:
        return cls(**{**data, "max_points": Decimal(data["max_points"])})


def parse_points(text: str) -> Decimal:
    value = scoring.parse_number(text)
    if value < 0 or value != value.quantize(Decimal("0.01")) or value > 1000:
        raise ValueError(text)
    return value.quantize(Decimal("0.01"))


def validate_criteria(table: Table) -> list[CriterionRow]:
    """Check every row of a criteria table; return clean rows or raise with every problem."""
    require_columns(table, CRITERIA_REQUIRED, CRITERIA_COLUMNS)
    problems: list[Problem] = []
    sheet = table.sheet

    def label(key: str) -> str:
        return table.headers.get(key) or CRITERIA_COLUMNS[key][-1]

    def bad(row: int, key: str, message: str) -> None:
        problems.append(Problem(sheet, row, label(key), message))

    records: list[CriterionRow] = []
    row_of: dict[str, int] = {}
    for position, (number, cells) in enumerate(table.rows, start=1):
        ok = True
        code = cells.get("code", "").upper()
        if not code:
            bad(number, "code", _("The code is empty. Give an outline code such as “1.2.3”."))
            ok = False
        elif not CODE_RE.match(code):
            bad(
                number,
                "code",
                _(
                    "“%(code)s” is not an outline code. Use numbers separated by dots (“1.2.3”), or B / P for the bonus and penalty blocks."
                )
                % {"code": code},
            )
            ok = False
        elif code in row_of:
            bad(
                number,
                "code",
                _("The code “%(code)s” is already used on row %(row)s. Each code must appear once.")
                % {"code": code, "row": row_of[code]},
            )
            ok = False
        else:
            row_of[code] = number

        title = cells.get("title", "")
        if not title:
            bad(number, "title", _("The title is empty."))
            ok = False
        for key, limit in CRITERIA_LIMITS.items():
            if len(cells.get(key, "")) > limit:
                bad(number, key, too_long(limit))
                ok = False

        max_points = Decimal("0")
        try:
            max_points = parse_points(cells.get("max_points", ""))
        except (ValueError, ArithmeticError):
            bad(
                number,
                "max_points",
                _(
                    "“%(value)s” is not a number of points. Use a number from 0 to 1000 with at most two decimals, e.g. “1,5”."
                )
                % {"value": cells.get("max_points", "")},
            )
            ok = False

        method = cells.get("method", "").strip().lower()
        if method not in scoring.BRANCH_METHODS | scoring.LEAF_METHODS:
            bad(
                number,
                "method",
                _("Unknown method “%(method)s”. Use one of: %(methods)s.")
                % {
                    "method": cells.get("method", ""),
                    "methods": ", ".join(sorted(scoring.BRANCH_METHODS | scoring.LEAF_METHODS)),
                },
            )
            ok = False

        params_text = ""
        if ok:
            try:
                params = scoring.parse_params(method, cells.get("params", ""), max_points)
                params_text = scoring.format_params(method, params)
            except scoring.ParamsError as error:
                bad(number, "params", error.message)
                ok = False

        flags: dict[str, bool] = {}
        for key in ("allows_na", "evidence_required"):
            flag = parse_flag(cells.get(key, ""))
            if flag is None:
                bad(
                    number,
                    key,
                    _("Write “x” for yes or leave the cell empty; “%(value)s” is neither.")
                    % {"value": cells.get(key, "")},
                )
                ok = False
            elif flag and method in scoring.BRANCH_METHODS:
                bad(
                    number,
                    key,
                    _("Only a scored item can carry this mark, not a group or a block."),
                )
                ok = False
            flags[key] = bool(flag)

        if ok:
            parent_code = code.rsplit(".", 1)[0] if "." in code else None
            records.append(
                CriterionRow(
                    code=code,
                    title=title,
                    max_points=max_points,
                    method=method,
                    params=params_text,
                    allows_na=flags["allows_na"],
                    evidence_required=flags["evidence_required"],
                    evidence_hint=cells.get("evidence_hint", ""),
                    english_title=cells.get("english", ""),
                    guidance=cells.get("guidance", ""),
                    parent_code=parent_code,
                    position=position,
                )
            )

    # Tree checks need the whole file: parents, blocks, sums.
    by_code = {record.code: record for record in records}
    children: dict[str, list[CriterionRow]] = {}
    for record in records:
        if record.parent_code is None:
            if record.method not in scoring.BRANCH_METHODS:
                bad(
                    row_of[record.code],
                    "method",
                    _(
                        "A top-level row must be a field (group) or the bonus or penalty block, not a scored item."
                    ),
                )
            continue
        parent = by_code.get(record.parent_code)
        if parent is None:
            if record.parent_code in row_of:
                continue  # the parent row is itself bad and already reported
            bad(
                row_of[record.code],
                "code",
                _(
                    "The parent “%(parent)s” of “%(code)s” is not in the file. Add it above this row."
                )
                % {"parent": record.parent_code, "code": record.code},
            )
        elif row_of[parent.code] > row_of[record.code]:
            bad(
                row_of[record.code],
                "code",
                _("The parent “%(parent)s” must come above “%(code)s” (it is on row %(row)s).")
                % {"parent": parent.code, "code": record.code, "row": row_of[parent.code]},
            )
        elif parent.method not in scoring.BRANCH_METHODS:
            bad(
                row_of[record.code],
                "code",
                _(
                    "“%(parent)s” is a scored item (%(method)s), so it cannot have the sub-item “%(code)s”. Make it a group or change the code."
                )
                % {"parent": parent.code, "method": parent.method, "code": record.code},
            )
        elif record.method in (scoring.BONUS, scoring.PENALTY):
            pass  # reported below
        else:
            children.setdefault(parent.code, []).append(record)
        if record.method in (scoring.BONUS, scoring.PENALTY):
            bad(
                row_of[record.code],
                "method",
                _("The bonus and penalty blocks must be top-level rows (“B”, “P”)."),
            )

    for method in (scoring.BONUS, scoring.PENALTY):
        blocks = [r for r in records if r.method == method]
        for extra in blocks[1:]:
            bad(
                row_of[extra.code],
                "method",
                _("A criteria set has at most one %(method)s block; the first is “%(code)s”.")
                % {"method": method, "code": blocks[0].code},
            )

    for record in records:
        if record.method not in scoring.BRANCH_METHODS:
            continue
        kids = children.get(record.code, [])
        if not kids:
            bad(
                row_of[record.code],
                "code",
                _("The group “%(code)s” has no items under it.") % {"code": record.code},
            )
        elif record.method == scoring.GROUP:
            total = sum((kid.max_points for kid in kids), Decimal("0"))
            if total != record.max_points:
                bad(
                    row_of[record.code],
                    "max_points",
                    _(
                        "The items under “%(code)s” add up to %(sum)s points, but the group's maximum is %(max)s. Make them equal."
                    )
                    % {
                        "code": record.code,
                        "sum": scoring.format_points(total),
                        "max": scoring.format_points(record.max_points),
                    },
                )

    if not table.rows:
        problems.append(Problem(sheet, 2, "", _("The file has no criteria rows.")))
    if problems:
        problems.sort(key=lambda p: (p.row, p.column))
        raise ImportFailed(problems)
    return records


def criteria_rows(criteria: Iterable[Any]) -> list[CriterionRow]:
    """Rows for the export, from ``Criterion`` objects in tree order."""
    return [
        CriterionRow(
            code=c.code,
            title=c.title,
            max_points=c.max_points,
            method=c.method,
            params=c.params,
            allows_na=c.allows_na,
            evidence_required=c.evidence_required,
            evidence_hint=c.evidence_hint,
            english_title=c.english_title,
            guidance=c.guidance,
            parent_code=c.code.rsplit(".", 1)[0] if "." in c.code else None,
            position=position,
        )
        for position, c in enumerate(criteria, start=1)
    ]


# ---------------------------------------------------------------------------------------------
# Units file

UNIT_COLUMNS: dict[str, Sequence[str]] = {
    "code": ("code", "Mã đơn vị"),
    "name": ("name", "Tên đơn vị"),
    "group": ("group", "Nhóm"),
    "has_admin_procedures": ("has_admin_procedures", "Có giải quyết TTHC"),
}
UNIT_CODE_RE = re.compile(r"^[A-Z0-9_]{1,20}$")


@dataclass
class UnitRow:
    code: str
    name: str
    group: str
    has_admin_procedures: bool
    row: int = field(default=0, compare=False)


def validate_units(table: Table) -> list[UnitRow]:
    # The flag column is required: a file without it would silently clear every unit's flag.
    require_columns(table, ("code", "name", "group", "has_admin_procedures"), UNIT_COLUMNS)
    problems: list[Problem] = []
    records: list[UnitRow] = []
    seen: dict[str, int] = {}

    def label(key: str) -> str:
        return table.headers.get(key) or UNIT_COLUMNS[key][-1]

    for number, cells in table.rows:
        ok = True
        code = cells.get("code", "").upper()
        if not UNIT_CODE_RE.match(code):
            problems.append(
                Problem(
                    table.sheet,
                    number,
                    label("code"),
                    _(
                        "“%(code)s” is not a unit code: use 1–20 letters without diacritics, digits or “_”."
                    )
                    % {"code": cells.get("code", "")},
                )
            )
            ok = False
        elif code in seen:
            problems.append(
                Problem(
                    table.sheet,
                    number,
                    label("code"),
                    _(
                        "The code “%(code)s” is already used on row %(row)s. Each code must appear once."
                    )
                    % {"code": code, "row": seen[code]},
                )
            )
            ok = False
        else:
            seen[code] = number
        name = cells.get("name", "")
        if not name:
            problems.append(Problem(table.sheet, number, label("name"), _("The name is empty.")))
            ok = False
        elif len(name) > 200:
            problems.append(Problem(table.sheet, number, label("name"), too_long(200)))
            ok = False
        group = cells.get("group", "").upper()
        if not UNIT_CODE_RE.match(group):
            problems.append(
                Problem(
                    table.sheet,
                    number,
                    label("group"),
                    _(
                        "“%(code)s” is not a group code: use 1–20 letters without diacritics, digits or “_”."
                    )
                    % {"code": cells.get("group", "")},
                )
            )
            ok = False
        flag = parse_flag(cells.get("has_admin_procedures", ""))
        if flag is None:
            problems.append(
                Problem(
                    table.sheet,
                    number,
                    label("has_admin_procedures"),
                    _("Write “x” for yes or leave the cell empty; “%(value)s” is neither.")
                    % {"value": cells.get("has_admin_procedures", "")},
                )
            )
            ok = False
        if ok:
            records.append(UnitRow(code, name, group, bool(flag), number))
    if not table.rows:
        problems.append(Problem(table.sheet, 2, "", _("The file has no unit rows.")))
    if problems:
        raise ImportFailed(problems)
    return records
