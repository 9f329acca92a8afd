"""The scoring rules of DESIGN §4, to the cent (assessments/scoring.py)."""

import csv
import unicodedata
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.utils import translation

from assessments import scoring
from assessments.scoring import (
    BAND_AVERAGE,
    BAND_FAIR,
    BAND_GOOD,
    BAND_WEAK,
    BONUS,
    CHOICE,
    DEDUCTION,
    GROUP,
    MANUAL,
    PENALTY,
    PROPORTIONAL,
    SURVEY,
    THRESHOLD,
    YES_NO,
    ChoiceParams,
    DeductionParams,
    InputError,
    LeafScore,
    ManualParams,
    Node,
    ParamsError,
    ProportionalParams,
    ScoringError,
    ThresholdParams,
    aggregate,
    classify,
    describe,
    format_params,
    format_points,
    leaf_points,
    parse_number,
    parse_params,
    parse_value,
    rank,
    round_half_up,
    vietnamese_sort_key,
)

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "reference"
DEPARTMENT_BANDS = "100:5; 98:4; 95:3; 90:1; 0:0"
INITIATIVES = "Từ 2 sáng kiến trở lên=1; 1 sáng kiến=0.5; Không có=0"


@pytest.fixture
def english() -> Iterator[None]:
    # Message assertions must not depend on the state of the vi catalogue.
    with translation.override("en"):
        yield


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def reference_rows() -> list[dict[str, str]]:
    # The reference data ships with the project: a missing directory is a failure, not a skip.
    assert REFERENCE_DIR.is_dir(), f"reference criteria missing: {REFERENCE_DIR}"
    files = sorted(REFERENCE_DIR.glob("criteria-*.csv"))
    assert len(files) >= 2, f"expected the criteria CSVs in {REFERENCE_DIR}"
    rows = []
    for path in files:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                rows.append({**row, "file": path.name})
    assert rows
    return rows


def reference_tree(file_name: str) -> tuple[list[Node], list[dict[str, str]]]:
    rows = [row for row in reference_rows() if row["file"] == file_name]
    nodes: dict[str, Node] = {}
    roots: list[Node] = []
    for row in rows:
        node = Node(row["code"], row["method"], D(row["max_points"]))
        nodes[row["code"]] = node
        parent_code = row["code"].rpartition(".")[0]
        if parent_code:
            nodes[parent_code].children.append(node)
        else:
            roots.append(node)
    return roots, rows


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("0.005"), D("0.01")),
        (D("0.015"), D("0.02")),
        (D("0.025"), D("0.03")),  # half-even would give 0.02
        (D("2.675"), D("2.68")),
        (D("87.125"), D("87.13")),
        (D("87.1249999"), D("87.12")),
        (D("66.66666666666666666666666667"), D("66.67")),
        (D("1"), D("1.00")),
        (D("-0.001"), D("0.00")),
        (7, D("7.00")),
    ],
)
def test_it_rounds_half_up_to_the_cent(value: D, expected: D) -> None:
    result = round_half_up(value)
    assert result == expected
    assert result.as_tuple().exponent == -2
    assert str(result) == str(expected)  # no "-0.00"


def test_it_rounds_to_other_places_when_asked() -> None:
    assert round_half_up(D("66.6666"), 3) == D("66.667")
    assert round_half_up(D("2.5"), 0) == D("3")


def test_it_refuses_to_round_a_float() -> None:
    with pytest.raises(TypeError):
        round_half_up(0.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,5", D("1.5")),
        ("1.5", D("1.5")),
        (" 2 ", D("2")),
        ("0,25", D("0.25")),
        ("97,50", D("97.5")),
        ("100", D("100")),
        ("-1", D("-1")),
        ("\u22121,5", D("-1.5")),  # the minus sign Word puts in
        (",5", D("0.5")),
        ("\u00a03\u00a0", D("3")),  # non-breaking spaces around a pasted cell
        (2, D("2")),
        (D("2.50"), D("2.5")),
    ],
)
def test_it_parses_numbers_with_a_decimal_comma_or_point(text: str | int | D, expected: D) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "abc",
        "",
        "   ",
        "1,2,3",
        "1.2.3",
        "1.234,5",
        "1 000",
        "nan",
        "NaN",
        "inf",
        "-inf",
        "1e5",
        "1E5",
        "--1",
        "1,",
        "2/3",
        "١",  # an Arabic-Indic digit
        "1" * 16,
        True,
        D("NaN"),
        D("Infinity"),
    ],
)
def test_it_refuses_junk_as_a_number(text: str | D | bool) -> None:
    with pytest.raises(ValueError):
        parse_number(text)


def test_it_refuses_a_float_as_a_number_because_the_typed_digits_are_lost() -> None:
    with pytest.raises(TypeError):
        parse_number(0.1)  # type: ignore[arg-type]


def test_it_explains_a_refused_number_in_a_translated_sentence(english: None) -> None:
    with pytest.raises(InputError) as caught:
        parse_number("abc")
    assert caught.value.message == "“abc” is not a number; write it like 1,5 or 1.5."
    assert str(caught.value) == caught.value.message
    assert isinstance(caught.value, ScoringError)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("value", "vi", "en"),
    [
        (D("0.50"), "0,5", "0.5"),
        (D("5.00"), "5", "5"),
        (D("100"), "100", "100"),
        (D("87.13"), "87,13", "87.13"),
        (D("0.25"), "0,25", "0.25"),
        (D("0.00"), "0", "0"),
        (D("-0.00"), "0", "0"),
        (D("1E+1"), "10", "10"),
    ],
)
def test_it_formats_points_in_the_active_language_without_trailing_zeros(
    value: D, vi: str, en: str
) -> None:
    with translation.override("vi"):
        assert format_points(value) == vi
    with translation.override("en"):
        assert format_points(value) == en


