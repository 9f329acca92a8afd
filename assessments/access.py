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
from django.shortcuts import get_object_or_404
from django.utils import timezone

from . import services
from .models import (
    Assignment,
    CriteriaSet,
    Evidence,
    EvidenceLink,
    ItemScore,
    Round,
    Unit,
    UnitAssessment,
    UnitGroup,
    UnitRole,
)
from .roles import Roles, get_roles
from .states import COUNCIL_REVIEW, VISIBLE_TO_UNIT

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


# --- self-assessment ---------------------------------------------------------------------------


def get_assessment_for_user(user: User, year: int, unit_code: str) -> UnitAssessment:
    """The unit's assessment in round ``year``, for its own members and for province staff.

    A member of another unit gets 404 (we do not confirm the unit takes part); an account with no
    role gets 403. Units see a round only once it has opened to them.
    """
    roles = require_any_role(user)
    unit = Unit.objects.select_related("group").filter(code=unit_code.upper()).first()
    round_ = Round.objects.filter(year=year).first()
    if unit is None or round_ is None:
        raise Http404
    if unit.pk not in roles.units and not roles.is_province_staff:
        raise Http404
    # Nobody opens a unit's assessment before the round opens: creating it then would pin the
    # criteria that the secretariat may still replace.
    if not round_.is_open_to_units():
        raise Http404
    try:
        assessment = services.get_or_create_assessment(round_, unit)
    except services.ServiceError:
        raise Http404 from None
    if unit.pk not in roles.units and not staff_reads_unit(roles, assessment.state):
        raise PermissionDenied
    # The objects already loaded stand in for the foreign keys (no extra queries later).
    assessment.round = round_
    assessment.unit = unit
    return assessment


# --- §6: what province staff read of a unit ------------------------------------------------


def reads_every_state(roles: Roles) -> bool:
    """The secretariat lead, the appraisers and the council chair follow a unit in every state
    (§6 "read all"); council members only during council review."""
    return roles.is_secretariat_lead or roles.is_appraiser or roles.is_council_chair


def staff_reads_unit(roles: Roles, state: str) -> bool:
    """A unit's data (workspace, items, evidence, reports) for province staff: council members
    only once the unit is appraised (§6: never a draft, never during appraisal)."""
    return reads_every_state(roles) or (roles.is_province_staff and state in COUNCIL_REVIEW)


def appraisal_visible_to_staff(user: User, assessment: UnitAssessment) -> bool:
    """The secretariat lead and appraisers follow the appraisal as it happens; the council
    (the chair too) reads it once the unit is appraised."""
    roles = get_roles(user)
    if roles.is_secretariat_lead or roles.is_appraiser:
        return True
    return roles.is_province_staff and assessment.state in COUNCIL_REVIEW


def results_visible_to(user: User, assessment: UnitAssessment) -> bool:
    """Staff per ``appraisal_visible_to_staff``; the unit only after round 1 is finished."""
    roles = get_roles(user)
    if roles.is_province_staff:
        return appraisal_visible_to_staff(user, assessment)
    return assessment.unit_id in roles.units and assessment.state in VISIBLE_TO_UNIT


def round2_visible_to(user: User, assessment: UnitAssessment) -> bool:
    """Round-2 scores reach the unit only once round 2 is finished (not while typed)."""
    if get_roles(user).is_province_staff:
        return appraisal_visible_to_staff(user, assessment)
    return assessment.state in COUNCIL_REVIEW


def unit_role(user: User, assessment: UnitAssessment) -> str | None:
    """The user's role in the assessed unit, or ``None`` (province staff reading it)."""
    entry = get_roles(user).units.get(assessment.unit_id)
    return entry[1] if entry else None


def require_unit_role(user: User, assessment: UnitAssessment, *allowed: str) -> str:
    role = unit_role(user, assessment)
    if role is None or role not in allowed:
        raise PermissionDenied
    return role


def is_assigned(code: str, assigned_codes: set[str]) -> bool:
    """A leaf is assigned when it or one of its ancestors is (ancestors are code prefixes)."""
    parts = code.split(".")
    return any(".".join(parts[:n]) in assigned_codes for n in range(1, len(parts) + 1))


def assigned_codes(assessment: UnitAssessment, user: User) -> set[str]:
    return set(
        Assignment.objects.filter(assessment=assessment, assignee_id=user.pk).values_list(
            "criterion__code", flat=True
        )
    )


def get_assignment_for_edit(assessment: UnitAssessment, raw_pk: str) -> Assignment:
    """One of the assessment's assignments by the id a form sent; anything else is a 404
    (an id of another unit, or text that is not an id, "²" included)."""
    if not (raw_pk.isascii() and raw_pk.isdigit()):
        raise Http404
    try:
        return Assignment.objects.get(assessment=assessment, pk=int(raw_pk))
    except Assignment.DoesNotExist:
        raise Http404 from None


def get_item_for_edit(user: User, assessment: UnitAssessment, code: str) -> ItemScore:
    """The item a unit member may edit: leader and focal officer edit all, a contributor only
    what is assigned to them (403 otherwise); province staff never edit a unit's items."""
    role = require_unit_role(
        user, assessment, UnitRole.LEADER, UnitRole.FOCAL, UnitRole.CONTRIBUTOR
    )
    item = get_item_for_user(user, assessment, code)
    if role == UnitRole.CONTRIBUTOR and not is_assigned(code, assigned_codes(assessment, user)):
        raise PermissionDenied
    return item


def get_item_for_user(user: User, assessment: UnitAssessment, code: str) -> ItemScore:
    """Read access to one item of an assessment the user may already see."""
    try:
        item = ItemScore.objects.select_related("criterion", "updated_by").get(
            assessment=assessment, criterion__code=code
        )
    except ItemScore.DoesNotExist:
        raise Http404 from None
    item.assessment = assessment
    return item


# --- evidence ----------------------------------------------------------------------------


def get_evidence_for_user(assessment: UnitAssessment, pk: int) -> Evidence:
    """A document of the library of an assessment the user may already see; any other id is
    a 404 (a document of another unit or round is not confirmed to exist)."""
    return get_object_or_404(
        Evidence, pk=pk, unit_id=assessment.unit_id, round_id=assessment.round_id
    )


def get_link_for_edit(item: ItemScore, pk: int) -> EvidenceLink:
    link = get_object_or_404(EvidenceLink.objects.select_related("evidence"), pk=pk, item=item)
    link.item = item
    return link
