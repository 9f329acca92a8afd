"""The unit's side by clicking only, from each person's home page (issue 10): the focal officer
of Sở Tư pháp scores its three items left in the field tables (Enter saves a row and moves on),
links evidence to the items that need it, sends the self-assessment to the leader; the leader
finds it waiting for his signature, sees the numbers and submits. Screenshots at 1366×768 and
390×844."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from assessments.models import AssessmentState, ItemScore, UnitAssessment
from tests.e2e.test_criteria_browser import log_in
from tests.e2e.test_self_assessment_journey import link_document

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
OFFICE = {"width": 1366, "height": 768}


@pytest.fixture
def demo(transactional_db: None) -> None:
    call_command("seed_demo", verbosity=0)


def row(page: Any, code: str) -> Any:
    return page.locator(f"#muc-{code.replace('.', '-')}")


def both_sizes(page: Any, screenshot: Any, name: str) -> None:
    screenshot(f"{name}-1366")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(f"{name}-390")
    page.set_viewport_size(OFFICE)


def test_the_focal_officer_fills_fields_in_their_tables_and_the_leader_submits(
    demo: None, live_server: Any, page: Any, screenshot: Any
) -> None:
    base = live_server.url
    page.set_viewport_size(OFFICE)
    log_in(page, base, "stp.daumoi")
    todo = page.get_by_test_id("todo")
    expect(todo).to_contain_text("Chấm 3 tiêu chí còn chưa chấm.")
    both_sizes(page, screenshot, "40-focal-home")
    todo.get_by_role("link", name="Chấm tiếp các tiêu chí chưa chấm").click()
    expect(page).to_have_url(re.compile(r"/don-vi/2016/STP/\?loc=chua-cham$"))

    # Field 1 in one table: a yes/no row saved with Enter, which moves to the next row.
    page.get_by_role("link", name="Chấm cả lĩnh vực 1 trên một bảng").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("1.")
    row(page, "1.1.1").get_by_label("Có", exact=True).check()
    expect(row(page, "1.1.1")).to_contain_text("0,5")  # live points before saving
    page.keyboard.press("Enter")
    expect(row(page, "1.1.1").get_by_role("status")).to_have_text("Đã lưu tiêu chí 1.1.1.")
    # Focus went on: the next row's input has it, so the officer keeps typing.
    expect(row(page, "1.1.2").locator("[data-focus-after-swap]").first).to_be_focused()
    # A count that is not whole is refused in the row, marked, and kept as typed.
    lapses = row(page, "1.2").get_by_label("Giá trị của 1.2")
    lapses.fill("1,5")
    lapses.press("Enter")
    expect(row(page, "1.2").get_by_role("alert")).to_contain_text("số nguyên")
    expect(row(page, "1.2").get_by_label("Giá trị của 1.2")).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(row(page, "1.2").get_by_label("Giá trị của 1.2")).to_have_value("1,5")
    row(page, "1.2").get_by_label("Giá trị của 1.2").fill("0")
    row(page, "1.2").get_by_label("Giá trị của 1.2").press("Enter")
    expect(row(page, "1.2").get_by_role("status")).to_have_text("Đã lưu tiêu chí 1.2.")
    both_sizes(page, screenshot, "41-field-table")
    page.get_by_role("link", name="Quay lại trang tự đánh giá").click()
    page.get_by_role("link", name="Chấm cả lĩnh vực 3 trên một bảng").click()
    row(page, "3.3").get_by_label("Giá trị của 3.3").fill("49/50")
    row(page, "3.3").get_by_label("Giá trị của 3.3").press("Enter")
    expect(row(page, "3.3").get_by_role("status")).to_have_text("Đã lưu tiêu chí 3.3.")

    # Home again: every item is scored, three now need evidence; the filtered list and the
    # item pages' "next" (which keeps the filter) take the officer through them.
    page.get_by_role("link", name="Trang chủ").first.click()
    expect(todo).to_contain_text("Bổ sung tài liệu kiểm chứng hoặc giải trình cho 3 tiêu chí.")
    todo.get_by_role("link", name="Xem các tiêu chí này").click()
    page.get_by_role("link", name=re.compile("Ban hành kế hoạch CCHC năm đúng thời hạn")).click()
    report = "Báo cáo kết quả công tác cải cách hành chính năm 2016"
    link_document(page, report, "trang 2")
    page.get_by_role("link", name=re.compile(r"^Tiếp theo \(")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("1.2")
    link_document(page, report, "phụ lục 2")
    page.get_by_role("link", name=re.compile(r"^Tiếp theo \(")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("3.3")
    link_document(page, report, "trang 4, mục II")

    page.get_by_role("link", name="Trang chủ").first.click()
    expect(todo).to_contain_text("Đã chấm đủ mọi tiêu chí")
    todo.get_by_role("link", name="Gửi lãnh đạo").click()
    page.get_by_role("button", name="Gửi lãnh đạo xem xét").click()
    expect(page.get_by_role("status")).to_contain_text("Đã gửi lãnh đạo xem xét")
    page.get_by_role("button", name="Đăng xuất").click()

    # The leader: his home says the self-assessment waits for him.
    log_in(page, base, "stp")
    expect(todo).to_contain_text("Bản tự đánh giá đang chờ anh/chị ký nộp.")
    both_sizes(page, screenshot, "42-leader-home")
    todo.get_by_role("link", name="Xem xét và nộp").click()
    page.get_by_label("Khó khăn, vướng mắc").fill("Một số phòng tổng hợp số liệu chậm.")
    page.get_by_role("button", name="Nộp kết quả tự đánh giá").click()
    expect(page.get_by_test_id("consequences")).to_contain_text("sau khi nộp đơn vị không thể sửa")
    both_sizes(page, screenshot, "43-submit-confirmation")
    assert UnitAssessment.objects.get(round__year=2016, unit__code="STP").state == "draft"
    page.get_by_role("button", name="Nộp", exact=True).click()
    expect(page.get_by_test_id("state")).to_contain_text("Đã nộp")
    assessment = UnitAssessment.objects.get(round__year=2016, unit__code="STP")
    assert assessment.state == AssessmentState.SUBMITTED
    assert assessment.difficulties == "Một số phòng tổng hợp số liệu chậm."
    scores = dict(
        ItemScore.objects.filter(
            assessment=assessment, criterion__code__in=["1.1.1", "1.2", "3.3"]
        ).values_list("criterion__code", "self_value")
    )
    assert scores == {"1.1.1": "có", "1.2": "0", "3.3": "49/50"}
    page.get_by_role("link", name="Trang chủ").first.click()
    expect(page.get_by_test_id("todo")).to_contain_text("Hiện không có việc nào")
