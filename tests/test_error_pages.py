"""The error pages are Vietnamese, in the portal's layout, and say what to do next (DESIGN §11).

The tests run with DEBUG off (pytest-django's default, as in production): the pages are the
ones people see, not Django's debug pages.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path

from cchc_portal import urls as project_urls

pytestmark = pytest.mark.django_db


def forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("a tampered request")


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


# This module is the URLconf of the tests below: the project's URLs and handlers, plus views
# that fail on purpose.
handler400 = project_urls.handler400
handler500 = project_urls.handler500
urlpatterns = [
    path("loi/403/", forbidden),
    path("loi/400/", suspicious),
    path("loi/500/", broken),
    *project_urls.urlpatterns,
]
URLS = "tests.test_error_pages"


def in_layout(response: Any) -> str:
    html = response.content.decode()
    assert '<html lang="vi">' in html
    assert 'class="navbar' in html and 'id="main"' in html
    assert settings.PORTAL_PROVINCE in html
    return html


def test_debug_is_off_in_these_tests() -> None:
    assert settings.DEBUG is False


@pytest.mark.urls(URLS)
def test_a_missing_page_says_so_in_vietnamese(client: Client) -> None:
    response = client.get("/khong-co-trang-nay/")
    assert response.status_code == 404
    html = in_layout(response)
    assert "Không tìm thấy trang" in html and 'href="/"' in html
    assert "Kết quả đã công bố" in html


@pytest.mark.urls(URLS)
def test_a_forbidden_page_says_what_to_do(client: Client, django_user_model: Any) -> None:
    client.force_login(django_user_model.objects.create_user("x"))
    response = client.get("/loi/403/")
    assert response.status_code == 403
    html = in_layout(response)
    assert "Bạn không được mở trang này" in html and "Trang chủ" in html
    assert "Đăng xuất" in html  # the signed-in layout, with its menu


@pytest.mark.urls(URLS)
def test_a_bad_request_is_answered_in_vietnamese(client: Client) -> None:
    response = client.get("/loi/400/")
    assert response.status_code == 400
    html = in_layout(response)
    assert "Không đọc được yêu cầu" in html and "tải lại trang" in html


@pytest.mark.urls(URLS)
def test_a_server_error_renders_without_the_database(
    monkeypatch: pytest.MonkeyPatch, django_assert_num_queries: Any
) -> None:
    # If the 500 page used the context processors (roles, inbox) it would fail in its turn
    # when the database is what broke.
    def no_database(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database is down")

    monkeypatch.setattr("assessments.context_processors.get_roles", no_database)
    client = Client(raise_request_exception=False)
    with django_assert_num_queries(0):
        response = client.get("/loi/500/")
    assert response.status_code == 500
    html = in_layout(response)
    assert "Cổng thông tin gặp lỗi" in html and "Tổ Thư ký" in html
    assert 'href="/cong-khai/"' in html


@pytest.mark.urls(URLS)
def test_a_server_error_page_survives_a_broken_template(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("templates are missing")

    monkeypatch.setattr("cchc_portal.views.loader.get_template", missing)
    response = Client(raise_request_exception=False).get("/loi/500/")
    assert response.status_code == 500
    assert "Lỗi máy chủ (500)" in response.content.decode()


def test_an_expired_form_gets_a_vietnamese_page() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/dang-nhap/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    html = in_layout(response)
    assert "Biểu mẫu đã hết hạn" in html and "Chưa có gì bị thay đổi" in html


def test_the_project_declares_the_handlers() -> None:
    assert project_urls.handler400 == "cchc_portal.views.bad_request"
    assert project_urls.handler500 == "cchc_portal.views.server_error"
    assert settings.CSRF_FAILURE_VIEW == "cchc_portal.views.csrf_failure"
