"""PDF reports (DESIGN §9): the province report, the council decision annex, a unit's
self-assessment report and a unit's scorecard, and all units' PDFs in one zip.

The numbers come from the same place as the pages: the §10 JSON of the latest snapshot after
approval (the latest *published* snapshot for the public), ``results.compute(provisional=True)``
before approval, marked "provisional" on every page. Builders here take plain data and return
context dicts or bytes; access checks live in ``pdf_views``.

``weasyprint`` is imported only inside :func:`write_pdf`, so the portal runs (and every other
page works) on a machine where pango is missing.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from assessments import results, scoring
from assessments.models import Round, UnitAssessment, UnitMembership, UnitRole
from assessments.workspace import load_workspace
from councils.models import Decision

from . import charts
from .models import ResultSnapshot
from .presentation import (
    BANDS,
    Change,
    change,
    last_year_of,
    previous_published,
    two_places,
    units_by_code,
)

FONT_FAMILY = "DejaVuSansPDF"  # the embedded subset is named after it
CHART_MAX_WIDTH_MM = 170
CHART_MAX_HEIGHT_MM = 230
FONT_FILES = {"regular": "fonts/DejaVuSans.ttf", "bold": "fonts/DejaVuSans-Bold.ttf"}
ZERO = Decimal("0")


# --------------------------------------------------------------------------------------------
# Where the numbers come from
# --------------------------------------------------------------------------------------------


@dataclass
class Source:
    """One round's results as a report prints them: the §10 JSON and where it came from."""

    round: Round
    data: dict[str, Any]
    provisional: bool
    public: bool
    snapshot: ResultSnapshot | None
    decision: Decision | None

    @property
    def year(self) -> int:
        return self.round.year


def staff_source(round_: Round) -> Source:
    """The latest snapshot once approved; before that, provisional results (§4.4)."""
    snapshot = ResultSnapshot.objects.filter(round=round_).order_by("-version").first()
    decision = Decision.objects.filter(round=round_).first()
    if snapshot is not None:
        return Source(round_, snapshot.data, False, False, snapshot, decision)
    data = results.as_json(results.compute(round_, provisional=True))
    return Source(round_, data, True, False, None, decision)


def public_source(snapshot: ResultSnapshot) -> Source:
    """A published snapshot (``snapshot.round`` is loaded by the caller)."""
    decision = Decision.objects.filter(round_id=snapshot.round_id).first()
    return Source(snapshot.round, snapshot.data, False, True, snapshot, decision)


# --------------------------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------------------------


def font_urls() -> dict[str, str]:
    """file:// URLs of the shipped fonts, found like any static file (STATICFILES_DIRS)."""
    urls = {}
    for key, name in FONT_FILES.items():
        found = finders.find(name)
        if not found:
            raise FileNotFoundError(name)
        urls[key] = Path(str(found)).resolve().as_uri()
    return urls


def pdf_chart(svg: SafeString) -> SafeString:
    """A ``charts`` SVG with the embedded font instead of the screen's system fonts (Arial maps
    to Liberation here, which lacks most Vietnamese letters)."""
    screen = f'font-family="{escape(charts.FONT)}"'
    return mark_safe(  # noqa: S308 -- the SVG was escaped by charts; only an attribute changes
        str(svg).replace(screen, f'font-family="{FONT_FAMILY}"')
    )


def percent(score: Decimal, maximum: Decimal) -> Decimal:
    return score / maximum if maximum > 0 else ZERO


@dataclass
class FieldLine:
    code: str
    title: str
    score: str
    max: str
    rank: int | None
    share: Decimal  # score / max, 0–1
    width: str  # CSS width of the bar, "63.5%"
    applicable: bool  # a field whose every item is N/A has no maximum left


def field_lines(
    entry: dict[str, Any], titles: dict[str, str], ranks: dict[str, int] | None = None
) -> list[FieldLine]:
    lines = []
    for item in entry["fields"]:
        score, maximum = Decimal(item["score"]), Decimal(item["max"])
        share = percent(score, maximum)
        lines.append(
            FieldLine(
                code=item["code"],
                title=titles.get(item["code"], ""),
                score=scoring.format_points(score),
                max=scoring.format_points(maximum),
                rank=(ranks or {}).get(item["code"]),
                share=share,
                width=f"{min(share, Decimal(1)) * 100:.1f}%",
                applicable=maximum > 0,
            )
        )
    return lines


def common_context(source: Source) -> dict[str, Any]:
    return {
        "year": source.year,
        "provisional": source.provisional,
        "public": source.public,
        "snapshot": source.snapshot,
        "decision": source.decision,
        "fonts": font_urls(),
        "font_family": FONT_FAMILY,
    }


# --------------------------------------------------------------------------------------------
# The province report and the decision annex
# --------------------------------------------------------------------------------------------


