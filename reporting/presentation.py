"""Results as people read them, shared by the pages, the PDFs and the command line: numbers in
the active language, open-data text, year-over-year changes. Builders import this module,
never a view module (tests/test_architecture.py)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from assessments import results, scoring

from .models import ResultSnapshot

BANDS = (scoring.BAND_GOOD, scoring.BAND_FAIR, scoring.BAND_AVERAGE, scoring.BAND_WEAK)
VERSION_PARAMETER = "phien-ban"


# --------------------------------------------------------------------------------------------
# Open data serialisation (shared with `export_results`, so the page and the command agree)
# --------------------------------------------------------------------------------------------


def json_text(data: dict[str, Any]) -> str:
    """The §10 JSON as text: keys in the order of ``results.as_json``, Vietnamese as written."""
    # PostgreSQL's jsonb does not keep key order: rebuild the §10 order before writing.
    return json.dumps(results.ordered(data), ensure_ascii=False, indent=2) + "\n"


def csv_text(data: dict[str, Any]) -> str:
    """The CSV open data, with a byte order mark so Excel reads the Vietnamese correctly."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    csv.writer(buffer).writerows(results.as_rows(data))
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# Numbers as people read them
# --------------------------------------------------------------------------------------------


def two_places(value: str | Decimal) -> str:
    """An index with two decimals in the active language ("91,25")."""
    return str(number_format(Decimal(value), decimal_pos=2, use_l10n=True))


def signed(value: Decimal) -> str:
    """A change of index: "+2,35", "-1,20", "0,00"."""
    if value > 0:
        return "+" + two_places(value)
    if value < 0:
        return "-" + two_places(-value)
    return two_places(value)


def previous_published(year: int) -> ResultSnapshot | None:
    """The current version of the latest round published before ``year`` (year-over-year)."""
    return (
        ResultSnapshot.objects.filter(round__year__lt=year, published_at__isnull=False)
        .select_related("round")
        .order_by("-round__year", "-version")
        .first()
    )


def units_by_code(data: dict[str, Any] | None) -> dict[str, tuple[str, dict[str, Any]]]:
    """unit code -> (group code, unit entry) of a snapshot's data."""
    if not data:
        return {}
    return {
        unit["code"]: (group["code"], unit) for group in data["groups"] for unit in group["units"]
    }


def version_query(shown: ResultSnapshot, current: ResultSnapshot) -> str:
    return "" if shown.pk == current.pk else f"?{VERSION_PARAMETER}={shown.version}"


@dataclass
class Change:
    """A unit's change against the previous published round."""

    index: str  # "+2,35", or "" for a unit new to the ranking
    rank_symbol: str  # "↑3", "↓1", "=", "—"
    rank_words: str  # the same for screen readers


def last_year_of(
    entry: dict[str, Any], group_code: str, previous: ResultSnapshot | None
) -> dict[str, Any] | None:
    """A unit's result in the previous published round, with the change since (or None)."""
    if previous is None:
        return None
    before = units_by_code(previous.data).get(entry["code"])
    if before is None:
        return None
    return {
        "year": previous.round.year,
        "index": two_places(before[1]["index"]),
        "rank": before[1]["rank"],
        "band": before[1]["band"],
        "change": change(entry, group_code, {entry["code"]: before}),
    }


def change(
    unit: dict[str, Any], group_code: str, previous: dict[str, tuple[str, dict[str, Any]]]
) -> Change:
    before = previous.get(unit["code"])
    if before is None:
        return Change("", "—", _("new in the ranking"))
    before_group, before_unit = before
    index = signed(Decimal(unit["index"]) - Decimal(before_unit["index"]))
    if before_group != group_code:
        # A unit that moved to another group was ranked among other units: no rank change.
        return Change(index, "—", _("ranked in another group last time"))
    places = int(before_unit["rank"]) - int(unit["rank"])
    if places > 0:
        return Change(index, f"↑{places}", _("up %(n)s place(s)") % {"n": places})
    if places < 0:
        return Change(index, f"↓{-places}", _("down %(n)s place(s)") % {"n": -places})
    return Change(index, "=", _("same rank"))
