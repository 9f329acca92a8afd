"""Rounds, unit groups, units, criteria trees and unit memberships (DESIGN §3)."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments import scoring

if TYPE_CHECKING:
    from collections.abc import Iterable


class Round(models.Model):
    """One year's assessment, with its phase calendar (§5.1) and classification bands (§4.6)."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    opens_at = models.DateTimeField(_("self-assessment opens"), null=True, blank=True)
    self_assessment_deadline = models.DateTimeField(
        _("self-assessment deadline"), null=True, blank=True
    )
    appraisal1_deadline = models.DateTimeField(
        _("appraisal round 1 deadline"), null=True, blank=True
    )
    explanation_deadline = models.DateTimeField(_("explanation deadline"), null=True, blank=True)
    appraisal2_deadline = models.DateTimeField(
        _("appraisal round 2 deadline"), null=True, blank=True
    )
    # Lower bounds (inclusive) of the bands Tốt / Khá / Trung bình; below the last is Yếu.
    band_good_min = models.DecimalField(
        _("lowest index for Good"), default=Decimal("85"), max_digits=5, decimal_places=2
    )
    band_fair_min = models.DecimalField(
        _("lowest index for Fair"), default=Decimal("70"), max_digits=5, decimal_places=2
    )
    band_average_min = models.DecimalField(
        _("lowest index for Average"), default=Decimal("50"), max_digits=5, decimal_places=2
    )
    # Set by lock_deadlines once the units that never started have been locked (§5.2).
    units_locked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("assessment round")
        verbose_name_plural = _("assessment rounds")
        constraints = [
            models.CheckConstraint(
                condition=Q(year__gte=2000, year__lte=2100), name="round_year_in_range"
            ),
            models.CheckConstraint(
                condition=Q(
                    band_average_min__gt=0,
                    band_fair_min__gt=models.F("band_average_min"),
                    band_good_min__gt=models.F("band_fair_min"),
                    band_good_min__lte=100,
                ),
                name="round_bands_descending",
            ),
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True)
                | Q(self_assessment_deadline__isnull=True)
                | Q(opens_at__lt=models.F("self_assessment_deadline")),
                name="round_opens_before_deadline",
            ),
            models.CheckConstraint(
                condition=Q(self_assessment_deadline__isnull=True)
                | Q(appraisal1_deadline__isnull=True)
                | Q(self_assessment_deadline__lte=models.F("appraisal1_deadline")),
                name="round_appraisal1_after_self",
            ),
            models.CheckConstraint(
                condition=Q(appraisal1_deadline__isnull=True)
                | Q(explanation_deadline__isnull=True)
                | Q(appraisal1_deadline__lte=models.F("explanation_deadline")),
                name="round_explanation_after_appraisal1",
            ),
            models.CheckConstraint(
                condition=Q(explanation_deadline__isnull=True)
                | Q(appraisal2_deadline__isnull=True)
                | Q(explanation_deadline__lte=models.F("appraisal2_deadline")),
                name="round_appraisal2_after_explanation",
            ),
        ]

    def __str__(self) -> str:
        return str(self.year)

    @property
    def title(self) -> str:
        return _("PAR index %(year)s") % {"year": self.year}

    def bands(self) -> list[tuple[str, Decimal]]:
        """The bands for :func:`scoring.classify`, highest first."""
        return [
            (scoring.BAND_GOOD, self.band_good_min),
            (scoring.BAND_FAIR, self.band_fair_min),
            (scoring.BAND_AVERAGE, self.band_average_min),
            (scoring.BAND_WEAK, Decimal("0")),
        ]

    def is_open_to_units(self, now: datetime.datetime | None = None) -> bool:
        """Units see a round's criteria once its self-assessment has opened."""
        return self.opens_at is not None and self.opens_at <= (now or timezone.now())

    def current_phase(self, now: datetime.datetime | None = None) -> str:
        """The phase of §5.1 by the calendar (deadlines, not start gates)."""
        now = now or timezone.now()
        steps = [
            (self.opens_at, _("Setup")),
            (self.self_assessment_deadline, _("Self-assessment")),
            (self.appraisal1_deadline, _("Appraisal round 1")),
            (self.explanation_deadline, _("Explanation")),
            (self.appraisal2_deadline, _("Appraisal round 2")),
        ]
        for ends_at, label in steps:
            if ends_at is None or now < ends_at:
                return str(label)
        return str(_("Council review"))


