"""The scoring rules of DESIGN §4 as pure functions over plain data (no ORM, no I/O)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, localcontext
from typing import TypeAlias, TypeVar

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

GROUP = "group"
BONUS = "bonus"
PENALTY = "penalty"
YES_NO = "yes_no"
CHOICE = "choice"
THRESHOLD = "threshold"
PROPORTIONAL = "proportional"
MANUAL = "manual"
DEDUCTION = "deduction"
SURVEY = "survey"

BRANCH_METHODS = frozenset({GROUP, BONUS, PENALTY})
LEAF_METHODS = frozenset({YES_NO, CHOICE, THRESHOLD, PROPORTIONAL, MANUAL, DEDUCTION, SURVEY})

# Band labels are data (they appear in exports and open data as written).
BAND_GOOD = "Tốt"
BAND_FAIR = "Khá"
BAND_AVERAGE = "Trung bình"
BAND_WEAK = "Yếu"


@dataclass
class Node:
    code: str
    method: str
    max_points: Decimal
    children: list[Node] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------

DEFAULT_BANDS: tuple[tuple[str, Decimal], ...] = (
    (BAND_GOOD, Decimal(85)),
    (BAND_FAIR, Decimal(70)),
    (BAND_AVERAGE, Decimal(50)),
    (BAND_WEAK, Decimal(0)),
)
DEFAULT_PROPORTIONAL_TARGET = Decimal(100)
DEFAULT_MANUAL_STEP = Decimal("0.25")

_ZERO = Decimal("0.00")
_HUNDRED = Decimal(100)

# Every division and rounding runs in this context, whatever the caller's thread context is.
# 34 significant digits (decimal128): a percentage 100·a/b with b below 10^12 differs from any
# two-place band bound by at least 10^-14 unless it equals it, so comparing the unrounded
# quotient with the bounds gives the exact answer.
_CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN)

# A plain decimal: digits, at most one decimal comma or point, an optional sign. No exponent,
# no thousands separator ("1.234,5" is refused rather than guessed), no nan/inf.
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]{1,15}(?:[.,][0-9]{1,20})?|[.,][0-9]{1,20})")
_NUMBER_LIMIT = Decimal(10) ** 15


def round_half_up(value: Decimal, places: int = 2) -> Decimal:
    """Round to ``places`` decimals, halves away from zero (0.005 → 0.01), never ``-0.00``."""
    if isinstance(value, float | bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"round_half_up() needs a Decimal, not {type(value).__name__}")
    with localcontext(_CONTEXT):
        result = Decimal(value).quantize(Decimal((0, (1,), -places)), rounding=ROUND_HALF_UP)
    return result.copy_abs() if result.is_zero() else result


def _not_a_number(text: object) -> InputError:
    shown = str(text)
    if len(shown) > 40:
        shown = shown[:40] + "…"
    return InputError(
        _("“%(value)s” is not a number; write it like 1,5 or 1.5.") % {"value": shown}
    )


def parse_number(text: str | int | Decimal) -> Decimal:
    """Read a number typed by a person or found in a spreadsheet cell.

    Accepts a decimal comma or point ("1,5", "1.5"), surrounding spaces, ``int`` and finite
    ``Decimal``. Raises ``InputError`` (a ``ValueError``) on anything else, and ``TypeError`` on
    a float: a float has already lost the digits the user typed, so the caller must convert it
    deliberately (e.g. ``Decimal(str(cell))``).
    """
    if isinstance(text, float):
        raise TypeError("parse_number() refuses floats; pass str(value) or a Decimal")
    if isinstance(text, bool):
        raise _not_a_number(text)
    if isinstance(text, str):
        cleaned = text.strip().replace("\u2212", "-")  # U+2212 MINUS SIGN, pasted from Word
        if not _NUMBER_RE.fullmatch(cleaned):
            raise _not_a_number(text)
        number = Decimal(cleaned.replace(",", "."))
    elif isinstance(text, int):
        number = Decimal(text)
    elif isinstance(text, Decimal):
        number = text
    else:
        raise TypeError(f"parse_number() needs str, int or Decimal, not {type(text).__name__}")
    if not number.is_finite() or abs(number) >= _NUMBER_LIMIT:
        raise _not_a_number(text)
    return number


def _trim(value: Decimal) -> Decimal:
    """The same number without trailing zeros, never in exponent form (100, not 1E+2)."""
    with localcontext(_CONTEXT):
        if value == value.to_integral_value():
            trimmed = value.quantize(Decimal(1))
        else:
            trimmed = value.normalize()
    return trimmed.copy_abs() if trimmed.is_zero() else trimmed


def _plain(value: Decimal) -> str:
    """A number for stored text (params): a decimal point, trailing zeros trimmed."""
    return f"{_trim(value):f}"


def format_points(value: Decimal) -> str:
    """A number for people: the active language's decimal separator, trailing zeros trimmed."""
    return str(number_format(_trim(Decimal(value)), use_l10n=True))


