"""Every multi-step write of the assessments app. Views and commands call these, nothing else
writes rounds, criteria sets or units."""

from __future__ import annotations

import datetime
import logging
import smtplib
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import scoring, states
from .importers import CriterionRow, UnitRow, criteria_rows
from .models import (
    AssessmentState,
    Assignment,
    CriteriaSet,
    Criterion,
    Event,
    EventAction,
    EvidenceLink,
    ItemScore,
    Notification,
    Round,
    StaffMembership,
    StaffRole,
    Unit,
    UnitAssessment,
    UnitGroup,
    UnitMembership,
    UnitRole,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

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


def check_criteria_import(round_: Round, group: UnitGroup, *, replace: bool) -> bool:
    """Refuse an import that would overwrite criteria (without ``replace``, or once the round
    is open to units). Returns whether the set already has criteria. The import page runs it
    before showing a preview, so a file is never called valid and then refused on confirm."""
    had_criteria = Criterion.objects.filter(
        criteria_set__round=round_, criteria_set__group=group
    ).exists()
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
    return had_criteria


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
    had_criteria = check_criteria_import(round_, group, replace=replace)
    if had_criteria:
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


# --- the state table (§5.2) ------------------------------------------------------------------


def lock_assessment(assessment: UnitAssessment) -> UnitAssessment:
    """Re-read an assessment under a row lock, with what transitions and messages read."""
    return (
        UnitAssessment.objects.select_for_update()
        .select_related("round", "unit", "criteria_set")
        .get(pk=assessment.pk)
    )


def transition(
    assessment: UnitAssessment,
    name: str,
    *,
    by: User | None,
    reason: str = "",
    changes: dict[str, Any] | None = None,
    condition: Q | None = None,
    refuse: bool = True,
    **detail: Any,
) -> bool:
    """Move ``assessment`` along row ``name`` of the §5.2 table (``states.TRANSITIONS``).

    One conditional ``UPDATE … WHERE state = source`` (with ``changes`` to other columns and
    an extra ``condition``), so that of two concurrent requests one wins and the other finds
    no row; then one Event (old → new, reason). The caller has checked the rule's other
    conditions (deadline, completeness) under ``lock_assessment`` and notifies with
    :func:`notify`, which sends after the commit. A request that finds the assessment in
    another state is refused (``ServiceError``), or returns ``False`` with ``refuse=False``
    (the deadline lock, which skips such units).
    """
    row = states.BY_NAME[name]
    query = UnitAssessment.objects.filter(pk=assessment.pk, state=row.source)
    if condition is not None:
        query = query.filter(condition)
    if query.update(state=row.target, **(changes or {})) != 1:
        if not refuse:
            return False
        raise ServiceError(
            _("Someone else has just changed the state of %(unit)s; reload the page.")
            % {"unit": assessment.unit.name}
        )
    Event.objects.create(
        actor=by,
        action=row.event,
        round_id=assessment.round_id,
        unit_id=assessment.unit_id,
        reason=reason,
        detail={"old": row.source, "new": row.target, **detail},
    )
    assessment.state = row.target
    for column, value in (changes or {}).items():
        setattr(assessment, column, value)
    return True


def transition_round(round_: Round, name: str, *, pks: Sequence[int] | None = None) -> int:
    """Move every assessment of ``round_`` (or those of ``pks``) in the row's source state
    along row ``name`` at once (approval and publication); the caller records the round's
    Event. Returns how many moved."""
    row = states.BY_NAME[name]
    query = UnitAssessment.objects.filter(round=round_, state=row.source)
    if pks is not None:
        query = query.filter(pk__in=pks)
    return query.update(state=row.target)


def lock_for_write(
    assessment: UnitAssessment, now: datetime.datetime | None = None
) -> UnitAssessment:
    """Re-read the assessment under a row lock and refuse unless the unit may still write.

    Every unit write goes through here, so a direct POST after submission or after the deadline
    is refused whatever the page showed.
    """
    return check_writable(lock_assessment(assessment), now)


def check_writable(locked: UnitAssessment, now: datetime.datetime | None = None) -> UnitAssessment:
    """The unit may write: a draft, in an open round, before its deadline (or extension)."""
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


def lock_for_upload(assessment: UnitAssessment) -> UnitAssessment:
    """Like ``lock_for_write``, but also lets a unit add supplementary evidence while it
    answers explanation requests (§5.2)."""
    locked = lock_assessment(assessment)
    if locked.state in states.EXPLAINING and locked.accepts_uploads():
        return locked
    return check_writable(locked)


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
    if criterion.method == scoring.SURVEY:
        # Survey leaves are scored by the survey (§8); a unit sends nothing for them, not
        # even N/A (that would drop their points from the applicable maximum).
        if entry.not_applicable or entry.value.strip():
            raise ServiceError(
                _("Item %(code)s is scored by the sociological survey; the unit enters nothing.")
                % {"code": criterion.code}
            )
        return "", None
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


# --- assignments, sign-off, deadlines -------------------------------------------------------------


def notify(recipients: Sequence[User], subject: str, body: str, *, url: str = "") -> None:
    """Tell people in the in-app inbox and by e-mail once the transaction commits (nobody is
    told about a rolled-back change). One message per address, so that no recipient sees the
    others (issue 10); a failing mail server is logged and never fails the user's action —
    the inbox row stays."""
    people = {user.pk: user for user in recipients}
    Notification.objects.bulk_create(
        Notification(user=user, subject=subject[:300], body=body, url=url)
        for user in people.values()
    )
    addresses = sorted({user.email for user in people.values() if user.email})
    if not addresses:
        return
    text = f"{body}\n\n{settings.PORTAL_URL.rstrip('/')}{url}" if url else body
    transaction.on_commit(lambda: _send_one_each(subject, text, addresses))


def _send_one_each(subject: str, text: str, addresses: Sequence[str]) -> None:
    """One e-mail per address over one connection; errors are logged, not raised."""
    try:
        connection = get_connection(fail_silently=False)
        messages = [EmailMessage(subject, text, None, [address]) for address in addresses]
        connection.send_messages(messages)
    except (smtplib.SMTPException, OSError):
        logger.exception("Sending %s notification e-mail(s) failed: %s", len(addresses), subject)


def unit_members(unit: Unit, *roles: str) -> list[User]:
    return [
        m.user
        for m in UnitMembership.objects.filter(unit=unit, role__in=roles).select_related("user")
    ]


@transaction.atomic
def assign_items(
    assessment: UnitAssessment,
    criterion: Criterion,
    assignee: User,
    *,
    by: User,
    due_date: datetime.date | None = None,
) -> Assignment:
    """Give a field or criterion (and everything under it) to a member of the unit."""
    locked = lock_for_write(assessment)
    if criterion.criteria_set_id != locked.criteria_set_id:
        raise ServiceError(_("This criterion is not in the unit's criteria set."))
    if not UnitMembership.objects.filter(unit_id=locked.unit_id, user=assignee).exists():
        raise ServiceError(_("Items can only be assigned to people of the unit."))
    assignment, _created = Assignment.objects.update_or_create(
        assessment=locked,
        criterion=criterion,
        defaults={"assignee": assignee, "due_date": due_date, "assigned_by": by},
    )
    Event.objects.create(
        actor=by,
        action=EventAction.ASSIGNED,
        round_id=locked.round_id,
        unit_id=locked.unit_id,
        criterion=criterion,
        detail={"assignee": assignee.username, "due_date": str(due_date or "")},
    )
    due = due_date.strftime("%d/%m/%Y") if due_date else "—"
    notify(
        [assignee],
        _("[PAR index %(year)s] Items assigned to you") % {"year": locked.round.year},
        _(
            "%(by)s assigned you “%(code)s %(title)s” of the %(unit)s self-assessment, due %(due)s.\n"
            "Open the portal and choose “My items” to fill them in."
        )
        % {
            "by": by.get_full_name() or by.username,
            "code": criterion.code,
            "title": criterion.title,
            "unit": locked.unit.name,
            "due": due,
        },
    )
    return assignment


@transaction.atomic
def unassign(assignment: Assignment, *, by: User) -> None:
    locked = lock_for_write(assignment.assessment)
    Event.objects.create(
        actor=by,
        action=EventAction.UNASSIGNED,
        round_id=locked.round_id,
        unit_id=locked.unit_id,
        criterion_id=assignment.criterion_id,
        detail={"assignee": assignment.assignee.username},
    )
    assignment.delete()


def submission_problems(
    items: Sequence[ItemScore], evidence_counts: dict[int, int]
) -> list[tuple[Criterion, str]]:
    """Every item that stops submission (§5.2, §7), with the reason.

    Every applicable self-assessed leaf must be scored or N/A, and a leaf with
    ``evidence_required`` and points above 0 needs evidence or a written explanation.
    """
    problems = []
    for item in items:
        criterion = item.criterion
        if criterion.method == scoring.SURVEY or item.not_applicable:
            continue
        if item.self_score is None:
            problems.append((criterion, _("not scored yet")))
        elif lacks_evidence(criterion, item, evidence_counts.get(item.pk, 0)):
            problems.append(
                (criterion, _("no evidence document and no explanation of why there is none"))
            )
    return problems


def lacks_evidence(criterion: Criterion, item: ItemScore, evidence_count: int) -> bool:
    """§7: points above 0 on a leaf that requires evidence, with neither a linked document
    nor a written reason why there is none (submission is refused)."""
    return bool(
        criterion.evidence_required
        and item.has_points
        and not evidence_count
        and not item.no_evidence_reason.strip()
    )


def evidence_counts_for(assessment: UnitAssessment) -> dict[int, int]:
    """item id → number of documents linked to it, for one assessment (one query)."""
    return dict(
        EvidenceLink.objects.filter(item__assessment=assessment)
        .values("item_id")
        .annotate(n=Count("pk"))
        .values_list("item_id", "n")
    )


@transaction.atomic
def send_to_leader(assessment: UnitAssessment, *, by: User) -> UnitAssessment:
    """The focal officer hands the finished self-assessment to the unit's leader."""
    locked = lock_for_write(assessment)
    locked.sent_to_leader_at = timezone.now()
    locked.save(update_fields=["sent_to_leader_at"])
    Event.objects.create(
        actor=by,
        action=EventAction.SENT_TO_LEADER,
        round_id=locked.round_id,
        unit_id=locked.unit_id,
    )
    notify(
        unit_members(locked.unit, UnitRole.LEADER),
        _("[PAR index %(year)s] The self-assessment is ready for your review")
        % {"year": locked.round.year},
        _(
            "%(by)s has finished the %(unit)s self-assessment. Review the summary in the portal and submit it before %(deadline)s."
        )
        % {
            "by": by.get_full_name() or by.username,
            "unit": locked.unit.name,
            "deadline": deadline_text(locked.deadline),
        },
    )
    return locked


def deadline_text(deadline: datetime.datetime | None) -> str:
    return timezone.localtime(deadline).strftime("%H:%M %d/%m/%Y") if deadline else "—"


def submit_assessment(
    assessment: UnitAssessment,
    *,
    by: User,
    difficulties: str = "",
    recommendations: str = "",
) -> UnitAssessment:
    """The unit leader submits (§5.2 draft → submitted) once the checks of §7 pass.

    The leader's "difficulties" and "recommendations" are saved first, on their own, so a
    refused submission does not lose what the leader wrote.
    """
    with transaction.atomic():
        locked = lock_for_write(assessment)
        locked.difficulties = difficulties.strip()
        locked.recommendations = recommendations.strip()
        locked.save(update_fields=["difficulties", "recommendations"])
    with transaction.atomic():
        return _submit(assessment, by=by)


def _submit(assessment: UnitAssessment, *, by: User) -> UnitAssessment:
    locked = lock_for_write(assessment)
    items = list(
        ItemScore.objects.filter(assessment=locked)
        .select_related("criterion")
        .order_by("criterion__position")
    )
    problems = submission_problems(items, evidence_counts_for(locked))
    if problems:
        raise SubmissionRefused(
            _("The self-assessment cannot be submitted yet: %(count)s item(s) need attention.")
            % {"count": len(problems)},
            problems,
        )
    now = timezone.now()
    transition(
        locked,
        "submit",
        by=by,
        changes={"submitted_at": now, "submitted_by": by, "auto_locked": False},
    )
    notify(
        secretariat_leads(),
        _("[PAR index %(year)s] %(unit)s submitted its self-assessment")
        % {"year": locked.round.year, "unit": locked.unit.name},
        _("%(unit)s submitted its self-assessment at %(when)s.")
        % {"unit": locked.unit.name, "when": deadline_text(now)},
    )
    locked.refresh_from_db()
    return locked


def secretariat_leads() -> list[User]:
    return [
        m.user
        for m in StaffMembership.objects.filter(role=StaffRole.SECRETARIAT_LEAD).select_related(
            "user"
        )
    ]


@transaction.atomic
def return_to_draft(assessment: UnitAssessment, *, by: User, reason: str) -> UnitAssessment:
    """The secretariat lead reopens a submitted unit, before its deadline (§5.2)."""
    locked = lock_assessment(assessment)
    if not reason.strip():
        raise ServiceError(_("Give the reason for returning the self-assessment to the unit."))
    if locked.state != AssessmentState.SUBMITTED:
        raise ServiceError(_("Only a submitted self-assessment can be returned to draft."))
    deadline = locked.deadline
    if deadline is not None and timezone.now() >= deadline:
        raise ServiceError(
            _("The deadline has passed; grant the unit an extension first, then return it.")
        )
    transition(
        locked,
        "return_to_draft",
        by=by,
        reason=reason.strip(),
        changes={"submitted_at": None, "submitted_by": None, "auto_locked": False},
    )
    notify(
        unit_members(locked.unit, UnitRole.LEADER, UnitRole.FOCAL),
        _("[PAR index %(year)s] Your self-assessment was returned for changes")
        % {"year": locked.round.year},
        _("The secretariat returned the %(unit)s self-assessment to draft: %(reason)s")
        % {"unit": locked.unit.name, "reason": reason.strip()},
    )
    locked.refresh_from_db()
    return locked


@transaction.atomic
def grant_extension(
    assessment: UnitAssessment, *, by: User, until: datetime.datetime, reason: str
) -> UnitAssessment:
    """A per-unit extension of the self-assessment deadline, with a reason (§5.1)."""
    locked = lock_assessment(assessment)
    if not reason.strip():
        raise ServiceError(_("Give the reason for the extension."))
    if until <= timezone.now():
        raise ServiceError(_("The extension must end in the future."))
    if locked.round.self_assessment_deadline and until <= locked.round.self_assessment_deadline:
        raise ServiceError(
            _("The extension must end after the round's deadline (%(deadline)s).")
            % {"deadline": deadline_text(locked.round.self_assessment_deadline)}
        )
    if locked.state not in states.EXTENDABLE:
        raise ServiceError(
            _("Appraisal has started; the self-assessment can no longer be extended.")
        )
    old = locked.extended_until
    locked.extended_until = until
    locked.extension_reason = reason.strip()
    locked.save(update_fields=["extended_until", "extension_reason"])
    Event.objects.create(
        actor=by,
        action=EventAction.EXTENSION_GRANTED,
        round_id=locked.round_id,
        unit_id=locked.unit_id,
        reason=reason.strip(),
        detail={"old": old.isoformat() if old else None, "new": until.isoformat()},
    )
    notify(
        unit_members(locked.unit, UnitRole.LEADER, UnitRole.FOCAL),
        _("[PAR index %(year)s] Self-assessment deadline extended") % {"year": locked.round.year},
        _("The deadline of the %(unit)s self-assessment is now %(until)s. Reason: %(reason)s")
        % {"unit": locked.unit.name, "until": deadline_text(until), "reason": reason.strip()},
    )
    return locked


def lock_deadlines(now: datetime.datetime | None = None) -> int:
    """Lock every draft whose deadline (or extension) has passed (§5.2). Idempotent.

    Once per round, when its deadline has passed, units that never opened their assessment get
    one, locked empty: they score 0 on self-assessed leaves (§4.4). The round is then marked
    so that later runs (cron, every few minutes) neither rescan it nor add units created
    afterwards to a past round. Each unit is locked in its own transaction.
    """
    now = now or timezone.now()
    for round_ in Round.objects.filter(
        self_assessment_deadline__lte=now, opens_at__lte=now, units_locked_at__isnull=True
    ):
        group_ids = CriteriaSet.objects.filter(round=round_).values_list("group_id", flat=True)
        for unit in Unit.objects.filter(group_id__in=group_ids, is_active=True).exclude(
            assessments__round=round_
        ):
            get_or_create_assessment(round_, unit)
        Round.objects.filter(pk=round_.pk).update(units_locked_at=now)
    locked = 0
    drafts = UnitAssessment.objects.filter(
        state=AssessmentState.DRAFT, round__self_assessment_deadline__isnull=False
    ).select_related("round")
    for assessment in drafts:
        deadline = assessment.deadline
        if deadline is None or deadline > now:
            continue
        with transaction.atomic():
            # The condition repeats the deadline test so an extension granted meanwhile wins.
            locked += transition(
                assessment,
                "auto_lock",
                by=None,
                changes={"auto_locked": True, "submitted_at": deadline},
                condition=Q(extended_until__isnull=True) | Q(extended_until__lte=now),
                refuse=False,
            )
    return locked