# --------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "text", "max_points", "expected"),
    [
        (
            CHOICE,
            "Thực hiện tốt=2.5; Đầy đủ=2; Chưa đầy đủ=1; Không thực hiện=0",
            D("2.5"),
            ChoiceParams(
                (
                    ("Thực hiện tốt", D("2.5")),
                    ("Đầy đủ", D("2")),
                    ("Chưa đầy đủ", D("1")),
                    ("Không thực hiện", D("0")),
                )
            ),
        ),
        (CHOICE, "Tốt=2,5; Khá=1", D("2.5"), ChoiceParams((("Tốt", D("2.5")), ("Khá", D("1"))))),
        (
            CHOICE,
            "  Thực   hiện tốt = 2 ; Không = 0 ;",
            D("2"),
            ChoiceParams((("Thực hiện tốt", D("2")), ("Không", D("0")))),
        ),
        (
            CHOICE,
            nfd("Có=1; Không=0"),
            D("1"),
            ChoiceParams((("Có", D("1")), ("Không", D("0")))),
        ),
        (
            THRESHOLD,
            DEPARTMENT_BANDS,
            D("5"),
            ThresholdParams(
                (
                    (D("100"), D("5")),
                    (D("98"), D("4")),
                    (D("95"), D("3")),
                    (D("90"), D("1")),
                    (D("0"), D("0")),
                )
            ),
        ),
        (THRESHOLD, "97,5:3; 0:0", D("3"), ThresholdParams(((D("97.5"), D("3")), (D(0), D(0))))),
        (THRESHOLD, "90:1", D("1"), ThresholdParams(((D("90"), D("1")),))),
        (
            THRESHOLD,
            "100:1,5; 80:0,75; 0:0",
            D("1.5"),
            ThresholdParams(((D("100"), D("1.5")), (D("80"), D("0.75")), (D("0"), D("0")))),
        ),
        (PROPORTIONAL, "", D("2"), ProportionalParams(D("100"))),
        (PROPORTIONAL, "80", D("2"), ProportionalParams(D("80"))),
        (PROPORTIONAL, "97,5", D("2"), ProportionalParams(D("97.5"))),
        (MANUAL, "", D("7"), ManualParams(D("0.25"))),
        (MANUAL, "0.5", D("7"), ManualParams(D("0.5"))),
        (MANUAL, "0,5", D("3"), ManualParams(D("0.5"))),
        (MANUAL, "1", D("0"), ManualParams(D("1"))),
        (DEDUCTION, "0.25", D("1"), DeductionParams(D("0.25"))),
        (DEDUCTION, "1", D("2"), DeductionParams(D("1"))),
        (DEDUCTION, "0,5", D("3"), DeductionParams(D("0.5"))),
        (YES_NO, "", D("1"), None),
        (YES_NO, "   ", D("1"), None),
        (SURVEY, "", D("4"), None),
        (GROUP, "", D("13"), None),
        (BONUS, "", D("2"), None),
        (PENALTY, "", D("5"), None),
    ],
)
def test_it_parses_the_params_of_every_method(
    method: str, text: str, max_points: D, expected: scoring.Params
) -> None:
    params = parse_params(method, text, max_points)
    assert params == expected
    assert parse_params(method, format_params(method, params), max_points) == params


@pytest.mark.parametrize(
    ("method", "text", "max_points", "message"),
    [
        (THRESHOLD, "90:1; 100:5; 0:0", D("5"), "Bands must go from the highest lower bound down"),
        (THRESHOLD, "100:5; 100:4; 0:0", D("5"), "Bands must go from the highest lower bound down"),
        (THRESHOLD, "100:5; 0:0; 50:1", D("5"), "Bands must go from the highest lower bound down"),
        (THRESHOLD, "100:6; 0:0", D("5"), "Points must be from 0 to 5, the item's maximum; “6”"),
        (THRESHOLD, "100:-1; 0:0", D("5"), "Points must be from 0 to 5"),
        (THRESHOLD, "100:1,5; 0:0", D("1"), "Points must be from 0 to 1"),
        (THRESHOLD, "-5:0", D("5"), "“-5:0” is not valid. A lower bound cannot be negative."),
        (THRESHOLD, "", D("5"), "Write the bands as “lower bound:points”"),
        (THRESHOLD, "100-5; 0:0", D("5"), "“100-5” is not valid. Write the bands as"),
        (THRESHOLD, "100:5:1", D("5"), "“100:5:1” is not valid."),
        (THRESHOLD, "cao:5", D("5"), "“cao:5” is not valid."),
        (THRESHOLD, "1e2:5", D("5"), "“1e2:5” is not valid."),
        (CHOICE, "Đạt=1", D("1"), "A choice needs at least two levels. Write the levels as"),
        (CHOICE, "", D("1"), "A choice needs at least two levels."),
        (CHOICE, "Đạt=1; ĐẠT=0", D("1"), "The level “ĐẠT” appears twice"),
        (CHOICE, "Tốt=2; Không=0", D("1.5"), "Points must be from 0 to 1.5"),
        (CHOICE, "Tốt=1; Không=-1", D("1"), "Points must be from 0 to 1"),
        (CHOICE, "Tốt; Không=0", D("1"), "“Tốt” is not valid. Write the levels as “label=points”"),
        (CHOICE, "=1; Không=0", D("1"), "“=1” is not valid."),
        (CHOICE, "Tốt=một; Không=0", D("1"), "“Tốt=một” is not valid."),
        (MANUAL, "0.3", D("7"), "The maximum 7 is not a whole multiple of the step 0.3"),
        (MANUAL, "", D("0.1"), "The maximum 0.1 is not a whole multiple of the step 0.25"),
        (MANUAL, "0", D("7"), "“0” is not valid. The step must be a number above 0"),
        (MANUAL, "-0.5", D("7"), "The step must be a number above 0"),
        (MANUAL, "nửa", D("7"), "The step must be a number above 0"),
        (DEDUCTION, "", D("1"), "Give the points deducted per lapse"),
        (DEDUCTION, "0", D("1"), "Give the points deducted per lapse"),
        (DEDUCTION, "-1", D("1"), "Give the points deducted per lapse"),
        (DEDUCTION, "abc", D("1"), "“abc” is not valid."),
        (PROPORTIONAL, "0", D("2"), "The target must be a number above 0"),
        (PROPORTIONAL, "-100", D("2"), "The target must be a number above 0"),
        (PROPORTIONAL, "100%", D("2"), "The target must be a number above 0"),
        (YES_NO, "x", D("1"), "This method takes no parameters; leave them empty."),
        (SURVEY, "1", D("4"), "This method takes no parameters"),
        (GROUP, "13", D("13"), "This method takes no parameters"),
        (BONUS, "2", D("2"), "This method takes no parameters"),
        ("percentage", "", D("1"), "Unknown scoring method “percentage”."),
    ],
)
def test_it_refuses_wrong_params_saying_what_is_wrong(
    method: str, text: str, max_points: D, message: str
) -> None:
    with translation.override("en"), pytest.raises(ParamsError) as caught:
        parse_params(method, text, max_points)
    assert message in caught.value.message
    with translation.override("vi"), pytest.raises(ParamsError):
        parse_params(method, text, max_points)


def test_it_names_the_numbers_of_a_params_error_with_the_vietnamese_decimal_comma() -> None:
    with translation.override("vi"), pytest.raises(ParamsError) as caught:
        parse_params(MANUAL, "0.4", D("7.5"))
    assert "7,5" in caught.value.message
    assert "0,4" in caught.value.message


