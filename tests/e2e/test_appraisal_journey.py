"""Appraisal in a real browser: round 1 with a flagged item, the unit's explanation with a
file, round 2, and the unit appraised (issue: appraisal)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import expect

from assessments import results
from assessments.models import AssessmentState, ItemScore, UnitAssessment
from councils import services
from councils.models import ExplanationRequest
from demo.builders import tiny_pdf
from tests.e2e.test_criteria_browser import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def snv(transactional_db: None) -> UnitAssessment:
    """Sở Nội vụ has submitted; the other appraisers have done their fields, and thamdinh1
    everything of theirs except 3.3 and 3.4."""
    call_command("seed_demo", verbosity=0)
    assessment = UnitAssessment.objects.select_related("round", "unit").get(
        round__year=2016, unit__code="SNV"
    )
    assert assessment.state == AssessmentState.SUBMITTED
    users = {
        u.username: u for u in get_user_model().objects.filter(username__startswith="thamdinh")
    }
    for item in (
        ItemScore.objects.filter(assessment=assessment)
        .select_related("criterion")
        .exclude(criterion__method="survey")
    ):
        if item.criterion.code in ("3.3", "3.4"):
            continue
        top = item.criterion.code.split(".")[0]
        by = (
            users["thamdinh1"]
            if top in "123BP"
            else users["thamdinh2"]
            if top in "456"
            else users["thamdinh3"]
        )
        item.assessment = assessment
        services.accept_self_score(item, by=by)
    return assessment


def open_appraisal_from_dashboard(page: Any, unit: str) -> None:
    """From the secretariat dashboard, the unit's appraisal page (its row's link)."""
    page.locator("tr", has_text=unit).get_by_role("link", name="Thẩm định", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(unit)


def line(page: Any, code: str) -> Any:
    return page.locator(".appraisal-line").filter(has=page.get_by_text(code, exact=True))


def test_round_1_explanation_round_2_in_the_browser(
    snv: UnitAssessment, live_server: Any, page: Any, screenshot: Any, tmp_path: Path
) -> None:
    base = live_server.url
    page.set_viewport_size({"width": 1366, "height": 768})

    # thamdinh1 appraises 3.3 lower and asks for an explanation, and accepts 3.4.
    log_in(page, base, "thamdinh1")
    page.get_by_role("link", name="Thẩm định", exact=True).click()
    page.get_by_role("link", name="Sở Nội vụ").first.click()
    row = line(page, "3.3")
    row.get_by_placeholder("Giá trị thẩm định").fill("96")
    row.get_by_placeholder("Nhận xét").fill("Số liệu hệ thống chỉ đạt 96 %")
    row.get_by_role("button", name="Lưu").click()
    expect(line(page, "3.3").get_by_test_id("a1")).to_have_text("3")
    line(page, "3.3").get_by_placeholder("Câu hỏi gửi đơn vị (yêu cầu giải trình)").fill(
        "Đề nghị cung cấp trích xuất hệ thống tháng 12."
    )
    line(page, "3.3").get_by_role("button", name="Hỏi").click()
    expect(line(page, "3.3")).to_contain_text("yêu cầu giải trình")
    line(page, "3.4").get_by_role("button", name="Chấp nhận").click()
    expect(line(page, "3.4").get_by_test_id("a1")).to_be_visible()
    screenshot("20-appraisal-unit-round1")
    page.get_by_role("button", name="Đăng xuất").click()

    # sonoivu finishes round 1.
    log_in(page, base, "sonoivu")
    todo = (
        page.get_by_test_id("todo")
        .get_by_test_id("task")
        .filter(has_text="kết thúc thẩm định lần 1")
    )
    todo.get_by_role("link", name="Mở trang tổng quan").click()
    open_appraisal_from_dashboard(page, "Sở Nội vụ")
    page.get_by_role("button", name="Kết thúc thẩm định lần 1").click()
    # The confirmation states the numbers before anything changes (DESIGN §11).
    expect(page.get_by_test_id("consequences")).to_contain_text("1 yêu cầu giải trình")
    page.get_by_role("button", name="Kết thúc thẩm định lần 1").click()
    expect(page.get_by_test_id("state")).to_have_text("Yêu cầu giải trình")
    screenshot("21-round1-finished")
    page.get_by_role("button", name="Đăng xuất").click()

    # The focal officer uploads a file and answers.
    log_in(page, base, "snv.daumoi")
    expect(page.get_by_test_id("todo")).to_contain_text("Trả lời 1 yêu cầu giải trình.")
    pdf = tmp_path / "trich-xuat-he-thong.pdf"
    pdf.write_bytes(tiny_pdf(["Trich xuat he thong thang 12/2016", "Ty le dung han 99,1 %"]))
    page.get_by_test_id("todo").get_by_role("link", name="Trả lời giải trình").click()
    expect(page).to_have_url(re.compile(r"/don-vi/2016/SNV/giai-trinh/$"))
    page.get_by_role("link", name="Tải tài liệu mới lên kho tài liệu").first.click()
    page.locator("input[type=file]").first.set_input_files(str(pdf))
    page.get_by_label("Tiêu đề tệp 1").fill("Trích xuất hệ thống tháng 12/2016")
    page.get_by_role("button", name="Tải lên").click()
    page.get_by_role("link", name="Sở Nội vụ · 2016").click()
    page.get_by_role("link", name="Kết quả thẩm định và giải trình").click()
    expect(page.get_by_text("Số liệu hệ thống chỉ đạt 96 %").first).to_be_visible()
    page.get_by_label("Nội dung giải trình").fill(
        "Tỷ lệ đúng hạn cả năm là 99,1 % theo trích xuất đính kèm."
    )
    page.get_by_label("Tài liệu bổ sung (từ kho tài liệu)").select_option(
        label="Trích xuất hệ thống tháng 12/2016"
    )
    page.get_by_role("button", name="Lưu nội dung giải trình").click()
    expect(page.get_by_role("status")).to_contain_text("3.3")
    screenshot("22-explanation-answered")
    page.get_by_role("button", name="Đăng xuất").click()

    # The leader submits the explanations.
    log_in(page, base, "snv")
    page.get_by_test_id("todo").get_by_role("link", name="Xem lại và nộp giải trình").click()
    page.get_by_role("button", name="Nộp giải trình").click()
    expect(page.get_by_test_id("consequences")).to_contain_text("Đã trả lời 1/1")
    page.get_by_role("button", name="Nộp giải trình").click()
    expect(page.get_by_test_id("state")).to_contain_text("Đã giải trình")
    page.get_by_role("button", name="Đăng xuất").click()

    # thamdinh1 re-appraises; sonoivu finishes round 2.
    log_in(page, base, "thamdinh1")
    expect(page.get_by_test_id("todo")).to_contain_text("(lần 2)")
    page.get_by_role("link", name="Thẩm định", exact=True).click()
    page.get_by_role("link", name="Sở Nội vụ").first.click()
    row = line(page, "3.3")
    expect(row).to_contain_text("Tỷ lệ đúng hạn cả năm là 99,1 %")
    row.get_by_placeholder("Giá trị (lần 2)").fill("99,1")
    row.get_by_placeholder("Nhận xét").fill("Chấp nhận giải trình")
    row.get_by_role("button", name="Lưu").click()
    expect(line(page, "3.3").get_by_test_id("a2")).to_have_text("4")
    screenshot("23-round2-reappraised")
    page.get_by_role("button", name="Đăng xuất").click()
    log_in(page, base, "sonoivu")
    todo = page.get_by_test_id("todo").get_by_test_id("task").filter(has_text="lần 2")
    todo.get_by_role("link", name="Mở trang tổng quan").click()
    open_appraisal_from_dashboard(page, "Sở Nội vụ")
    page.get_by_role("button", name="Kết thúc thẩm định lần 2").click()
    expect(page.get_by_test_id("consequences")).to_contain_text("1/1")
    page.get_by_role("button", name="Kết thúc thẩm định lần 2").click()
    expect(page.get_by_test_id("state")).to_have_text("Đã thẩm định")
    screenshot("24-unit-appraised")
    page.get_by_role("link", name="Tổng quan").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("2016")
    expect(page.get_by_text("Sở Nội vụ").first).to_be_visible()
    screenshot("25-secretariat-dashboard")

    assert UnitAssessment.objects.get(pk=snv.pk).state == AssessmentState.APPRAISED
    flagged = ItemScore.objects.select_related("criterion").get(
        assessment=snv, criterion__code="3.3"
    )
    scores = results.item_scores(flagged)
    assert (
        str(flagged.appraisal1_score),
        str(flagged.appraisal2_score),
        str(scores.final_points),
    ) == ("3.00", "4.00", "4.00")
    assert ExplanationRequest.objects.get(item=flagged).evidence.count() == 1


def test_an_appraiser_appraises_one_unit_by_clicking_from_the_home_page(
    transactional_db: None, live_server: Any, page: Any, screenshot: Any
) -> None:
    """thamdinh1 opens "Thẩm định", picks Sở Nội vụ, accepts every self score that has
    evidence (or needs none) in one click, changes one score, and moves to the next unit."""
    call_command("seed_demo", verbosity=0)
    snv = UnitAssessment.objects.get(round__year=2016, unit__code="SNV")
    base = live_server.url
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, base, "thamdinh1")
    page.get_by_role("link", name="Thẩm định", exact=True).click()
    page.get_by_role("link", name="Sở Nội vụ").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sở Nội vụ")
    expect(page.get_by_test_id("progress")).to_contain_text("0/28")
    page.get_by_test_id("bulk-accept").click()
    expect(page.get_by_role("status").first).to_contain_text("điểm tự chấm")
    mine = (
        ItemScore.objects.filter(assessment=snv, criterion__code__regex=r"^[123BP](\.|$)")
        .exclude(criterion__method="survey")
        .select_related("criterion")
        .order_by("criterion__position")
    )
    accepted = sum(1 for i in mine if i.is_appraised)
    assert accepted > 0
    # One score changed: an item left for a closer look, else one the bulk accept took.
    target = next(i for i in mine if not i.is_appraised or i.has_points)
    newly = 0 if target.is_appraised else 1
    row = page.locator(f"#line-{target.pk}")
    value = row.locator("[name=value]")
    if target.criterion.method == "yes_no":
        value.select_option("không")
    elif target.criterion.levels:
        value.select_option(target.criterion.levels[-1])
    else:
        value.fill("0")
    row.get_by_placeholder("Nhận xét").fill("Không có tài liệu kiểm chứng")
    row.get_by_role("button", name="Lưu").click()
    expect(page.locator(f"#line-{target.pk}").get_by_role("status")).to_have_text("Đã lưu")
    expect(page.locator(f"#line-{target.pk}").get_by_test_id("a1")).to_be_visible()
    screenshot("26-appraisal-by-unit")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("27-appraisal-by-unit-phone")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.get_by_role("link", name="Đơn vị sau").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sở Tài chính")
    assert ItemScore.objects.filter(assessment=snv, appraisal1_at__isnull=False).count() == (
        accepted + newly
    )
    changed = ItemScore.objects.get(pk=target.pk)
    assert changed.appraisal1_comment == "Không có tài liệu kiểm chứng"
