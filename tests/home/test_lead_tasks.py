"""The secretariat lead's and the contributor's home tasks count what the target pages show
(issue 10 review): late units, units fully appraised and waiting for the end of round 1,
explained units waiting for round 2; a contributor's items under nested assignments."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments import services as unit_services
from assessments.models import ItemScore, Round, UnitAssessment
from councils import services as council_services
from tests.builders import fill, submitted
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

HOME = reverse("home")


def tasks_of(user: Any) -> list[Any]:
    home = client_for(user).get(HOME).context["home"]
    return [t for card in home.units for t in card.tasks] + list(home.staff)


def titled(user: Any, text: str) -> Any:
    found = [t for t in tasks_of(user) if text in t.title]
    assert len(found) == 1, [t.title for t in tasks_of(user)]
    return found[0]


def test_late_units_are_those_whose_own_deadline_has_passed(
    criteria_sets: Any, units: Any, open_round: Round, secretariat_lead: Any
) -> None:
    for unit in units.values():
        unit_services.get_or_create_assessment(open_round, unit)
    now = timezone.now()
    Round.objects.filter(pk=open_round.pk).update(
        self_assessment_deadline=now - datetime.timedelta(hours=1)
    )
    # One unit was given more time: it is not late.
    UnitAssessment.objects.filter(unit=units["STP"]).update(
        extended_until=now + datetime.timedelta(days=2), extension_reason="Lũ lụt"
    )
    task = titled(secretariat_lead, "quá hạn")
    assert task.title.startswith(f"{len(units) - 1} đơn vị quá hạn")
    assert task.urgent and task.url == reverse("secretariat_dashboard", args=[2016])
    dashboard = client_for(secretariat_lead).get(task.url)
    overdue = [
        row
        for block in dashboard.context["board"].groups
        for row in block.rows
        if row.timeliness == "overdue"
    ]
    assert len(overdue) == len(units) - 1


def test_a_unit_fully_appraised_waits_for_the_lead_to_finish_round_1(
    criteria_sets: Any,
    units: Any,
    open_round: Round,
    leader: Any,
    appraiser: Any,
    secretariat_lead: Any,
) -> None:
    assessment = submitted(unit_services.get_or_create_assessment(open_round, units["STP"]), leader)
    criteria_set = assessment.criteria_set
    for field in criteria_set.criteria.filter(parent__isnull=True):
        council_services.assign_appraisers(criteria_set, field, appraiser, by=secretariat_lead)
    items = list(
        ItemScore.objects.filter(assessment=assessment)
        .select_related("criterion")
        .exclude(criterion__method="survey")
    )
    for entry in items[:-1]:
        entry.assessment = assessment
        council_services.accept_self_score(entry, by=appraiser)
    assert not [t for t in tasks_of(secretariat_lead) if "kết thúc thẩm định" in t.title]
    items[-1].assessment = assessment
    council_services.accept_self_score(items[-1], by=appraiser)
    task = titled(secretariat_lead, "kết thúc thẩm định")
    assert task.title.startswith("1 đơn vị đã thẩm định đủ") and task.urgent


def test_a_contributor_counts_every_item_under_any_of_his_assignments(
    criteria_sets: Any,
    units: Any,
    open_round: Round,
    focal: Any,
    contributor: Any,
    leader: Any,
) -> None:
    """Field 1 to the contributor, then its sub-criterion 1.1 to the leader: the items of
    1.1 are still the contributor's in the workspace (he may edit them), so they count."""
    draft = unit_services.get_or_create_assessment(open_round, units["STP"])
    criteria = draft.criteria_set.criteria
    unit_services.assign_items(draft, criteria.get(code="1"), contributor, by=focal)
    unit_services.assign_items(draft, criteria.get(code="1.1"), leader, by=focal)
    workspace = client_for(contributor).get(
        reverse("unit_workspace", args=[2016, "STP"]) + "?loc=cua-toi"
    )
    shown = [
        row
        for section in workspace.context["sections"]
        for row in section.rows
        if row.is_leaf and not row.is_survey
    ]
    task = titled(contributor, "được giao")
    assert task.title == f"Anh/chị được giao {len(shown)} tiêu chí, còn {len(shown)} chưa chấm."
    fill(draft, focal)
    task = titled(contributor, "được giao")
    assert task.title == f"Anh/chị được giao {len(shown)} tiêu chí, còn 0 chưa chấm."