@pytest.mark.parametrize(
    ("method", "params", "text"),
    [
        (
            THRESHOLD,
            ThresholdParams(((D("100.00"), D("5.00")), (D("98"), D("4")), (D("0"), D("0.00")))),
            "100:5; 98:4; 0:0",
        ),
        (THRESHOLD, ThresholdParams(((D("97.50"), D("1.50")),)), "97.5:1.5"),
        (
            CHOICE,
            ChoiceParams(
                (
                    ("Từ 2 sáng kiến trở lên", D("1.00")),
                    ("1 sáng kiến", D("0.50")),
                    ("Không có", D("0")),
                )
            ),
            INITIATIVES,
        ),
        (MANUAL, ManualParams(D("0.250")), "0.25"),
        (MANUAL, ManualParams(D("1E+0")), "1"),
        (PROPORTIONAL, ProportionalParams(D("100")), "100"),
        (PROPORTIONAL, ProportionalParams(D("1E+2")), "100"),
        (DEDUCTION, DeductionParams(D("0.5")), "0.5"),
        (YES_NO, None, ""),
        (GROUP, None, ""),
    ],
)
def test_it_formats_params_canonically_with_a_decimal_point(
    method: str, params: scoring.Params, text: str
) -> None:
    with translation.override("vi"):  # params text never follows the UI language
        assert format_params(method, params) == text
    assert parse_params(method, text, D("5")) == params


def test_it_refuses_to_format_params_of_the_wrong_kind() -> None:
    with pytest.raises(TypeError):
        format_params(THRESHOLD, ManualParams(D("0.5")))
    with pytest.raises(TypeError):
        format_params(YES_NO, ManualParams(D("0.5")))


def test_it_round_trips_every_params_string_of_the_reference_criteria() -> None:
    checked = 0
    methods_seen = set()
    for row in reference_rows():
        method, text, max_points = row["method"], row["params"], D(row["max_points"])
        params = parse_params(method, text, max_points)
        canonical = format_params(method, params)
        assert canonical == text, (row["file"], row["code"])
        assert parse_params(method, canonical, max_points) == params, (row["file"], row["code"])
        # The comma form an importer may meet in a Vietnamese workbook reads the same.
        assert parse_params(method, text.replace(".", ","), max_points) == params
        methods_seen.add(method)
        checked += 1
    assert checked > 100
    assert methods_seen == scoring.BRANCH_METHODS | scoring.LEAF_METHODS


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("có", True),
        ("Có", True),
        ("CÓ", True),
        (" có ", True),
        (nfd("có"), True),
        ("co", True),
        ("yes", True),
        ("Yes", True),
        ("x", True),
        ("X", True),
        ("1", True),
        ("true", True),
        ("TRUE", True),
        (1, True),
        (True, True),
        ("không", False),
        ("Không", False),
        ("KHÔNG", False),
        (nfd("không"), False),
        ("khong", False),
        ("no", False),
        ("NO", False),
        ("0", False),
        ("false", False),
        (0, False),
        (False, False),
    ],
)
def test_it_reads_yes_and_no(text: str, expected: bool) -> None:
    assert parse_value(YES_NO, None, D("1"), text) is expected


@pytest.mark.parametrize("text", ["", "maybe", "c", "k", "2", "có không", "đúng"])
def test_it_refuses_anything_else_for_yes_no_naming_co_and_khong(english: None, text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_value(YES_NO, None, D("1"), text)
    assert caught.value.message == "Enter “có” (yes) or “không” (no)."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Từ 2 sáng kiến trở lên", "Từ 2 sáng kiến trở lên"),
        ("từ 2 SÁNG KIẾN trở lên", "Từ 2 sáng kiến trở lên"),
        ("  Từ 2   sáng kiến\ttrở lên ", "Từ 2 sáng kiến trở lên"),
        (nfd("1 sáng kiến"), "1 sáng kiến"),
        ("không có", "Không có"),
    ],
)
def test_it_reads_a_choice_level_as_its_canonical_label(text: str, expected: str) -> None:
    params = parse_params(CHOICE, INITIATIVES, D("1"))
    assert parse_value(CHOICE, params, D("1"), text) == expected


@pytest.mark.parametrize("text", ["", "2 sáng kiến", "Không", "1"])
def test_it_refuses_an_unknown_choice_level_listing_the_levels(english: None, text: str) -> None:
    params = parse_params(CHOICE, INITIATIVES, D("1"))
    with pytest.raises(InputError) as caught:
        parse_value(CHOICE, params, D("1"), text)
    assert caught.value.message == (
        "Choose one of the levels: “Từ 2 sáng kiến trở lên”; “1 sáng kiến”; “Không có”."
    )


@pytest.mark.parametrize("method", [THRESHOLD, PROPORTIONAL])
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("97,5", D("97.5")),
        ("97.5", D("97.5")),
        ("1,5", D("1.5")),
        ("0", D("0")),
        ("100", D("100")),
        ("120", D("120")),
        ("97,5%", D("97.5")),
        ("98 %", D("98")),
        ("3/4", D("75")),
        (" 3 / 4 ", D("75")),
        ("49/50", D("98")),
        ("0/5", D("0")),
        ("1,5/2", D("75")),
        ("1/8", D("12.5")),
        (D("97.5"), D("97.5")),
        (98, D("98")),
    ],
)
def test_it_reads_a_measured_value_as_a_number_or_a_ratio(
    method: str, text: str, expected: D
) -> None:
    params = parse_params(method, "100:1; 0:0" if method == THRESHOLD else "", D("1"))
    assert parse_value(method, params, D("1"), text) == expected


def test_it_keeps_a_ratio_unrounded() -> None:
    params = parse_params(THRESHOLD, "100:1; 0:0", D("1"))
    value = parse_value(THRESHOLD, params, D("1"), "2/3")
    assert isinstance(value, D)
    assert D("66.666666666666") < value < D("66.666666666667")
    assert value != round_half_up(value, 10)
    assert abs(value * 3 - 200) < D("1E-25")


@pytest.mark.parametrize("method", [THRESHOLD, PROPORTIONAL])
@pytest.mark.parametrize(
    "text", ["0/0", "1/0", "1/0,0", "-1", "-0,5", "-1/2", "1/-2", "abc", "", "1/2/3", "/2", "nan"]
)
def test_it_refuses_a_bad_measured_value(english: None, method: str, text: str) -> None:
    params = parse_params(method, "100:1; 0:0" if method == THRESHOLD else "", D("1"))
    with pytest.raises(InputError) as caught:
        parse_value(method, params, D("1"), text)
    assert "a ratio a/b with b above 0" in caught.value.message


@pytest.mark.parametrize(
    ("step", "max_points", "text", "expected"),
    [
        ("0.5", D("7"), "0", D("0")),
        ("0.5", D("7"), "7", D("7")),
        ("0.5", D("7"), "3,5", D("3.5")),
        ("0.5", D("7"), "3.5", D("3.5")),
        ("0.5", D("7"), "3.50", D("3.5")),
        ("", D("2"), "1.75", D("1.75")),
        ("", D("2"), "0,25", D("0.25")),
    ],
)
def test_it_reads_manual_points_on_the_step(
    step: str, max_points: D, text: str, expected: D
) -> None:
    params = parse_params(MANUAL, step, max_points)
    assert parse_value(MANUAL, params, max_points, text) == expected


