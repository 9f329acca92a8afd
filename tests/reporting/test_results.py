"""The results engine to the cent (DESIGN §4.3–§4.6): ranks, ties, bands, N/A, caps,
provisional vs final, and a fixed number of queries."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments import results
from assessments import services as unit_services
from assessments.importers import CriterionRow
from assessments.models import AssessmentState, ItemScore, Round, Unit, UnitAssessment

pytestmark = pytest.mark.django_db

D = Decimal


def rows() -> list[CriterionRow]:
    def row(
        code: str,
        method: str,
        max_points: str,
        params: str = "",
        allows_na: bool = False,
        position: int = 0,
    ) -> CriterionRow:
        parent = code.rsplit(".", 1)[0] if "." in code else None
        return CriterionRow(
            code,
            f"Mục {code}",
            D(max_points),
            method,
            params,
            allows_na,
            False,
            "",
            "",
            "",
            parent,
            position,
        )

    return [
        row("1", "group", "90", position=1),
        row("1.1", "manual", "80", "0.01", position=2),
        row("1.2", "yes_no", "10", allows_na=True, position=3),
        row("2", "group", "10", position=4),
        row("2.1", "survey", "10", position=5),
        row("B", "bonus", "2", position=6),
        row("B.1", "manual", "3", "0.5", position=7),
        row("P", "penalty", "3", position=8),
        row("P.1", "manual", "5", "0.5", position=9),
    ]


@pytest.fixture
def round_(groups: Any) -> Round:
    round_ = Round.objects.create(
        year=2050,
        opens_at=timezone.now() - datetime.timedelta(days=60),
        self_assessment_deadline=timezone.now() - datetime.timedelta(days=30),
    )
    unit_services.import_criteria_set(round_, groups["SO"], rows(), by=None)
    return round_


def unit_with(
    round_: Round,
    groups: Any,
    code: str,
    name: str,
    state: str = AssessmentState.APPRAISED,
    **scores: Any,
) -> UnitAssessment:
    """scores: self_<code>, a1_<code>, na_<code> (appraised N/A), survey_<code>, using '_' for '.'."""
    unit = Unit.objects.create(code=code, name=name, group=groups["SO"])
    assessment = unit_services.get_or_create_assessment(round_, unit)
    for item in ItemScore.objects.filter(assessment=assessment).select_related("criterion"):
        key = item.criterion.code.replace(".", "_")
        if f"self_{key}" in scores:
            item.self_score = D(scores[f"self_{key}"])
        if f"a1_{key}" in scores:
            item.appraisal1_at, item.appraisal1_score = timezone.now(), D(scores[f"a1_{key}"])
        if scores.get(f"na_{key}"):
            item.appraisal1_at, item.appraisal1_score, item.appraisal1_na = (
                timezone.now(),
                None,
                True,
            )
        if f"survey_{key}" in scores:
            item.survey_score = D(scores[f"survey_{key}"])
        item.save()
    UnitAssessment.objects.filter(pk=assessment.pk).update(state=state, submitted_at=timezone.now())
    return assessment


def result_of(round_: Round, code: str, provisional: bool = False) -> results.UnitResult:
    data = results.compute(round_, provisional=provisional)
    return next(u for g in data.groups for u in g.units if u.code == code)


def test_the_index_bands_and_boundaries(round_: Round, groups: Any) -> None:
    unit_with(
        round_, groups, "A85", "Đơn vị A", a1_1_1="75", a1_1_2="10", a1_B_1="0", a1_P_1="0"
    )  # 85 / 100
    unit_with(
        round_, groups, "B8499", "Đơn vị B", a1_1_1="74.99", a1_1_2="10", a1_B_1="0", a1_P_1="0"
    )
    unit_with(round_, groups, "C", "Đơn vị C", a1_1_1="40", a1_1_2="10", a1_B_1="0", a1_P_1="0")
    assert (result_of(round_, "A85").index, result_of(round_, "A85").band) == (D("85.00"), "Tốt")
    assert (result_of(round_, "B8499").index, result_of(round_, "B8499").band) == (
        D("84.99"),
        "Khá",
    )
    assert result_of(round_, "C").band == "Trung bình"


def test_shared_ranks_with_alphabetical_order_within_a_tie(round_: Round, groups: Any) -> None:
    unit_with(round_, groups, "X1", "Sở Y tế", a1_1_1="60", a1_1_2="10")
    unit_with(round_, groups, "X2", "Sở Đông", a1_1_1="60", a1_1_2="10")  # Đ after D, before E
    unit_with(round_, groups, "X3", "Sở Dân", a1_1_1="60", a1_1_2="10")
    unit_with(round_, groups, "X4", "Sở Ánh", a1_1_1="70", a1_1_2="10")
    unit_with(round_, groups, "X5", "Sở Bình", a1_1_1="10", a1_1_2="0")
    group = results.compute(round_, provisional=False).groups[0]
    assert [(u.name, u.rank) for u in group.units] == [
        ("Sở Ánh", 1),
        ("Sở Dân", 2),
        ("Sở Đông", 2),
        ("Sở Y tế", 2),
        ("Sở Bình", 5),
    ]


def test_an_accepted_not_applicable_lowers_the_applicable_maximum(
    round_: Round, groups: Any
) -> None:
    unit_with(round_, groups, "NA", "Văn phòng", a1_1_1="72", na_1_2=True)
    result = result_of(round_, "NA")
    assert (result.total, result.applicable_max, result.index) == (
        D("72.00"),
        D("90.00"),
        D("80.00"),
    )


def test_bonus_and_penalty_are_capped_and_the_total_clamped(round_: Round, groups: Any) -> None:
    unit_with(
        round_,
        groups,
        "BP",
        "Đơn vị thưởng",
        a1_1_1="80",
        a1_1_2="10",
        a1_B_1="3",
        a1_P_1="0",
        survey_2_1="10",
    )
    unit_with(round_, groups, "PP", "Đơn vị phạt", a1_1_1="1", a1_1_2="0", a1_B_1="0", a1_P_1="5")
    top = result_of(round_, "BP")
    assert (top.bonus, top.total, top.index) == (
        D("2.00"),
        D("100.00"),
        D("100.00"),
    )  # clamped to max
    low = result_of(round_, "PP")
    assert (low.penalty, low.total, low.index) == (D("3.00"), D("0.00"), D("0.00"))  # never below 0


def test_provisional_uses_self_scores_where_there_is_no_appraisal_and_final_does_not(
    round_: Round, groups: Any
) -> None:
    unit_with(
        round_,
        groups,
        "PR",
        "Đơn vị tạm",
        state=AssessmentState.APPRAISING,
        self_1_1="50",
        self_1_2="10",
        a1_1_2="0",
    )
    assert result_of(round_, "PR", provisional=True).total == D("50.00")  # self 50 + appraised 0
    assert result_of(round_, "PR", provisional=False).total == D("0.00")


def test_a_unit_that_never_submitted_scores_zero_but_keeps_its_survey(
    round_: Round, groups: Any
) -> None:
    unit_with(
        round_,
        groups,
        "DR",
        "Đơn vị chưa nộp",
        state=AssessmentState.DRAFT,
        self_1_1="80",
        survey_2_1="7.5",
    )
    result = result_of(round_, "DR", provisional=True)
    assert (result.total, result.self_total) == (
        D("7.50"),
        D("7.50"),
    )  # survey counts on both sides


def test_fields_are_ranked_too(round_: Round, groups: Any) -> None:
    unit_with(round_, groups, "F1", "Một", a1_1_1="10", a1_1_2="0", survey_2_1="9")
    unit_with(round_, groups, "F2", "Hai", a1_1_1="70", a1_1_2="10", survey_2_1="3")
    group = results.compute(round_, provisional=False).groups[0]
    by_code = {u.code: u for u in group.units}
    assert [f.rank for f in by_code["F1"].fields] == [2, 1]
    assert [f.rank for f in by_code["F2"].fields] == [1, 2]
    ranking = results.criterion_ranking(group, "1.1")
    assert [(u.code, score, share, rank) for u, score, share, rank in ranking] == [
        ("F2", D("70.00"), D("87.50"), 1),
        ("F1", D("10.00"), D("12.50"), 2),
    ]


def test_field_and_criterion_ranks_are_on_the_percentage_of_the_applicable_maximum(
    round_: Round, groups: Any
) -> None:
    # §4.5: N/A items leave the maximum. N/A on 1.2 (10 points): 57/80 = 71,25 % of field 1,
    # more than 50/90 = 55,56 % and 43/90 = 47,78 %, though fewer raw points than both.
    unit_with(round_, groups, "NA", "Đơn vị có mục không áp dụng", a1_1_1="57", na_1_2=True)
    unit_with(round_, groups, "R1", "Đơn vị A", a1_1_1="40", a1_1_2="10")
    unit_with(round_, groups, "R2", "Đơn vị B", a1_1_1="33", a1_1_2="10")
    group = results.compute(round_, provisional=False).groups[0]
    field_1 = {
        u.code: (u.fields[0].score, u.fields[0].share, u.fields[0].rank) for u in group.units
    }
    assert field_1 == {
        "NA": (D("57.00"), D("71.25"), 1),
        "R1": (D("50.00"), D("55.56"), 2),
        "R2": (D("43.00"), D("47.78"), 3),
    }
    assert [(u.code, rank) for u, _s, _p, rank in results.criterion_ranking(group, "1")] == [
        ("NA", 1),
        ("R1", 2),
        ("R2", 3),
    ]
    # A node that does not apply to a unit at all gives it no rank there, last.
    ranking = results.criterion_ranking(group, "1.2")
    assert [(u.code, share, rank) for u, _s, share, rank in ranking] == [
        ("R1", D("100.00"), 1),
        ("R2", D("100.00"), 1),
        ("NA", None, None),
    ]
    # The same ranks from the §10 JSON (the PDFs and workbooks read snapshots).
    ranks = results.field_ranks_of(
        results.as_json(results.compute(round_, provisional=False))["groups"][0]
    )
    assert {code: by_field["1"] for code, by_field in ranks.items()} == {"NA": 1, "R1": 2, "R2": 3}


def test_equal_percentages_share_a_field_rank(round_: Round, groups: Any) -> None:
    unit_with(round_, groups, "E1", "Đơn vị Một", a1_1_1="40", na_1_2=True)  # 40/80 = 50 %
    unit_with(round_, groups, "E2", "Đơn vị Hai", a1_1_1="35", a1_1_2="10")  # 45/90 = 50 %
    unit_with(round_, groups, "E3", "Đơn vị Ba", a1_1_1="80", a1_1_2="10")
    group = results.compute(round_, provisional=False).groups[0]
    assert {u.code: u.fields[0].rank for u in group.units} == {"E3": 1, "E1": 2, "E2": 2}


def test_the_json_of_section_10(round_: Round, groups: Any) -> None:
    unit_with(
        round_,
        groups,
        "STX",
        "Sở Tư pháp X",
        a1_1_1="80",
        a1_1_2="10",
        a1_B_1="1",
        a1_P_1="0",
        survey_2_1="1.25",
    )
    data = results.as_json(results.compute(round_, provisional=False))
    unit = data["groups"][0]["units"][0]
    assert data["round"] == 2050 and data["provisional"] is False
    assert list(unit) == [
        "code",
        "name",
        "rank",
        "index",
        "total",
        "applicable_max",
        "band",
        "bonus",
        "penalty",
        "fields",
    ]
    assert (unit["index"], unit["total"], unit["bonus"], unit["band"]) == (
        "92.25",
        "92.25",
        "1.00",
        "Tốt",
    )  # 90 + 1,25 + 1
    assert unit["fields"] == [
        {"code": "1", "score": "90.00", "max": "90.00"},
        {"code": "2", "score": "1.25", "max": "10.00"},
    ]


def test_compute_runs_the_same_queries_for_5_and_30_units(groups: Any) -> None:
    counts = []
    for year, how_many in ((2051, 5), (2052, 30)):
        round_ = Round.objects.create(
            year=year, opens_at=timezone.now() - datetime.timedelta(days=9)
        )
        unit_services.import_criteria_set(round_, groups["SO"], rows(), by=None)
        for n in range(how_many):
            unit_with(round_, groups, f"Q{year}{n:02d}", f"Đơn vị {n:02d}", a1_1_1="50")
        with CaptureQueriesContext(connection) as queries:
            results.compute(round_, provisional=False)
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 5, counts


def test_a_unit_created_after_the_round_neither_blocks_approval_nor_joins_it(
    round_: Round, groups: Any, chair: Any
) -> None:
    from assessments.services import lock_deadlines
    from reporting import services as publication

    unit_with(round_, groups, "OK1", "Đơn vị một", a1_1_1="50")
    lock_deadlines()  # closes the round's roll of units
    Unit.objects.create(code="MOI", name="Sở mới", group=groups["SO"])
    assert publication.not_appraised(Round.objects.get(pk=round_.pk)) == []
    publication.approve_round(
        Round.objects.get(pk=round_.pk),
        by=chair,
        number="1/QĐ",
        date=datetime.date(2050, 3, 1),
        signer="Lộc",
    )
    lock_deadlines()
    assert not UnitAssessment.objects.filter(round=round_, unit__code="MOI").exists()


def test_the_open_data_keeps_the_documented_key_order(
    round_: Round, groups: Any, chair: Any
) -> None:
    import json

    from reporting import services as publication
    from reporting.public_views import json_text

    unit_with(round_, groups, "K1", "Đơn vị", a1_1_1="50")
    snapshot = publication.approve_round(
        round_, by=chair, number="2/QĐ", date=datetime.date(2050, 3, 1), signer="Lộc"
    )
    snapshot.refresh_from_db()  # read back from the database (jsonb on PostgreSQL)
    unit = json.loads(json_text(snapshot.data))["groups"][0]["units"][0]
    assert list(unit) == list(results.UNIT_KEYS)
