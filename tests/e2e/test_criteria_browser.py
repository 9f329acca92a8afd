"""The secretariat lead logs in and reads the districts' criteria in a real browser."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(transactional_db: None) -> None:
    call_command("seed_demo", verbosity=0)


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/dang-nhap/")
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill("CchcDemo@2015")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page).to_have_url(f"{base}/")


def test_sonoivu_opens_the_districts_criteria(
    demo: None, live_server: Any, page: Any, screenshot: Any
) -> None:
    base = live_server.url
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{base}/")
    expect(page).to_have_url(re.compile(r"/dang-nhap/"))
    screenshot("01-login")
    log_in(page, base, "sonoivu")
    screenshot("02-home-secretariat")
    page.get_by_role("link", name="Bộ tiêu chí", exact=True).first.click()
    page.get_by_role("link", name=re.compile("UBND cấp huyện")).first.click()
    expect(page.get_by_role("heading", name="UBND cấp huyện", exact=True)).to_be_visible()
    expect(page.get_by_text("Cải cách thủ tục hành chính").first).to_be_visible()
    expect(page.get_by_text("58 tiêu chí chấm điểm")).to_be_visible()
    screenshot("03-criteria-districts-1366")


def test_a_focal_officer_reads_the_criteria_on_a_phone(
    demo: None, live_server: Any, page: Any, screenshot: Any
) -> None:
    base = live_server.url
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, base, "stp.daumoi")
    expect(page.get_by_role("heading", name="Sở Tư pháp", exact=True)).to_be_visible()
    page.get_by_role("link", name="Bộ tiêu chí 2016").click()
    expect(page.get_by_role("heading", name="Sở, ban, ngành", exact=True)).to_be_visible()
    # Nothing runs off the side of a phone screen.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    screenshot("04-criteria-departments-phone")
    # The menu opens through Bootstrap's collapse (vendored JS, no CDN) and switches language.
    page.get_by_role("button", name="Mở menu").click()
    page.get_by_role("button", name=re.compile("^EN")).first.click()
    expect(page.get_by_role("button", name="Open the menu")).to_be_visible()
    screenshot("05-criteria-departments-phone-en")
