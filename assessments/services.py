"""Every multi-step write of the assessments app. Views and commands call these, nothing else
writes rounds, criteria sets or units."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from . import scoring
from .importers import CriterionRow, UnitRow, criteria_rows
from .models import (
    AssessmentState,
    CriteriaSet,
    Criterion,
    Event,
    EventAction,
    ItemScore,
    Round,
    Unit,
    UnitAssessment,
    UnitGroup,
)

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


# ---------------------------------------------------------------------------------------------
# Self-assessment (DESIGN §5.1–§5.2, §7)


class Conflict(ServiceError):
    """Someone else saved the item first; ``current`` is what they saved."""

    def __init__(self, message: str, current: ItemScore) -> None:
        super().__init__(message)
        self.current = current


class SubmissionRefused(ServiceError):
    """The checks of §7 failed; ``problems`` lists every item that fails, with the reason."""

    def __init__(self, message: str, problems: list[tuple[Criterion, str]]) -> None:
        super().__init__(message)
        self.problems = problems


def criteria_set_for(round_: Round, unit: Unit) -> CriteriaSet:
    criteria_set = CriteriaSet.objects.filter(round=round_, group_id=unit.group_id).first()
    if criteria_set is None:
        raise ServiceError(
            _("Round %(year)s has no criteria set for %(group)s yet.")
            % {"year": round_.year, "group": unit.group.name}
        )
    return criteria_set


def get_or_create_assessment(round_: Round, unit: Unit) -> UnitAssessment:
    """The unit's assessment in the round, created with one empty item per leaf."""
    existing = UnitAssessment.objects.filter(round=round_, unit=unit).first()
    if existing is not None:
        return existing
    criteria_set = criteria_set_for(round_, unit)
    try:
        with transaction.atomic():
            assessment = UnitAssessment.objects.create(
                round=round_, unit=unit, criteria_set=criteria_set
            )
            leaves = criteria_set.criteria.exclude(method__in=sorted(scoring.BRANCH_METHODS))
            ItemScore.objects.bulk_create(
                ItemScore(assessment=assessment, criterion=c) for c in leaves
            )
    except IntegrityError:
        # Two first visits at once: the other request created it.
        return UnitAssessment.objects.get(round=round_, unit=unit)
    return assessment


def lock_for_write(
    assessment: UnitAssessment, now: datetime.datetime | None = None
) -> UnitAssessment:
    """Re-read the assessment under a row lock and refuse unless the unit may still write.

    Every unit write goes through here, so a direct POST after submission or after the deadline
    is refused whatever the page showed.
    """
    locked = (
        UnitAssessment.objects.select_for_update().select_related("round").get(pk=assessment.pk)
    )
    now = now or timezone.now()
    if locked.state != AssessmentState.DRAFT:
        raise ServiceError(
            _("The self-assessment has been submitted and is locked; nothing can be changed.")
        )
    if not locked.round.is_open_to_units(now):
        raise ServiceError(_("Self-assessment for this round has not opened yet."))
    deadline = locked.deadline
    if deadline is not None and now >= deadline:
        raise ServiceError(
            _(
                "The self-assessment deadline (%(deadline)s) has passed; changes are no longer accepted."
            )
            % {"deadline": timezone.localtime(deadline).strftime("%H:%M %d/%m/%Y")}
        )
    return locked


def item_state(item: ItemScore) -> dict[str, Any]:
    return {
        "value": item.self_value,
        "score": None if item.self_score is None else str(item.self_score),
        "not_applicable": item.not_applicable,
        "na_reason": item.na_reason,
        "note": item.note,
        "no_evidence_reason": item.no_evidence_reason,
    }


@dataclass(frozen=True)
class ItemInput:
    """What a unit sends for one item (form or workbook row)."""

    value: str = ""
    not_applicable: bool = False
    na_reason: str = ""
    note: str = ""
    no_evidence_reason: str = ""


def evaluate(criterion: Criterion, entry: ItemInput) -> tuple[str, Decimal | None]:
    """Check one entry against its leaf (§4.1–§4.2): the canonical value and its points.

    Raises ``ServiceError`` naming the item and the allowed values; nothing is saved.
    """
    if entry.not_applicable:
        if not criterion.allows_na:
            raise ServiceError(
                _("Item %(code)s cannot be marked not applicable.") % {"code": criterion.code}
            )
        if not entry.na_reason.strip():
            raise ServiceError(
                _("Item %(code)s: give the reason why it is not applicable.")
                % {"code": criterion.code}
            )
        return "", None
    if criterion.method == scoring.SURVEY:
        return "", None
    text = entry.value.strip()
    if not text:
        return "", None
    params = scoring.parse_params(criterion.method, criterion.params, criterion.max_points)
    try:
        value = scoring.parse_value(criterion.method, params, criterion.max_points, text)
        points = scoring.leaf_points(criterion.method, params, criterion.max_points, value)
    except scoring.InputError as error:
        raise ServiceError(
            _("Item %(code)s: %(message)s") % {"code": criterion.code, "message": error.message}
        ) from None
    return canonical_value(criterion.method, value, text), points


def canonical_value(method: str, value: Any, typed: str) -> str:
    """What is stored and shown back: "có"/"không", the level's label, or the number as typed."""
    if method == scoring.YES_NO:
        return "có" if value else "không"
    if method == scoring.CHOICE:
        return str(value)
    return " ".join(typed.split())


@transaction.atomic
def save_item(item: ItemScore, entry: ItemInput, *, by: User, expected_version: int) -> ItemScore:
    """Save one item's self-assessment with an optimistic version check (§3, ItemScore).

    Refuses after submission or the deadline (``lock_for_write``), refuses invalid input
    (``evaluate``), and raises ``Conflict`` when someone saved the item since the user loaded
    it, instead of overwriting their value.
    """
    lock_for_write(item.assessment)
    criterion = item.criterion
    value, points = evaluate(criterion, entry)
    current = ItemScore.objects.select_related("updated_by").get(pk=item.pk)
    if current.version != expected_version:
        raise Conflict(
            _(
                "%(who)s saved item %(code)s at %(when)s while you were editing it. Their value is shown; check it and save again if yours should replace it."
            )
            % {
                "who": current.updated_by.get_full_name() if current.updated_by else "—",
                "code": criterion.code,
                "when": timezone.localtime(current.updated_at).strftime("%H:%M")
                if current.updated_at
                else "—",
            },
            current,
        )
    old = item_state(current)
    now = timezone.now()
    updated = ItemScore.objects.filter(pk=item.pk, version=expected_version).update(
        self_value=value,
        self_score=points,
        not_applicable=entry.not_applicable,
        na_reason=entry.na_reason.strip() if entry.not_applicable else "",
        note=entry.note.strip(),
        no_evidence_reason=entry.no_evidence_reason.strip(),
        version=F("version") + 1,
        updated_at=now,
        updated_by=by,
    )
    if updated != 1:  # pragma: no cover - the row lock on the assessment serialises writers
        raise Conflict(
            _("Item %(code)s was changed meanwhile.") % {"code": criterion.code}, current
        )
    saved = ItemScore.objects.select_related("criterion", "updated_by").get(pk=item.pk)
    new = item_state(saved)
    if new != old:
        Event.objects.create(
            actor=by,
            action=EventAction.SCORE_SAVED,
            round_id=item.assessment.round_id,
            unit_id=item.assessment.unit_id,
            criterion=criterion,
            detail={"old": old, "new": new},
        )
    return saved
