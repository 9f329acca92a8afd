"""The in-app inbox (reading and marking notifications) and the deadline reminders of §5.1.

Notifications themselves are written by ``assessments.services.notify``; this module only reads
them, marks them read, and decides who is reminded of which deadline.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessments import results, scoring, states
from assessments.models import (
    AssessmentState,
    CriteriaSet,
    ItemScore,
    Notification,
    Round,
    Unit,
    UnitAssessment,
    UnitMembership,
    UnitRole,
)
from assessments.services import deadline_text, notify

from .access import field_code
from .models import AppraiserAssignment, Deadline, ReminderSent

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

PAGE_SIZE = 50

# Days before a deadline at which people who are not done are reminded, the most urgent first.
LEAD_TIMES = (1, 3)


# --- inbox -----------------------------------------------------------------------------------


def notifications_for(user: User | AnonymousUser) -> QuerySet[Notification]:
    """The user's notifications, newest first (the model's ordering)."""
    if user.pk is None:
        return Notification.objects.none()
    return Notification.objects.filter(user_id=user.pk)


def unread_count(user: User | AnonymousUser) -> int:
    """One COUNT query on the (user, read_at) index."""
    return notifications_for(user).filter(read_at__isnull=True).count()


def get_notification_for_user(user: User | AnonymousUser, pk: int) -> Notification:
    """One of the user's own notifications; anybody else's is a 404, not a 403, so that the
    existence of another person's notification is not revealed."""
    try:
        return notifications_for(user).get(pk=pk)
    except Notification.DoesNotExist:
        raise Http404 from None


def mark_read(
    user: User | AnonymousUser,
    *,
    pk: int | None = None,
    now: datetime.datetime | None = None,
) -> int:
    """Mark every unread notification of ``user`` (or only ``pk``) as read; returns how many.

    A conditional UPDATE: a notification already read keeps the time it was first read.
    """
    unread = notifications_for(user).filter(read_at__isnull=True)
    if pk is not None:
        unread = unread.filter(pk=pk)
    return unread.update(read_at=now or timezone.now())


def safe_local_url(url: str) -> str | None:
    """``url`` if it is a path on this site, else None.

    Notification links are stored text: only relative paths ("/don-vi/…") are followed, so the
    inbox can never be used as an open redirect ("//evil.example", "/\\evil.example",
    "https://…", "javascript:…", or a path hiding a tab or newline that browsers drop).
    """
    if not url.startswith("/") or url.startswith(("//", "/\\")):
        return None
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        return None
    if not url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return None
    return url


# --- deadline reminders ----------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    """One reminder to one person, not yet sent."""

    user: User
    round: Round
    deadline: str  # a Deadline value
    days_before: int
    subject: str
    body: str
    url: str


def lead_time(deadline: datetime.datetime | None, now: datetime.datetime) -> int | None:
    """The reminder due now for ``deadline``: 1 when it is at most a day away, 3 when at most
    three days away, None when it has passed or is further.

    Only the most urgent one: if the run at the three-day mark was missed, people get the
    one-day reminder alone, not both at once.
    """
    if deadline is None:
        return None
    left = deadline - now
    if left <= datetime.timedelta(0):
        return None
    for days in LEAD_TIMES:
        if left <= datetime.timedelta(days=days):
            return days
    return None


def rounds_with_deadlines_ahead(now: datetime.datetime) -> QuerySet[Round]:
    """Rounds with a deadline, or a unit's extension, within the longest lead time."""
    horizon = now + datetime.timedelta(days=max(LEAD_TIMES))
    ahead = Q()
    for name in (
        "self_assessment_deadline",
        "appraisal1_deadline",
        "explanation_deadline",
        "appraisal2_deadline",
        "assessments__extended_until",
    ):
        ahead |= Q(**{f"{name}__gt": now, f"{name}__lte": horizon})
    return Round.objects.filter(ahead).distinct().order_by("year")


def unit_subject(kind: str, year: int, days: int) -> str:
    if kind == Deadline.SELF_ASSESSMENT:
        text = ngettext(
            "[PAR index %(year)s] %(days)s day left before the self-assessment deadline",
            "[PAR index %(year)s] %(days)s days left before the self-assessment deadline",
            days,
        )
    else:
        text = ngettext(
            "[PAR index %(year)s] %(days)s day left before the explanation deadline",
            "[PAR index %(year)s] %(days)s days left before the explanation deadline",
            days,
        )
    return text % {"year": year, "days": days}


