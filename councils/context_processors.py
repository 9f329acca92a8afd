from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .inbox import unread_count


def inbox(request: HttpRequest) -> dict[str, object]:
    """The unread count shown in the navigation: one COUNT query for a signed-in user, run
    only when a template shows it (htmx fragments and downloads do not pay for it)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox_unread": SimpleLazyObject(lambda: unread_count(user))}
