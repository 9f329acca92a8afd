"""Irreversible acts ask first, and the confirmation works with JavaScript turned off
(DESIGN §11, issue 10): in a browser context without JavaScript, the focal officer deletes a
document only after the page listing the items that lose it, and the chair approves and
publishes 2015 through the approval page and the publication confirmation. Clicking only,
from each person's home page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from assessments.models import AssessmentState, Evidence, EvidenceLink, UnitAssessment
from reporting.models import ResultSnapshot
from tests.e2e.test_criteria_browser import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REPORT = "Báo cáo kết quả công tác cải cách hành chính năm 2016"


@pytest.fixture
def demo(transactional_db: None) -> None:
    call_command("seed_demo", verbosity=0)


@pytest.fixture
def page(browser: Any) -> Any:
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1366, "height": 768}
    )
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    context.close()


def test_deleting_a_document_asks_first_without_javascript(
    demo: None, live_server: Any, page: Any, screenshot: Any
) -> None:
    base = live_server.url
    document = Evidence.objects.get(round__year=2016, unit__code="STP", title=REPORT)
    links = EvidenceLink.objects.filter(evidence=document).count()
    assert links > 1
    log_in(page, base, "stp.daumoi")
    page.get_by_test_id("todo").get_by_role("link", name="Chấm tiếp các tiêu chí chưa chấm").click()
    page.get_by_role("link", name="Kho tài liệu kiểm chứng").click()
    page.get_by_role("button", name=f"Xóa {REPORT}").click()
    # The confirmation page: nothing is deleted yet, and it says what will be lost.
    expect(page.get_by_role("heading", level=1)).to_contain_text(REPORT)
    expect(page.get_by_test_id("consequences")).to_contain_text(
        f"{links} tiêu chí mất tài liệu này."
    )
    expect(page.get_by_test_id("confirm-items").get_by_role("listitem")).to_have_count(links)
    screenshot("50-delete-confirmation-no-js")
    assert Evidence.objects.filter(pk=document.pk).exists()
    page.get_by_role("button", name="Xóa tài liệu").click()
    expect(page.get_by_role("status")).to_contain_text(f"Đã xóa tài liệu “{REPORT}”.")
    assert not Evidence.objects.filter(pk=document.pk).exists()


def test_the_chair_approves_and_publishes_without_javascript(
    demo: None, live_server: Any, page: Any
) -> None:
    base = live_server.url
    log_in(page, base, "chutich")
    page.get_by_test_id("todo").get_by_role("link", name="Xem xét và phê duyệt").click()
    page.get_by_role("link", name="Phê duyệt kết quả…").click()
    page.get_by_label("Số quyết định").fill("312/QĐ-UBND")
    page.get_by_label("Ngày quyết định").fill("15/03/2016")
    page.get_by_label("Người ký").fill("Huỳnh Văn Lộc")
    page.get_by_role("button", name="Phê duyệt kết quả").click()
    expect(page).to_have_url(re.compile(r"/hoi-dong/2015/$"))
    assert ResultSnapshot.objects.filter(round__year=2015, version=1).exists()
    page.get_by_role("button", name="Công bố kết quả").click()
    expect(page.get_by_test_id("consequences")).to_contain_text("Không thể rút lại")
    assert ResultSnapshot.objects.get(round__year=2015).published_at is None
    page.get_by_role("button", name="Công bố kết quả").click()
    expect(page.get_by_role("status")).to_contain_text("công bố")
    states = set(UnitAssessment.objects.filter(round__year=2015).values_list("state", flat=True))
    assert states == {AssessmentState.PUBLISHED}
