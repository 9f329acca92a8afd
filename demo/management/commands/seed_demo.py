"""The demo province of DESIGN §12. Idempotent: running it again changes nothing that exists."""

from __future__ import annotations

import datetime
import hashlib
import random
from decimal import Decimal
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
    StaffMembership,
    StaffRole,
    Unit,
    UnitAssessment,
    UnitGroup,
    UnitMembership,
    UnitRole,
)
from councils import services as appraisal
from councils.models import AppraiserAssignment, ExplanationRequest, Opinion
from demo.builders import demo_value, tiny_pdf
from reporting import services as publication
from reporting.models import ResultSnapshot

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
        seed_appraisals(self.stdout, options["verbosity"])
        seed_council(self.stdout, options["verbosity"])

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
            rng = random.Random(f"{round_.year}-{unit.code}")
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


# Which appraiser appraises which fields (both criteria sets; B and P are the blocks).
APPRAISER_FIELDS = {
    "thamdinh1": ("1", "2", "3", "B", "P"),
    "thamdinh2": ("4", "5", "6"),
    "thamdinh3": ("7", "8"),
}
# 2016: where each submitted unit stands in §5.2 (the others are drafts).
STATES_2016 = {
    "SNV": AssessmentState.SUBMITTED,
    "HDL": AssessmentState.SUBMITTED,
    "STC": AssessmentState.APPRAISING,
    "HAH": AssessmentState.APPRAISING,
    "SYT": AssessmentState.EXPLANATION_REQUESTED,
    "SGDDT": AssessmentState.EXPLAINED,
    "TTT": AssessmentState.APPRAISED,
    "TP": AssessmentState.APPRAISED,
}
QUESTIONS = [
    (
        "Số liệu tự chấm chưa khớp với Hệ thống thông tin giải quyết TTHC; đề nghị cung cấp trích xuất số liệu cả năm.",
        "Đơn vị bổ sung trích xuất số liệu từ Hệ thống (tháng 1–12), tỷ lệ đúng hạn thực tế như đã tự chấm.",
    ),
    (
        "Tài liệu kiểm chứng chưa thể hiện ngày ban hành; đề nghị bổ sung văn bản có số, ngày ký.",
        "Đơn vị gửi bổ sung bản scan văn bản có số, ngày ký.",
    ),
]


