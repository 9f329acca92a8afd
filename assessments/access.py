"""Every permission-checked lookup of the assessments app (DESIGN §6).

An outsider asking for an object gets 404 (we do not confirm it exists); an insider without
the role gets 403.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from .models import CriteriaSet, Round, UnitGroup
from .roles import Roles, get_roles

User = AuthUser | AnonymousUser


def require_any_role(user: User) -> Roles:
    """A signed-in account that has not been given any role sees nothing yet (403)."""
    roles = get_roles(user)
    if not roles.has_any:
        raise PermissionDenied
    return roles


def require_secretariat_lead(user: User) -> Roles:
    roles = get_roles(user)
    if not roles.is_secretariat_lead:
        raise PermissionDenied
    return roles


def visible_criteria_sets(user: User) -> QuerySet[CriteriaSet]:
    """Province staff read every criteria set; a unit reads its own group's sets once the
    round has opened to units (a set being prepared is not shown)."""
    roles = require_any_role(user)
    sets = CriteriaSet.objects.with_counts().order_by("-round__year", "group__position")
    if roles.is_province_staff:
        return sets
    return sets.filter(
        Q(group_id__in=roles.group_ids),
        round__opens_at__isnull=False,
        round__opens_at__lte=timezone.now(),
    )


def get_criteria_set_for_user(user: User, year: int, group_code: str) -> CriteriaSet:
    try:
        return visible_criteria_sets(user).get(round__year=year, group__code=group_code.upper())
    except CriteriaSet.DoesNotExist:
        raise Http404 from None


def get_round_and_group_for_setup(
    user: User, year: int, group_code: str
) -> tuple[Round, UnitGroup]:
    require_secretariat_lead(user)
    try:
        return Round.objects.get(year=year), UnitGroup.objects.get(code=group_code.upper())
    except (Round.DoesNotExist, UnitGroup.DoesNotExist):
        raise Http404 from None
