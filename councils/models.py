"""Secretariat and council bodies: who appraises, who runs the process, who approves (§6)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


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
