"""The demo province of DESIGN §12. Idempotent: running it again changes nothing that exists."""

from __future__ import annotations

import datetime
import hashlib
import random
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from assessments import scoring, services
from assessments.demo import demo_value, tiny_pdf
from assessments.importers import (
    CRITERIA_COLUMNS,
    UNIT_COLUMNS,
    read_table,
    validate_criteria,
    validate_units,
)
from assessments.models import (
    AssessmentState,
    Assignment,
    CriteriaSet,
    Evidence,
    EvidenceLink,
    ItemScore,
    Round,
    Unit,
    UnitAssessment,
    UnitGroup,
    UnitMembership,
    UnitRole,
)
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

    def handle(self, *args: Any, **options: Any) -> None:
        # The demo's submissions would e-mail the secretariat: keep those out of the console.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            self.seed(**options)

    @transaction.atomic
    def seed(self, **options: Any) -> None:
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
        seed_assessments(self.stdout, options["verbosity"])

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


NA_REASON = "Đơn vị không trực tiếp giải quyết thủ tục hành chính cho người dân, tổ chức."
# 2016: the units that have already submitted, and the three STP items left for the demo
# journey (a yes/no, a threshold and a deduction item, DESIGN §12 / the e2e test).
SUBMITTED_2016 = {"SNV", "STC", "SYT", "SGDDT", "TTT", "TP", "HAH", "HDL"}
STP_LEFT_OPEN = {"1.1.1", "3.3", "1.2"}


def seed_assessments(stdout: Any, verbosity: int) -> None:
    """Self-assessments for every unit: 2014 and 2015 complete and submitted, 2016 in progress."""
    User = get_user_model()
    leaders = {
        m.unit_id: m.user
        for m in UnitMembership.objects.filter(role=UnitRole.LEADER).select_related("user")
    }
    focals = {
        m.unit_id: m.user
        for m in UnitMembership.objects.filter(role=UnitRole.FOCAL).select_related("user")
    }
    for round_ in Round.objects.filter(year__in=(2014, 2015, 2016)).order_by("year"):
        for unit in Unit.objects.select_related("group").order_by("code"):
            if UnitAssessment.objects.filter(round=round_, unit=unit).exists():
                continue
            assessment = services.get_or_create_assessment(round_, unit)
            rng = random.Random(f"{round_.year}-{unit.code}")  # noqa: S311 - demo data, reproducible
            strength = rng.uniform(0.45, 0.97)
            if round_.year == 2016 and unit.code == "STP":
                share = 1.0
            elif round_.year == 2016 and unit.code not in SUBMITTED_2016:
                share = rng.uniform(0.25, 0.85)
            else:
                share = 1.0
            items = list(
                ItemScore.objects.filter(assessment=assessment)
                .select_related("criterion")
                .order_by("criterion__position")
            )
            now = timezone.now()
            for item in items:
                criterion = item.criterion
                if criterion.method == scoring.SURVEY or rng.random() > share:
                    continue
                if round_.year == 2016 and unit.code == "STP" and criterion.code in STP_LEFT_OPEN:
                    continue
                if criterion.allows_na and not unit.has_admin_procedures:
                    item.not_applicable, item.na_reason = True, NA_REASON
                else:
                    text = demo_value(criterion, rng, strength)
                    item.self_value, item.self_score = services.evaluate(
                        criterion, services.ItemInput(value=text or "")
                    )
                item.version, item.updated_at, item.updated_by = 1, now, focals.get(unit.pk)
            ItemScore.objects.bulk_update(
                items,
                [
                    "self_value",
                    "self_score",
                    "not_applicable",
                    "na_reason",
                    "version",
                    "updated_at",
                    "updated_by",
                ],
            )
            documents = demo_documents(assessment, focals.get(unit.pk))
            links = []
            for item in items:
                if item.criterion.evidence_required and item.self_score:
                    document = (
                        documents[int(item.criterion.code.split(".")[0]) % len(documents)]
                        if item.criterion.code[0].isdigit()
                        else documents[0]
                    )
                    links.append(
                        EvidenceLink(
                            evidence=document, item=item, page_ref=f"trang {rng.randint(1, 12)}"
                        )
                    )
            EvidenceLink.objects.bulk_create(links)
            if round_.year < 2016:
                # Historical rounds: submitted on time (later issues carry them further, §12).
                UnitAssessment.objects.filter(pk=assessment.pk).update(
                    state=AssessmentState.SUBMITTED,
                    submitted_at=(round_.self_assessment_deadline or now)
                    - datetime.timedelta(days=2),
                    submitted_by=leaders.get(unit.pk),
                    difficulties="Số liệu của một số phòng chuyên môn tổng hợp chậm.",
                    recommendations="Đề nghị tổ chức tập huấn về chấm điểm Chỉ số CCHC.",
                )
            elif unit.code in SUBMITTED_2016:
                services.submit_assessment(
                    assessment,
                    by=leaders[unit.pk],
                    difficulties="Hệ thống phần mềm chưa kết nối đầy đủ với Cổng dịch vụ công.",
                    recommendations="Đề nghị Sở Nội vụ hướng dẫn thêm về tài liệu kiểm chứng lĩnh vực 7.",
                )
            elif unit.code == "STP":
                contributor = User.objects.get(username="stp.cv1")
                for code, person, days in (("2", contributor, 7), ("4", contributor, 7)):
                    Assignment.objects.get_or_create(
                        assessment=assessment,
                        criterion=assessment.criteria_set.criteria.get(code=code),
                        defaults={
                            "assignee": person,
                            "assigned_by": focals.get(unit.pk),
                            "due_date": (now + datetime.timedelta(days=days)).date(),
                        },
                    )
        if verbosity:
            stdout.write(f"Self-assessments {round_.year}: ready")


DOCUMENTS = [
    ("Kế hoạch cải cách hành chính năm {year}", "KH"),
    ("Báo cáo kết quả công tác cải cách hành chính năm {year}", "BC"),
    ("Quyết định ban hành quy chế, quy định nội bộ năm {year}", "QĐ"),
]


def demo_documents(assessment: UnitAssessment, uploader: Any) -> list[Evidence]:
    """Three small, valid PDF documents in the unit's library for the round."""
    year, unit = assessment.round.year, assessment.unit
    documents = []
    for index, (title, prefix) in enumerate(DOCUMENTS, start=1):
        title = title.format(year=year)
        content = tiny_pdf(
            [
                unit.name,
                title,
                f"So {index:02d}/{prefix}-{unit.code}",
                "Tai lieu minh hoa (du lieu demo)",
            ]
        )
        evidence = Evidence(
            unit=unit,
            round=assessment.round,
            original_name=f"{prefix.lower()}-{unit.code.lower()}-{year}.pdf",
            title=title,
            document_number=f"{index:02d}/{prefix}-{unit.code}",
            document_date=datetime.date(year, 1 + index * 2, 10),
            size=len(content),
            content_type="application/pdf",
            sha256=hashlib.sha256(content).hexdigest(),
            uploaded_by=uploader,
        )
        evidence.file.save(evidence.original_name, ContentFile(content), save=False)
        evidence.save()
        documents.append(evidence)
    return documents