def seed_appraisals(stdout: Any, verbosity: int) -> None:
    """Appraiser assignments; 2015 fully appraised with explanation threads; 2016 spread over
    every state of §5.2 up to ``appraised`` (through the services, as people would)."""

    User = get_user_model()
    lead = User.objects.get(username="sonoivu")
    appraisers = {name: User.objects.get(username=name) for name in APPRAISER_FIELDS}
    for criteria_set in CriteriaSet.objects.filter(
        round__year__in=(2014, 2015, 2016)
    ).select_related("round", "group"):
        for name, codes in APPRAISER_FIELDS.items():
            for field in criteria_set.criteria.filter(parent__isnull=True, code__in=codes):
                if not AppraiserAssignment.objects.filter(
                    criteria_set=criteria_set, field=field, appraiser=appraisers[name]
                ).exists():
                    appraisal.assign_appraisers(criteria_set, field, appraisers[name], by=lead)

    def appraiser_for(code: str) -> Any:
        top = code.split(".")[0]
        return next(appraisers[name] for name, codes in APPRAISER_FIELDS.items() if top in codes)

    # 2015: historical, written directly (its phase deadlines are long past).
    for assessment in UnitAssessment.objects.filter(
        round__year__in=(2014, 2015), state=AssessmentState.SUBMITTED
    ).select_related("round", "unit"):
        rng = random.Random(f"appraisal-{assessment.round.year}-{assessment.unit.code}")
        items = list(
            ItemScore.objects.filter(assessment=assessment)
            .select_related("criterion")
            .order_by("criterion__position")
        )
        # The demo's historical rounds always have their calendar (see ``calendar``).
        round_ = assessment.round
        if not (
            round_.appraisal1_deadline
            and round_.explanation_deadline
            and round_.appraisal2_deadline
        ):
            continue
        when = round_.appraisal1_deadline - datetime.timedelta(days=3)
        answered_at = round_.explanation_deadline - datetime.timedelta(days=2)
        reappraised_at = round_.appraisal2_deadline - datetime.timedelta(days=2)
        flagged = 0
        for item in items:
            if item.criterion.method == scoring.SURVEY:
                continue
            item.appraisal1_at, item.appraisal1_by = when, appraiser_for(item.criterion.code)
            item.appraisal1_value, item.appraisal1_score, item.appraisal1_na = (
                item.self_value,
                item.self_score,
                item.not_applicable,
            )
            if item.self_score and rng.random() < 0.12:
                # The appraiser lowers a generous self score.
                item.appraisal1_value, item.appraisal1_score = lower_value(item, rng)
                item.appraisal1_comment = "Tài liệu kiểm chứng chưa đủ để chấm mức tự đánh giá."
                if flagged < 2 and rng.random() < 0.6:
                    flagged += 1
                    item.explanation_required = True
                    question, answer = QUESTIONS[flagged - 1]
                    ExplanationRequest.objects.create(
                        item=item,
                        question=question,
                        asked_by=item.appraisal1_by,
                        asked_at=when,
                        answer=answer,
                        answered_at=answered_at,
                        answered_by=User.objects.filter(
                            unit_memberships__unit=assessment.unit,
                            unit_memberships__role=UnitRole.FOCAL,
                        ).first(),
                    )
                    item.appraisal2_at, item.appraisal2_by = (
                        reappraised_at,
                        item.appraisal1_by,
                    )
                    restored = rng.random() < 0.5
                    item.appraisal2_value = item.self_value if restored else item.appraisal1_value
                    item.appraisal2_score = item.self_score if restored else item.appraisal1_score
                    item.appraisal2_comment = (
                        "Chấp nhận giải trình."
                        if restored
                        else "Giữ nguyên kết quả thẩm định lần 1."
                    )
        ItemScore.objects.bulk_update(
            items,
            [
                "appraisal1_at",
                "appraisal1_by",
                "appraisal1_value",
                "appraisal1_score",
                "appraisal1_na",
                "appraisal1_comment",
                "explanation_required",
                "appraisal2_at",
                "appraisal2_by",
                "appraisal2_value",
                "appraisal2_score",
                "appraisal2_comment",
            ],
        )
        UnitAssessment.objects.filter(pk=assessment.pk).update(state=AssessmentState.APPRAISED)

    # 2016: through the services.
    for code, target in STATES_2016.items():
        assessment = UnitAssessment.objects.select_related("round", "unit", "criteria_set").get(
            round__year=2016, unit__code=code
        )
        if assessment.state != AssessmentState.SUBMITTED or target == AssessmentState.SUBMITTED:
            continue
        rng = random.Random(f"appraisal-2016-{code}")
        items = list(
            ItemScore.objects.filter(assessment=assessment)
            .select_related("criterion")
            .exclude(criterion__method=scoring.SURVEY)
            .order_by("criterion__position")
        )
        share = 0.4 if target == AssessmentState.APPRAISING else 1.0
        to_flag = (
            2
            if target in (AssessmentState.EXPLANATION_REQUESTED, AssessmentState.EXPLAINED)
            or code == "TP"
            else 0
        )
        flagged_items: list[ItemScore] = []
        for item in items:
            if rng.random() > share:
                continue
            item.assessment = assessment
            by = appraiser_for(item.criterion.code)
            if (
                item.self_score
                and len(flagged_items) < to_flag
                and item.criterion.evidence_required
            ):
                value, _points = lower_value(item, rng)
                appraisal.save_appraisal(
                    item, by=by, value=value, comment="Chưa đủ căn cứ chấm mức tự đánh giá."
                )
                appraisal.flag_explanation(item, QUESTIONS[len(flagged_items)][0], by=by)
                flagged_items.append(item)
            else:
                appraisal.accept_self_score(item, by=by)
        if target == AssessmentState.APPRAISING:
            continue
        appraisal.finish_round1(assessment, by=lead)
        if target in (AssessmentState.EXPLAINED, AssessmentState.APPRAISED) and flagged_items:
            focal = User.objects.get(username=f"{code.lower()}.daumoi")
            leader = User.objects.get(username=code.lower())
            for index, item in enumerate(flagged_items):
                documents = [
                    link.evidence for link in item.evidence_links.select_related("evidence")
                ]
                appraisal.answer_explanation(
                    item, QUESTIONS[index][1], by=focal, evidence=documents
                )
            appraisal.submit_explanations(assessment, by=leader)
            if target == AssessmentState.APPRAISED:
                for item in flagged_items:
                    appraisal.save_appraisal(
                        item,
                        by=appraiser_for(item.criterion.code),
                        value=item.self_value,
                        comment="Chấp nhận giải trình của đơn vị.",
                    )
                appraisal.finish_round2(assessment, by=lead)
    if verbosity:
        stdout.write("Appraisals 2014–2016: ready")


