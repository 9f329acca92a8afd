"""Deadline night in a real browser: the focal officer fills three items, uploads and links a PDF,
the leader submits, and the unit is then submitted and locked (issue: unit self-assessment)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from assessments.models import AssessmentState, ItemScore, UnitAssessment
from demo.builders import tiny_pdf
from tests.e2e.test_criteria_browser import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(transactional_db: None) -> None:
    call_command("seed_demo", verbosity=0)


def open_item(page: Any, base: str, code: str) -> None:
    page.goto(f"{base}/don-vi/2016/STP/muc/{code}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(code)


def link_document(page: Any, title: str, pages: str) -> None:
    value = page.locator("select[name=evidence] option", has_text=title).first.get_attribute(
        "value"
    )
    page.get_by_label("Tài liệu trong thư viện").select_option(value=value)
    page.get_by_label("Trang / mục").fill(pages)
    page.get_by_role("button", name="Liên kết", exact=True).click()
    expect(page.locator(".evidence-links")).to_contain_text(pages)


def test_the_focal_officer_fills_items_links_evidence_and_the_leader_submits(
    demo: None, live_server: Any, page: Any, screenshot: Any, tmp_path: Path
) -> None:
    base = live_server.url
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, base, "stp.daumoi")
    page.get_by_role("link", name="Chấm tiếp các tiêu chí chưa chấm").first.click()
    expect(page.get_by_role("heading", name="Sở Tư pháp", exact=True)).to_be_visible()
    page.get_by_role("link", name="Chưa chấm").click()
    expect(
        page.get_by_role("link", name=re.compile("Ban hành kế hoạch CCHC năm đúng thời hạn"))
    ).to_be_visible()
    screenshot("10-workspace-not-scored")

    # A yes/no item, saved without reloading the page (htmx), then a threshold with a/b.
    page.get_by_role("link", name=re.compile("Ban hành kế hoạch CCHC năm đúng thời hạn")).click()
    page.get_by_label("Có", exact=True).check()
    expect(page.locator("#preview")).to_contain_text("0,5")
    page.get_by_role("button", name="Lưu").click()
    expect(page.get_by_text("Đã lưu tiêu chí 1.1.1.")).to_be_visible()
    expect(page.get_by_test_id("history")).not_to_contain_text("Chưa có thay đổi")
    screenshot("11-item-yes-no-saved")

    open_item(page, base, "3.3")
    page.get_by_label("Giá trị", exact=True).fill("49/50")
    expect(page.locator("#preview")).to_contain_text("= 4 điểm")
    page.get_by_role("button", name="Lưu").click()
    expect(page.get_by_text("Đã lưu tiêu chí 3.3.")).to_be_visible()

    open_item(page, base, "1.2")
    page.get_by_label("Giá trị", exact=True).fill("1,5")  # not a whole count: refused, kept
    page.get_by_role("button", name="Lưu").click()
    expect(page.get_by_role("alert")).to_contain_text("số nguyên")
    expect(page.get_by_label("Giá trị", exact=True)).to_have_value("1,5")
    page.get_by_label("Giá trị", exact=True).fill("1")
    page.get_by_role("button", name="Lưu").click()
    expect(page.get_by_text("Đã lưu tiêu chí 1.2.")).to_be_visible()

    # Upload a PDF into the library, then link it (and a document already there).
    pdf = tmp_path / "ke-hoach-cchc-2016.pdf"
    pdf.write_bytes(tiny_pdf(["Ke hoach CCHC nam 2016", "So 15/KH-STP"]))
    page.goto(f"{base}/don-vi/2016/STP/tai-lieu/")
    page.locator("input[type=file]").first.set_input_files(str(pdf))
    page.get_by_label("Tiêu đề tệp 1").fill("Kế hoạch CCHC năm 2016 (bản ký)")
    page.get_by_role("button", name="Tải lên").click()
    expect(page.get_by_text("Kế hoạch CCHC năm 2016 (bản ký)").first).to_be_visible()
    screenshot("12-evidence-library")

    open_item(page, base, "1.1.1")
    link_document(page, "Kế hoạch CCHC năm 2016 (bản ký)", "trang 1–3")
    # The history panel reloads after the link (htmx), without a page load.
    expect(page.get_by_test_id("history")).to_contain_text("Liên kết tài liệu kiểm chứng")
    screenshot("13-item-evidence-linked")
    open_item(page, base, "3.3")
    link_document(page, "Báo cáo kết quả công tác cải cách hành chính năm 2016", "trang 4, mục II")
    open_item(page, base, "1.2")
    link_document(page, "Báo cáo kết quả công tác cải cách hành chính năm 2016", "phụ lục 2")

    page.goto(f"{base}/don-vi/2016/STP/ky-nop/")
    page.get_by_role("button", name="Gửi lãnh đạo xem xét").click()
    expect(page.get_by_role("status")).to_contain_text("Đã gửi lãnh đạo xem xét")
    page.get_by_role("button", name="Đăng xuất").click()

    # The leader reviews and submits.
    log_in(page, base, "stp")
    page.goto(f"{base}/don-vi/2016/STP/ky-nop/")
    page.get_by_label("Khó khăn, vướng mắc").fill("Một số phòng tổng hợp số liệu chậm.")
    page.get_by_label("Kiến nghị, đề xuất").fill("Đề nghị tập huấn về tài liệu kiểm chứng.")
    screenshot("14-sign-off-leader")
    page.get_by_role("button", name="Nộp kết quả tự đánh giá").click()
    # The confirmation states the numbers; nothing is submitted before the second click.
    expect(page.get_by_test_id("consequences")).to_contain_text("sau khi nộp đơn vị không thể sửa")
    expect(page.get_by_test_id("consequences")).to_contain_text(re.compile(r"Nộp \d+ tiêu chí"))
    screenshot("14b-sign-off-confirm")
    assert UnitAssessment.objects.get(round__year=2016, unit__code="STP").state == "draft"
    page.get_by_role("button", name="Nộp", exact=True).click()
    expect(page.get_by_text("Đã nộp kết quả tự đánh giá")).to_be_visible()
    expect(page.get_by_test_id("state")).to_contain_text("Đã nộp")
    screenshot("15-workspace-submitted")

    # Submitted and locked: the item is read-only, and the database agrees.
    open_item(page, base, "1.1.1")
    expect(page.get_by_role("button", name="Lưu")).to_have_count(0)
    assessment = UnitAssessment.objects.get(round__year=2016, unit__code="STP")
    assert assessment.state == AssessmentState.SUBMITTED
    saved = {
        i.criterion.code: i.self_score
        for i in ItemScore.objects.filter(
            assessment=assessment, criterion__code__in=["1.1.1", "3.3", "1.2"]
        ).select_related("criterion")
    }
    assert {code: str(points) for code, points in saved.items()} == {
        "1.1.1": "0.50",
        "3.3": "4.00",
        "1.2": "0.75",
    }
