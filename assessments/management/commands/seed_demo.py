"""The demo province of DESIGN §12. Idempotent: running it again changes nothing that exists."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from assessments import services
from assessments.importers import (
    CRITERIA_COLUMNS,
    UNIT_COLUMNS,
    read_table,
    validate_criteria,
    validate_units,
)
from assessments.models import CriteriaSet, Round, Unit, UnitGroup, UnitMembership, UnitRole
from councils.models import StaffMembership, StaffRole

REFERENCE = Path(settings.BASE_DIR) / "fixtures" / "reference"
PASSWORD = "CchcDemo@2015"  # noqa: S105 - the documented demo password (README, DESIGN §12)
CRITERIA_FILES = {"SO": "criteria-departments.csv", "HUYEN": "criteria-districts.csv"}

# username -> (full name, province-level role or None for the superuser)
STAFF = {
    "admin": ("Quản trị hệ thống", None),
    "sonoivu": ("Trần Thị Thu Hà", StaffRole.SECRETARIAT_LEAD),
    "thamdinh1": ("Nguyễn Văn Hùng", StaffRole.APPRAISER),
    "thamdinh2": ("Lê Thị Mai", StaffRole.APPRAISER),
    "thamdinh3": ("Phạm Quốc Bảo", StaffRole.APPRAISER),
    "hoidong1": ("Võ Minh Tuấn", StaffRole.COUNCIL_MEMBER),
    "hoidong2": ("Đặng Thị Hồng", StaffRole.COUNCIL_MEMBER),
    "chutich": ("Huỳnh Văn Lộc", StaffRole.COUNCIL_CHAIR),
}
UNIT_ACCOUNTS = [
    ("", UnitRole.LEADER, "Lãnh đạo"),
    (".daumoi", UnitRole.FOCAL, "Đầu mối CCHC"),
    (".cv1", UnitRole.CONTRIBUTOR, "Chuyên viên"),
]


def calendar(year: int, now: datetime.datetime) -> dict[str, datetime.datetime]:
    """Phase dates relative to today (DESIGN §12): 2014 and 2015 are over, 2016 is open."""
    day = datetime.timedelta(days=1)
    if year == 2016:
        offsets = {
            "opens_at": -30,
            "self_assessment_deadline": 14,
            "appraisal1_deadline": 45,
            "explanation_deadline": 60,
            "appraisal2_deadline": 75,
        }
    else:
        back = 365 * (2016 - year)
        offsets = {
            "opens_at": -back - 200,
            "self_assessment_deadline": -back - 150,
            "appraisal1_deadline": -back - 120,
            "explanation_deadline": -back - 100,
            "appraisal2_deadline": -back - 80,
        }
    midnight = now.replace(hour=23, minute=59, second=59, microsecond=0)
    return {name: midnight + offset * day for name, offset in offsets.items()}


class Command(BaseCommand):
    help = "Create the demo province (rounds 2014–2016, 30 units, criteria sets, demo accounts)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        units = validate_units(read_table(REFERENCE / "units.csv", "units.csv", UNIT_COLUMNS))
        services.import_units(units, by=None)

        now = timezone.localtime()
        for year in (2014, 2015, 2016):
            round_, created = Round.objects.get_or_create(year=year, defaults=calendar(year, now))
            for code, filename in CRITERIA_FILES.items():
                group = UnitGroup.objects.get(code=code)
                if CriteriaSet.objects.filter(
                    round=round_, group=group, criteria__isnull=False
                ).exists():
                    continue
                rows = validate_criteria(
                    read_table(REFERENCE / filename, filename, CRITERIA_COLUMNS)
                )
                services.import_criteria_set(round_, group, rows, by=None, replace=False)
            if options["verbosity"]:
                self.stdout.write(f"Round {year}: {'created' if created else 'already there'}")

        users = self.ensure_accounts()
        if options["verbosity"]:
            self.stdout.write(f"Demo accounts: {users} (password {PASSWORD})")

    def ensure_accounts(self) -> int:
        User = get_user_model()
        # One hash for every demo account: hashing 98 passwords one by one takes most of a minute.
        password = make_password(PASSWORD)
        existing = set(User.objects.values_list("username", flat=True))
        count = 0
        for username, (full_name, role) in STAFF.items():
            user = self.ensure_user(User, existing, username, full_name, password)
            if role is None:
                if not user.is_superuser:
                    user.is_superuser = user.is_staff = True
                    user.save(update_fields=["is_superuser", "is_staff"])
            else:
                StaffMembership.objects.get_or_create(user=user, role=role)
                if role == StaffRole.SECRETARIAT_LEAD and not user.is_staff:
                    # The secretariat lead manages units, people and rounds in the admin.
                    user.is_staff = True
                    user.save(update_fields=["is_staff"])
                    # Units, groups and unit memberships only: no user accounts (that would
                    # let the lead make themselves superuser) and no council roles.
                    user.user_permissions.set(
                        Permission.objects.filter(
                            content_type__app_label="assessments",
                            content_type__model__in=["unit", "unitgroup", "unitmembership"],
                        )
                        | Permission.objects.filter(codename="view_user")
                    )
            count += 1
        for unit in Unit.objects.order_by("code"):
            for suffix, unit_role, title in UNIT_ACCOUNTS:
                username = unit.code.lower() + suffix
                user = self.ensure_user(User, existing, username, f"{title} {unit.name}", password)
                UnitMembership.objects.get_or_create(
                    user=user, unit=unit, defaults={"role": unit_role}
                )
                count += 1
        return count

    def ensure_user(
        self, User: Any, existing: set[str], username: str, full_name: str, password: str
    ) -> Any:
        if username in existing:
            return User.objects.get(username=username)
        # Vietnamese names are written family name first: keep the whole name in one field so
        # get_full_name() shows it as written.
        return User.objects.create(
            username=username,
            first_name=full_name,
            email=f"{username}@minhphu.gov.vn",
            password=password,
        )
