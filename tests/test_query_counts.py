"""Every page that lists units, items or documents runs a fixed number of queries: measured at
5 and at 30 units with the same pinned count (tests/queries.py). Pages pinned in their own
modules: the dashboard, the council round page, the field table, the public pages, the
workbooks, the province report, the inbox, the library, the criteria browser."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from assessments import services as unit_services
from assessments.models import Round, Unit, UnitAssessment, UnitGroup, UnitRole
from tests.builders import appraised, small_rows, submitted
from tests.conftest import client_for, unit_user
from tests.queries import Counted, assert_pinned, queries_of

pytestmark = pytest.mark.django_db

# page -> pinned number of queries (the same at 5 and at 30 units).
PINNED = {
    # Task-first home pages: the counts of each role's tasks are aggregated in the database.
    "home (secretariat lead)": 10,
    "home (chair)": 11,
    "home (appraiser)": 10,
    "home (unit leader)": 7,
    "appraiser's assignments": 9,
    "appraisal of one unit": 14,
    "council's rounds": 8,
    "approval page": 15,
    "council's unit page": 12,
    "unit workspace": 14,
    "item page": 14,
    "sign-off": 14,
    "assignments": 14,
    "explanations": 11,
    "self-assessment PDF": 13,
    "scorecard PDF": 15,
    "unit's deadline and state": 9,
    "decision annex PDF": 12,
}


def add_units(
    round_: Round, group: UnitGroup, count: int, start: int, people: dict[str, Any]
) -> list[UnitAssessment]:
    """``count`` units, each filled, submitted by its leader, appraised and finished."""
    done = []
    for number in range(start, start + count):
        unit = Unit.objects.create(code=f"Q{number:02d}", name=f"Đơn vị {number:02d}", group=group)
        leader = unit_user(f"q{number:02d}", unit, UnitRole.LEADER)
        assessment = unit_services.get_or_create_assessment(round_, unit)
        done.append(
            appraised(
                submitted(assessment, leader), people["appraiser"], people["secretariat_lead"]
            )
        )
    return done


def measure(people: dict[str, Any], first: UnitAssessment) -> dict[str, Counted]:
    code = first.unit.code
    leader = first.unit.memberships.get(role=UnitRole.LEADER).user
    unit_args = [2016, code]

    def as_(user: Any) -> Client:
        return client_for(user)

    return {
        "home (secretariat lead)": queries_of(as_(people["secretariat_lead"]), reverse("home")),
        "home (chair)": queries_of(as_(people["chair"]), reverse("home")),
        "home (appraiser)": queries_of(as_(people["appraiser"]), reverse("home")),
        "home (unit leader)": queries_of(as_(leader), reverse("home")),
        "appraiser's assignments": queries_of(as_(people["appraiser"]), reverse("appraisal_home")),
        "appraisal of one unit": queries_of(
            as_(people["appraiser"]), reverse("appraisal_unit", args=unit_args)
        ),
        "council's rounds": queries_of(as_(people["chair"]), reverse("council_home")),
        "approval page": queries_of(as_(people["chair"]), reverse("council_approve", args=[2016])),
        "council's unit page": queries_of(
            as_(people["chair"]), reverse("council_unit", args=unit_args)
        ),
        "unit workspace": queries_of(as_(leader), reverse("unit_workspace", args=unit_args)),
        "item page": queries_of(as_(leader), reverse("item_edit", args=[*unit_args, "1.1"])),
        "sign-off": queries_of(as_(leader), reverse("sign_off", args=unit_args)),
        "assignments": queries_of(as_(leader), reverse("assignments", args=unit_args)),
        "explanations": queries_of(as_(leader), reverse("unit_explanations", args=unit_args)),
        "self-assessment PDF": queries_of(
            as_(leader), reverse("pdf_self_assessment", args=unit_args)
        ),
        "scorecard PDF": queries_of(as_(people["chair"]), reverse("pdf_scorecard", args=unit_args)),
        "unit's deadline and state": queries_of(
            as_(people["secretariat_lead"]), reverse("unit_deadline", args=unit_args)
        ),
        "decision annex PDF": queries_of(
            as_(people["chair"]), reverse("pdf_decision_annex", args=[2016])
        ),
    }


def test_every_page_runs_the_same_pinned_queries_for_5_and_for_30_units(
    open_round: Round,
    groups: dict[str, UnitGroup],
    secretariat_lead: Any,
    appraiser: Any,
    chair: Any,
) -> None:
    unit_services.import_criteria_set(open_round, groups["SO"], small_rows(6), by=None)
    people = {"secretariat_lead": secretariat_lead, "appraiser": appraiser, "chair": chair}
    first = add_units(open_round, groups["SO"], 5, 1, people)[0]
    small = measure(people, first)
    add_units(open_round, groups["SO"], 25, 6, people)
    large = measure(people, first)
    for page, pinned in PINNED.items():
        assert_pinned(small[page], large[page], pinned)