@dataclass
class RankingLine:
    rank: int
    code: str
    name: str
    index: str
    band: str
    total: str
    applicable_max: str
    fields: list[str]
    change: Change | None


@dataclass
class GroupReport:
    code: str
    name: str
    lines: list[RankingLine]
    bands: list[tuple[str, int]]
    fields: list[tuple[str, str, str]]  # (code, title, max)
    chart: SafeString = field(default_factory=lambda: mark_safe(""))
    chart_width: str = ""  # CSS width that keeps the chart on one page


def group_reports(
    source: Source, titles: dict[str, dict[str, str]], *, with_charts: bool
) -> list[GroupReport]:
    previous = previous_published(source.year)
    previous_units = units_by_code(previous.data) if previous is not None else None
    blocks = []
    for group in source.data["groups"]:
        units = group["units"]
        first = units[0]["fields"] if units else []
        block = GroupReport(
            code=group["code"],
            name=group["name"],
            lines=[
                RankingLine(
                    rank=unit["rank"],
                    code=unit["code"],
                    name=unit["name"],
                    index=two_places(unit["index"]),
                    band=unit["band"],
                    total=scoring.format_points(Decimal(unit["total"])),
                    applicable_max=scoring.format_points(Decimal(unit["applicable_max"])),
                    fields=[scoring.format_points(Decimal(f["score"])) for f in unit["fields"]],
                    change=(
                        change(unit, group["code"], previous_units)
                        if previous_units is not None
                        else None
                    ),
                )
                for unit in units
            ],
            bands=band_counts(units),
            fields=[
                (f["code"], titles.get(group["code"], {}).get(f["code"], ""), f["max"])
                for f in first
            ],
        )
        if with_charts and units:
            block.chart = pdf_chart(
                charts.bar_chart(
                    [
                        charts.Bar(line.name, Decimal(unit["index"]), line.index, line.band)
                        for line, unit in zip(block.lines, units, strict=True)
                    ],
                    chart_id=f"chart-{group['code']}",
                    title=_("Index of the units: %(group)s") % {"group": group["name"]},
                    description="",
                    ticks=[(Decimal(v), str(v)) for v in (0, 25, 50, 75, 100)],
                )
            )
            block.chart_width = chart_width(len(units))
        blocks.append(block)
    return blocks


def chart_width(bars: int) -> str:
    """The chart's printed width: as wide as the page, but never taller than one page."""
    height = charts.TOP + charts.ROW_HEIGHT * bars + charts.AXIS_HEIGHT
    width = min(CHART_MAX_WIDTH_MM, CHART_MAX_HEIGHT_MM * charts.WIDTH / height)
    return f"{width:.0f}mm"


def band_counts(units: list[dict[str, Any]]) -> list[tuple[str, int]]:
    counts = Counter(unit["band"] for unit in units)
    return [(band, counts.get(band, 0)) for band in BANDS]


def province_report_context(source: Source) -> dict[str, Any]:
    groups = group_reports(source, results.field_titles(source.round.pk), with_charts=True)
    previous = previous_published(source.year)
    every_unit = [unit for group in source.data["groups"] for unit in group["units"]]
    return {
        **common_context(source),
        "groups": groups,
        "unit_count": len(every_unit),
        "bands": band_counts(every_unit),
        "previous_year": previous.round.year if previous is not None else None,
    }


def annex_context(source: Source) -> dict[str, Any]:
    return {
        **common_context(source),
        "groups": group_reports(source, {}, with_charts=False),
        "unit_count": sum(len(g["units"]) for g in source.data["groups"]),
    }


# --------------------------------------------------------------------------------------------
# A unit's scorecard
# --------------------------------------------------------------------------------------------


