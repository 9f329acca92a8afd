"""What a user is in the portal: unit roles and province-level roles (DESIGN §6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .models import StaffMembership, StaffRole, Unit, UnitMembership

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


@dataclass(frozen=True)
class Roles:
    """A user's roles, loaded once per request (two queries)."""

    units: dict[int, tuple[Unit, str]] = field(default_factory=dict)  # unit id -> (unit, role)
    staff: frozenset[str] = frozenset()
    is_superuser: bool = False

    @property
    def is_secretariat_lead(self) -> bool:
        # The superuser (`admin`) runs the portal and can do what the secretariat lead does.
        return self.is_superuser or StaffRole.SECRETARIAT_LEAD in self.staff

    @property
    def is_appraiser(self) -> bool:
        return StaffRole.APPRAISER in self.staff

    @property
    def is_council_member(self) -> bool:
        return StaffRole.COUNCIL_MEMBER in self.staff

    @property
    def is_council_chair(self) -> bool:
        return StaffRole.COUNCIL_CHAIR in self.staff

    @property
    def is_council_reader(self) -> bool:
        """Reads the council's pages and internal reports: members, the chair, the lead."""
        return self.is_council_member or self.is_council_chair or self.is_secretariat_lead

    @property
    def is_province_staff(self) -> bool:
        """Secretariat, appraisers and council: they read every unit's criteria and results."""
        return self.is_superuser or bool(self.staff)

    @property
    def is_unit_user(self) -> bool:
        return bool(self.units)

    @property
    def has_any(self) -> bool:
        return self.is_province_staff or self.is_unit_user

    @property
    def group_ids(self) -> set[int]:
        return {unit.group_id for unit, _role in self.units.values()}

    def unit_roles(self) -> list[tuple[Unit, str]]:
        return sorted(self.units.values(), key=lambda pair: pair[0].code)


NO_ROLES = Roles()


def get_roles(user: User | AnonymousUser) -> Roles:
    """The roles of ``user``, cached on the user object for the rest of the request."""
    if not user.is_authenticated:
        return NO_ROLES
    cached = getattr(user, "_cchc_roles", None)
    if cached is not None:
        return cached
    memberships = UnitMembership.objects.filter(user=user).select_related("unit__group")
    roles = Roles(
        units={m.unit_id: (m.unit, m.role) for m in memberships},
        staff=frozenset(StaffMembership.objects.filter(user=user).values_list("role", flat=True)),
        is_superuser=bool(getattr(user, "is_superuser", False)),
    )
    user._cchc_roles = roles  # type: ignore[attr-defined]
    return roles
