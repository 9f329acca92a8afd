from django.conf import settings
from django.http import HttpRequest

from .roles import get_roles


def roles(request: HttpRequest) -> dict[str, object]:
    """Expose the user's roles (the navigation follows them) and the province's name."""
    return {"roles": get_roles(request.user), "portal_province": settings.PORTAL_PROVINCE}
