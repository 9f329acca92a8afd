"""The chair approves and publishes 2015; an anonymous visitor reads the public ranking with
bands and the chart, and downloads the open data (issue: council and publication)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from reporting.models import ResultSnapshot
from tests.e2e.test_criteria_browser import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(transactional_db: None) -> None:
    call_command("seed_demo", verbosity=0)


def test_the_chair_approves_and_publishes_and_the_public_reads_it(
    demo: None, live_server: Any, page: Any, screenshot: Any
) -> None:
    base = live_server.url
    page.set_viewport_size({"width": 1366, "height": 768})
    assert page.request.get(f"{base}/cong-khai/2015/").status == 404  # not published yet
    assert page.request.get(f"{base}/cong-khai/2015/ket-qua.json").status == 404

    log_in(page, base, "chutich")
    # From his home page, by clicking only: the round that waits for him.
    todo = page.get_by_test_id("todo")
    expect(todo).to_contain_text("Kết quả năm 2015 đang chờ anh/chị phê duyệt")
    screenshot("30-chair-home")
    todo.get_by_role("link", name="Xem xét và phê duyệt").click()
    expect(page).to_have_url(f"{base}/hoi-dong/2015/")
    expect(page.get_by_text("Tạm tính").first).to_be_visible()
    screenshot("30-council-provisional")
    page.get_by_role("link", name="Phê duyệt kết quả…").click()
    expect(page.get_by_test_id("consequences")).to_contain_text("phiên bản 1")
    page.get_by_label("Số quyết định").fill("312/QĐ-UBND")
    page.get_by_label("Ngày quyết định").fill("15/03/2016")
    page.get_by_label("Người ký").fill("Huỳnh Văn Lộc")
    screenshot("30-council-approval-page")
    page.get_by_role("button", name="Phê duyệt kết quả").click()
    expect(page.get_by_role("status")).to_contain_text("phê duyệt")
    # Publication asks first, with the numbers, then acts.
    page.get_by_role("button", name="Công bố kết quả").click()
    expect(page.get_by_test_id("consequences")).to_contain_text("30 đơn vị")
    screenshot("31-council-publish-confirmation")
    page.get_by_role("button", name="Công bố kết quả").click()
    expect(page.get_by_role("status")).to_contain_text("công bố")
    screenshot("31-council-published")
    page.get_by_role("link", name="Trang chủ").first.click()
    expect(page.get_by_test_id("todo")).to_contain_text("Hiện không có việc nào")
    page.get_by_role("button", name="Đăng xuất").click()

    # Anyone, without logging in.
    page.goto(f"{base}/")  # the login page: the published results are one click away
    page.get_by_role("link", name="Kết quả đã công bố").first.click()
    page.get_by_role("link", name=re.compile("2015")).first.click()
    expect(page).to_have_url(f"{base}/cong-khai/2015/")
    expect(page.get_by_role("heading", name=re.compile("Sở, ban, ngành")).first).to_be_visible()
    expect(page.get_by_text(re.compile("Tốt|Khá|Trung bình")).first).to_be_visible()
    expect(page.locator("svg[role=img]").first).to_be_visible()
    expect(page.get_by_text("312/QĐ-UBND").first).to_be_visible()
    screenshot("32-public-round-2015")
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("JSON")).first.click()
    path = download_info.value.path()
    data = json.loads(path.read_text(encoding="utf-8"))
    snapshot = ResultSnapshot.objects.get(round__year=2015, version=1)
    assert data == snapshot.data and data["round"] == 2015 and data["provisional"] is False
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/cong-khai/2015/")
    screenshot("33-public-round-2015-phone")
