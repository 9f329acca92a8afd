"""Appraisal and council review: who appraises which fields, explanation requests, reminders,
the council's opinions and the approval decision (§5.2, §5.3). The people (``StaffMembership``)
and the inbox (``Notification``) live on the ground floor, in ``assessments.models``."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppraiserAssignment(models.Model):
    """The secretariat lead gives an appraiser a field of a criteria set, for every unit of the
    group or only for some (``units`` empty means all)."""

    criteria_set = models.ForeignKey(
        "assessments.CriteriaSet", on_delete=models.CASCADE, related_name="appraiser_assignments"
    )
    field = models.ForeignKey("assessments.Criterion", on_delete=models.CASCADE, related_name="+")
    appraiser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="appraiser_assignments"
    )
    units = models.ManyToManyField("assessments.Unit", blank=True, related_name="+")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("appraiser assignment")
        verbose_name_plural = _("appraiser assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["criteria_set", "field", "appraiser"], name="appraiserassignment_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.criteria_set_id} {self.field_id} → {self.appraiser_id}"


class ExplanationRequestQuerySet(models.QuerySet["ExplanationRequest"]):
    def flagged(self) -> ExplanationRequestQuerySet:
        """The requests whose item is still flagged for explanation."""
        return self.filter(item__explanation_required=True)

    def unanswered(self) -> ExplanationRequestQuerySet:
        """The requests the unit still has to answer: flagged, no answer yet (what
        ``submit_explanations`` refuses on, and the unit's home counts)."""
        return self.flagged().filter(answered_at__isnull=True)


class ExplanationRequest(models.Model):
    """The appraiser's question on one item and the unit's answer (§5.2)."""

    item = models.OneToOneField(
        "assessments.ItemScore", on_delete=models.CASCADE, related_name="explanation"
    )
    question = models.TextField(_("question"))
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    asked_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    evidence = models.ManyToManyField("assessments.Evidence", blank=True, related_name="+")

    objects = ExplanationRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("explanation request")
        verbose_name_plural = _("explanation requests")
        constraints = [
            models.CheckConstraint(condition=~Q(question=""), name="explanation_has_question")
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.question[:40]}"


class Deadline(models.TextChoices):
    SELF_ASSESSMENT = "self_assessment", _("Self-assessment deadline")
    APPRAISAL1 = "appraisal1", _("Appraisal round 1 deadline")
    EXPLANATION = "explanation", _("Explanation deadline")
    APPRAISAL2 = "appraisal2", _("Appraisal round 2 deadline")


class ReminderSent(models.Model):
    """One reminder per person, deadline and lead time: ``send_reminders`` is idempotent."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    round = models.ForeignKey("assessments.Round", on_delete=models.CASCADE, related_name="+")
    deadline = models.CharField(max_length=20, choices=Deadline.choices)
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "round", "deadline", "days_before"], name="reminder_once"
            ),
            models.CheckConstraint(
                condition=Q(deadline__in=[d.value for d in Deadline]),
                name="reminder_deadline_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.deadline} −{self.days_before}"


class Opinion(models.Model):
    """A council member's opinion on one unit's appraised result (§5.3)."""

    assessment = models.ForeignKey(
        "assessments.UnitAssessment", on_delete=models.CASCADE, related_name="opinions"
    )
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agrees = models.BooleanField(_("agrees"))
    note = models.TextField(_("note"), blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("council opinion")
        verbose_name_plural = _("council opinions")
        constraints = [
            models.UniqueConstraint(fields=["assessment", "member"], name="opinion_one_per_member"),
            models.CheckConstraint(
                condition=Q(agrees=True) | ~Q(note=""), name="opinion_disagreement_has_note"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {'+' if self.agrees else '−'} {self.assessment_id}"


def decision_path(instance: Decision, filename: str) -> str:
    return f"decisions/{instance.round.year}/{uuid.uuid4().hex}.pdf"


class Decision(models.Model):
    """The chair's approval decision of a round (§5.3): number, date, signer, signed PDF."""

    round = models.OneToOneField(
        "assessments.Round", on_delete=models.PROTECT, related_name="decision"
    )
    number = models.CharField(_("decision number"), max_length=100)
    date = models.DateField(_("decision date"))
    signer = models.CharField(_("signed by"), max_length=200)
    signed_pdf = models.FileField(_("signed decision (PDF)"), upload_to=decision_path, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("approval decision")
        verbose_name_plural = _("approval decisions")
        constraints = [models.CheckConstraint(condition=~Q(number=""), name="decision_has_number")]

    def __str__(self) -> str:
        return self.number