def unit_body(kind: str, units: str, deadline: datetime.datetime) -> str:
    if kind == Deadline.SELF_ASSESSMENT:
        text = _(
            "The self-assessment of %(units)s has not been submitted yet. The deadline is %(deadline)s: please complete the scores and evidence and have the unit leader submit it before then."
        )
    else:
        text = _(
            "%(units)s has items awaiting explanation. The explanation deadline is %(deadline)s: please answer every request and submit the explanations before then."
        )
    return text % {"units": units, "deadline": deadline_text(deadline)}


def unit_reminders(
    round_: Round,
    kind: str,
    pending: Iterable[tuple[Unit, datetime.datetime | None]],
    now: datetime.datetime,
) -> list[Reminder]:
    """Reminders to the leader and focal officer of each unit not done with ``kind``.

    ``pending`` gives each unit with its own deadline (an extension moves it). Someone who is
    leader or focal officer of several such units gets one reminder naming them all.
    """
    due: dict[int, tuple[Unit, datetime.datetime, int]] = {}
    for unit, deadline in pending:
        days = lead_time(deadline, now)
        if days is not None and deadline is not None:
            due[unit.pk] = (unit, deadline, days)
    if not due:
        return []
    memberships = (
        UnitMembership.objects.filter(unit_id__in=due, role__in=[UnitRole.LEADER, UnitRole.FOCAL])
        .select_related("user")
        .order_by("unit__code", "user_id")
    )
    people: dict[tuple[int, int], tuple[User, list[tuple[Unit, datetime.datetime]]]] = {}
    for membership in memberships:
        unit, deadline, days = due[membership.unit_id]
        key = (membership.user_id, days)
        people.setdefault(key, (membership.user, []))[1].append((unit, deadline))
    reminders = []
    for (_user_id, days), (user, units) in people.items():
        first = units[0][0]
        url_name = "unit_workspace" if kind == Deadline.SELF_ASSESSMENT else "unit_explanations"
        reminders.append(
            Reminder(
                user=user,
                round=round_,
                deadline=kind,
                days_before=days,
                subject=unit_subject(kind, round_.year, days),
                body=unit_body(
                    kind,
                    ", ".join(unit.name for unit, _deadline in units),
                    min(deadline for _unit, deadline in units),
                ),
                url=reverse(url_name, args=[round_.year, first.code]),
            )
        )
    return reminders


def units_not_submitted(
    round_: Round, now: datetime.datetime
) -> list[tuple[Unit, datetime.datetime | None]]:
    """Units whose self-assessment is still a draft, or not started, with their own deadline."""
    if not round_.is_open_to_units(now):
        return []
    drafts = UnitAssessment.objects.filter(
        round=round_, state=AssessmentState.DRAFT
    ).select_related("round", "unit")
    pending: list[tuple[Unit, datetime.datetime | None]] = [(a.unit, a.deadline) for a in drafts]
    if lead_time(round_.self_assessment_deadline, now) is not None:
        # Units that never opened their assessment have no extension: the round's deadline.
        group_ids = CriteriaSet.objects.filter(round=round_).values("group_id")
        not_started = Unit.objects.filter(group_id__in=group_ids, is_active=True).exclude(
            assessments__round=round_
        )
        pending += [(unit, round_.self_assessment_deadline) for unit in not_started]
    return pending


def units_asked_to_explain(
    round_: Round, now: datetime.datetime
) -> list[tuple[Unit, datetime.datetime | None]]:
    if lead_time(round_.explanation_deadline, now) is None:
        return []
    return [
        (assessment.unit, round_.explanation_deadline)
        for assessment in UnitAssessment.objects.filter(
            round=round_, state=AssessmentState.EXPLANATION_REQUESTED
        ).select_related("unit")
    ]