@pytest.mark.parametrize(
    ("step", "max_points", "text"),
    [
        ("0.5", D("7"), "3.25"),  # off the step
        ("0.5", D("7"), "7.5"),  # above the maximum
        ("0.5", D("7"), "8"),
        ("0.5", D("7"), "-0.5"),
        ("0.5", D("7"), "abc"),
        ("0.5", D("7"), ""),
        ("", D("2"), "1.1"),
        ("", D("2"), "0.125"),
    ],
)
def test_it_refuses_manual_points_off_the_step_or_out_of_range(
    english: None, step: str, max_points: D, text: str
) -> None:
    params = parse_params(MANUAL, step, max_points)
    with pytest.raises(InputError) as caught:
        parse_value(MANUAL, params, max_points, text)
    expected_step = "0.5" if step else "0.25"
    assert caught.value.message == (
        f"Enter points from 0 to {format_points(max_points)} in steps of {expected_step}."
    )


def test_it_names_the_manual_range_with_the_vietnamese_decimal_comma() -> None:
    params = parse_params(MANUAL, "0.5", D("7.5"))
    with translation.override("vi"), pytest.raises(InputError) as caught:
        parse_value(MANUAL, params, D("7.5"), "9")
    assert "7,5" in caught.value.message
    assert "0,5" in caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0), ("2", 2), ("2,0", 2), ("2.00", 2), (" 3 ", 3), ("12", 12), (4, 4)],
)
def test_it_reads_a_count_of_lapses_as_a_whole_number(text: str, expected: int) -> None:
    params = parse_params(DEDUCTION, "0.25", D("1"))
    value = parse_value(DEDUCTION, params, D("1"), text)
    assert value == expected
    assert type(value) is int


@pytest.mark.parametrize("text", ["1,5", "0.5", "-1", "abc", "", "1/2", "x"])
def test_it_refuses_a_count_of_lapses_that_is_not_whole_or_negative(
    english: None, text: str
) -> None:
    params = parse_params(DEDUCTION, "0.25", D("1"))
    with pytest.raises(InputError) as caught:
        parse_value(DEDUCTION, params, D("1"), text)
    assert caught.value.message == "Enter the number of lapses as a whole number, 0 or more."


@pytest.mark.parametrize("method", [SURVEY, GROUP, BONUS, PENALTY])
def test_it_refuses_a_value_for_items_the_unit_does_not_score(english: None, method: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_value(method, None, D("4"), "4")
    assert caught.value.message == "This item is not scored from a value entered by the unit."


def test_it_refuses_a_value_for_an_unknown_method() -> None:
    with pytest.raises(ParamsError):
        parse_value("percentage", None, D("1"), "1")


def test_it_refuses_a_float_cell_as_a_value() -> None:
    params = parse_params(THRESHOLD, DEPARTMENT_BANDS, D("5"))
    with pytest.raises(TypeError):
        parse_value(THRESHOLD, params, D("5"), 97.5)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Leaf points
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("120"), D("5.00")),  # above the top band
        (D("100"), D("5.00")),  # exactly on the top bound
        (D("99.99"), D("4.00")),
        (D("98"), D("4.00")),
        (D("97.99"), D("3.00")),
        (D("95"), D("3.00")),
        (D("94.999999"), D("1.00")),
        (D("90"), D("1.00")),
        (D("89.99"), D("0.00")),
        (D("0"), D("0.00")),
    ],
)
def test_it_gives_the_points_of_the_first_band_at_or_below_the_value(value: D, expected: D) -> None:
    params = parse_params(THRESHOLD, DEPARTMENT_BANDS, D("5"))
    assert leaf_points(THRESHOLD, params, D("5"), value) == expected


@pytest.mark.parametrize(
    ("bands", "max_points", "text", "expected"),
    [
        ("90:1", D("1"), "89,99", D("0.00")),  # below the lowest band
        ("90:1", D("1"), "90", D("1.00")),
        ("70:5; 50:3; 0:1", D("5"), "0", D("1.00")),  # the lowest band may give points
        ("70:5; 50:3; 0:1", D("5"), "35/50", D("5.00")),  # 70 exactly
        ("70:5; 50:3; 0:1", D("5"), "69/100", D("3.00")),
        (DEPARTMENT_BANDS, D("5"), "49/50", D("4.00")),  # 98 exactly
        (DEPARTMENT_BANDS, D("5"), "979/1000", D("3.00")),  # 97.9
        (DEPARTMENT_BANDS, D("5"), "97,5", D("3.00")),
        ("66.67:1; 66.66:0.5; 0:0", D("1"), "2/3", D("0.50")),  # 66.666… < 66.67
        ("66.67:1; 66.66:0.5; 0:0", D("1"), "66,67", D("1.00")),
        ("66.67:1; 66.66:0.5; 0:0", D("1"), "1/1,5", D("0.50")),
        ("100:1,5; 80:0,75; 0:0", D("1.5"), "4/5", D("0.75")),
        ("10:0; 5:1; 0:2", D("2"), "3", D("2.00")),  # lower is better
        ("10:0; 5:1; 0:2", D("2"), "12", D("0.00")),
    ],
)
def test_it_compares_a_typed_measure_with_the_bands_exactly(
    bands: str, max_points: D, text: str, expected: D
) -> None:
    params = parse_params(THRESHOLD, bands, max_points)
    value = parse_value(THRESHOLD, params, max_points, text)
    assert leaf_points(THRESHOLD, params, max_points, value) == expected


@pytest.mark.parametrize(
    ("target", "max_points", "text", "expected"),
    [
        ("", D("2"), "100", D("2.00")),
        ("", D("2"), "150", D("2.00")),  # capped at the target
        ("", D("2"), "50", D("1.00")),
        ("", D("2"), "33,335", D("0.67")),  # 0.6667
        ("", D("2"), "33,25", D("0.67")),  # 0.665 exactly: half up (half-even gives 0.66)
        ("", D("2"), "33,2", D("0.66")),  # 0.664
        ("", D("2"), "0,25", D("0.01")),  # 0.005 exactly
        ("", D("2"), "0,24", D("0.00")),  # 0.0048
        ("", D("2"), "0", D("0.00")),
        ("", D("2"), "2/3", D("1.33")),  # 1.3333…
        ("", D("4"), "5/6", D("3.33")),  # 3.3333…
        ("", D("1"), "2/3", D("0.67")),  # 0.6666…
        ("", D("1"), "12,345", D("0.12")),
        ("80", D("4"), "40", D("2.00")),
        ("80", D("4"), "80", D("4.00")),
        ("80", D("4"), "100", D("4.00")),
        ("80", D("3"), "7/8", D("3.00")),  # 87.5 % above the target 80
        ("80", D("3"), "25", D("0.94")),  # 0.9375
    ],
)
def test_it_gives_proportional_points_capped_at_the_target_and_rounded_half_up(
    target: str, max_points: D, text: str, expected: D
) -> None:
    params = parse_params(PROPORTIONAL, target, max_points)
    value = parse_value(PROPORTIONAL, params, max_points, text)
    assert leaf_points(PROPORTIONAL, params, max_points, value) == expected


