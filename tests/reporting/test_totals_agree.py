"""One unit, one set of numbers (DESIGN §4.4): the self total, the appraised (provisional)
total and their difference agree on the council's round and unit pages, the secretariat
dashboard, the unit's own pages, the round workbook and the PDFs — on a round with survey
scores, a unit appraised below its self score, one only submitted and one still a draft."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from assessments import results, scoring
from assessments import services as unit_services
from assessments.models import ItemScore, Round, UnitAssessment
from tests.builders import appraised, submitted
from tests.conftest import client_for, unit_user
from tests.reporting.test_pdf import pdf_text
from tests.reporting.test_workbook import DATA_ROW, open_book, ranking_sheets

pytestmark = pytest.mark.django_db


def with_survey(assessment: UnitAssessment, share: str) -> None:
    """Survey points as the survey would give them: ``share`` of each survey leaf's maximum."""
    for item in ItemScore.objects.filter(
        assessment=assessment, criterion__method=scoring.SURVEY
    ).select_related("criterion"):
        item.survey_score = scoring.round_half_up(item.criterion.max_points * Decimal(share))
        item.save(update_fields=["survey_score"])


@pytest.fixture
def round_with_survey(
    criteria_sets: Any,
    units: Any,
    open_round: Round,
    leader: Any,
    appraiser: Any,
    secretariat_lead: Any,
) -> dict[str, UnitAssessment]:
    stp = unit_services.get_or_create_assessment(open_round, units["STP"])
    syt = unit_services.get_or_create_assessment(open_round, units["SYT"])
    hbs = unit_services.get_or_create_assessment(open_round, units["HBS"])
    for assessment, share in ((stp, "0.8"), (syt, "0.6"), (hbs, "0.5")):
        with_survey(assessment, share)
    # STP claims full marks on 3.3 (96 % of its procedures online); appraisal gives 90 %.
    stp = appraised(
        submitted(stp, leader, {"3.3": "100", "1.1.1": "có"}),
        appraiser,
        secretariat_lead,
        scores={"3.3": "90"},
    )
    syt_leader = unit_user("syt", units["SYT"], "leader")
    syt = submitted(syt, syt_leader)
    return {"STP": stp, "SYT": syt, "HBS": hbs}


def points_text(value: Decimal) -> str:
    return scoring.format_points(value)


def test_every_page_shows_the_same_totals(
    round_with_survey: dict[str, UnitAssessment],
    open_round: Round,
    chair: Any,
    secretariat_lead: Any,
    leader: Any,
) -> None:
    ledger = results.compute(open_round, provisional=True).by_code()
    stp = ledger["STP"]
    assert stp.difference < 0  # the appraisal lowered STP
    assert stp.self_total != stp.total
    assert all(unit.self_total > 0 for unit in ledger.values())  # survey points on both sides

    # The council's round page.
    rows = {
        row.code: row
        for group in client_for(chair).get(reverse("council_round", args=[2016])).context["groups"]
        for row in group.rows
    }
    for code, unit in ledger.items():
        assert (rows[code].self_total, rows[code].total, rows[code].difference) == (
            unit.self_total,
            unit.total,
            unit.difference,
        ), code

    # The council's unit page.
    for code, unit in ledger.items():
        page = client_for(chair).get(reverse("council_unit", args=[2016, code]))
        result = page.context["result"]
        assert (result.self_total, result.total, result.difference) == (
            unit.self_total,
            unit.total,
            unit.difference,
        ), code
        assert sum(f.score for f in result.fields) + result.bonus - result.penalty >= result.total

    # The secretariat dashboard.
    board = client_for(secretariat_lead).get(reverse("secretariat_dashboard", args=[2016]))
    by_code = {row.unit.code: row for block in board.context["board"].groups for row in block.rows}
    for code, unit in ledger.items():
        assert by_code[code].result is not None
        assert (by_code[code].result.self_total, by_code[code].result.total) == (
            unit.self_total,
            unit.total,
        ), code
    assert by_code["STP"].difference == stp.difference
    html = board.content.decode()
    assert f'data-testid="self-total">{points_text(stp.self_total)}<' in html
    assert f'data-testid="total">{points_text(stp.total)}<' in html

    # The unit's own workspace and sign-off page: its self total (survey points included).
    for name in ("unit_workspace", "sign_off"):
        page = client_for(leader).get(reverse(name, args=[2016, "STP"]))
        assert page.context["workspace"].totals.total == stp.self_total, name

    # The round workbook (provisional) and the self-assessment PDF.
    book = open_book(client_for(secretariat_lead).get(reverse("round_workbook", args=[2016])))
    totals = {}
    for sheet in ranking_sheets(book):
        for row in sheet.iter_rows(min_row=DATA_ROW, values_only=True):
            totals[row[1]] = (Decimal(str(row[3])), Decimal(str(row[5])))
    for code, unit in ledger.items():
        assert totals[code] == (unit.index, unit.total), code
    text = pdf_text(
        client_for(leader).get(reverse("pdf_self_assessment", args=[2016, "STP"])).content
    )
    assert points_text(stp.self_total) in text
