"""Permission-checked lookups for appraisal (DESIGN §6): who may appraise what."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import Http404

from assessments.models import CriteriaSet, Criterion, ItemScore, UnitAssessment
from assessments.roles import get_roles

from .models import AppraiserAssignment


def field_code(code: str) -> str:
    """The top-level field of a criterion code ("3.2.1" → "3")."""
    return code.split(".", 1)[0]


def assigned_fields(user: User | AnonymousUser, assessment: UnitAssessment) -> set[str]:
    """The field codes of this unit's criteria set that ``user`` appraises (one query).

    An assignment without units covers every unit of the group.
    """
    if not user.is_authenticated:
        return set()
    codes = set()
    assignments = AppraiserAssignment.objects.filter(
        criteria_set_id=assessment.criteria_set_id, appraiser_id=user.pk
    ).prefetch_related("units")
    for assignment in assignments.select_related("field"):
        units = {unit.pk for unit in assignment.units.all()}
        if not units or assessment.unit_id in units:
            codes.add(assignment.field.code)
    return codes


def require_appraiser_of(
    user: User | AnonymousUser, assessment: UnitAssessment, criterion: Criterion
) -> None:
    """An appraiser appraises only the fields assigned to them (403 otherwise)."""
    roles = get_roles(user)
    if not roles.is_appraiser or field_code(criterion.code) not in assigned_fields(
        user, assessment
    ):
        raise PermissionDenied


def get_item_for_appraisal(user: User | AnonymousUser, item_pk: int) -> ItemScore:
    """An item for an appraiser: 404 for anyone who is not province staff, 403 for staff
    without the field."""
    roles = get_roles(user)
    if not roles.is_province_staff:
        raise Http404
    try:
        item = ItemScore.objects.select_related(
            "criterion", "assessment__round", "assessment__unit__group", "assessment__criteria_set"
        ).get(pk=item_pk)
    except ItemScore.DoesNotExist:
        raise Http404 from None
    require_appraiser_of(user, item.assessment, item.criterion)
    return item


def get_field_for_staff(
    user: User | AnonymousUser, year: int, group: str, code: str
) -> tuple[CriteriaSet, Criterion]:
    """A field of a criteria set, for the appraiser assigned to it or the secretariat lead."""
    roles = get_roles(user)
    if not roles.is_province_staff:
        raise Http404
    try:
        criteria_set = CriteriaSet.objects.select_related("round", "group").get(
            round__year=year, group__code=group.upper()
        )
        field = criteria_set.criteria.get(code=code, parent__isnull=True)
    except (CriteriaSet.DoesNotExist, Criterion.DoesNotExist):
        raise Http404 from None
    if roles.is_secretariat_lead:
        return criteria_set, field
    if (
        not roles.is_appraiser
        or not AppraiserAssignment.objects.filter(
            criteria_set=criteria_set, field=field, appraiser_id=user.pk
        ).exists()
    ):
        raise PermissionDenied
    return criteria_set, field


def visible_assignments(user: User | AnonymousUser) -> list[AppraiserAssignment]:
    """The appraisal assignments a user's worklist shows: the appraiser's own; every one for
    the secretariat lead; other province staff see an empty list; anyone else 403."""
    roles = get_roles(user)
    if not roles.is_province_staff:
        raise PermissionDenied
    assignments = AppraiserAssignment.objects.select_related(
        "criteria_set__round", "criteria_set__group", "field", "appraiser"
    )
    if not roles.is_secretariat_lead:
        assignments = assignments.filter(appraiser_id=user.pk)
    return list(
        assignments.order_by(
            "-criteria_set__round__year", "criteria_set__group__position", "field__position"
        )
    )


def field_scope(
    user: User | AnonymousUser, criteria_set: CriteriaSet, field: Criterion
) -> tuple[bool, set[int] | None]:
    """On a field page (after ``get_field_for_staff``): whether the user appraises the lines,
    and the units they cover (``None``: every unit of the group). The lead reads every unit
    and appraises none unless also assigned."""
    roles = get_roles(user)
    assignment = (
        AppraiserAssignment.objects.prefetch_related("units")
        .filter(criteria_set=criteria_set, field=field, appraiser_id=user.pk)
        .first()
    )
    if roles.is_secretariat_lead:
        return roles.is_appraiser and assignment is not None, None
    if assignment is None:
        raise PermissionDenied
    return roles.is_appraiser, {u.pk for u in assignment.units.all()} or None