@pytest.mark.parametrize(
    ("per_lapse", "max_points", "count", "expected"),
    [
        ("0.25", D("1"), 0, D("1.00")),
        ("0.25", D("1"), 1, D("0.75")),
        ("0.25", D("1"), 3, D("0.25")),
        ("0.25", D("1"), 4, D("0.00")),
        ("0.25", D("1"), 5, D("0.00")),  # past zero
        ("0.5", D("3"), 7, D("0.00")),
        ("1", D("2"), 1, D("1.00")),
        ("0.3", D("1"), 3, D("0.10")),
    ],
)
def test_it_deducts_per_lapse_and_never_goes_below_zero(
    per_lapse: str, max_points: D, count: int, expected: D
) -> None:
    params = parse_params(DEDUCTION, per_lapse, max_points)
    assert leaf_points(DEDUCTION, params, max_points, count) == expected


def test_a_deduction_built_in_code_with_a_finer_step_still_rounds_half_up_at_the_leaf() -> None:
    # The importer refuses per-lapse points finer than a cent; the engine still rounds safely.
    params = scoring.DeductionParams(per_lapse=D("0.125"))
    assert leaf_points(DEDUCTION, params, D("1"), 1) == D("0.88")  # 0.875 half up


@pytest.mark.parametrize(
    ("method", "params_text", "max_points", "value", "expected"),
    [
        (YES_NO, "", D("0.5"), True, D("0.50")),
        (YES_NO, "", D("0.5"), False, D("0.00")),
        (CHOICE, INITIATIVES, D("1"), "Từ 2 sáng kiến trở lên", D("1.00")),
        (CHOICE, INITIATIVES, D("1"), "1 sáng kiến", D("0.50")),
        (CHOICE, INITIATIVES, D("1"), "KHÔNG CÓ", D("0.00")),
        (CHOICE, "Tốt=2,5; Khá=1,25; Không=0", D("2.5"), "Khá", D("1.25")),
        (MANUAL, "0.5", D("7"), D("3.5"), D("3.50")),
        (MANUAL, "", D("2"), D("0.25"), D("0.25")),
        (MANUAL, "", D("2"), D("2"), D("2.00")),
        (SURVEY, "", D("4"), D("0.8"), D("3.20")),
        (SURVEY, "", D("4"), D(2) / D(3), D("2.67")),
        (SURVEY, "", D("8"), D("0.6"), D("4.80")),
        (SURVEY, "", D("3"), D("0"), D("0.00")),
        (SURVEY, "", D("3"), D("1"), D("3.00")),
    ],
)
def test_it_gives_the_points_of_every_other_method(
    method: str, params_text: str, max_points: D, value: scoring.Value, expected: D
) -> None:
    params = parse_params(method, params_text, max_points)
    points = leaf_points(method, params, max_points, value)
    assert points == expected
    assert points.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("method", "params_text", "max_points", "value"),
    [
        (MANUAL, "0.5", D("7"), D("3.25")),
        (MANUAL, "0.5", D("7"), D("7.5")),
        (MANUAL, "0.5", D("7"), D("-1")),
        (CHOICE, INITIATIVES, D("1"), "Xuất sắc"),
        (DEDUCTION, "0.25", D("1"), -1),
        (THRESHOLD, DEPARTMENT_BANDS, D("5"), D("-1")),
        (PROPORTIONAL, "", D("2"), D("-0.01")),
    ],
)
def test_it_refuses_to_score_a_value_out_of_range(
    method: str, params_text: str, max_points: D, value: scoring.Value
) -> None:
    params = parse_params(method, params_text, max_points)
    with pytest.raises(InputError):
        leaf_points(method, params, max_points, value)


@pytest.mark.parametrize(
    ("method", "params_text", "value"),
    [
        (YES_NO, "", "có"),  # not parsed
        (THRESHOLD, DEPARTMENT_BANDS, "98"),
        (DEDUCTION, "0.25", D("1")),
        (DEDUCTION, "0.25", True),
        (MANUAL, "0.5", 0.5),
        (GROUP, "", D("1")),
    ],
)
def test_it_refuses_to_score_a_value_of_the_wrong_type(
    method: str, params_text: str, value: object
) -> None:
    params = parse_params(method, params_text, D("5"))
    with pytest.raises(TypeError):
        leaf_points(method, params, D("5"), value)  # type: ignore[arg-type]


def test_it_refuses_a_survey_ratio_outside_zero_to_one() -> None:
    with pytest.raises(ValueError):
        leaf_points(SURVEY, None, D("4"), D("80"))


# --------------------------------------------------------------------------------------------
# Describe
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "params_text", "max_points", "expected"),
    [
        (YES_NO, "", D("0.5"), "Yes: 0.5 points; No: 0 points"),
        (YES_NO, "", D("1"), "Yes: 1 point; No: 0 points"),
        (
            THRESHOLD,
            DEPARTMENT_BANDS,
            D("5"),
            "Value 100 or more: 5 points; from 98: 4 points; from 95: 3 points; "
            "from 90: 1 point; below 90: 0 points (a/b is accepted and counts as 100 × a ÷ b)",
        ),
        (
            THRESHOLD,
            "70:5; 50:3; 0:1",
            D("5"),
            "Value 70 or more: 5 points; from 50: 3 points; below 50: 1 point "
            "(a/b is accepted and counts as 100 × a ÷ b)",
        ),
        (
            THRESHOLD,
            "97.5:1.5",
            D("1.5"),
            "Value 97.5 or more: 1.5 points; below 97.5: 0 points "
            "(a/b is accepted and counts as 100 × a ÷ b)",
        ),
        (
            PROPORTIONAL,
            "",
            D("2"),
            "Points = 2 × min(value, 100) / 100 (a/b is accepted and counts as 100 × a ÷ b)",
        ),
        (MANUAL, "0.5", D("7"), "0 to 7 points in steps of 0.5"),
        (DEDUCTION, "0.25", D("7"), "7 points minus 0.25 per lapse, never below 0"),
        (SURVEY, "", D("4"), "Scored by the sociological survey"),
        (
            CHOICE,
            INITIATIVES,
            D("1"),
            "Từ 2 sáng kiến trở lên: 1 point; 1 sáng kiến: 0.5 points; Không có: 0 points",
        ),
        (GROUP, "", D("13"), "Sum of its sub-items, at most 13 points"),
        (BONUS, "", D("2"), "Bonus: sum of its items, at most 2 points, added to the total"),
        (
            PENALTY,
            "",
            D("5"),
            "Penalty: sum of its items, at most 5 points, subtracted from the total",
        ),
    ],
)
def test_it_describes_how_each_method_scores(
    english: None, method: str, params_text: str, max_points: D, expected: str
) -> None:
    params = parse_params(method, params_text, max_points)
    assert describe(method, params, max_points) == expected


@pytest.mark.parametrize(
    ("method", "params_text", "max_points", "numbers"),
    [
        (YES_NO, "", D("0.5"), ["0,5"]),
        (THRESHOLD, "97.5:1.5; 0:0", D("1.5"), ["97,5", "1,5"]),
        (MANUAL, "0.5", D("7"), ["0,5"]),
        (DEDUCTION, "0.25", D("7"), ["0,25"]),
    ],
)
def test_it_describes_numbers_with_the_vietnamese_decimal_comma(
    method: str, params_text: str, max_points: D, numbers: list[str]
) -> None:
    params = parse_params(method, params_text, max_points)
    with translation.override("vi"):
        text = describe(method, params, max_points)
    for number in numbers:
        assert number in text


