"""Which score counts (DESIGN §4.4), table-driven: the one rule every page reads through
``assessments.results``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from assessments import results
from assessments.scoring import LeafScore

D = Decimal
NOW = "2016-01-05T09:30"  # any set "appraised at" marks the round as done

BASE: dict[str, Any] = {
    "criterion__method": "manual",
    "self_score": D("4"),
    "not_applicable": False,
    "appraisal1_at": None,
    "appraisal1_score": None,
    "appraisal1_na": False,
    "appraisal2_at": None,
    "appraisal2_score": None,
    "appraisal2_na": False,
    "survey_score": D("0.75"),
}


def row(**changes: Any) -> dict[str, Any]:
    return {**BASE, **changes}


@pytest.mark.parametrize(
    ("changes", "appraised"),
    [
        ({}, None),  # before appraisal: nothing
        ({"appraisal1_at": NOW, "appraisal1_score": D("3")}, LeafScore(D("3"), False)),
        ({"appraisal1_at": NOW, "appraisal1_na": True}, LeafScore(None, True)),
        (
            {
                "appraisal1_at": NOW,
                "appraisal1_score": D("3"),
                "appraisal2_at": NOW,
                "appraisal2_score": D("5"),
            },
            LeafScore(D("5"), False),
        ),
        (
            {"appraisal1_at": NOW, "appraisal1_score": D("3"), "appraisal2_at": NOW},
            LeafScore(None, False),  # round 2 appraised it to nothing: 0, not round 1's 3
        ),
        # Round 2 typed but not saved (no "at"): round 1 counts.
        (
            {"appraisal1_at": NOW, "appraisal1_score": D("3"), "appraisal2_score": D("5")},
            LeafScore(D("3"), False),
        ),
        ({"criterion__method": "survey"}, LeafScore(D("0.75"), False)),
        ({"criterion__method": "survey", "appraisal1_at": NOW}, LeafScore(D("0.75"), False)),
    ],
)
def test_the_appraised_score_is_round_2_else_round_1_and_survey_leaves_their_survey(
    changes: dict[str, Any], appraised: LeafScore | None
) -> None:
    assert results.appraised_leaf(row(**changes)) == appraised


@pytest.mark.parametrize(
    ("changes", "provisional", "submitted", "counted"),
    [
        ({}, True, True, LeafScore(D("4"), False)),  # provisional: the self score
        ({}, False, True, LeafScore(None, False)),  # final: nothing before appraisal
        ({}, True, False, LeafScore(None, False)),  # a draft counts 0 (§4.4)
        ({"not_applicable": True, "self_score": None}, True, True, LeafScore(None, True)),
        ({"not_applicable": True, "self_score": None}, True, False, LeafScore(None, False)),
        ({"appraisal1_at": NOW, "appraisal1_score": D("2")}, True, True, LeafScore(D("2"), False)),
        ({"appraisal1_at": NOW, "appraisal1_score": D("2")}, False, True, LeafScore(D("2"), False)),
        ({"criterion__method": "survey"}, False, False, LeafScore(D("0.75"), False)),
    ],
)
def test_the_score_that_counts(
    changes: dict[str, Any], provisional: bool, submitted: bool, counted: LeafScore
) -> None:
    assert (
        results.counted_leaf(row(**changes), provisional=provisional, submitted=submitted)
        == counted
    )


@pytest.mark.parametrize(
    ("changes", "submitted", "own"),
    [
        ({}, True, LeafScore(D("4"), False)),
        ({}, False, LeafScore(None, False)),
        ({"criterion__method": "survey"}, True, LeafScore(D("0.75"), False)),  # both sides
        ({"criterion__method": "survey"}, False, LeafScore(D("0.75"), False)),
    ],
)
def test_the_self_score_takes_the_same_survey_score(
    changes: dict[str, Any], submitted: bool, own: LeafScore
) -> None:
    assert results.self_leaf(row(**changes), submitted=submitted) == own


def test_an_item_changed_by_appraisal() -> None:
    same = results.item_scores(row(appraisal1_at=NOW, appraisal1_score=D("4")))
    lower = results.item_scores(row(appraisal1_at=NOW, appraisal1_score=D("3")))
    refused_na = results.item_scores(
        row(not_applicable=True, self_score=None, appraisal1_at=NOW, appraisal1_score=D("0"))
    )
    survey = results.item_scores(row(criterion__method="survey"))
    assert not same.changed_by_appraisal
    assert (lower.changed_by_appraisal, lower.final_points - lower.self_points) == (True, D("-1"))
    assert refused_na.changed_by_appraisal and refused_na.final_points == 0
    assert (survey.unit_score, survey.final_points, survey.changed_by_appraisal) == (
        None,
        D("0.75"),
        False,
    )
