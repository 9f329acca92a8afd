"""The demo province of DESIGN §12: complete, idempotent, and its accounts work."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessments.models import (
    CriteriaSet,
    Criterion,
    Event,
    Round,
    StaffMembership,
    Unit,
    UnitMembership,
)

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return (
        Round.objects.count(),
        Unit.objects.count(),
        CriteriaSet.objects.count(),
        Criterion.objects.count(),
        get_user_model().objects.count(),
        UnitMembership.objects.count(),
        StaffMembership.objects.count(),
        Event.objects.count(),
    )


def test_seed_demo_builds_the_province_and_a_second_run_changes_nothing() -> None:
    call_command("seed_demo", verbosity=0)
    first = counts()
    assert first[:7] == (3, 30, 6, 3 * (76 + 75), 8 + 90, 90, 7)
    call_command("seed_demo", verbosity=0)
    assert counts() == first
    now = timezone.now()
    round_2016 = Round.objects.get(year=2016)
    assert round_2016.is_open_to_units() and round_2016.self_assessment_deadline > now
    # 2014 and 2015 are over: every phase deadline has passed (DESIGN §12).
    for year in (2014, 2015):
        assert Round.objects.get(year=year).appraisal2_deadline < now


@pytest.mark.parametrize("username", ["sonoivu", "stp.daumoi", "chutich", "admin"])
def test_the_demo_accounts_log_in_with_the_documented_password(
    username: str, settings: Any
) -> None:
    call_command("seed_demo", verbosity=0)
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": "CchcDemo@2015"})
    assert response.status_code == 302 and response.url == reverse("home")


def test_the_secretariat_lead_manages_units_in_the_admin_and_a_unit_user_cannot() -> None:
    call_command("seed_demo", verbosity=0)
    lead = Client()
    lead.force_login(get_user_model().objects.get(username="sonoivu"))
    response = lead.get(reverse("admin:assessments_unit_changelist"))
    assert response.status_code == 200
    assert "Sở Tư pháp" in response.content.decode()
    assert lead.get(reverse("admin:assessments_unit_import")).status_code == 200
    unit_user = Client()
    unit_user.force_login(get_user_model().objects.get(username="stp"))
    assert unit_user.get(reverse("admin:assessments_unit_changelist")).status_code == 302
