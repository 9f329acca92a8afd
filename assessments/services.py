"""Every multi-step write of the assessments app. Views and commands call these, nothing else
writes rounds, criteria sets or units."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .importers import CriterionRow, UnitRow, criteria_rows
from .models import CriteriaSet, Criterion, Event, EventAction, Round, Unit, UnitGroup

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Names for the usual group codes; a new code gets its code as a name until someone edits it.
GROUP_NAMES = {
    "SO": ("Sở, ban, ngành", 1),
    "HUYEN": ("UBND cấp huyện", 2),
    "XA": ("UBND cấp xã", 3),
}


class ServiceError(Exception):
    """A refused action, with a message for the user in their language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def end_of_day(day: datetime.date) -> datetime.datetime:
    """The last instant of ``day`` in the portal's time zone (a deadline "until 31/12")."""
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return datetime.datetime.combine(day, datetime.time.max, tzinfo=tz)


@transaction.atomic
def create_round(
    year: int,
    *,
    by: User | None,
    clone_from: int | None = None,
    open_until: datetime.date | None = None,
) -> Round:
    """Create the round ``year``, optionally copying the criteria sets and bands of another
    round, and optionally opening self-assessment from now until the end of ``open_until``."""
    if not 2000 <= year <= 2100:
        raise ServiceError(_("The year must be between 2000 and 2100."))
    if Round.objects.filter(year=year).exists():
        raise ServiceError(_("The round %(year)s already exists.") % {"year": year})
    source = None
    if clone_from is not None:
        source = Round.objects.filter(year=clone_from).first()
        if source is None:
            raise ServiceError(_("There is no round %(year)s to copy from.") % {"year": clone_from})
    new_round = Round(year=year)
    if source is not None:
        new_round.band_good_min = source.band_good_min
        new_round.band_fair_min = source.band_fair_min
        new_round.band_average_min = source.band_average_min
    if open_until is not None:
        now = timezone.now()
        deadline = end_of_day(open_until)
        if deadline <= now:
            raise ServiceError(
                _("The self-assessment deadline %(day)s has already passed.")
                % {"day": open_until.strftime("%d/%m/%Y")}
            )
        new_round.opens_at = now
        new_round.self_assessment_deadline = deadline
    new_round.save()
    copied = []
    if source is not None:
        for criteria_set in source.criteria_sets.select_related("group"):
            target = CriteriaSet.objects.create(round=new_round, group=criteria_set.group)
            create_criteria(target, criteria_rows(criteria_set.criteria.order_by("position")))
            copied.append(criteria_set.group.code)
    Event.objects.create(
        actor=by,
        action=EventAction.ROUND_CREATED,
        round=new_round,
        detail={
            "clone_from": clone_from,
            "criteria_sets": copied,
            "open_until": str(open_until or ""),
        },
    )
    return new_round


def create_criteria(criteria_set: CriteriaSet, rows: Sequence[CriterionRow]) -> int:
    """Insert validated rows, parents before children, one bulk insert per tree level."""
    by_depth: dict[int, list[CriterionRow]] = {}
    for row in rows:
        by_depth.setdefault(row.code.count("."), []).append(row)
    ids: dict[str, int] = {}
    for depth in sorted(by_depth):
        created = Criterion.objects.bulk_create(
            [
                Criterion(
                    criteria_set=criteria_set,
                    parent_id=ids[row.parent_code] if row.parent_code else None,
                    code=row.code,
                    title=row.title,
                    english_title=row.english_title,
                    max_points=row.max_points,
                    method=row.method,
                    params=row.params,
                    allows_na=row.allows_na,
                    evidence_required=row.evidence_required,
                    evidence_hint=row.evidence_hint,
                    guidance=row.guidance,
                    position=row.position,
                )
                for row in by_depth[depth]
            ]
        )
        if any(c.pk is None for c in created):  # pragma: no cover - every supported DB returns ids
            created = list(
                Criterion.objects.filter(
                    criteria_set=criteria_set, code__in=[c.code for c in created]
                )
            )
        ids.update({c.code: c.pk for c in created})
    return len(rows)


@transaction.atomic
def import_criteria_set(
    round_: Round,
    group: UnitGroup,
    rows: Sequence[CriterionRow],
    *,
    by: User | None,
    replace: bool = False,
) -> CriteriaSet:
    """Create (or, with ``replace``, rewrite) the criteria set of ``group`` in ``round_``.

    A set can be rewritten only before the round opens to units: once units have seen the
    criteria, changing them would move the target under their feet.
    """
    criteria_set, _created = CriteriaSet.objects.select_for_update().get_or_create(
        round=round_, group=group
    )
    had_criteria = criteria_set.criteria.exists()
    if had_criteria:
        if not replace:
            raise ServiceError(
                _(
                    "Round %(year)s already has criteria for %(group)s. Choose “replace” to overwrite them."
                )
                % {"year": round_.year, "group": group.name}
            )
        if round_.is_open_to_units():
            raise ServiceError(
                _(
                    "Round %(year)s is already open to units, so its criteria can no longer be replaced."
                )
                % {"year": round_.year}
            )
        criteria_set.criteria.all().delete()
    count = create_criteria(criteria_set, rows)
    criteria_set.save(update_fields=["updated_at"])
    Event.objects.create(
        actor=by,
        action=EventAction.CRITERIA_IMPORTED,
        round=round_,
        detail={"group": group.code, "criteria": count, "replaced": had_criteria},
    )
    return criteria_set


@transaction.atomic
def import_units(rows: Sequence[UnitRow], *, by: User | None) -> dict[str, int]:
    """Create or update units by code; unknown group codes are created (DESIGN §10)."""
    groups = {g.code: g for g in UnitGroup.objects.all()}
    groups_created = 0
    for row in rows:
        if row.group not in groups:
            name, position = GROUP_NAMES.get(row.group, (row.group, 100))
            groups[row.group] = UnitGroup.objects.create(
                code=row.group, name=name, position=position
            )
            groups_created += 1
    existing = {u.code: u for u in Unit.objects.filter(code__in=[r.code for r in rows])}
    created = updated = 0
    for row in rows:
        unit = existing.get(row.code)
        if unit is None:
            try:
                with transaction.atomic():
                    Unit.objects.create(
                        code=row.code,
                        name=row.name,
                        group=groups[row.group],
                        has_admin_procedures=row.has_admin_procedures,
                    )
            except IntegrityError:  # pragma: no cover - a concurrent import of the same code
                raise ServiceError(
                    _("The unit %(code)s was created meanwhile; import again.") % {"code": row.code}
                ) from None
            created += 1
        elif (unit.name, unit.group_id, unit.has_admin_procedures) != (
            row.name,
            groups[row.group].pk,
            row.has_admin_procedures,
        ):
            unit.name = row.name
            unit.group = groups[row.group]
            unit.has_admin_procedures = row.has_admin_procedures
            unit.save(update_fields=["name", "group", "has_admin_procedures"])
            updated += 1
    summary = {"created": created, "updated": updated, "groups_created": groups_created}
    if any(summary.values()):  # an import that changed nothing leaves no history row
        Event.objects.create(actor=by, action=EventAction.UNITS_IMPORTED, detail=summary)
    return summary