def test_it_describes_every_reference_criterion() -> None:
    for row in reference_rows():
        method, max_points = row["method"], D(row["max_points"])
        params = parse_params(method, row["params"], max_points)
        for language in ("vi", "en"):
            with translation.override(language):
                assert describe(method, params, max_points).strip()


# --------------------------------------------------------------------------------------------
# Aggregation
# --------------------------------------------------------------------------------------------


def leaf(code: str, max_points: str, method: str = YES_NO) -> Node:
    return Node(code, method, D(max_points))


def group(code: str, max_points: str, *children: Node, method: str = GROUP) -> Node:
    return Node(code, method, D(max_points), list(children))


def scored(**points: str | None) -> dict[str, LeafScore]:
    # scored(l1_1="1") -> {"1.1": LeafScore(D("1"))}; "na" marks not applicable.
    result = {}
    for name, value in points.items():
        code = name.removeprefix("l").replace("_", ".")
        if value == "na":
            result[code] = LeafScore(None, not_applicable=True)
        else:
            result[code] = LeafScore(None if value is None else D(value))
    return result


def test_it_sums_children_into_fields_and_the_index() -> None:
    roots = [
        group("1", "3", leaf("1.1", "1"), leaf("1.2", "2")),
        group("2", "7", leaf("2.1", "7", MANUAL)),
    ]
    totals = aggregate(roots, scored(l1_1="1", l1_2="1.5", l2_1="3.25"))
    assert totals.fields == [("1", D("2.50"), D("3.00")), ("2", D("3.25"), D("7.00"))]
    assert totals.total == D("5.75")
    assert totals.applicable_max == D("10.00")
    assert totals.index == D("57.50")
    assert totals.bonus == totals.penalty == D("0.00")
    assert totals.node_scores == {
        "1": D("2.50"),
        "1.1": D("1.00"),
        "1.2": D("1.50"),
        "2": D("3.25"),
        "2.1": D("3.25"),
    }
    assert totals.node_max == {
        "1": D("3"),
        "1.1": D("1"),
        "1.2": D("2"),
        "2": D("7"),
        "2.1": D("7"),
    }


def test_it_clamps_a_parent_to_its_maximum() -> None:
    # Children may add up to more than the parent ("at most 2 of these 3 points").
    roots = [group("1", "2", leaf("1.1", "1.5"), leaf("1.2", "1.5"))]
    totals = aggregate(roots, scored(l1_1="1.5", l1_2="1.5"))
    assert totals.node_scores["1"] == D("2.00")
    assert totals.node_max["1"] == D("2.00")
    assert totals.total == D("2.00")
    assert totals.index == D("100.00")


def test_it_clamps_a_nested_criterion_before_its_field() -> None:
    roots = [
        group(
            "1",
            "10",
            group("1.1", "2", leaf("1.1.1", "2"), leaf("1.1.2", "2")),
            leaf("1.2", "8", MANUAL),
        )
    ]
    totals = aggregate(roots, scored(l1_1_1="2", l1_1_2="2", l1_2="8"))
    assert totals.node_scores["1.1"] == D("2.00")
    assert totals.node_scores["1"] == D("10.00")
    assert totals.index == D("100.00")


def test_it_clamps_a_leaf_to_its_own_maximum_and_to_zero() -> None:
    roots = [group("1", "3", leaf("1.1", "1"), leaf("1.2", "2"))]
    totals = aggregate(roots, scored(l1_1="1.4", l1_2="-0.5"))
    assert totals.node_scores["1.1"] == D("1.00")
    assert totals.node_scores["1.2"] == D("0.00")
    assert totals.total == D("1.00")


def test_it_rounds_leaf_points_half_up_before_summing() -> None:
    roots = [group("1", "4", leaf("1.1", "2", SURVEY), leaf("1.2", "2", SURVEY))]
    totals = aggregate(roots, scored(l1_1="0.665", l1_2="0.665"))
    assert totals.node_scores["1.1"] == D("0.67")
    assert totals.total == D("1.34")  # not round(1.33) of the unrounded sum


def test_it_lowers_the_applicable_maximum_for_not_applicable_leaves() -> None:
    roots = [
        group("1", "10", leaf("1.1", "5"), leaf("1.2", "5")),
        group("2", "10", leaf("2.1", "10", MANUAL)),
    ]
    totals = aggregate(roots, scored(l1_1="na", l1_2="4", l2_1="8"))
    assert totals.node_scores["1.1"] == D("0.00")
    assert totals.node_max["1.1"] == D("0.00")
    assert totals.fields[0] == ("1", D("4.00"), D("5.00"))
    assert totals.applicable_max == D("15.00")
    assert totals.total == D("12.00")
    assert totals.index == D("80.00")


def test_it_ignores_points_given_to_a_not_applicable_leaf() -> None:
    roots = [group("1", "2", leaf("1.1", "1"), leaf("1.2", "1"))]
    scores = {"1.1": LeafScore(D("1"), not_applicable=True), "1.2": LeafScore(D("1"))}
    totals = aggregate(roots, scores)
    assert totals.node_scores["1.1"] == D("0.00")
    assert totals.fields == [("1", D("1.00"), D("1.00"))]
    assert totals.index == D("100.00")


def test_it_keeps_the_parent_cap_when_not_applicable_leaves_lower_the_sum() -> None:
    # Children worth 3 under a parent of 2: one N/A child of 1 leaves 2 applicable, not 1.
    roots = [group("1", "2", leaf("1.1", "1"), leaf("1.2", "1"), leaf("1.3", "1"))]
    totals = aggregate(roots, scored(l1_1="na", l1_2="1", l1_3="1"))
    assert totals.node_max["1"] == D("2.00")
    assert totals.index == D("100.00")


def test_it_scores_an_all_not_applicable_field_zero_out_of_zero() -> None:
    roots = [
        group("1", "10", leaf("1.1", "10", MANUAL)),
        group("3", "3", group("3.1", "2", leaf("3.1.1", "2")), leaf("3.2", "1")),
    ]
    totals = aggregate(roots, scored(l1_1="9", l3_1_1="na", l3_2="na"))
    assert totals.fields == [("1", D("9.00"), D("10.00")), ("3", D("0.00"), D("0.00"))]
    assert totals.node_max["3.1"] == D("0.00")
    assert totals.applicable_max == D("10.00")
    assert totals.index == D("90.00")


def test_it_counts_missing_and_unscored_leaves_as_zero_and_applicable() -> None:
    roots = [group("1", "4", leaf("1.1", "1"), leaf("1.2", "1"), leaf("1.3", "2"))]
    totals = aggregate(roots, scored(l1_1="1", l1_2=None))
    assert totals.node_scores["1.2"] == D("0.00")
    assert totals.node_scores["1.3"] == D("0.00")
    assert totals.applicable_max == D("4.00")
    assert totals.index == D("25.00")


