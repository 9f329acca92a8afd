from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme


class LanguageMiddleware:
    """Vietnamese unless the user chose English with the language switcher.

    Django's LocaleMiddleware would follow the browser's Accept-Language, and many office
    computers in Vietnam run an English browser: the portal must still open in Vietnamese
    (DESIGN §11). The switcher's cookie is the only way to change it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if language not in self.languages:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class HtmxLoginRedirectMiddleware:
    """An htmx request whose session has expired is redirected to the login page; htmx would
    follow that redirect and swap the login page into the fragment. Tell htmx to load the
    login page as a whole page instead (``HX-Redirect``), coming back to where the user was."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.headers.get("HX-Request") == "true"
            and response.status_code == 302
            and response.get("Location", "").startswith(resolve_url(settings.LOGIN_URL))
        ):
            page = request.headers.get("HX-Current-URL", "")
            target = resolve_url(settings.LOGIN_URL)
            if url_has_allowed_host_and_scheme(page, allowed_hosts={request.get_host()}):
                target += "?" + urlencode({"next": urlsplit(page).path})
            redirect = HttpResponse(status=204)
            redirect["HX-Redirect"] = target
            return redirect
        return response
