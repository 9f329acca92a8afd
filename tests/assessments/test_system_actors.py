"""Pages that show who changed something handle changes made by the system (issue: system
actors): the deadline lock and a command-line workbook import have no user."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from assessments import services
from assessments.models import Event, EventAction, Round, UnitAssessment
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def assessment(criteria_sets: Any, units: Any, open_round: Round) -> UnitAssessment:
    return services.get_or_create_assessment(open_round, units["STP"])


def test_the_deadline_page_of_an_auto_locked_unit_names_the_system(
    assessment: UnitAssessment, open_round: Round, secretariat_lead: Any, leader: Any
) -> None:
    Round.objects.filter(pk=open_round.pk).update(
        self_assessment_deadline=timezone.now() - datetime.timedelta(minutes=1)
    )
    call_command("lock_deadlines", verbosity=0)
    assert Event.objects.get(action=EventAction.AUTO_LOCKED, unit__code="STP").actor is None
    response = client_for(secretariat_lead).get(reverse("unit_deadline", args=[2016, "STP"]))
    assert response.status_code == 200
    assert "Hệ thống (khóa tự động)" in response.content.decode()
    # The unit's sign-off page says who submitted it: the deadline lock.
    response = client_for(leader).get(reverse("sign_off", args=[2016, "STP"]))
    assert response.status_code == 200
    assert "Hệ thống (khóa tự động)" in response.content.decode()


def test_an_item_changed_by_a_command_line_import_names_the_import(
    assessment: UnitAssessment, focal: Any, tmp_path: Path
) -> None:
    item = assessment.items.select_related("criterion").get(criterion__code="1.1.1")
    path = tmp_path / "stp.csv"
    path.write_text("code,value\n1.1.1,có\n", encoding="utf-8")
    call_command("import_unit_workbook", str(path), "--round", "2016", "--unit", "STP", verbosity=0)
    item.refresh_from_db()
    assert item.updated_by is None and item.updated_at is not None
    response = client_for(focal).get(reverse("item_edit", args=[2016, "STP", "1.1.1"]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nhập từ bảng tính (dòng lệnh)" in page
