"""The appraisal pages of issue 10 run a fixed number of queries, measured at 5 and at 30
units with the same pinned count (tests/queries.py): the appraiser's and the lead's list of
units, the unit page, and the confirmations of finishing round 1 and of submitting the
explanations."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments import services as unit_services
from assessments.models import ItemScore, Round, Unit, UnitAssessment, UnitGroup, UnitRole
from councils import services
from tests.builders import small_rows, submitted
from tests.conftest import client_for, unit_user
from tests.queries import Counted, assert_pinned, queries_of

pytestmark = pytest.mark.django_db

# page -> pinned number of queries (the same at 5 and at 30 units).
PINNED = {
    "appraisal home (appraiser)": 12,
    "appraisal home (lead)": 12,
    "appraisal of one unit (appraiser)": 14,
    "appraisal of one unit (lead)": 12,
    "confirm finishing round 1": 9,
    "confirm submitting the explanations": 10,
}


def add_units(round_: Round, group: UnitGroup, count: int, start: int) -> list[UnitAssessment]:
    """``count`` units, each filled and submitted by its leader."""
    done = []
    for number in range(start, start + count):
        unit = Unit.objects.create(code=f"Q{number:02d}", name=f"Đơn vị {number:02d}", group=group)
        leader = unit_user(f"q{number:02d}", unit, UnitRole.LEADER)
        done.append(submitted(unit_services.get_or_create_assessment(round_, unit), leader))
    return done


def accept_all(assessment: UnitAssessment, by: Any) -> None:
    for item in ItemScore.objects.filter(assessment=assessment).select_related("criterion"):
        item.assessment = assessment
        services.accept_self_score(item, by=by)


def posted(client: Client, url: str, data: dict[str, str]) -> Counted:
    """The SQL of one POST that answers with the confirmation page (200)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.post(url, data)
    assert response.status_code == 200, (url, response.status_code)
    return Counted(
        url, len(captured.captured_queries), [q["sql"] for q in captured.captured_queries]
    )


def measure(people: dict[str, Any], first: list[UnitAssessment]) -> dict[str, Counted]:
    plain, finishing, explaining = (a.unit.code for a in first)
    leader = first[2].unit.memberships.get(role=UnitRole.LEADER).user
    appraiser, lead = client_for(people["appraiser"]), client_for(people["lead"])
    return {
        "appraisal home (appraiser)": queries_of(appraiser, reverse("appraisal_home")),
        "appraisal home (lead)": queries_of(lead, reverse("appraisal_home")),
        "appraisal of one unit (appraiser)": queries_of(
            appraiser, reverse("appraisal_unit", args=[2016, plain])
        ),
        "appraisal of one unit (lead)": queries_of(
            lead, reverse("appraisal_unit", args=[2016, plain])
        ),
        "confirm finishing round 1": posted(
            lead, reverse("appraisal_finish", args=[2016, finishing]), {"round": "1"}
        ),
        "confirm submitting the explanations": posted(
            client_for(leader),
            reverse("unit_explanations", args=[2016, explaining]),
            {"action": "submit"},
        ),
    }


def test_the_appraisal_pages_run_the_same_pinned_queries_for_5_and_for_30_units(
    open_round: Round, groups: dict[str, UnitGroup], secretariat_lead: Any, appraiser: Any
) -> None:
    criteria_set = unit_services.import_criteria_set(
        open_round, groups["SO"], small_rows(6), by=None
    )
    services.assign_appraisers(
        criteria_set, criteria_set.criteria.get(code="1"), appraiser, by=secretariat_lead
    )
    people = {"lead": secretariat_lead, "appraiser": appraiser}
    first = add_units(open_round, groups["SO"], 5, 1)[:3]
    accept_all(first[1], appraiser)
    accept_all(first[2], appraiser)
    services.flag_explanation(
        ItemScore.objects.select_related("criterion", "assessment").get(
            assessment=first[2], criterion__code="1.1"
        ),
        "Vì sao?",
        by=appraiser,
    )
    services.finish_round1(UnitAssessment.objects.get(pk=first[2].pk), by=secretariat_lead)
    small = measure(people, first)
    add_units(open_round, groups["SO"], 25, 6)
    large = measure(people, first)
    for page, pinned in PINNED.items():
        assert_pinned(small[page], large[page], pinned)
