"""Frozen results: what was approved and what the public sees (DESIGN §5.3)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ResultSnapshot(models.Model):
    """The results of a round frozen at approval (version 1) or at a correction (2, 3 …).

    ``data`` is exactly the open-data JSON of DESIGN §10; published numbers always come from
    here, never from a fresh computation. Rows are never updated except to mark publication.
    """

    round = models.ForeignKey(
        "assessments.Round", on_delete=models.PROTECT, related_name="snapshots"
    )
    version = models.PositiveSmallIntegerField()
    data = models.JSONField()
    reason = models.TextField(_("reason"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["round", "-version"]
        verbose_name = _("result snapshot")
        verbose_name_plural = _("result snapshots")
        constraints = [
            models.UniqueConstraint(fields=["round", "version"], name="snapshot_version_unique"),
            models.CheckConstraint(condition=Q(version__gte=1), name="snapshot_version_positive"),
            models.CheckConstraint(
                condition=Q(version=1) | ~Q(reason=""), name="snapshot_correction_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round_id} v{self.version}"