def _points(value: Decimal) -> str:
    """Points in words, in the active language: "0,5 điểm", "1 point", "2 points"."""
    count = 1 if value == 1 else 2
    return ngettext("%(points)s point", "%(points)s points", count) % {
        "points": format_points(value)
    }


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class ScoringError(ValueError):
    """A rule was broken; ``message`` is a translated sentence to show as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ParamsError(ScoringError):
    """The parameters of a criterion are wrong (criteria import, criteria editing)."""


class InputError(ScoringError):
    """A value entered for an item is refused (self-assessment, appraisal, workbook import)."""


# --------------------------------------------------------------------------------------------
# Parameters (DESIGN §4.1)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChoiceParams:
    levels: tuple[tuple[str, Decimal], ...]  # (label, points), in the given order


@dataclass(frozen=True)
class ThresholdParams:
    bands: tuple[tuple[Decimal, Decimal], ...]  # (lower bound, points), highest bound first


@dataclass(frozen=True)
class ProportionalParams:
    target: Decimal


@dataclass(frozen=True)
class ManualParams:
    step: Decimal


@dataclass(frozen=True)
class DeductionParams:
    per_lapse: Decimal


Params: TypeAlias = (
    ChoiceParams | ThresholdParams | ProportionalParams | ManualParams | DeductionParams | None
)
Value: TypeAlias = bool | str | Decimal | int

_P = TypeVar("_P")

_NO_PARAMS_METHODS = frozenset({GROUP, BONUS, PENALTY, YES_NO, SURVEY})


def _expect(params: Params, cls: type[_P], method: str) -> _P:
    if not isinstance(params, cls):
        raise TypeError(f"method {method!r} needs {cls.__name__}, got {params!r}")
    return params


def _clean(text: str | None) -> str:
    """NFC (so a label typed on a Mac matches one typed on Windows), single spaces, stripped."""
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def _parts(text: str) -> list[str]:
    # Empty parts are dropped: a trailing ";" is a slip, not a mistake worth refusing a file for.
    return [part.strip() for part in text.split(";") if part.strip()]


def _unknown_method(method: str) -> ParamsError:
    return ParamsError(_("Unknown scoring method “%(method)s”.") % {"method": method})


def _invalid(value: str, advice: str) -> ParamsError:
    return ParamsError(_("“%(value)s” is not valid.") % {"value": value} + " " + advice)


def _check_two_places(number: Decimal, text: str) -> None:
    """Points are kept to the cent (§4): a parameter with finer points would round silently."""
    if number != number.quantize(Decimal("0.01")):
        raise ParamsError(
            _("Points have at most two decimals; “%(value)s” has more.") % {"value": text}
        )


def _check_points_in_range(points: Decimal, text: str, max_points: Decimal) -> None:
    _check_two_places(points, text)
    if points < 0 or points > max_points:
        raise ParamsError(
            _("Points must be from 0 to %(max)s, the item's maximum; “%(value)s” is not.")
            % {"max": format_points(max_points), "value": text}
        )


def _positive_number(text: str, advice: str) -> Decimal:
    try:
        number = parse_number(text)
    except ValueError:
        raise _invalid(text, advice) from None
    if number <= 0:
        raise _invalid(text, advice)
    return number


def _parse_choice(text: str, max_points: Decimal) -> ChoiceParams:
    advice = _(
        "Write the levels as “label=points” separated by “;”, "
        "e.g. “Thực hiện tốt=2.5; Đầy đủ=2; Không thực hiện=0”."
    )
    levels: list[tuple[str, Decimal]] = []
    seen: set[str] = set()
    for part in _parts(text):
        label_text, equals, points_text = part.rpartition("=")
        label = _clean(label_text)
        if not equals or not label:
            raise _invalid(part, advice)
        try:
            points = parse_number(points_text)
        except ValueError:
            raise _invalid(part, advice) from None
        _check_points_in_range(points, points_text.strip(), max_points)
        if label.casefold() in seen:
            raise ParamsError(
                _("The level “%(label)s” appears twice; give each level its own label.")
                % {"label": label}
            )
        seen.add(label.casefold())
        levels.append((label, points))
    if len(levels) < 2:
        raise ParamsError(_("A choice needs at least two levels.") + " " + advice)
    return ChoiceParams(levels=tuple(levels))


def _parse_threshold(text: str, max_points: Decimal) -> ThresholdParams:
    advice = _(
        "Write the bands as “lower bound:points” separated by “;”, from the highest bound "
        "down, e.g. “100:5; 98:4; 0:0”."
    )
    bands: list[tuple[Decimal, Decimal]] = []
    for part in _parts(text):
        bound_text, colon, points_text = part.partition(":")
        if not colon:
            raise _invalid(part, advice)
        try:
            bound = parse_number(bound_text)
            points = parse_number(points_text)
        except ValueError:
            raise _invalid(part, advice) from None
        if bound < 0:
            raise _invalid(part, _("A lower bound cannot be negative."))
        _check_points_in_range(points, points_text.strip(), max_points)
        if bands and bound >= bands[-1][0]:
            raise ParamsError(
                _("Bands must go from the highest lower bound down, e.g. “100:5; 98:4; 0:0”.")
            )
        bands.append((bound, points))
    if not bands:
        raise ParamsError(advice)
    # Points are deliberately not required to fall as the bounds fall: for a "lower is
    # better" measure (share of late dossiers) the bands "10:0; 5:1; 0:2" are legitimate.
    return ThresholdParams(bands=tuple(bands))


def parse_params(method: str, text: str, max_points: Decimal) -> Params:
    """Read the ``params`` cell of a criterion (DESIGN §4.1, reference/criteria-*.csv).

    Raises ``ParamsError`` naming what is wrong and the expected format.
    """
    text = _clean(text)
    if method in _NO_PARAMS_METHODS:
        if text:
            raise ParamsError(_("This method takes no parameters; leave them empty."))
        return None
    if method == CHOICE:
        return _parse_choice(text, max_points)
    if method == THRESHOLD:
        return _parse_threshold(text, max_points)
    if method == PROPORTIONAL:
        if not text:
            return ProportionalParams(target=DEFAULT_PROPORTIONAL_TARGET)
        advice = _("The target must be a number above 0, e.g. “100”.")
        return ProportionalParams(target=_positive_number(text, advice))
    if method == MANUAL:
        if not text:
            step = DEFAULT_MANUAL_STEP
        else:
            step = _positive_number(text, _("The step must be a number above 0, e.g. “0.25”."))
            _check_two_places(step, text)
        with localcontext(_CONTEXT):
            remainder = max_points % step
        if remainder != 0:
            raise ParamsError(
                _(
                    "The maximum %(max)s is not a whole multiple of the step %(step)s; "
                    "choose a step that divides it, e.g. “0.25”."
                )
                % {"max": format_points(max_points), "step": format_points(step)}
            )
        return ManualParams(step=step)
    if method == DEDUCTION:
        advice = _("Give the points deducted per lapse: a number above 0, e.g. “0.25”.")
        if not text:
            raise ParamsError(advice)
        per_lapse = _positive_number(text, advice)
        _check_two_places(per_lapse, text)
        return DeductionParams(per_lapse=per_lapse)
    raise _unknown_method(method)


def format_params(method: str, params: Params) -> str:
    """The canonical ``params`` text: ``parse_params(method, format_params(method, p), max) == p``.

    Numbers use a decimal point with trailing zeros trimmed, parts are joined by "; ".
    """
    if method in _NO_PARAMS_METHODS:
        _expect(params, type(None), method)
        return ""
    if method == CHOICE:
        choice = _expect(params, ChoiceParams, method)
        return "; ".join(f"{label}={_plain(points)}" for label, points in choice.levels)
    if method == THRESHOLD:
        threshold = _expect(params, ThresholdParams, method)
        return "; ".join(f"{_plain(bound)}:{_plain(points)}" for bound, points in threshold.bands)
    if method == PROPORTIONAL:
        return _plain(_expect(params, ProportionalParams, method).target)
    if method == MANUAL:
        return _plain(_expect(params, ManualParams, method).step)
    if method == DEDUCTION:
        return _plain(_expect(params, DeductionParams, method).per_lapse)
    raise _unknown_method(method)


# --------------------------------------------------------------------------------------------
# Values entered by units and appraisers (DESIGN §4.1)
# --------------------------------------------------------------------------------------------

_YES = frozenset({"có", "co", "yes", "x", "1", "true"})
_NO = frozenset({"không", "khong", "no", "0", "false"})


def _clean_value(text: object) -> str:
    # Spreadsheet cells arrive as str, int, Decimal or bool; floats must be converted by the
    # caller (see parse_number).
    if text is None:
        return ""
    if isinstance(text, bool):
        return "true" if text else "false"
    if isinstance(text, float):
        raise TypeError("values must not be floats; pass str(value) or a Decimal")
    if isinstance(text, Decimal):
        return f"{text:f}"
    if isinstance(text, int | str):
        return _clean(str(text))
    raise TypeError(f"a value must be a str, not {type(text).__name__}")


def _choice_refused(choice: ChoiceParams) -> InputError:
    labels = "; ".join(f"“{label}”" for label, _level_points in choice.levels)
    return InputError(_("Choose one of the levels: %(levels)s.") % {"levels": labels})


def _find_level(choice: ChoiceParams, text: str) -> tuple[str, Decimal] | None:
    key = _clean(text).casefold()
    for label, points in choice.levels:
        if _clean(label).casefold() == key:
            return label, points
    return None


def _measure_refused() -> InputError:
    return InputError(
        _("Enter a number of at least 0 (e.g. 97.5) or a ratio a/b with b above 0 (e.g. 45/50).")
    )


def _parse_measure(text: str) -> Decimal:
    try:
        if "/" in text:
            numerator_text, _slash, denominator_text = text.partition("/")
            numerator = parse_number(numerator_text)
            denominator = parse_number(denominator_text)
            if numerator < 0 or denominator <= 0:
                raise _measure_refused()
            with localcontext(_CONTEXT):
                # Not rounded: the bands are compared with the exact percentage.
                return _HUNDRED * numerator / denominator
        # "97,5%" is what people write; the value is the percentage either way.
        value = parse_number(text.removesuffix("%").rstrip())
    except ValueError:
        raise _measure_refused() from None
    if value < 0:
        raise _measure_refused()
    return value


def _manual_refused(manual: ManualParams, max_points: Decimal) -> InputError:
    return InputError(
        _("Enter points from 0 to %(max)s in steps of %(step)s.")
        % {"max": format_points(max_points), "step": format_points(manual.step)}
    )


def _check_manual(value: Decimal, manual: ManualParams, max_points: Decimal) -> None:
    with localcontext(_CONTEXT):
        off_step = value % manual.step != 0
    if value < 0 or value > max_points or off_step:
        raise _manual_refused(manual, max_points)


def _deduction_refused() -> InputError:
    return InputError(_("Enter the number of lapses as a whole number, 0 or more."))


def _not_entered() -> InputError:
    return InputError(_("This item is not scored from a value entered by the unit."))


def parse_value(
    method: str, params: Params, max_points: Decimal, text: str | int | Decimal | None
) -> Value:
    """Read what a unit (or an appraiser) typed for a leaf, per DESIGN §4.1.

    Returns ``bool`` (yes_no), the canonical level label (choice), a ``Decimal`` percentage
    (threshold, proportional: "3/4" → 75, not rounded), ``Decimal`` points (manual) or an
    ``int`` count (deduction). Raises ``InputError`` whose message names the allowed values;
    the caller adds which item it was. Spreadsheet cells may be passed as they come (str, int,
    Decimal, bool, None); a float raises ``TypeError`` (see ``parse_number``).
    """
    raw = _clean_value(text)
    if method == YES_NO:
        key = raw.casefold()
        if key in _YES:
            return True
        if key in _NO:
            return False
        raise InputError(_("Enter “có” (yes) or “không” (no)."))
    if method == CHOICE:
        choice = _expect(params, ChoiceParams, method)
        level = _find_level(choice, raw)
        if level is None:
            raise _choice_refused(choice)
        return level[0]
    if method in (THRESHOLD, PROPORTIONAL):
        _expect(params, ThresholdParams if method == THRESHOLD else ProportionalParams, method)
        return _parse_measure(raw)
    if method == MANUAL:
        manual = _expect(params, ManualParams, method)
        try:
            points = parse_number(raw)
        except ValueError:
            raise _manual_refused(manual, max_points) from None
        _check_manual(points, manual, max_points)
        return points
    if method == DEDUCTION:
        _expect(params, DeductionParams, method)
        try:
            count = parse_number(raw)
        except ValueError:
            raise _deduction_refused() from None
        if count < 0 or count != count.to_integral_value():
            raise _deduction_refused()
        return int(count)
    if method == SURVEY or method in BRANCH_METHODS:
        raise _not_entered()
    raise _unknown_method(method)


def _measure_value(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"a measured value must be a Decimal, not {value!r}")
    if value < 0:
        raise _measure_refused()
    return Decimal(value)


def leaf_points(method: str, params: Params, max_points: Decimal, value: Value) -> Decimal:
    """The points a leaf earns for a value from ``parse_value``, rounded half-up to 2 places.

    For ``survey`` the value is the survey ratio, a ``Decimal`` from 0 to 1 (DESIGN §8:
    the mean weight of valid answers), and the points are ``max × ratio``.
    """
    with localcontext(_CONTEXT):
        if method == YES_NO:
            if not isinstance(value, bool):
                raise TypeError(f"a yes_no value must be a bool, not {value!r}")
            return round_half_up(max_points if value else _ZERO)
        if method == CHOICE:
            choice = _expect(params, ChoiceParams, method)
            if not isinstance(value, str):
                raise TypeError(f"a choice value must be a label, not {value!r}")
            level = _find_level(choice, value)
            if level is None:
                raise _choice_refused(choice)
            return round_half_up(level[1])
        if method == THRESHOLD:
            threshold = _expect(params, ThresholdParams, method)
            measured = _measure_value(value)
            for bound, points in threshold.bands:
                if measured >= bound:
                    return round_half_up(points)
            return _ZERO
        if method == PROPORTIONAL:
            target = _expect(params, ProportionalParams, method).target
            measured = _measure_value(value)
            return round_half_up(max_points * min(measured, target) / target)
        if method == MANUAL:
            manual = _expect(params, ManualParams, method)
            if isinstance(value, bool) or not isinstance(value, Decimal | int):
                raise TypeError(f"manual points must be a Decimal, not {value!r}")
            _check_manual(Decimal(value), manual, max_points)
            return round_half_up(Decimal(value))
        if method == DEDUCTION:
            per_lapse = _expect(params, DeductionParams, method).per_lapse
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"a deduction value must be an int count, not {value!r}")
            if value < 0:
                raise _deduction_refused()
            return round_half_up(max(_ZERO, max_points - value * per_lapse))
        if method == SURVEY:
            if isinstance(value, bool) or not isinstance(value, Decimal | int):
                raise TypeError(f"a survey ratio must be a Decimal, not {value!r}")
            if not 0 <= value <= 1:
                raise ValueError(f"a survey ratio must be from 0 to 1, not {value}")
            return round_half_up(max_points * value)
        if method in BRANCH_METHODS:
            raise TypeError(f"{method!r} is not a leaf method")
        raise _unknown_method(method)


def describe(method: str, params: Params, max_points: Decimal) -> str:
    """How the item is scored, in words, in the active language (shown to units)."""
    ratio_note = _("(a/b is accepted and counts as 100 × a ÷ b)")
    if method == YES_NO:
        return _("Yes: %(yes)s; No: %(no)s") % {
            "yes": _points(max_points),
            "no": _points(_ZERO),
        }
    if method == CHOICE:
        choice = _expect(params, ChoiceParams, method)
        return "; ".join(f"{label}: {_points(points)}" for label, points in choice.levels)
    if method == THRESHOLD:
        bands = _expect(params, ThresholdParams, method).bands
        parts = []
        for position, (bound, points) in enumerate(bands):
            values = {"bound": format_points(bound), "points": _points(points)}
            if position == 0:
                parts.append(_("Value %(bound)s or more: %(points)s") % values)
            elif bound == 0:
                # "0:x" at the bottom reads "below <the bound above>: x".
                values["bound"] = format_points(bands[position - 1][0])
                parts.append(_("below %(bound)s: %(points)s") % values)
            else:
                parts.append(_("from %(bound)s: %(points)s") % values)
        lowest = bands[-1][0]
        if lowest > 0:
            values = {"bound": format_points(lowest), "points": _points(_ZERO)}
            parts.append(_("below %(bound)s: %(points)s") % values)
        return "; ".join(parts) + " " + ratio_note
    if method == PROPORTIONAL:
        target = _expect(params, ProportionalParams, method).target
        formula = _("Points = %(max)s × min(value, %(target)s) / %(target)s") % {
            "max": format_points(max_points),
            "target": format_points(target),
        }
        return formula + " " + ratio_note
    if method == MANUAL:
        return _("0 to %(max)s points in steps of %(step)s") % {
            "max": format_points(max_points),
            "step": format_points(_expect(params, ManualParams, method).step),
        }
    if method == DEDUCTION:
        return _("%(max)s minus %(per_lapse)s per lapse, never below 0") % {
            "max": _points(max_points),
            "per_lapse": format_points(_expect(params, DeductionParams, method).per_lapse),
        }
    if method == SURVEY:
        return _("Scored by the sociological survey")
    if method == GROUP:
        return _("Sum of its sub-items, at most %(max)s") % {"max": _points(max_points)}
    if method == BONUS:
        return _("Bonus: sum of its items, at most %(max)s, added to the total") % {
            "max": _points(max_points)
        }
    if method == PENALTY:
        return _("Penalty: sum of its items, at most %(max)s, subtracted from the total") % {
            "max": _points(max_points)
        }
    raise _unknown_method(method)


# --------------------------------------------------------------------------------------------
# Aggregation (DESIGN §4.2, §4.3)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeafScore:
    points: Decimal | None  # None: not scored yet (counts 0, stays applicable)
    not_applicable: bool = False


@dataclass
class Totals:
    node_scores: dict[str, Decimal]  # every node: its clamped score (N/A leaves 0)
    node_max: dict[str, Decimal]  # every node: its applicable maximum
    fields: list[tuple[str, Decimal, Decimal]]  # top-level groups: (code, score, applicable max)
    bonus: Decimal
    penalty: Decimal
    total: Decimal
    applicable_max: Decimal
    index: Decimal


def _clamp(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    return max(low, min(value, high))


def aggregate(roots: list[Node], scores: Mapping[str, LeafScore]) -> Totals:
    """Totals of one unit (DESIGN §4.3) from its leaf scores.

    ``roots`` are the top-level nodes of a criteria set: fields (``group``) and at most the
    bonus and penalty blocks. Leaves missing from ``scores`` count 0 and stay applicable;
    entries of ``scores`` for branch nodes are ignored. A malformed tree (a leaf or an
    unknown method at the top, a bonus/penalty block inside a field, a leaf with children,
    a repeated code) raises ``ValueError``: the criteria importer must refuse such a set.
    """
    node_scores: dict[str, Decimal] = {}
    node_max: dict[str, Decimal] = {}

    def visit(node: Node, top: bool) -> tuple[Decimal, Decimal]:
        if node.code in node_scores:
            raise ValueError(f"criterion code {node.code!r} appears twice")
        node_max_points = round_half_up(node.max_points)
        if node.method in LEAF_METHODS:
            if node.children:
                raise ValueError(f"leaf {node.code!r} ({node.method}) has children")
            leaf = scores.get(node.code)
            if leaf is not None and leaf.not_applicable:
                score, applicable = _ZERO, _ZERO
            else:
                points = leaf.points if leaf is not None else None
                score = _ZERO if points is None else round_half_up(points)
                score = _clamp(score, _ZERO, node_max_points)
                applicable = node_max_points
        elif node.method in BRANCH_METHODS:
            if node.method != GROUP and not top:
                raise ValueError(f"{node.method} block {node.code!r} must be at the top level")
            total_score, total_max = _ZERO, _ZERO
            for child in node.children:
                child_score, child_max = visit(child, top=False)
                total_score += child_score
                total_max += child_max
            score = _clamp(total_score, _ZERO, node_max_points)
            applicable = min(total_max, node_max_points)
        else:
            raise ValueError(f"criterion {node.code!r} has an unknown method {node.method!r}")
        node_scores[node.code] = score
        node_max[node.code] = applicable
        return score, applicable

    fields: list[tuple[str, Decimal, Decimal]] = []
    field_sum = bonus = penalty = applicable_max = _ZERO
    for root in roots:
        if root.method not in BRANCH_METHODS:
            raise ValueError(f"top-level criterion {root.code!r} must be a group, bonus or penalty")
        score, applicable = visit(root, top=True)
        if root.method == GROUP:
            fields.append((root.code, score, applicable))
            field_sum += score
            applicable_max += applicable
        elif root.method == BONUS:
            bonus += score
        else:
            penalty += score

    total = _clamp(field_sum + bonus - penalty, _ZERO, applicable_max)
    if applicable_max == 0:
        index = _ZERO
    else:
        with localcontext(_CONTEXT):
            index = round_half_up(_HUNDRED * total / applicable_max)
    return Totals(
        node_scores=node_scores,
        node_max=node_max,
        fields=fields,
        bonus=bonus,
        penalty=penalty,
        total=total,
        applicable_max=applicable_max,
        index=index,
    )


# --------------------------------------------------------------------------------------------
# Classification and ranking (DESIGN §4.5, §4.6)
# --------------------------------------------------------------------------------------------


def classify(index: Decimal, bands: Sequence[tuple[str, Decimal]] = DEFAULT_BANDS) -> str:
    """The label of the first band (highest first) whose lower bound ≤ index; else the last."""
    if not bands:
        raise ValueError("classify() needs at least one band")
    for label, lower_bound in bands:
        if index >= lower_bound:
            return label
    return bands[-1][0]


# Vietnamese alphabetical order; f, j, w, z (loan words) take their Latin places.
_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER_RANK = {letter: rank for rank, letter in enumerate(_ALPHABET)}
# Combining marks that make a letter (ă â ê ô ơ ư) versus the five tone marks. Tones are the
# secondary key, in dictionary order: none < huyền < hỏi < ngã < sắc < nặng.
_LETTER_MARKS = frozenset({"\u0306", "\u0302", "\u031b"})  # breve, circumflex, horn
_TONE_RANK = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}

# Element classes of the primary key: spaces sort first ("An Hòa" before "Anh"), then
# punctuation, then numbers (by value: "Phường 2" before "Phường 10"), then letters, then
# anything else.
_SPACE, _PUNCTUATION, _NUMBER, _LETTER, _OTHER = range(5)

SortKey: TypeAlias = tuple[tuple[tuple[int, ...], ...], tuple[int, ...], str]

# A run of ASCII digits, or one character with the combining marks (U+0300–U+036F) after it.
_TOKEN_RE = re.compile(r"[0-9]+|.[\u0300-\u036f]*", re.DOTALL)


def vietnamese_sort_key(name: str) -> SortKey:
    """A key that sorts names in Vietnamese alphabetical order, case-insensitively.

    Primary: the letters (a < ă < â < b < … < d < đ < … < o < ô < ơ < … < u < ư < v < x < y),
    ignoring tones. Secondary: the tone of each word, none < huyền < hỏi < ngã < sắc < nặng
    (per word, so "Hòa" and the old spelling "Hoà" tie). Last: the NFC name itself, so the
    order is total and repeatable.
    """
    text = unicodedata.normalize("NFC", name)
    primary: list[tuple[int, ...]] = []
    tones: list[int] = []
    decomposed = unicodedata.normalize("NFD", text.casefold()).replace("ð", "đ")
    for word_position, word in enumerate(decomposed.split()):
        if word_position:
            primary.append((_SPACE,))
        word_tone = 0
        for token in _TOKEN_RE.findall(word):
            if token[0] in "0123456789":
                primary.append((_NUMBER, int(token)))
                continue
            base, marks = token[0], token[1:]
            tone = next((_TONE_RANK[mark] for mark in marks if mark in _TONE_RANK), 0)
            word_tone = word_tone or tone
            letter = unicodedata.normalize(
                "NFC", base + "".join(mark for mark in marks if mark in _LETTER_MARKS)
            )
            if letter in _LETTER_RANK:
                primary.append((_LETTER, _LETTER_RANK[letter]))
            elif base.isalnum():
                primary.append((_OTHER, ord(base)))
            else:
                primary.append((_PUNCTUATION, ord(base)))
        tones.append(word_tone)
    return tuple(primary), tuple(tones), text


_K = TypeVar("_K")


def rank(entries: Sequence[tuple[_K, str, Decimal]]) -> list[tuple[_K, int]]:
    """Competition ranking (1, 2, 2, 4) by index descending, ties in Vietnamese name order.

    ``entries`` are (key, name, index); indexes are compared at 2 places, as they are shown.
    Returns (key, rank) in display order.
    """
    ordered = sorted(
        entries, key=lambda entry: (-round_half_up(entry[2]), vietnamese_sort_key(entry[1]))
    )
    ranked: list[tuple[_K, int]] = []
    previous: Decimal | None = None
    current = 0
    for position, (key, _name, index) in enumerate(ordered, start=1):
        shown = round_half_up(index)
        if shown != previous:
            current, previous = position, shown
        ranked.append((key, current))
    return ranked


def share_percent(score: Decimal, maximum: Decimal) -> Decimal | None:
    """The score as a percentage of an applicable maximum, at 2 places (§4.5); ``None`` when
    nothing of the node applies (no maximum left)."""
    if maximum <= 0:
        return None
    with localcontext(_CONTEXT):
        return round_half_up(_HUNDRED * score / maximum)


def rank_on_share(entries: Sequence[tuple[_K, str, Decimal, Decimal]]) -> dict[_K, int]:
    """Ranks on a field or criterion (§4.5): (key, name, score, applicable max) → rank on the
    percentage of the applicable maximum, so N/A items do not push a unit down; equal
    percentages share a rank. Entries with no applicable maximum get no rank."""
    shares = []
    for key, name, score, maximum in entries:
        share = share_percent(score, maximum)
        if share is not None:
            shares.append((key, name, share))
    return dict(rank(shares))
