"""Appraisal by unit (issue 10, item 3): the appraiser's list of units with progress per unit
and field, the unit page with that appraiser's items, bulk accept, previous / next unit, the
round-2 view, "no evidence" only where §7 requires it, and ``appraiser_tasks`` for the home
page."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments import results
from assessments import services as unit_services
from assessments.importers import CriterionRow
from assessments.models import AssessmentState, ItemScore, Round, UnitAssessment
from councils import services, worklists
from tests.conftest import client_for, staff_user

pytestmark = pytest.mark.django_db


def row(code: str, title: str, parent: str | None, position: int, **extra: Any) -> CriterionRow:
    """A yes/no leaf of 1 point (or a field when ``parent`` is None)."""
    leaf = parent is not None
    return CriterionRow(
        code,
        title,
        Decimal(extra.get("max_points", 1)),
        "yes_no" if leaf else "group",
        "",
        extra.get("allows_na", False),
        extra.get("evidence_required", leaf),
        "Văn bản" if leaf else "",
        "",
        "",
        parent,
        position,
    )


ROWS = [
    row("1", "Chỉ đạo điều hành", None, 1, max_points=5),
    row("1.1", "Có điểm, có tài liệu", "1", 2),
    row("1.2", "Không điểm", "1", 3),
    row("1.3", "Có điểm, thiếu tài liệu", "1", 4),
    row("1.4", "Có điểm, không bắt buộc tài liệu", "1", 5, evidence_required=False),
    row("1.5", "Không áp dụng", "1", 6, allows_na=True),
    row("2", "Cải cách thể chế", None, 7, max_points=2),
    row("2.1", "Thể chế có tài liệu", "2", 8),
    row("2.2", "Thể chế không điểm", "2", 9),
]
# What each unit typed: the value, or None for N/A.
VALUES = {
    "1.1": "có",
    "1.2": "không",
    "1.3": "có",
    "1.4": "có",
    "1.5": None,
    "2.1": "có",
    "2.2": "không",
}
WITH_EVIDENCE = ("1.1", "2.1")


def submit(assessment: UnitAssessment) -> UnitAssessment:
    """Scores as typed (1.3 without evidence or reason, as after a deadline lock), evidence
    on 1.1 and 2.1, and the unit handed to the secretariat."""
    document = assessment.unit.evidence.create(
        round=assessment.round,
        file="x",
        original_name="bao-cao.pdf",
        title=f"Báo cáo {assessment.unit.code}",
        size=1,
        content_type="application/pdf",
        sha256=f"{assessment.unit.code:a<64}"[:64],
    )
    for item in ItemScore.objects.filter(assessment=assessment).select_related("criterion"):
        value = VALUES[item.criterion.code]
        if value is None:
            item.not_applicable, item.na_reason = True, "Không có nhiệm vụ này"
        else:
            item.self_value, item.self_score = unit_services.evaluate(
                item.criterion, unit_services.ItemInput(value=value)
            )
        item.save()
        if item.criterion.code in WITH_EVIDENCE:
            document.links.create(item=item)
    UnitAssessment.objects.filter(pk=assessment.pk).update(
        state=AssessmentState.SUBMITTED, submitted_at=timezone.now()
    )
    return UnitAssessment.objects.select_related("round", "unit").get(pk=assessment.pk)


def with_deadlines(open_round: Round) -> Round:
    """The round with its appraisal and explanation deadlines after the self-assessment."""
    closes = open_round.self_assessment_deadline
    assert closes is not None
    Round.objects.filter(pk=open_round.pk).update(
        appraisal1_deadline=closes + datetime.timedelta(days=10),
        explanation_deadline=closes + datetime.timedelta(days=20),
        appraisal2_deadline=closes + datetime.timedelta(days=30),
    )
    return Round.objects.get(pk=open_round.pk)


def build_world(round_: Round, groups: Any, units: Any, appraiser: Any, lead: Any) -> Any:
    """STP and SYT submitted; ``appraiser`` appraises field 1 everywhere, thamdinh2 field 2
    of SYT only; a third department is still a draft."""
    criteria_set = unit_services.import_criteria_set(round_, groups["SO"], ROWS, by=None)
    second = staff_user("thamdinh2", "appraiser")
    services.assign_appraisers(
        criteria_set, criteria_set.criteria.get(code="1"), appraiser, by=lead
    )
    services.assign_appraisers(
        criteria_set,
        criteria_set.criteria.get(code="2"),
        second,
        by=lead,
        units=[units["SYT"]],
    )
    draft_unit = units["STP"].group.units.create(code="SXD", name="Sở Xây dựng")
    unit_services.get_or_create_assessment(round_, draft_unit)
    return {
        "STP": submit(unit_services.get_or_create_assessment(round_, units["STP"])),
        "SYT": submit(unit_services.get_or_create_assessment(round_, units["SYT"])),
        "second": second,
    }


@pytest.fixture
def round_(open_round: Round) -> Round:
    return with_deadlines(open_round)


@pytest.fixture
def world(round_: Round, groups: Any, units: Any, appraiser: Any, secretariat_lead: Any) -> Any:
    return build_world(round_, groups, units, appraiser, secretariat_lead)


def item(assessment: UnitAssessment, code: str) -> ItemScore:
    return ItemScore.objects.select_related("criterion", "assessment").get(
        assessment=assessment, criterion__code=code
    )


def unit_url(code: str) -> str:
    return reverse("appraisal_unit", args=[2016, code])


def line_html(body: str, target: ItemScore) -> str:
    """The HTML of one appraisal line on a page."""
    start = body.index(f'id="line-{target.pk}"')
    end = body.find('class="appraisal-line', start)
    return body[start : end if end != -1 else len(body)]


# --- the appraisal home ------------------------------------------------------------------------


def test_the_home_lists_the_appraisers_units_with_progress_per_unit_and_field(
    world: Any, appraiser: Any
) -> None:
    services.accept_self_score(item(world["STP"], "1.1"), by=appraiser)
    body = client_for(appraiser).get(reverse("appraisal_home")).content.decode()
    assert unit_url("STP") in body and unit_url("SYT") in body
    assert unit_url("SXD") not in body  # a draft is not handed to the appraisers
    assert "Lần 1: đã thẩm định 1/5 tiêu chí" in body  # STP: field 1 only, 5 items
    assert "Lần 1: đã thẩm định 0/5 tiêu chí" in body  # SYT
    assert f'href="{unit_url("STP")}#field-1"' in body
    assert "#field-2" not in body  # not thamdinh1's field
    # The field pages stay reachable.
    assert reverse("appraisal_field", args=[2016, "SO", "1"]) in body


def test_an_appraiser_of_some_units_sees_only_those(world: Any) -> None:
    body = client_for(world["second"]).get(reverse("appraisal_home")).content.decode()
    assert unit_url("SYT") in body and unit_url("STP") not in body
    assert "Lần 1: đã thẩm định 0/2 tiêu chí" in body


def test_the_lead_sees_every_unit_with_every_item(world: Any, secretariat_lead: Any) -> None:
    body = client_for(secretariat_lead).get(reverse("appraisal_home")).content.decode()
    assert unit_url("STP") in body and unit_url("SYT") in body
    assert body.count("Lần 1: đã thẩm định 0/7 tiêu chí") == 2
    assert f'href="{unit_url("STP")}#field-2"' in body


def test_units_waiting_for_explanations_show_only_in_the_full_list(
    world: Any, appraiser: Any, secretariat_lead: Any
) -> None:
    stp = world["STP"]
    appraise_everything(stp, appraiser)
    services.flag_explanation(item(stp, "1.3"), "Tài liệu ở đâu?", by=appraiser)
    services.finish_round1(stp, by=secretariat_lead)
    client = client_for(appraiser)
    assert unit_url("STP") not in client.get(reverse("appraisal_home")).content.decode()
    full = client.get(reverse("appraisal_home") + "?tat-ca=1").content.decode()
    assert unit_url("STP") in full and "đang chờ đơn vị giải trình 1 câu hỏi" in full


@pytest.mark.parametrize("persona", ["focal", "leader", "other_unit_focal", "no_role_user"])
def test_the_home_is_for_province_staff(persona: str, request: Any, world: Any) -> None:
    user = request.getfixturevalue(persona)
    assert client_for(user).get(reverse("appraisal_home")).status_code == 403


# --- the unit page ---------------------------------------------------------------------------


def test_the_unit_page_shows_the_appraisers_own_items_and_the_lead_every_item(
    world: Any, appraiser: Any, secretariat_lead: Any
) -> None:
    stp = world["STP"]
    body = client_for(appraiser).get(unit_url("STP")).content.decode()
    assert all(f'id="line-{item(stp, c).pk}"' in body for c in ("1.1", "1.2", "1.3", "1.4", "1.5"))
    assert f'id="line-{item(stp, "2.1").pk}"' not in body
    assert 'id="field-1"' in body and 'id="field-2"' not in body
    lead = client_for(secretariat_lead).get(unit_url("STP")).content.decode()
    assert f'id="line-{item(stp, "2.1").pk}"' in lead and 'id="field-2"' in lead


def test_an_appraiser_without_a_field_of_the_unit_reads_no_item(world: Any) -> None:
    response = client_for(world["second"]).get(unit_url("STP"))
    assert response.status_code == 200
    assert 'data-testid="no-items"' in response.content.decode()


def test_the_unit_page_is_for_province_staff(
    world: Any, focal: Any, other_unit_focal: Any, council_member: Any
) -> None:
    assert client_for(focal).get(unit_url("STP")).status_code == 403
    assert client_for(council_member).get(unit_url("STP")).status_code == 403
    assert client_for(other_unit_focal).get(unit_url("STP")).status_code == 404


def test_no_evidence_shows_only_where_section_7_requires_it(world: Any, appraiser: Any) -> None:
    stp = world["STP"]
    body = client_for(appraiser).get(unit_url("STP")).content.decode()
    assert 'data-testid="lacks-evidence"' in line_html(body, item(stp, "1.3"))
    for code in ("1.1", "1.2", "1.4", "1.5"):  # evidence, 0 points, not required, N/A
        assert 'data-testid="lacks-evidence"' not in line_html(body, item(stp, code)), code
    assert body.count('data-testid="lacks-evidence"') == 1


def test_the_field_page_keeps_working_with_the_same_evidence_rule(
    world: Any, appraiser: Any
) -> None:
    response = client_for(appraiser).get(reverse("appraisal_field", args=[2016, "SO", "1"]))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('data-testid="lacks-evidence"') == 2  # 1.3 of STP and of SYT
    assert 'data-testid="lacks-evidence"' not in line_html(body, item(world["STP"], "1.2"))


def test_evidence_opens_in_a_new_tab_beside_the_item(world: Any, appraiser: Any) -> None:
    stp = world["STP"]
    line = line_html(client_for(appraiser).get(unit_url("STP")).content.decode(), item(stp, "1.1"))
    assert 'target="_blank"' in line and "?xem=1" in line and "Báo cáo STP" in line


def test_previous_and_next_unit_follow_the_appraisers_list(world: Any, appraiser: Any) -> None:
    client = client_for(appraiser)
    first = client.get(unit_url("STP")).content.decode()
    assert f'href="{unit_url("SYT")}" rel="next"' in first and 'rel="prev"' not in first
    second = client.get(unit_url("SYT")).content.decode()
    assert f'href="{unit_url("STP")}" rel="prev"' in second and 'rel="next"' not in second


def test_the_bulk_accept_button_counts_the_acceptable_items(world: Any, appraiser: Any) -> None:
    body = client_for(appraiser).get(unit_url("STP")).content.decode()
    # 1.1 (evidence), 1.2 (0 points), 1.4 (points, evidence not required), 1.5 (N/A);
    # not 1.3 (points, evidence required, no document).
    assert re.search(r"Chấp nhận điểm tự chấm của 4 tiêu chí", body)


def test_bulk_accept_takes_the_appraisers_own_items_with_evidence_or_needing_none(
    world: Any, appraiser: Any
) -> None:
    stp = world["STP"]
    response = client_for(appraiser).post(reverse("appraisal_bulk_accept", args=[2016, "STP"]))
    assert response.status_code == 302 and response["Location"] == unit_url("STP")
    assert item(stp, "1.1").is_appraised and item(stp, "1.5").is_appraised
    assert not item(stp, "1.3").is_appraised  # points without evidence: a closer look
    assert not item(stp, "2.1").is_appraised  # another appraiser's field
    assert not item(world["SYT"], "1.1").is_appraised  # another unit


def test_bulk_accept_takes_an_item_scored_0_that_needs_no_evidence(
    world: Any, appraiser: Any
) -> None:
    client_for(appraiser).post(reverse("appraisal_bulk_accept", args=[2016, "STP"]))
    assert item(world["STP"], "1.2").is_appraised


def test_bulk_accept_takes_points_on_a_criterion_that_requires_no_evidence(
    world: Any, appraiser: Any
) -> None:
    # §7: 1.4 has points and no document, but its criterion does not require evidence, so
    # the page shows no red "no evidence" and bulk accept takes its self score.
    stp = world["STP"]
    assert item(stp, "1.4").has_points and not item(stp, "1.4").criterion.evidence_required
    client_for(appraiser).post(reverse("appraisal_bulk_accept", args=[2016, "STP"]))
    scores = results.item_scores(item(stp, "1.4"))
    assert scores.round1_value == scores.unit_value == "có"


def test_bulk_accept_never_takes_a_line_shown_without_evidence(world: Any, appraiser: Any) -> None:
    # One rule: where the red label shows, bulk accept leaves the item for a closer look.
    lines = worklists.unit_lines(world["STP"], {"1"})
    assert [line.criterion.code for line in lines if line.lacks_evidence] == ["1.3"]
    assert not any(line.acceptable for line in lines if line.lacks_evidence)
    assert {line.criterion.code for line in lines if line.acceptable} == {
        "1.1",
        "1.2",
        "1.4",
        "1.5",
    }


def test_bulk_accept_is_for_the_appraisers_of_the_unit(
    world: Any, secretariat_lead: Any, focal: Any, other_unit_focal: Any
) -> None:
    url = reverse("appraisal_bulk_accept", args=[2016, "STP"])
    assert client_for(world["second"]).post(url).status_code == 403  # no field of STP
    assert client_for(secretariat_lead).post(url).status_code == 403  # reads, does not appraise
    assert client_for(focal).post(url).status_code == 403
    assert client_for(other_unit_focal).post(url).status_code == 404
    assert client_for(world["second"]).get(url).status_code == 405
    assert not ItemScore.objects.filter(assessment=world["STP"], appraisal1_at__isnull=False)


def test_an_htmx_save_marks_where_the_focus_goes(world: Any, appraiser: Any) -> None:
    response = client_for(appraiser).post(
        reverse("appraise_item", args=[item(world["STP"], "1.3").pk]),
        {"action": "save", "value": "không", "comment": "Không có tài liệu"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert 'role="status" data-focus-after-swap' in response.content.decode()


# --- round 2 ---------------------------------------------------------------------------------


def appraise_everything(assessment: UnitAssessment, by: Any) -> None:
    """Round 1 of every item as the unit scored it (the services do not check assignments)."""
    for entry in ItemScore.objects.filter(assessment=assessment).select_related("criterion"):
        entry.assessment = assessment
        services.accept_self_score(entry, by=by)


def explain(stp: UnitAssessment, appraiser: Any, lead: Any, leader: Any) -> UnitAssessment:
    """STP after round 1 with 1.3 flagged, answered and submitted."""
    appraise_everything(stp, appraiser)
    services.flag_explanation(item(stp, "1.3"), "Tài liệu ở đâu?", by=appraiser)
    services.finish_round1(stp, by=lead)
    services.answer_explanation(item(stp, "1.3"), "Đã bổ sung", by=leader)
    return services.submit_explanations(UnitAssessment.objects.get(pk=stp.pk), by=leader)


@pytest.fixture
def explained(world: Any, appraiser: Any, secretariat_lead: Any, leader: Any) -> UnitAssessment:
    return explain(world["STP"], appraiser, secretariat_lead, leader)


def test_round_2_shows_the_flagged_items_first_and_every_item_on_request(
    explained: UnitAssessment, appraiser: Any
) -> None:
    client = client_for(appraiser)
    body = client.get(unit_url("STP")).content.decode()
    flagged = item(explained, "1.3")
    assert f'id="line-{flagged.pk}"' in body
    assert f'id="line-{item(explained, "1.1").pk}"' not in body
    assert "Lần 2: đã thẩm định lại 0/1 tiêu chí yêu cầu giải trình" in body
    assert 'name="value"' in line_html(body, flagged)  # the re-appraisal form
    every = client.get(unit_url("STP") + "?tat-ca=1").content.decode()
    assert f'id="line-{item(explained, "1.1").pk}"' in every
    assert 'name="value"' not in line_html(every, item(explained, "1.1"))
    home = client.get(reverse("appraisal_home")).content.decode()
    assert "Lần 2: đã thẩm định lại 0/1 tiêu chí yêu cầu giải trình" in home


# --- appraiser_tasks (the home page) ------------------------------------------------------------


def test_appraiser_tasks_lists_the_units_left_per_round(
    world: Any, appraiser: Any, round_: Round, django_assert_num_queries: Any
) -> None:
    appraiser = type(appraiser).objects.get(pk=appraiser.pk)  # no cached roles
    with django_assert_num_queries(5):  # roles (2), assignments, their units, the counts
        tasks = worklists.appraiser_tasks(appraiser)
    assert len(tasks) == 1
    task = tasks[0]
    assert (task.year, task.round_no, task.deadline) == (2016, 1, round_.appraisal1_deadline)
    assert [(u.code, u.remaining, u.total) for u in task.units] == [("STP", 5, 5), ("SYT", 5, 5)]
    assert task.remaining == 10 and task.next_url == unit_url("STP")
    for code in ("1.1", "1.2", "1.3", "1.4", "1.5"):
        services.accept_self_score(item(world["STP"], code), by=appraiser)
    tasks = worklists.appraiser_tasks(appraiser)
    assert [u.code for u in tasks[0].units] == ["SYT"] and tasks[0].next_url == unit_url("SYT")


def test_appraiser_tasks_has_round_2_with_its_deadline(
    explained: UnitAssessment, appraiser: Any, round_: Round
) -> None:
    tasks = worklists.appraiser_tasks(appraiser)
    assert [(t.round_no, [(u.code, u.remaining) for u in t.units]) for t in tasks] == [
        (1, [("SYT", 5)]),
        (2, [("STP", 1)]),
    ]
    assert tasks[1].deadline == round_.appraisal2_deadline


def test_appraiser_tasks_is_empty_for_other_people(
    world: Any, secretariat_lead: Any, focal: Any, django_assert_num_queries: Any
) -> None:
    assert worklists.appraiser_tasks(secretariat_lead) == []
    assert worklists.appraiser_tasks(focal) == []