def test_it_scores_a_branch_without_children_zero() -> None:
    roots = [group("1", "5"), group("2", "5", leaf("2.1", "5"))]
    totals = aggregate(roots, scored(l2_1="5"))
    assert totals.node_scores["1"] == D("0.00")
    assert totals.node_max["1"] == D("0.00")
    assert totals.applicable_max == D("5.00")


def test_it_caps_the_bonus_and_keeps_it_out_of_the_maximum() -> None:
    roots = [
        group("1", "10", leaf("1.1", "10", MANUAL)),
        group("B", "2", leaf("B.1", "1.5", MANUAL), leaf("B.2", "1"), method=BONUS),
    ]
    totals = aggregate(roots, scored(l1_1="7", B_1="1.5", B_2="1"))
    assert totals.bonus == D("2.00")
    assert totals.node_scores["B"] == D("2.00")
    assert totals.applicable_max == D("10.00")
    assert [code for code, _score, _max in totals.fields] == ["1"]
    assert totals.total == D("9.00")
    assert totals.index == D("90.00")


def test_it_caps_the_penalty_and_subtracts_it() -> None:
    roots = [
        group("1", "10", leaf("1.1", "10", MANUAL)),
        group(
            "P", "5", leaf("P.1", "2"), leaf("P.2", "3", MANUAL), leaf("P.3", "3"), method=PENALTY
        ),
    ]
    totals = aggregate(roots, scored(l1_1="9", P_1="2", P_2="2.5", P_3="3"))
    assert totals.penalty == D("5.00")
    assert totals.applicable_max == D("10.00")
    assert totals.total == D("4.00")
    assert totals.index == D("40.00")


def test_it_clamps_the_total_to_the_applicable_maximum() -> None:
    roots = [
        group("1", "10", leaf("1.1", "10", MANUAL)),
        group("B", "2", leaf("B.1", "2", MANUAL), method=BONUS),
    ]
    totals = aggregate(roots, scored(l1_1="9.5", B_1="2"))
    assert totals.bonus == D("2.00")
    assert totals.total == D("10.00")
    assert totals.index == D("100.00")


def test_it_clamps_the_total_to_zero() -> None:
    roots = [
        group("1", "10", leaf("1.1", "10", MANUAL)),
        group("P", "5", leaf("P.1", "5", MANUAL), method=PENALTY),
    ]
    totals = aggregate(roots, scored(l1_1="3", P_1="5"))
    assert totals.penalty == D("5.00")
    assert totals.total == D("0.00")
    assert totals.index == D("0.00")


@pytest.mark.parametrize(
    ("total", "applicable_max", "index"),
    [
        ("69.70", "80", D("87.13")),  # 87.125 exactly: half up
        ("87.13", "100", D("87.13")),
        ("60", "90", D("66.67")),
        ("30", "90", D("33.33")),
        ("2", "3", D("66.67")),
        ("1", "3", D("33.33")),
        ("0.01", "3", D("0.33")),
        ("49.99", "100", D("49.99")),
        ("16.99", "34", D("49.97")),  # 49.970588…
        ("0.17", "8", D("2.13")),  # 2.125 exactly
        ("0.01", "80", D("0.01")),  # 0.0125
        ("80", "80", D("100.00")),
    ],
)
def test_it_rounds_the_index_half_up_to_the_cent(total: str, applicable_max: str, index: D) -> None:
    roots = [group("1", applicable_max, leaf("1.1", applicable_max, MANUAL))]
    totals = aggregate(roots, scored(l1_1=total))
    assert totals.total == D(total)
    assert totals.index == index
    assert totals.index.as_tuple().exponent == -2


def test_it_gives_index_zero_when_nothing_is_applicable() -> None:
    roots = [
        group("1", "10", leaf("1.1", "10")),
        group("B", "2", leaf("B.1", "2", MANUAL), method=BONUS),
    ]
    totals = aggregate(roots, scored(l1_1="na", B_1="2"))
    assert totals.applicable_max == D("0.00")
    assert totals.total == D("0.00")
    assert totals.index == D("0.00")
    assert str(totals.index) == "0.00"


def test_it_gives_index_zero_for_an_empty_criteria_set() -> None:
    totals = aggregate([], {})
    assert (totals.total, totals.applicable_max, totals.index) == (D(0), D(0), D(0))
    assert totals.fields == []


def test_it_ignores_scores_given_to_branch_nodes() -> None:
    roots = [group("1", "2", leaf("1.1", "2"))]
    totals = aggregate(roots, {"1": LeafScore(D("2"), not_applicable=True), "1.1": LeafScore(D(1))})
    assert totals.fields == [("1", D("1.00"), D("2.00"))]


@pytest.mark.parametrize(
    "roots",
    [
        [leaf("1", "1")],  # a leaf at the top level
        [group("1", "2", group("1.B", "1", leaf("1.B.1", "1"), method=BONUS))],
        [group("1", "2", group("1.P", "1", leaf("1.P.1", "1"), method=PENALTY))],
        [group("1", "2", leaf("1.1", "1"), leaf("1.1", "1"))],  # a repeated code
        [group("1", "2", Node("1.1", YES_NO, D(1), [leaf("1.1.1", "1")]))],  # a leaf with children
        [group("1", "2", leaf("1.1", "1", "percentage"))],
    ],
)
def test_it_refuses_a_malformed_criteria_tree(roots: list[Node]) -> None:
    with pytest.raises(ValueError):
        aggregate(roots, {})


def full_marks(rows: list[dict[str, str]]) -> dict[str, LeafScore]:
    scores = {}
    for row in rows:
        if row["method"] in scoring.LEAF_METHODS:
            scores[row["code"]] = LeafScore(D(row["max_points"]))
    return scores


@pytest.mark.parametrize("file_name", ["criteria-departments.csv", "criteria-districts.csv"])
def test_it_gives_full_marks_100_on_the_reference_criteria(file_name: str) -> None:
    roots, rows = reference_tree(file_name)
    scores = {
        code: score for code, score in full_marks(rows).items() if not code.startswith(("B.", "P."))
    }
    totals = aggregate(roots, scores)
    assert totals.applicable_max == D("100.00")
    assert totals.total == D("100.00")
    assert totals.index == D("100.00")
    for code, score, maximum in totals.fields:
        assert score == maximum, code