class UnitGroup(models.Model):
    """Departments, districts, communes … Ranking is always within a group."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("unit group")
        verbose_name_plural = _("unit groups")
        constraints = [
            models.CheckConstraint(condition=~Q(code=""), name="unitgroup_code_not_empty")
        ]

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    """An assessed agency with a stable code; lives across rounds."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    group = models.ForeignKey(UnitGroup, on_delete=models.PROTECT, related_name="units")
    has_admin_procedures = models.BooleanField(_("settles administrative procedures"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["group__position", "code"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        constraints = [models.CheckConstraint(condition=~Q(code=""), name="unit_code_not_empty")]

    def __str__(self) -> str:
        return self.name


class CriteriaSetQuerySet(models.QuerySet["CriteriaSet"]):
    def with_counts(self) -> CriteriaSetQuerySet:
        return self.select_related("round", "group").annotate(
            criterion_count=models.Count("criteria")
        )


class CriteriaSet(models.Model):
    """The criteria tree of one unit group in one round."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="criteria_sets")
    group = models.ForeignKey(UnitGroup, on_delete=models.PROTECT, related_name="criteria_sets")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CriteriaSetQuerySet.as_manager()

    class Meta:
        ordering = ["round", "group__position"]
        verbose_name = _("criteria set")
        verbose_name_plural = _("criteria sets")
        constraints = [
            models.UniqueConstraint(
                fields=["round", "group"], name="criteriaset_one_per_round_group"
            )
        ]

    def __str__(self) -> str:
        return f"{self.round.year} – {self.group.name}"

    def tree(self) -> list[CriterionNode]:
        """The whole tree from one query, built in Python (STYLE: no MPTT)."""
        return build_tree(self.criteria.all())


class Method(models.TextChoices):
    GROUP = scoring.GROUP, _("Group")
    BONUS = scoring.BONUS, _("Bonus block")
    PENALTY = scoring.PENALTY, _("Penalty block")
    YES_NO = scoring.YES_NO, _("Yes / no")
    CHOICE = scoring.CHOICE, _("Levels")
    THRESHOLD = scoring.THRESHOLD, _("Threshold bands")
    PROPORTIONAL = scoring.PROPORTIONAL, _("Proportional")
    MANUAL = scoring.MANUAL, _("Points on a step")
    DEDUCTION = scoring.DEDUCTION, _("Deduction per lapse")
    SURVEY = scoring.SURVEY, _("Survey")


class Criterion(models.Model):
    """A node of a criteria tree: a group, a bonus/penalty block or a scored leaf."""

    criteria_set = models.ForeignKey(CriteriaSet, on_delete=models.CASCADE, related_name="criteria")
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    code = models.CharField(_("code"), max_length=30)
    title = models.CharField(_("title"), max_length=500)
    english_title = models.CharField(_("English title"), max_length=500, blank=True)
    max_points = models.DecimalField(_("maximum points"), max_digits=6, decimal_places=2)
    method = models.CharField(_("scoring method"), max_length=20, choices=Method.choices)
    params = models.CharField(_("parameters"), max_length=500, blank=True)
    allows_na = models.BooleanField(_("may be not applicable"), default=False)
    evidence_required = models.BooleanField(_("evidence required"), default=False)
    evidence_hint = models.TextField(_("evidence hint"), blank=True)
    guidance = models.TextField(_("guidance"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["criteria_set", "position"]
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        constraints = [
            models.UniqueConstraint(
                fields=["criteria_set", "code"], name="criterion_code_unique_in_set"
            ),
            models.CheckConstraint(
                condition=Q(method__in=[m.value for m in Method]), name="criterion_method_valid"
            ),
            models.CheckConstraint(
                condition=Q(max_points__gte=0, max_points__lte=1000),
                name="criterion_max_points_range",
            ),
            models.CheckConstraint(condition=~Q(code=""), name="criterion_code_not_empty"),
            # Only scored leaves carry N/A, evidence flags and params.
            models.CheckConstraint(
                condition=~Q(method__in=sorted(scoring.BRANCH_METHODS))
                | Q(allows_na=False, evidence_required=False, params=""),
                name="criterion_flags_only_on_leaves",
            ),
            # Bonus and penalty blocks sit at the top of the tree.
            models.CheckConstraint(
                condition=~Q(method__in=[scoring.BONUS, scoring.PENALTY]) | Q(parent__isnull=True),
                name="criterion_blocks_at_top",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def is_leaf(self) -> bool:
        return self.method not in scoring.BRANCH_METHODS

    @property
    def levels(self) -> list[str]:
        """The labels a unit chooses from on a ``choice`` leaf, in order; [] otherwise."""
        if self.method != scoring.CHOICE:
            return []
        params = scoring.parse_params(self.method, self.params, self.max_points)
        assert isinstance(params, scoring.ChoiceParams)  # noqa: S101 - for mypy
        return [label for label, _points in params.levels]


class CriterionNode:
    """A criterion with its children, built in memory from one query."""

    __slots__ = ("children", "criterion", "depth")

    def __init__(self, criterion: Criterion, depth: int) -> None:
        self.criterion = criterion
        self.depth = depth
        self.children: list[CriterionNode] = []

    def walk(self) -> Iterable[CriterionNode]:
        yield self
        for child in self.children:
            yield from child.walk()

    def leaves(self) -> Iterable[CriterionNode]:
        return (node for node in self.walk() if node.criterion.is_leaf)

    def to_scoring(self) -> scoring.Node:
        c = self.criterion
        return scoring.Node(
            code=c.code,
            method=c.method,
            max_points=c.max_points,
            children=[child.to_scoring() for child in self.children],
        )


def build_tree(criteria: Iterable[Criterion]) -> list[CriterionNode]:
    """Roots of the tree, children in ``position`` order."""
    ordered = sorted(criteria, key=lambda c: c.position)
    nodes: dict[int, CriterionNode] = {}
    roots: list[CriterionNode] = []
    # Parents always come before their children in position order (the importer assigns
    # positions in file order and checks parents come first), but do not rely on it here.
    for criterion in ordered:
        nodes[criterion.pk] = CriterionNode(criterion, 0)
    for criterion in ordered:
        node = nodes[criterion.pk]
        if criterion.parent_id is None or criterion.parent_id not in nodes:
            roots.append(node)
        else:
            nodes[criterion.parent_id].children.append(node)

    def set_depth(node: CriterionNode, depth: int) -> None:
        node.depth = depth
        for child in node.children:
            set_depth(child, depth + 1)

    for root in roots:
        set_depth(root, 0)
    return roots


class UnitRole(models.TextChoices):
    LEADER = "leader", _("Unit leader")
    FOCAL = "focal", _("Focal officer")
    CONTRIBUTOR = "contributor", _("Contributor")


class UnitMembership(models.Model):
    """Gives a user one of the unit roles of DESIGN §6 in one unit."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="unit_memberships"
    )
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=UnitRole.choices)

    class Meta:
        verbose_name = _("unit membership")
        verbose_name_plural = _("unit memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "unit"], name="unitmembership_one_role_per_unit"
            ),
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in UnitRole]), name="unitmembership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.unit.code} ({self.get_role_display()})"


