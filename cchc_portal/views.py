"""The error pages (DESIGN §11): Vietnamese, in the portal's layout, saying what to do next.

Django renders 403 and 404 with the request's context (404.html, 403.html). A 400 and a 500
are rendered here without it, as Django itself does: the context processors read the
database and the session, which may be what failed. The layout then shows no personal menu
and no language switcher (they need the request), only the links every visitor may follow.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

# If even the template fails (a broken installation), a plain sentence in Vietnamese.
FALLBACK_500 = (
    '<!doctype html><html lang="vi"><meta charset="utf-8"><title>Lỗi máy chủ</title>'
    "<h1>Lỗi máy chủ (500)</h1><p>Cổng thông tin đang gặp sự cố. Vui lòng thử lại sau ít "
    "phút; nếu lỗi vẫn còn, hãy báo cho Tổ Thư ký (Sở Nội vụ).</p></html>"
)


def render_plain(template_name: str, status: int) -> HttpResponse:
    context = {"portal_province": settings.PORTAL_PROVINCE}
    body = loader.get_template(template_name).render(context)
    return HttpResponse(body, status=status)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_plain("400.html", 400)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    try:
        return render_plain("500.html", 500)
    except Exception:  # the error page must not fail in its turn
        return HttpResponse(FALLBACK_500, status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent after its session expired (or from another site): say what to do."""
    body = loader.render_to_string("403_csrf.html", {}, request)
    return HttpResponse(body, status=403)