def find_unit(data: dict[str, Any], code: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(group, unit entry) of a unit in the §10 JSON."""
    for group in data["groups"]:
        for unit in group["units"]:
            if unit["code"] == code.upper():
                return group, unit
    return None


def scorecard_context(
    source: Source,
    group: dict[str, Any],
    entry: dict[str, Any],
    titles: dict[str, dict[str, str]],
    previous: ResultSnapshot | None,
) -> dict[str, Any]:
    lines = field_lines(
        entry, titles.get(group["code"], {}), results.field_ranks_of(group).get(entry["code"], {})
    )
    scored = [line for line in lines if line.applicable]
    strongest = max(scored, key=lambda line: line.share, default=None)
    weakest = min(scored, key=lambda line: line.share, default=None)
    last_year = last_year_of(entry, group["code"], previous)
    return {
        **common_context(source),
        "group": group,
        "group_size": len(group["units"]),
        "unit": entry,
        "index": two_places(entry["index"]),
        "total": scoring.format_points(Decimal(entry["total"])),
        "applicable_max": scoring.format_points(Decimal(entry["applicable_max"])),
        "bonus": scoring.format_points(Decimal(entry["bonus"])),
        "penalty": scoring.format_points(Decimal(entry["penalty"])),
        "colour": charts.band_colour(entry["band"]),
        "fields": lines,
        "strongest": strongest,
        "weakest": weakest if weakest is not strongest else None,
        "last_year": last_year,
    }


# --------------------------------------------------------------------------------------------
# A unit's self-assessment report
# --------------------------------------------------------------------------------------------


def leader_name(assessment: UnitAssessment) -> str:
    """Who signs: the leader who submitted, else the unit's leader account, else blank."""
    if assessment.submitted_by is not None:
        return assessment.submitted_by.get_full_name() or assessment.submitted_by.username
    membership = (
        UnitMembership.objects.filter(unit_id=assessment.unit_id, role=UnitRole.LEADER)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    if membership is None:
        return ""
    return membership.user.get_full_name() or membership.user.username


def self_assessment_context(assessment: UnitAssessment, request: HttpRequest) -> dict[str, Any]:
    """The same sections, totals and "without evidence" list as the sign-off page."""
    workspace = load_workspace(assessment, request.user, None)  # type: ignore[arg-type]
    without_evidence = workspace.without_evidence()
    return {
        "year": assessment.round.year,
        "fonts": font_urls(),
        "font_family": FONT_FAMILY,
        "assessment": assessment,
        "unit": assessment.unit,
        "workspace": workspace,
        "sections": [
            {
                "code": section.head.criterion.code,
                "title": section.head.criterion.title,
                "scored": section.scored,
                "applicable": section.applicable,
                "score": scoring.format_points(section.score),
                "max": scoring.format_points(section.max_points),
            }
            for section in workspace.sections
        ],
        "total": scoring.format_points(workspace.totals.total),
        "applicable_max": scoring.format_points(workspace.totals.applicable_max),
        "bonus": scoring.format_points(workspace.totals.bonus),
        "penalty": scoring.format_points(workspace.totals.penalty),
        "index": two_places(workspace.totals.index),
        "draft": assessment.submitted_at is None,
        "without_evidence": without_evidence,
        "leader": leader_name(assessment),
    }


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def write_pdf(html: str) -> bytes:
    """HTML to PDF. Fonts come from the ``@font-face`` file URLs (embedded as subsets)."""
    # Imported here only: the app must run where pango is missing.
    import weasyprint

    # WeasyPrint reports every layout step at INFO level; keep the server log for requests.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

    return bytes(weasyprint.HTML(string=html, base_url=str(Path.cwd())).write_pdf())


def render_pdf(template: str, context: dict[str, Any], request: HttpRequest) -> bytes:
    return write_pdf(render_to_string(template, context, request=request))


def province_report(source: Source, request: HttpRequest) -> bytes:
    return render_pdf("reporting/pdf/province.html", province_report_context(source), request)


def decision_annex(source: Source, request: HttpRequest) -> bytes:
    return render_pdf("reporting/pdf/annex.html", annex_context(source), request)


def scorecard(
    source: Source, group: dict[str, Any], entry: dict[str, Any], request: HttpRequest
) -> bytes:
    context = scorecard_context(
        source, group, entry, results.field_titles(source.round.pk), previous_published(source.year)
    )
    return render_pdf("reporting/pdf/scorecard.html", context, request)


def self_assessment(assessment: UnitAssessment, request: HttpRequest) -> bytes:
    return render_pdf(
        "reporting/pdf/self_assessment.html", self_assessment_context(assessment, request), request
    )


def all_units_zip(source: Source, request: HttpRequest) -> bytes:
    """Every unit's scorecard and self-assessment report, one folder per group.

    Generated on request: about a minute for the demo's 30 units (docs/performance.md); a
    national deployment belongs in a background task (STACK: big batches).
    """
    titles = results.field_titles(source.round.pk)
    previous = previous_published(source.year)
    assessments = {
        a.unit.code: a
        for a in UnitAssessment.objects.filter(round=source.round)
        .with_context()
        .order_by("unit__code")
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for group in source.data["groups"]:
            for entry in group["units"]:
                folder = f"{source.year}/{group['code']}/{entry['rank']:02d}-{entry['code']}"
                context = scorecard_context(source, group, entry, titles, previous)
                archive.writestr(
                    f"{folder}/phieu-ket-qua-{entry['code']}-{source.year}.pdf",
                    render_pdf("reporting/pdf/scorecard.html", context, request),
                )
                assessment = assessments.get(entry["code"])
                if assessment is not None:
                    archive.writestr(
                        f"{folder}/tu-danh-gia-{entry['code']}-{source.year}.pdf",
                        self_assessment(assessment, request),
                    )
    return buffer.getvalue()
