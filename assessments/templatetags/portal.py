import datetime
from decimal import Decimal

from django import template
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from assessments import scoring

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