class StaffRole(models.TextChoices):
    SECRETARIAT_LEAD = "secretariat_lead", _("Secretariat lead")
    APPRAISER = "appraiser", _("Appraiser")
    COUNCIL_MEMBER = "council_member", _("Council member")
    COUNCIL_CHAIR = "council_chair", _("Council chair")


class StaffMembership(models.Model):
    """Gives a user a province-level role: secretariat lead, appraiser, council member or chair."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=StaffRole.choices)
    title = models.CharField(_("position"), max_length=200, blank=True)

    class Meta:
        db_table = "councils_staffmembership"  # moved from councils (state-only migration)
        verbose_name = _("secretariat or council membership")
        verbose_name_plural = _("secretariat and council memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="staffmembership_unique"),
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in StaffRole]),
                name="staffmembership_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class Notification(models.Model):
    """The in-app inbox: every notification e-mailed is also kept here."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("message"))
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "councils_notification"  # moved from councils (state-only migration)
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.subject


class AssessmentState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPRAISING = "appraising", _("Being appraised")
    EXPLANATION_REQUESTED = "explanation_requested", _("Explanation requested")
    EXPLAINED = "explained", _("Explained")
    APPRAISED = "appraised", _("Appraised")
    APPROVED = "approved", _("Approved")
    PUBLISHED = "published", _("Published")


