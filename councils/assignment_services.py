"""Writes of the appraiser assignment page that ``councils.services`` does not have yet."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from assessments.models import Event, EventAction
from assessments.services import ServiceError, notify

from .models import AppraiserAssignment

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@transaction.atomic
def unassign_appraiser(assignment: AppraiserAssignment, *, by: User) -> None:
    """The secretariat lead takes a field away from an appraiser; the appraiser is told.

    Appraisals already saved stay (they are the appraiser's signed work); only the right to
    appraise more of the field goes.
    """
    # Lock the row: two leads removing the same assignment at once record one event.
    locked = (
        AppraiserAssignment.objects.select_for_update()
        .select_related("criteria_set__round", "criteria_set__group", "field", "appraiser")
        .filter(pk=assignment.pk)
        .first()
    )
    if locked is None:
        raise ServiceError(_("This assignment has already been removed; reload the page."))
    units = sorted(u.code for u in locked.units.all())
    field, appraiser, criteria_set = locked.field, locked.appraiser, locked.criteria_set
    locked.delete()
    Event.objects.create(
        actor=by,
        action=EventAction.APPRAISERS_ASSIGNED,
        round_id=criteria_set.round_id,
        criterion=field,
        detail={"removed": appraiser.username, "group": criteria_set.group.code, "units": units},
    )
    notify(
        [appraiser],
        _("[PAR index %(year)s] You no longer appraise field %(code)s")
        % {"year": criteria_set.round.year, "code": field.code},
        _(
            "The secretariat has removed your assignment to field %(code)s “%(title)s” of %(group)s. The appraisals you have already saved are kept."
        )
        % {"code": field.code, "title": field.title, "group": criteria_set.group.name},
    )