def test_it_takes_field_3_out_of_the_maximum_for_a_unit_without_procedures() -> None:
    # reference/units.csv: a unit that settles no procedures has its N/A-able leaves of
    # field 3 marked not applicable; in the departments set that is the whole field.
    roots, rows = reference_tree("criteria-departments.csv")
    scores = full_marks(rows)
    not_applicable = [
        row["code"]
        for row in rows
        if row["allows_na"] == "x"
        and row["code"].startswith("3.")
        and row["method"] in scoring.LEAF_METHODS
    ]
    for code in not_applicable:
        scores[code] = LeafScore(None, not_applicable=True)
    scores["1.1.1"] = LeafScore(D("0"))  # lose 0.5
    scores["P.1"] = LeafScore(D("0"))
    scores["P.2"] = LeafScore(D("1"))
    scores["B.1"] = LeafScore(D("0.5"))
    scores["B.2"] = LeafScore(D("0"))
    totals = aggregate(roots, scores)
    assert dict((code, maximum) for code, _score, maximum in totals.fields)["3"] == D("0.00")
    assert totals.applicable_max == D("80.00")
    assert totals.bonus == D("0.50")
    assert totals.penalty == D("1.00")
    assert totals.total == D("79.00")  # 80 - 0.5 + 0.5 - 1
    assert totals.index == D("98.75")


# --------------------------------------------------------------------------------------------
# Classification and ranking
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "band"),
    [
        (D("100"), BAND_GOOD),
        (D("85"), BAND_GOOD),
        (D("85.00"), BAND_GOOD),
        (D("84.99"), BAND_FAIR),
        (D("70"), BAND_FAIR),
        (D("69.99"), BAND_AVERAGE),
        (D("50"), BAND_AVERAGE),
        (D("49.99"), BAND_WEAK),
        (D("0"), BAND_WEAK),
        (D("-1"), BAND_WEAK),
    ],
)
def test_it_classifies_on_inclusive_lower_bounds(index: D, band: str) -> None:
    bands = [(BAND_GOOD, D(85)), (BAND_FAIR, D(70)), (BAND_AVERAGE, D(50)), (BAND_WEAK, D(0))]
    assert classify(index, bands) == band
    assert classify(index, scoring.DEFAULT_BANDS) == band


def test_it_gives_the_last_band_to_an_index_below_every_bound() -> None:
    bands = [("Xuất sắc", D(90)), ("Đạt", D(60))]
    assert classify(D("59.99"), bands) == "Đạt"
    assert classify(D("60"), bands) == "Đạt"
    assert classify(D("90"), bands) == "Xuất sắc"


def test_it_refuses_to_classify_without_bands() -> None:
    with pytest.raises(ValueError):
        classify(D(50), [])


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        ("Sở Xây dựng", "Sở Y tế"),
        ("Dương", "Đông Lâm"),
        ("Duy", "Dương"),
        ("Dz", "Đa"),
        ("An", "Ăn"),
        ("Ăn", "Ân"),
        ("An", "Ân"),
        ("Ân", "Bình"),
        ("Ây", "Ba"),
        ("Em", "Êm"),
        ("Êy", "Ga"),
        ("Oa", "Ôa"),
        ("Ôy", "Ơa"),
        ("Ơy", "Pa"),
        ("Uy", "Ưa"),
        ("UBND huyện Uông Bí", "UBND huyện Ưng Hòa"),
        ("Ưy", "Va"),
        ("Xuân", "Yên"),
        ("an", "Ân"),  # case-insensitive
        ("An Hòa", "Anh"),  # a space comes before any letter
        ("Phường 2", "Phường 10"),  # numbers by value
        ("ma", "mà"),  # tones: none < huyền < hỏi < ngã < sắc < nặng
        ("mà", "mả"),
        ("mả", "mã"),
        ("mã", "má"),
        ("má", "mạ"),
        ("mạ", "mac"),  # letters before tones
        ("Hòa Bình", "Hóa Bình"),
    ],
)
def test_it_sorts_names_in_vietnamese_alphabetical_order(earlier: str, later: str) -> None:
    assert vietnamese_sort_key(earlier) < vietnamese_sort_key(later)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Bình Sơn", "BÌNH SƠN"),
        ("Hòa Tân", "Hoà Tân"),  # old tone placement
        ("Hòa Tân", nfd("Hòa Tân")),
        ("Đông Lâm", "\u00d0ông Lâm"),  # Icelandic eth typed for Đ
        ("Sở  Y   tế", "Sở Y tế"),
    ],
)
def test_it_sorts_spelling_variants_of_a_name_together(first: str, second: str) -> None:
    assert vietnamese_sort_key(first)[:2] == vietnamese_sort_key(second)[:2]


def test_it_sorts_the_reference_districts_in_vietnamese_order() -> None:
    expected = [
        "UBND huyện An Hòa",
        "UBND huyện Bình Sơn",
        "UBND huyện Cẩm Giang",
        "UBND huyện Đông Lâm",
        "UBND huyện Hòa Tân",
        "UBND huyện Phú Xuân",
        "UBND huyện Tân Hưng",
        "UBND huyện Vĩnh Thạnh",
        "UBND thành phố Minh Phú",
        "UBND thị xã Long Điền",
    ]
    shuffled = [expected[i] for i in (7, 2, 9, 0, 5, 3, 8, 1, 6, 4)]
    assert sorted(shuffled, key=vietnamese_sort_key) == expected


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        (
            [
                ("SYT", "Sở Y tế", D("80")),
                ("BDT", "Ban Dân tộc", D("70")),
                ("SXD", "Sở Xây dựng", D("80")),
                ("STP", "Sở Tư pháp", D("91.25")),
            ],
            [("STP", 1), ("SXD", 2), ("SYT", 2), ("BDT", 4)],
        ),
        (
            [
                ("HDL", "UBND huyện Đông Lâm", D("75.5")),
                ("HDU", "UBND huyện Dương Minh", D("75.50")),
                ("HUN", "UBND huyện Ưng Hòa", D("75.5")),
                ("HUO", "UBND huyện Uông Bí", D("75.5")),
                ("HAH", "UBND huyện An Hòa", D("60")),
                ("TP", "UBND thành phố Minh Phú", D("90")),
            ],
            [("TP", 1), ("HDU", 2), ("HDL", 2), ("HUO", 2), ("HUN", 2), ("HAH", 6)],
        ),
        (
            [(1, "B", D("87.125")), (2, "A", D("87.13")), (3, "C", D("87.12"))],
            [(2, 1), (1, 1), (3, 3)],  # compared as shown, at two places
        ),
        (
            [(1, "Ân", D("0")), (2, "An", D("0")), (3, "Ăn", D("0"))],
            [(2, 1), (3, 1), (1, 1)],
        ),
        ([("X", "Sở X", D("50"))], [("X", 1)]),
        ([], []),
    ],
)
def test_it_ranks_ties_together_and_lists_them_alphabetically(
    entries: list[tuple[object, str, D]], expected: list[tuple[object, int]]
) -> None:
    assert rank(entries) == expected


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("manual", "0.125"),
        ("deduction", "0.333"),
        ("choice", "A=0.125; B=0"),
        ("threshold", "90:0.125; 0:0"),
    ],
)
def test_it_refuses_params_with_points_finer_than_a_cent(method: str, params: str) -> None:
    with (
        translation.override("en"),
        pytest.raises(scoring.ParamsError, match="at most two decimals"),
    ):
        scoring.parse_params(method, params, D("1"))
