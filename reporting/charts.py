"""Charts as inline SVG, built on the server (DESIGN §9: no external CDN, and the CSP allows no
inline script or style, so the picture is plain SVG with presentation attributes).

Pure: plain values in, markup out. Callers format the numbers (decimal comma) and give the
accessible title and description; every piece of text is escaped here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from assessments import scoring

# Band colours, dark enough for 3:1 against white (WCAG non-text contrast); the band is also
# written in the table beside the chart, so colour is never the only signal.
BAND_COLOURS = {
    scoring.BAND_GOOD: "#1e7b45",
    scoring.BAND_FAIR: "#0b5ed7",
    scoring.BAND_AVERAGE: "#a85a00",
    scoring.BAND_WEAK: "#b02a37",
}
OTHER_COLOUR = "#6c757d"
TRACK_COLOUR = "#e9ecef"
TEXT_COLOUR = "#212529"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"

# Geometry of the horizontal bar chart, in viewBox units (the SVG scales to its container).
# Each unit takes two lines, its name above its bar, so long Vietnamese names stay readable
# on a phone, where the chart is as wide as the screen.
WIDTH = 560
VALUE_WIDTH = 64
FONT_SIZE = 15
LABEL_HEIGHT = 19
BAR_HEIGHT = 14
ROW_HEIGHT = 42
TOP = 4
AXIS_HEIGHT = 22
MAX_LABEL_CHARS = 60


@dataclass(frozen=True)
class Bar:
    label: str  # the unit's name
    value: Decimal  # the index, 0–100
    value_label: str  # the value as people read it ("91,25")
    band: str  # one of the scoring.BAND_* labels


def band_colour(band: str) -> str:
    return BAND_COLOURS.get(band, OTHER_COLOUR)


def _shorten(text: str, limit: int = MAX_LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _scale(value: Decimal, maximum: Decimal, width: int) -> str:
    if maximum <= 0:
        return "0"
    share = min(max(Decimal(value), Decimal(0)), maximum) / maximum
    return f"{share * width:.1f}"


def bar_chart(
    bars: Sequence[Bar],
    *,
    chart_id: str,
    title: str,
    description: str,
    maximum: Decimal = Decimal(100),
    ticks: Sequence[tuple[Decimal, str]] = (),
) -> SafeString:
    """A horizontal bar chart, one bar per unit in the given order, coloured by band.

    ``ticks`` are (value, label) pairs for the axis under the bars (e.g. 0, 50, 100).
    """
    bar_area = WIDTH - VALUE_WIDTH
    height = TOP + ROW_HEIGHT * len(bars) + AXIS_HEIGHT
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart w-100 h-auto" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{escape(title_id)} {escape(desc_id)}" '
        f'font-family="{escape(FONT)}" font-size="{FONT_SIZE}" fill="{TEXT_COLOUR}">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
        f'<desc id="{escape(desc_id)}">{escape(description)}</desc>',
    ]
    axis_y = TOP + ROW_HEIGHT * len(bars)
    for value, label in ticks:
        x = float(_scale(value, maximum, bar_area))
        anchor = "start" if x == 0 else "end" if x >= bar_area else "middle"
        parts.append(
            f'<line x1="{x:.1f}" y1="{TOP + LABEL_HEIGHT}" x2="{x:.1f}" y2="{axis_y}" '
            f'stroke="#adb5bd" stroke-width="1" stroke-dasharray="3 3"/>'
            f'<text x="{x:.1f}" y="{axis_y + 16}" text-anchor="{anchor}" font-size="12" '
            f'fill="#495057">{escape(label)}</text>'
        )
    for position, bar in enumerate(bars):
        y = TOP + ROW_HEIGHT * position
        bar_y = y + LABEL_HEIGHT + 3
        length = _scale(bar.value, maximum, bar_area)
        parts.append(
            f"<g><title>{escape(bar.label)}: {escape(bar.value_label)} ({escape(bar.band)})</title>"
            f'<text x="0" y="{y + LABEL_HEIGHT - 4}">{escape(_shorten(bar.label))}</text>'
            f'<rect x="0" y="{bar_y}" width="{bar_area}" height="{BAR_HEIGHT}" '
            f'fill="{TRACK_COLOUR}"/>'
            f'<rect x="0" y="{bar_y}" width="{length}" height="{BAR_HEIGHT}" '
            f'fill="{band_colour(bar.band)}"/>'
            f'<text x="{bar_area + 6}" y="{bar_y + BAR_HEIGHT - 1}" font-weight="600">'
            f"{escape(bar.value_label)}</text></g>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 -- every text above is escaped


def meter(value: Decimal, maximum: Decimal, *, label: str, colour: str = "#0b4f8a") -> SafeString:
    """A small bar for one score out of its maximum (the field table of a unit's page)."""
    width, height = 120, 10
    length = _scale(value, maximum, width)
    return mark_safe(  # noqa: S308 -- the only text is escaped
        f'<svg xmlns="http://www.w3.org/2000/svg" class="meter" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>"
        f'<rect x="0" y="0" width="{width}" height="{height}" rx="2" fill="{TRACK_COLOUR}"/>'
        f'<rect x="0" y="0" width="{length}" height="{height}" rx="2" fill="{escape(colour)}"/>'
        f"</svg>"
    )
