"""Shared personas and builders (STYLE: built once here, used by every test module)."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from assessments import services
from assessments.importers import CRITERIA_COLUMNS, read_table, validate_criteria
from assessments.models import (
    CriteriaSet,
    Round,
    StaffMembership,
    StaffRole,
    Unit,
    UnitGroup,
    UnitMembership,
    UnitRole,
)

# pytest-django's live_server runs the app in a thread beside Playwright's event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "fixtures" / "reference"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(autouse=True)
def fast_password_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def media_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def make_user(username: str, **extra: Any) -> Any:
    return get_user_model().objects.create_user(
        username=username, password="pw", first_name=username, **extra
    )


def criteria_rows(filename: str) -> list[Any]:
    path = REFERENCE / filename
    return validate_criteria(read_table(path, path.name, CRITERIA_COLUMNS))


@pytest.fixture
def groups(db: None) -> dict[str, UnitGroup]:
    return {
        "SO": UnitGroup.objects.create(code="SO", name="Sở, ban, ngành", position=1),
        "HUYEN": UnitGroup.objects.create(code="HUYEN", name="UBND cấp huyện", position=2),
    }


@pytest.fixture
def units(groups: dict[str, UnitGroup]) -> dict[str, Unit]:
    return {
        "STP": Unit.objects.create(code="STP", name="Sở Tư pháp", group=groups["SO"]),
        "SYT": Unit.objects.create(code="SYT", name="Sở Y tế", group=groups["SO"]),
        "HBS": Unit.objects.create(code="HBS", name="UBND huyện Bình Sơn", group=groups["HUYEN"]),
    }


@pytest.fixture
def open_round(db: None) -> Round:
    now = timezone.now()
    return Round.objects.create(
        year=2016,
        opens_at=now - datetime.timedelta(days=10),
        self_assessment_deadline=now + datetime.timedelta(days=20),
    )


@pytest.fixture
def criteria_sets(open_round: Round, groups: dict[str, UnitGroup]) -> dict[str, CriteriaSet]:
    return {
        "SO": services.import_criteria_set(
            open_round, groups["SO"], criteria_rows("criteria-departments.csv"), by=None
        ),
        "HUYEN": services.import_criteria_set(
            open_round, groups["HUYEN"], criteria_rows("criteria-districts.csv"), by=None
        ),
    }


def unit_user(username: str, unit: Unit, role: str) -> Any:
    user = make_user(username)
    UnitMembership.objects.create(user=user, unit=unit, role=role)
    return user


def staff_user(username: str, role: str) -> Any:
    user = make_user(username)
    StaffMembership.objects.create(user=user, role=role)
    return user


@pytest.fixture
def leader(units: dict[str, Unit]) -> Any:
    return unit_user("stp", units["STP"], UnitRole.LEADER)


@pytest.fixture
def focal(units: dict[str, Unit]) -> Any:
    return unit_user("stp.daumoi", units["STP"], UnitRole.FOCAL)


@pytest.fixture
def contributor(units: dict[str, Unit]) -> Any:
    return unit_user("stp.cv1", units["STP"], UnitRole.CONTRIBUTOR)


@pytest.fixture
def other_unit_focal(units: dict[str, Unit]) -> Any:
    """A focal officer of a district: an outsider to the departments' data."""
    return unit_user("hbs.daumoi", units["HBS"], UnitRole.FOCAL)


@pytest.fixture
def secretariat_lead(db: None) -> Any:
    return staff_user("sonoivu", StaffRole.SECRETARIAT_LEAD)


@pytest.fixture
def appraiser(db: None) -> Any:
    return staff_user("thamdinh1", StaffRole.APPRAISER)


@pytest.fixture
def council_member(db: None) -> Any:
    return staff_user("hoidong1", StaffRole.COUNCIL_MEMBER)


@pytest.fixture
def chair(db: None) -> Any:
    return staff_user("chutich", StaffRole.COUNCIL_CHAIR)


@pytest.fixture
def no_role_user(db: None) -> Any:
    return make_user("nobody")


def client_for(user: Any | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client