def lower_value(item: ItemScore, rng: random.Random) -> tuple[str, Any]:
    """A value one notch below the unit's own, as an appraiser might find it."""
    criterion = item.criterion
    method = criterion.method
    candidates = {
        scoring.YES_NO: "không",
        scoring.THRESHOLD: "85",
        scoring.PROPORTIONAL: "80",
        scoring.DEDUCTION: "2",
        scoring.MANUAL: "0",
    }
    if method == scoring.CHOICE:
        params = scoring.parse_params(method, criterion.params, criterion.max_points)
        text = params.levels[-1][0]  # type: ignore[union-attr]
    else:
        text = candidates.get(method, item.self_value)
    return services.evaluate(criterion, services.ItemInput(value=text))


def seed_council(stdout: Any, verbosity: int) -> None:
    """Survey scores (§8) for the finished rounds, 2014 approved and published, opinions on
    2015 so the chair can approve and publish it in the demo (DESIGN §12)."""

    User = get_user_model()
    survey_items = ItemScore.objects.filter(
        assessment__round__year__in=(2014, 2015),
        criterion__method=scoring.SURVEY,
        survey_score__isnull=True,
    ).select_related("criterion", "assessment__unit", "assessment__round")
    updated = []
    for item in survey_items:
        rng = random.Random(
            f"survey-{item.assessment.round.year}-{item.assessment.unit.code}-{item.criterion.code}"
        )
        ratio = Decimal(rng.randint(62, 96)) / 100
        item.survey_score = scoring.round_half_up(item.criterion.max_points * ratio)
        updated.append(item)
    ItemScore.objects.bulk_update(updated, ["survey_score"])

    chair = User.objects.get(username="chutich")
    round_2014 = Round.objects.get(year=2014)
    if not ResultSnapshot.objects.filter(round=round_2014).exists():
        publication.approve_round(
            round_2014,
            by=chair,
            number="245/QĐ-UBND",
            date=datetime.date(2015, 3, 20),
            signer="Huỳnh Văn Lộc",
        )
        publication.publish_round(round_2014, by=chair)
    members = list(User.objects.filter(username__in=["hoidong1", "hoidong2", "chutich"]))
    for assessment in UnitAssessment.objects.filter(
        round__year=2015, state=AssessmentState.APPRAISED
    ).select_related("unit"):
        rng = random.Random(f"opinion-{assessment.unit.code}")
        for member in members:
            if (
                rng.random() < 0.5
                or Opinion.objects.filter(assessment=assessment, member=member).exists()
            ):
                continue
            agrees = rng.random() < 0.85
            Opinion.objects.create(
                assessment=assessment,
                member=member,
                agrees=agrees,
                note=""
                if agrees
                else "Đề nghị xem lại điểm lĩnh vực 3: tài liệu kiểm chứng chưa đầy đủ.",
            )
    if verbosity:
        stdout.write("Council: 2014 published, 2015 ready for approval")