class UnitAssessmentQuerySet(models.QuerySet["UnitAssessment"]):
    def with_context(self) -> UnitAssessmentQuerySet:
        return self.select_related("round", "unit__group", "criteria_set", "submitted_by")


class UnitAssessment(models.Model):
    """One unit in one round: its workflow state (§5.2) and sign-off texts."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="assessments")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assessments")
    criteria_set = models.ForeignKey(
        CriteriaSet, on_delete=models.PROTECT, related_name="assessments"
    )
    state = models.CharField(
        _("state"), max_length=30, choices=AssessmentState.choices, default=AssessmentState.DRAFT
    )
    auto_locked = models.BooleanField(_("locked automatically"), default=False)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sent_to_leader_at = models.DateTimeField(_("sent to the leader at"), null=True, blank=True)
    difficulties = models.TextField(_("difficulties"), blank=True)
    recommendations = models.TextField(_("recommendations"), blank=True)
    extended_until = models.DateTimeField(_("extended until"), null=True, blank=True)
    extension_reason = models.TextField(_("reason for the extension"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = UnitAssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["round", "unit__code"]
        verbose_name = _("unit assessment")
        verbose_name_plural = _("unit assessments")
        constraints = [
            models.UniqueConstraint(fields=["round", "unit"], name="assessment_one_per_round_unit"),
            models.CheckConstraint(
                condition=Q(state__in=[s.value for s in AssessmentState]),
                name="assessment_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(extended_until__isnull=True) | ~Q(extension_reason=""),
                name="assessment_extension_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(state=AssessmentState.DRAFT) | Q(submitted_at__isnull=False),
                name="assessment_submitted_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round.year} – {self.unit.code}"

    @property
    def deadline(self) -> datetime.datetime | None:
        """The self-assessment deadline for this unit: the round's, or its extension."""
        if self.extended_until and (
            self.round.self_assessment_deadline is None
            or self.extended_until > self.round.self_assessment_deadline
        ):
            return self.extended_until
        return self.round.self_assessment_deadline

    @staticmethod
    def past_deadline(now: datetime.datetime) -> Q:
        """The query form of ``deadline <= now`` (the unit's own deadline has passed: the
        round's, or its extension if later); ``tests/assessments/test_deadline_query.py``
        keeps the two in step."""
        round_passed = Q(round__self_assessment_deadline__lte=now)
        return (round_passed & (Q(extended_until__isnull=True) | Q(extended_until__lte=now))) | Q(
            round__self_assessment_deadline__isnull=True, extended_until__lte=now
        )

    def is_open(self, now: datetime.datetime | None = None) -> bool:
        """Units may write: a draft, in a round that has opened, before its deadline."""
        now = now or timezone.now()
        deadline = self.deadline
        return (
            self.state == AssessmentState.DRAFT
            and self.round.is_open_to_units(now)
            and (deadline is None or now < deadline)
        )

    def accepts_uploads(self, now: datetime.datetime | None = None) -> bool:
        """Evidence can be added while the unit may write, and also while it answers
        explanation requests (supplementary evidence, §5.2)."""
        now = now or timezone.now()
        if self.is_open(now):
            return True
        deadline = self.round.explanation_deadline
        return self.state == AssessmentState.EXPLANATION_REQUESTED and (
            deadline is None or now < deadline
        )


