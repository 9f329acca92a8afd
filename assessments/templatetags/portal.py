import datetime
from decimal import Decimal
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext

from assessments import results, scoring, widgets
from assessments.models import Event, EventAction

register = template.Library()


@register.filter
def points(value: Decimal | None) -> str:
    """Points as people write them: decimal comma in Vietnamese, no trailing zeros ("0,5")."""
    if value is None or value == "":
        return "—"
    return scoring.format_points(Decimal(value))


@register.filter
def time_left(deadline: datetime.datetime | None) -> str:
    """What a unit reads on deadline night: "14 days 3 hours", "5 hours 20 minutes", "overdue"."""
    if deadline is None:
        return "—"
    seconds = int((deadline - timezone.now()).total_seconds())
    if seconds <= 0:
        return gettext("deadline passed")
    minutes, hours, days = seconds // 60 % 60, seconds // 3600 % 24, seconds // 86400
    if days:
        parts = [ngettext("%(n)s day", "%(n)s days", days) % {"n": days}]
        if hours:
            parts.append(ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours})
    else:
        parts = [ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}] if hours else []
        parts.append(ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes})
    return " ".join(parts)


@register.filter
def hours_left(deadline: datetime.datetime | None) -> float:
    if deadline is None:
        return float("inf")
    return (deadline - timezone.now()).total_seconds() / 3600


# Who acted when no person did (DESIGN §5.2: the deadline locks; §10: command-line imports).
SYSTEM_ACTORS: dict[str, Any] = {
    EventAction.AUTO_LOCKED: gettext_lazy("System (automatic lock)"),
    EventAction.EXPLANATIONS_LOCKED: gettext_lazy("System (automatic lock)"),
    # Only the command-line import saves scores without a person (the web import has one).
    EventAction.SCORE_SAVED: gettext_lazy("Imported from a workbook (command line)"),
    EventAction.WORKBOOK_IMPORTED: gettext_lazy("Imported from a workbook (command line)"),
}


@register.filter
def person(user: Any) -> str:
    """A person's name as pages print it (full name, else user name); "" for nobody."""
    if user is None:
        return ""
    return str(user.get_full_name() or user.username)


@register.filter
def actor(event: Event) -> str:
    """Who made an Event: the person, or the system that acted on its own."""
    if event.actor_id is not None:
        return person(event.actor)
    return str(SYSTEM_ACTORS.get(event.action, gettext_lazy("System")))


@register.filter
def saved_by(user: Any) -> str:
    """Who last saved an item: the person, or the command-line import (no person)."""
    return person(user) or str(SYSTEM_ACTORS[EventAction.SCORE_SAVED])


@register.filter
def scores(item: Any) -> results.ItemScores:
    """An item's self, appraisal and final scores from the results ledger (its criterion
    must be loaded: ``select_related("criterion")``)."""
    return results.item_scores(item)


@register.simple_tag
def deadline_input(name: str, element_id: str) -> str:
    """The portal's one dd/mm/yyyy hh:mm input (``widgets.DateTimeInput``), where a page
    repeats a small form per row and cannot render a bound field (the dashboard's "extend")."""
    return widgets.DateTimeInput(
        attrs={"class": "form-control form-control-sm", "id": element_id, "required": True}
    ).render(name, None)