def appraiser_reminders(
    round_: Round, kind: str, now: datetime.datetime, items: QuerySet[ItemScore]
) -> list[Reminder]:
    """Reminders to appraisers with pending ``items`` in the fields (and units) assigned to them.

    Two queries: the pending items as (set, unit, code) rows, and the round's assignments.
    """
    deadline = (
        round_.appraisal1_deadline if kind == Deadline.APPRAISAL1 else round_.appraisal2_deadline
    )
    days = lead_time(deadline, now)
    if days is None or deadline is None:
        return []
    pending: dict[tuple[int, str], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for set_id, unit_id, code in items.values_list(
        "assessment__criteria_set_id", "assessment__unit_id", "criterion__code"
    ):
        pending[(set_id, field_code(code))][unit_id] += 1
    if not pending:
        return []
    assignments = (
        AppraiserAssignment.objects.filter(criteria_set__round=round_)
        .select_related("field", "appraiser")
        .prefetch_related("units")
        .order_by("appraiser_id", "pk")
    )
    counts: dict[int, tuple[User, list[int]]] = {}
    for assignment in assignments:
        by_unit = pending.get((assignment.criteria_set_id, assignment.field.code))
        if not by_unit:
            continue
        # An assignment without units covers every unit of the group.
        allowed = {unit.pk for unit in assignment.units.all()}
        count = sum(n for unit_id, n in by_unit.items() if not allowed or unit_id in allowed)
        if count:
            counts.setdefault(assignment.appraiser_id, (assignment.appraiser, []))[1].append(count)
    reminders = []
    for user, numbers in counts.values():
        count = sum(numbers)
        if kind == Deadline.APPRAISAL1:
            subject = ngettext(
                "[PAR index %(year)s] %(days)s day left before the appraisal round 1 deadline",
                "[PAR index %(year)s] %(days)s days left before the appraisal round 1 deadline",
                days,
            )
            body = ngettext(
                "%(count)s item assigned to you has not been appraised in round 1 yet. The deadline is %(deadline)s.",
                "%(count)s items assigned to you have not been appraised in round 1 yet. The deadline is %(deadline)s.",
                count,
            )
        else:
            subject = ngettext(
                "[PAR index %(year)s] %(days)s day left before the appraisal round 2 deadline",
                "[PAR index %(year)s] %(days)s days left before the appraisal round 2 deadline",
                days,
            )
            body = ngettext(
                "%(count)s item flagged for explanation in your fields has not been re-appraised yet. The deadline is %(deadline)s.",
                "%(count)s items flagged for explanation in your fields have not been re-appraised yet. The deadline is %(deadline)s.",
                count,
            )
        reminders.append(
            Reminder(
                user=user,
                round=round_,
                deadline=kind,
                days_before=days,
                subject=subject % {"year": round_.year, "days": days},
                body=body % {"count": count, "deadline": deadline_text(deadline)},
                url=reverse("appraisal_home"),
            )
        )
    return reminders


def reminders_due(round_: Round, now: datetime.datetime) -> list[Reminder]:
    """Everybody not done with a deadline of ``round_`` that is 3 or 1 day(s) away (§5.1)."""
    round1_items = (
        ItemScore.objects.filter(
            assessment__round=round_,
            assessment__state__in=states.APPRAISABLE,
        )
        .exclude(results.APPRAISED)
        .exclude(criterion__method=scoring.SURVEY)
    )
    round2_items = ItemScore.objects.filter(
        assessment__round=round_,
        assessment__state=AssessmentState.EXPLAINED,
        explanation_required=True,
    ).exclude(results.REAPPRAISED)
    return [
        *unit_reminders(round_, Deadline.SELF_ASSESSMENT, units_not_submitted(round_, now), now),
        *appraiser_reminders(round_, Deadline.APPRAISAL1, now, round1_items),
        *unit_reminders(round_, Deadline.EXPLANATION, units_asked_to_explain(round_, now), now),
        *appraiser_reminders(round_, Deadline.APPRAISAL2, now, round2_items),
    ]


def deliver(reminder: Reminder) -> bool:
    """Record the reminder, then notify, in one transaction: the unique constraint on
    ReminderSent makes a second run (or a concurrent one) send nothing."""
    with transaction.atomic():
        _row, created = ReminderSent.objects.get_or_create(
            user=reminder.user,
            round=reminder.round,
            deadline=reminder.deadline,
            days_before=reminder.days_before,
        )
        if created:
            notify([reminder.user], reminder.subject, reminder.body, url=reminder.url)
    return created


def send_reminders(now: datetime.datetime | None = None) -> int:
    """Warn everybody who is not done 3 days and 1 day before each deadline; returns how many
    reminders were sent. Idempotent: run it from cron as often as you like.

    Reminders are written in the portal's language (a cron job has no user to take it from).
    """
    now = now or timezone.now()
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        for round_ in rounds_with_deadlines_ahead(now):
            already = set(
                ReminderSent.objects.filter(round=round_).values_list(
                    "user_id", "deadline", "days_before"
                )
            )
            for reminder in reminders_due(round_, now):
                if (reminder.user.pk, reminder.deadline, reminder.days_before) in already:
                    continue
                sent += deliver(reminder)
    return sent
