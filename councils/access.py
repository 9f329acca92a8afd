"""Permission-checked lookups for appraisal (DESIGN §6): who may appraise what."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from assessments.models import CriteriaSet, Criterion, ItemScore, UnitAssessment
from assessments.roles import get_roles

from .models import AppraiserAssignment


def field_code(code: str) -> str:
    """The top-level field of a criterion code ("3.2.1" → "3")."""
    return code.split(".", 1)[0]


def code_q(code: str, prefix: str = "") -> Q:
    """The criteria of field ``code``: the field itself and everything under it."""
    return Q(**{f"{prefix}code": code}) | Q(**{f"{prefix}code__startswith": f"{code}."})


@dataclass(frozen=True)
class AppraisalScope:
    """What a user works through on the appraisal pages: the fields of their own
    assignments (each for every unit of its group, or for some units), and for the
    secretariat lead every unit and every field to read (``everything``)."""

    everything: bool = False
    # criteria set id -> field code -> unit ids (empty: every unit of the group)
    assigned: Mapping[int, Mapping[str, frozenset[int]]] = field(default_factory=dict)

    def own_fields(self, criteria_set_id: int, unit_id: int) -> set[str]:
        """The fields of one unit that the user appraises: the one rule of "who appraises
        what" (an assignment without units covers every unit of the group).
        :meth:`assessments_q` and :meth:`items_q` are its query twins (tested to agree)."""
        return {
            code
            for code, units in self.assigned.get(criteria_set_id, {}).items()
            if not units or unit_id in units
        }

    def assessments_q(self) -> Q:
        """The unit assessments in scope, as a filter on ``UnitAssessment``: the query twin
        of :meth:`own_fields` (the lead: every one; else those with an own field)."""
        if self.everything:
            return Q()
        covered = Q(pk__in=[])
        for set_id, fields in self.assigned.items():
            units = set().union(*fields.values())
            if any(not u for u in fields.values()):
                covered |= Q(criteria_set_id=set_id)
            else:
                covered |= Q(criteria_set_id=set_id, unit_id__in=sorted(units))
        return covered

    def items_q(self) -> Q:
        """The items in scope, as a filter on ``ItemScore``: the query twin of
        :meth:`own_fields` (the lead: every one; else those of an own field of their unit)."""
        if self.everything:
            return Q()
        covered = Q(pk__in=[])
        for set_id, fields in self.assigned.items():
            for code, units in fields.items():
                one = Q(assessment__criteria_set_id=set_id) & code_q(code, "criterion__")
                if units:
                    one &= Q(assessment__unit_id__in=sorted(units))
                covered |= one
        return covered


def appraisal_scope(
    user: User | AnonymousUser, assignments: Iterable[AppraiserAssignment] | None = None
) -> AppraisalScope:
    """The user's :class:`AppraisalScope` (two queries, none for a user who is not an
    appraiser). ``assignments``, if given, are rows already loaded with their field and
    units (those of other appraisers are ignored)."""
    roles = get_roles(user)
    assigned: dict[int, dict[str, frozenset[int]]] = {}
    if roles.is_appraiser:
        if assignments is None:
            assignments = AppraiserAssignment.objects.filter(appraiser_id=user.pk).select_related(
                "field"
            )
            assignments = assignments.prefetch_related("units")
        for assignment in assignments:
            if assignment.appraiser_id != user.pk:
                continue
            assigned.setdefault(assignment.criteria_set_id, {})[assignment.field.code] = frozenset(
                unit.pk for unit in assignment.units.all()
            )
    return AppraisalScope(everything=roles.is_secretariat_lead, assigned=assigned)


def assigned_fields(user: User | AnonymousUser, assessment: UnitAssessment) -> set[str]:
    """The field codes of this unit's criteria set that ``user`` appraises (two queries, none
    for a user who is not an appraiser): :meth:`AppraisalScope.own_fields`."""
    return appraisal_scope(user).own_fields(assessment.criteria_set_id, assessment.unit_id)


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
    ).prefetch_related("units")
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
