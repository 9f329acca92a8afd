"""Public pages (DESIGN §9, §10 `/cong-khai/`): published rankings and open data, no login.

Everything here reads the published ``ResultSnapshot.data`` (the §10 JSON), never the units'
scores, appraisals or evidence: the public sees exactly what was approved and published, and
each page costs a fixed number of queries whatever the number of units.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from assessments import results, scoring
from councils.models import Decision

from . import charts
from .access import published_or_404
from .models import ResultSnapshot
from .presentation import (
    BANDS,
    Change,
    change,
    csv_text,
    json_text,
    last_year_of,
    previous_published,
    two_places,
    units_by_code,
    version_query,
)

# --------------------------------------------------------------------------------------------
# Page rows
# --------------------------------------------------------------------------------------------


@dataclass
class RankingRow:
    rank: int
    code: str
    name: str
    index: str
    band: str
    colour: str
    change: Change | None


@dataclass
class BandCount:
    band: str
    count: int
    colour: str


@dataclass
class GroupBlock:
    code: str
    name: str
    rows: list[RankingRow]
    bands: list[BandCount]
    chart: SafeString


def group_block(
    group: dict[str, Any], previous: dict[str, tuple[str, dict[str, Any]]] | None
) -> GroupBlock:
    units = group["units"]
    rows = [
        RankingRow(
            rank=unit["rank"],
            code=unit["code"],
            name=unit["name"],
            index=two_places(unit["index"]),
            band=unit["band"],
            colour=charts.band_colour(unit["band"]),
            change=change(unit, group["code"], previous) if previous is not None else None,
        )
        for unit in units
    ]
    counts = Counter(unit["band"] for unit in units)
    bands = [BandCount(band, counts.get(band, 0), charts.band_colour(band)) for band in BANDS]
    chart = charts.bar_chart(
        [
            charts.Bar(r.name, Decimal(u["index"]), r.index, r.band)
            for r, u in zip(rows, units, strict=True)
        ],
        chart_id=f"chart-{group['code']}",
        title=_("Index of the units: %(group)s") % {"group": group["name"]},
        description=_("Horizontal bars from the highest index to the lowest: %(list)s.")
        % {"list": "; ".join(f"{r.rank}. {r.name} {r.index} ({r.band})" for r in rows)},
        ticks=[(Decimal(v), str(v)) for v in (0, 25, 50, 75, 100)],
    )
    return GroupBlock(group["code"], group["name"], rows, bands, chart)


# --------------------------------------------------------------------------------------------
# Views
# --------------------------------------------------------------------------------------------


@require_GET
def public_index(request: HttpRequest) -> HttpResponse:
    """Every published round, newest first (one query: the published snapshots)."""
    rounds: list[dict[str, Any]] = []
    seen: set[int] = set()
    for snapshot in (
        ResultSnapshot.objects.filter(published_at__isnull=False)
        .select_related("round")
        .order_by("-round__year", "-version")
    ):
        if snapshot.round_id in seen:
            continue
        seen.add(snapshot.round_id)
        groups = snapshot.data.get("groups", [])
        rounds.append(
            {
                "year": snapshot.round.year,
                "units": sum(len(g["units"]) for g in groups),
                "groups": len(groups),
                "version": snapshot.version,
                "published_at": snapshot.published_at,
            }
        )
    return render(request, "reporting/public/index.html", {"rounds": rounds})


@require_GET
def public_round(request: HttpRequest, year: int) -> HttpResponse:
    """The rankings of a published round, per group, with bands, chart and yearly change."""
    shown, current = published_or_404(request, year)
    previous = previous_published(year)
    previous_units = units_by_code(previous.data) if previous is not None else None
    versions = list(
        ResultSnapshot.objects.filter(round_id=current.round_id, published_at__isnull=False)
        .order_by("version")
        .values("version", "published_at", "reason")
    )
    context = {
        "year": year,
        "snapshot": shown,
        "current": current,
        "is_current": shown.pk == current.pk,
        "versions": versions,
        "decision": Decision.objects.filter(round_id=current.round_id).first(),
        "previous_year": previous.round.year if previous is not None else None,
        "groups": [group_block(g, previous_units) for g in shown.data["groups"]],
        "query": version_query(shown, current),
    }
    return render(request, "reporting/public/round.html", context)


@require_GET
def public_unit(request: HttpRequest, year: int, unit: str) -> HttpResponse:
    """One unit of a published round: index, rank, band, totals and its field scores."""
    shown, current = published_or_404(request, year)
    units = units_by_code(shown.data)
    found = units.get(unit) or units.get(unit.upper())
    if found is None:
        raise Http404(_("This unit is not in the published results of this round."))
    group_code, entry = found
    group = next(g for g in shown.data["groups"] if g["code"] == group_code)
    titles = results.field_titles(shown.round_id).get(group_code, {})
    fields = []
    for item in entry["fields"]:
        score, maximum = Decimal(item["score"]), Decimal(item["max"])
        words = _("%(score)s of %(max)s points") % {
            "score": scoring.format_points(score),
            "max": scoring.format_points(maximum),
        }
        fields.append(
            {
                "code": item["code"],
                "title": titles.get(item["code"], ""),
                "score": score,
                "max": maximum,
                "meter": charts.meter(score, maximum, label=words),
            }
        )
    last_year = last_year_of(entry, group_code, previous_published(year))
    context = {
        "year": year,
        "snapshot": shown,
        "is_current": shown.pk == current.pk,
        "current": current,
        "group": group,
        "group_size": len(group["units"]),
        "unit": entry,
        "index": two_places(entry["index"]),
        "colour": charts.band_colour(entry["band"]),
        "fields": fields,
        "last_year": last_year,
        "query": version_query(shown, current),
    }
    return render(request, "reporting/public/unit.html", context)


def open_data_headers(response: HttpResponse) -> HttpResponse:
    # Open data: any site may read it from a browser.
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def public_json(request: HttpRequest, year: int) -> HttpResponse:
    """The §10 JSON of the published version, exactly as frozen."""
    shown, _current = published_or_404(request, year)
    return open_data_headers(
        HttpResponse(json_text(shown.data), content_type="application/json; charset=utf-8")
    )


@require_GET
def public_csv(request: HttpRequest, year: int) -> HttpResponse:
    """The CSV open data of the published version (one row per unit)."""
    shown, current = published_or_404(request, year)
    name = f"chi-so-cchc-{year}" + ("" if shown.pk == current.pk else f"-v{shown.version}")
    response = HttpResponse(csv_text(shown.data), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return open_data_headers(response)