class ItemScore(models.Model):
    """One leaf for one unit: what the unit entered and the self score computed from it."""

    assessment = models.ForeignKey(UnitAssessment, on_delete=models.CASCADE, related_name="items")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="item_scores")
    self_value = models.CharField(_("value entered"), max_length=200, blank=True)
    self_score = models.DecimalField(
        _("self score"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    not_applicable = models.BooleanField(_("not applicable"), default=False)
    na_reason = models.TextField(_("reason it is not applicable"), blank=True)
    note = models.TextField(_("note"), blank=True)
    no_evidence_reason = models.TextField(_("why there is no evidence"), blank=True)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Appraisal round 1 (§5.2): the appraiser's input, checked like the unit's. An item is
    # appraised once ``appraisal1_at`` is set (an accepted N/A has no score).
    appraisal1_value = models.CharField(_("appraised value (round 1)"), max_length=200, blank=True)
    appraisal1_score = models.DecimalField(
        _("appraisal round 1"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    appraisal1_na = models.BooleanField(_("not applicable (round 1)"), default=False)
    appraisal1_comment = models.TextField(_("comment (round 1)"), blank=True)
    appraisal1_at = models.DateTimeField(null=True, blank=True)
    appraisal1_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    explanation_required = models.BooleanField(_("explanation required"), default=False)
    # Survey leaves (§8): max × the mean weight of valid answers, set by the survey import.
    survey_score = models.DecimalField(
        _("survey score"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    # Appraisal round 2: only items flagged for explanation.
    appraisal2_value = models.CharField(_("appraised value (round 2)"), max_length=200, blank=True)
    appraisal2_score = models.DecimalField(
        _("appraisal round 2"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    appraisal2_na = models.BooleanField(_("not applicable (round 2)"), default=False)
    appraisal2_comment = models.TextField(_("comment (round 2)"), blank=True)
    appraisal2_at = models.DateTimeField(null=True, blank=True)
    appraisal2_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["assessment", "criterion__position"]
        verbose_name = _("item score")
        verbose_name_plural = _("item scores")
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "criterion"], name="itemscore_one_per_leaf"
            ),
            models.CheckConstraint(
                condition=Q(self_score__isnull=True) | Q(self_score__gte=0, self_score__lte=1000),
                name="itemscore_self_score_range",
            ),
            models.CheckConstraint(
                condition=Q(not_applicable=False) | (~Q(na_reason="") & Q(self_score__isnull=True)),
                name="itemscore_na_has_reason_and_no_score",
            ),
            models.CheckConstraint(
                condition=Q(appraisal1_score__isnull=True)
                | Q(appraisal1_score__gte=0, appraisal1_score__lte=1000, appraisal1_na=False),
                name="itemscore_appraisal1_range",
            ),
            models.CheckConstraint(
                condition=Q(appraisal2_score__isnull=True)
                | Q(appraisal2_score__gte=0, appraisal2_score__lte=1000, appraisal2_na=False),
                name="itemscore_appraisal2_range",
            ),
            models.CheckConstraint(
                condition=Q(survey_score__isnull=True)
                | Q(survey_score__gte=0, survey_score__lte=1000),
                name="itemscore_survey_range",
            ),
            models.CheckConstraint(
                condition=Q(appraisal2_at__isnull=True) | Q(explanation_required=True),
                name="itemscore_round2_only_when_flagged",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assessment} {self.criterion.code}"

    @property
    def is_scored(self) -> bool:
        return self.not_applicable or self.self_score is not None

    @property
    def is_appraised(self) -> bool:
        return self.appraisal1_at is not None

    @property
    def has_points(self) -> bool:
        """The unit gave it points above 0 (evidence is then required, §7)."""
        return not self.not_applicable and bool(self.self_score)


def evidence_path(instance: Evidence, filename: str) -> str:
    """A random name outside the static tree; the original name is kept in the row."""
    return f"evidence/{instance.round.year}/{instance.unit.code}/{uuid.uuid4().hex}"


class Evidence(models.Model):
    """A document in a unit's library for one round; it can prove several items (§7)."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="evidence")
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(_("file"), upload_to=evidence_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    title = models.CharField(_("title"), max_length=500)
    document_number = models.CharField(_("document number"), max_length=100, blank=True)
    document_date = models.DateField(_("document date"), null=True, blank=True)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(_("type"), max_length=120)
    sha256 = models.CharField(max_length=64)
    carried_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="carried_to"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = _("evidence document")
        verbose_name_plural = _("evidence documents")
        constraints = [
            # The same file uploaded twice to one library is recognised, not stored twice.
            models.UniqueConstraint(
                fields=["unit", "round", "sha256"], name="evidence_unique_file"
            ),
            models.CheckConstraint(condition=~Q(title=""), name="evidence_title_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title


class EvidenceLink(models.Model):
    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, related_name="links")
    item = models.ForeignKey(ItemScore, on_delete=models.CASCADE, related_name="evidence_links")
    page_ref = models.CharField(_("pages / section"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("evidence link")
        verbose_name_plural = _("evidence links")
        constraints = [
            models.UniqueConstraint(fields=["evidence", "item"], name="evidencelink_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.evidence_id} → {self.item_id} {self.page_ref}"


class Assignment(models.Model):
    """Inside a unit: which contributor fills which subtree, by when."""

    assessment = models.ForeignKey(
        UnitAssessment, on_delete=models.CASCADE, related_name="assignments"
    )
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="+")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "criterion"], name="assignment_one_per_node"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assessment_id} {self.criterion_id} → {self.assignee_id}"


class EventAction(models.TextChoices):
    ROUND_CREATED = "round_created", _("Round created")
    CRITERIA_IMPORTED = "criteria_imported", _("Criteria imported")
    UNITS_IMPORTED = "units_imported", _("Units imported")
    SCORE_SAVED = "score_saved", _("Self score saved")
    EVIDENCE_ADDED = "evidence_added", _("Evidence added")
    EVIDENCE_DELETED = "evidence_deleted", _("Evidence deleted")
    EVIDENCE_LINKED = "evidence_linked", _("Evidence linked")
    EVIDENCE_UNLINKED = "evidence_unlinked", _("Evidence unlinked")
    ASSIGNED = "assigned", _("Items assigned")
    UNASSIGNED = "unassigned", _("Assignment removed")
    SENT_TO_LEADER = "sent_to_leader", _("Sent to the leader")
    SUBMITTED = "submitted", _("Submitted")
    AUTO_LOCKED = "auto_locked", _("Locked at the deadline")
    RETURNED_TO_DRAFT = "returned_to_draft", _("Returned to draft")
    EXTENSION_GRANTED = "extension_granted", _("Extension granted")
    WORKBOOK_IMPORTED = "workbook_imported", _("Workbook imported")
    APPRAISERS_ASSIGNED = "appraisers_assigned", _("Appraisers assigned")
    APPRAISAL_STARTED = "appraisal_started", _("Appraisal started")
    APPRAISED = "appraised", _("Item appraised")
    EXPLANATION_FLAGGED = "explanation_flagged", _("Explanation requested on an item")
    ROUND1_FINISHED = "round1_finished", _("Appraisal round 1 finished")
    EXPLANATION_ANSWERED = "explanation_answered", _("Explanation answered")
    EXPLANATIONS_SUBMITTED = "explanations_submitted", _("Explanations submitted")
    EXPLANATIONS_LOCKED = "explanations_locked", _("Explanations locked at the deadline")
    REAPPRAISED = "reappraised", _("Item re-appraised")
    ROUND2_FINISHED = "round2_finished", _("Appraisal round 2 finished")
    SENT_BACK = "sent_back", _("Sent back for re-appraisal")
    ROUND_APPROVED = "round_approved", _("Round approved")
    ROUND_PUBLISHED = "round_published", _("Round published")
    RESULTS_CORRECTED = "results_corrected", _("Results corrected")


class Event(models.Model):
    """Append-only history: who did what, when, old → new, why (DESIGN §3).

    Written only by services, in the same transaction as the change it records.
    """

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("action"), max_length=40, choices=EventAction.choices)
    round = models.ForeignKey(
        Round, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    criterion = models.ForeignKey(
        Criterion, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["unit", "round", "criterion"], name="event_item_history")]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=[a.value for a in EventAction]), name="event_action_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_action_display()}"
