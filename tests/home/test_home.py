"""Task-first home pages (DESIGN §11, issue 10): each person's home says what to do now, in
which round, by when, with the link that does it — counted by the workflow's own rules."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse

from assessments import services as unit_services
from assessments.models import Assignment, ItemScore, UnitAssessment
from councils import services as council_services
from reporting import services as report_services
from tests.builders import fill, submitted
from tests.conftest import client_for
from tests.reporting.test_council import appraised as appraised

pytestmark = pytest.mark.django_db

HOME = reverse("home")


def tasks(user: Any) -> list[Any]:
    response = client_for(user).get(HOME)
    assert response.status_code == 200
    return [t for card in response.context["home"].units for t in card.tasks] + list(
        response.context["home"].staff
    )


def urgent(user: Any) -> list[Any]:
    return list(client_for(user).get(HOME).context["home"].urgent)


@pytest.fixture
def draft(criteria_sets: Any, units: Any, open_round: Any) -> UnitAssessment:
    return unit_services.get_or_create_assessment(open_round, units["STP"])


def test_the_focal_officer_sees_how_many_items_are_unscored_with_the_filtered_link(
    draft: UnitAssessment, focal: Any
) -> None:
    leaves = ItemScore.objects.filter(assessment=draft).exclude(criterion__method="survey")
    codes = list(leaves.values_list("criterion__code", flat=True))
    fill(draft, focal)
    # Empty three items again: their number is what the home page must say.
    ItemScore.objects.filter(assessment=draft, criterion__code__in=codes[:3]).update(
        self_value="", self_score=None
    )
    [task] = urgent(focal)
    assert task.title == "Chấm 3 tiêu chí còn chưa chấm."
    assert task.url == reverse("unit_workspace", args=[2016, "STP"]) + "?loc=chua-cham"
    assert "Hạn:" in task.detail
    page = client_for(focal).get(HOME).content.decode()
    assert "Chấm tiếp các tiêu chí chưa chấm" in page


def test_the_leader_is_told_the_self_assessment_waits_for_his_signature(
    draft: UnitAssessment, focal: Any, leader: Any
) -> None:
    fill(draft, focal)
    assert not urgent(leader)  # not sent yet: nothing for him to do
    unit_services.send_to_leader(draft, by=focal)
    [task] = urgent(leader)
    assert task.title == "Bản tự đánh giá đang chờ anh/chị ký nộp."
    assert task.url == reverse("sign_off", args=[2016, "STP"])
    # The focal officer, meanwhile, waits.
    assert not urgent(focal)


def test_a_contributor_sees_only_the_items_assigned_to_him(
    draft: UnitAssessment, focal: Any, contributor: Any
) -> None:
    field = draft.criteria_set.criteria.get(code="1")
    unit_services.assign_items(draft, field, contributor, by=focal)
    mine = ItemScore.objects.filter(assessment=draft, criterion__code__startswith="1.").exclude(
        criterion__method="survey"
    )
    [task] = urgent(contributor)
    assert task.title == f"Anh/chị được giao {mine.count()} tiêu chí, còn {mine.count()} chưa chấm."
    assert task.url.endswith("?loc=cua-toi")
    Assignment.objects.all().delete()
    assert not urgent(contributor)


def explaining(
    draft: UnitAssessment, leader: Any, appraiser: Any, lead: Any, *, flagged: int
) -> list[ItemScore]:
    """Submitted, appraised in round 1 with ``flagged`` items asked about, round 1 finished:
    the unit must explain. Returns the flagged items."""
    assessment = submitted(draft, leader)
    criteria_set = assessment.criteria_set
    for field in criteria_set.criteria.filter(parent__isnull=True):
        council_services.assign_appraisers(criteria_set, field, appraiser, by=lead)
    items = list(
        ItemScore.objects.filter(assessment=assessment)
        .select_related("criterion")
        .exclude(criterion__method="survey")
    )
    for entry in items:
        entry.assessment = assessment
        council_services.accept_self_score(entry, by=appraiser)
    for entry in items[:flagged]:
        council_services.flag_explanation(entry, "Đề nghị bổ sung văn bản", by=appraiser)
    council_services.finish_round1(UnitAssessment.objects.get(pk=assessment.pk), by=lead)
    return items[:flagged]


def test_the_unit_is_told_to_answer_its_explanation_requests(
    draft: UnitAssessment, leader: Any, focal: Any, appraiser: Any, secretariat_lead: Any
) -> None:
    explaining(draft, leader, appraiser, secretariat_lead, flagged=2)
    [task] = urgent(focal)
    assert task.title == "Trả lời 2 yêu cầu giải trình."
    assert task.url == reverse("unit_explanations", args=[2016, "STP"])


def test_the_chair_finds_the_round_that_waits_for_his_approval_then_for_publication(
    appraised: Any, chair: Any, council_member: Any
) -> None:
    [task] = urgent(chair)
    assert task.title == "Kết quả năm 2016 đang chờ anh/chị phê duyệt."
    assert task.url == reverse("council_round", args=[2016])
    # A council member is asked to review, not to approve.
    assert not urgent(council_member)
    assert any("Xem xét năm 2016" in t.title for t in tasks(council_member))
    report_services.approve_round(
        appraised["STP"].round,
        by=chair,
        number="1/QĐ",
        date=datetime.date(2017, 2, 28),
        signer="A",
    )
    [task] = urgent(chair)
    assert task.title == "Kết quả năm 2016 đã được phê duyệt: hãy công bố."
    report_services.publish_round(appraised["STP"].round, by=chair)
    assert not urgent(chair)
    page = client_for(chair).get(HOME)
    [line] = page.context["home"].rounds
    assert line.stage == "Đã công bố"
    assert reverse("public_round", args=[2016]) in page.content.decode()


def test_every_round_is_one_click_away_for_province_staff(
    appraised: Any, secretariat_lead: Any, council_member: Any
) -> None:
    page = client_for(secretariat_lead).get(HOME).content.decode()
    for name in ("secretariat_dashboard", "council_round"):
        assert reverse(name, args=[2016]) in page
    assert reverse("appraisal_home") in page
    member = client_for(council_member).get(HOME).content.decode()
    assert reverse("council_round", args=[2016]) in member
    assert reverse("secretariat_dashboard", args=[2016]) not in member


def test_an_account_without_a_role_is_told_whom_to_ask(no_role_user: Any) -> None:
    response = client_for(no_role_user).get(HOME)
    assert response.status_code == 200
    assert response.context["home"] is None
    assert "Sở Nội vụ" in response.content.decode()


def test_the_home_page_needs_a_login() -> None:
    response = client_for(None).get(HOME)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_the_appraiser_is_sent_to_the_next_unit_with_items_left(
    draft: UnitAssessment, leader: Any, appraiser: Any, secretariat_lead: Any
) -> None:
    assessment = submitted(draft, leader)
    criteria_set = assessment.criteria_set
    field = criteria_set.criteria.get(code="1")
    council_services.assign_appraisers(criteria_set, field, appraiser, by=secretariat_lead)
    left = (
        ItemScore.objects.filter(assessment=assessment, criterion__code__startswith="1.")
        .exclude(criterion__method="survey")
        .count()
    )
    [task] = urgent(appraiser)
    assert task.title == f"Thẩm định {left} tiêu chí (lần 1)."
    assert task.detail.startswith("1 đơn vị: Sở Tư pháp")
    assert task.url == reverse("appraisal_unit", args=[2016, "STP"])


def test_once_every_request_is_answered_the_leader_is_asked_to_submit_them(
    draft: UnitAssessment, leader: Any, focal: Any, appraiser: Any, secretariat_lead: Any
) -> None:
    [first] = explaining(draft, leader, appraiser, secretariat_lead, flagged=1)
    flagged = ItemScore.objects.select_related("criterion", "assessment").get(pk=first.pk)
    council_services.answer_explanation(flagged, "Văn bản số 12/KH", by=focal)
    [task] = urgent(leader)
    assert task.title == "Đã trả lời đủ các yêu cầu giải trình: hãy nộp giải trình."
    assert task.url == reverse("unit_explanations", args=[2016, "STP"])
    assert not urgent(focal)
