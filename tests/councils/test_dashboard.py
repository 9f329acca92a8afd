"""The secretariat dashboard (DESIGN §5, §6): what it shows, who sees it, its query budget."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments import services
from assessments.importers import CriterionRow
from assessments.models import (
    AssessmentState,
    Evidence,
    EvidenceLink,
    ItemScore,
    Round,
    Unit,
    UnitAssessment,
    UnitGroup,
)
from councils import dashboard
from councils import services as council_services
from councils.models import ExplanationRequest
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def row(code: str, method: str = "yes_no", points: str = "1", position: int = 0) -> CriterionRow:
    parent = code.rsplit(".", 1)[0] if "." in code else None
    return CriterionRow(
        code, f"Mục {code}", Decimal(points), method, "", False, False, "", "", "", parent, position
    )


def two_field_rows() -> list[CriterionRow]:
    """Field 1: four 1-point items; field 2: two 5-point items and a survey item."""
    codes = [
        ("1", "group", "4"),
        ("1.1", "yes_no", "1"),
        ("1.2", "yes_no", "1"),
        ("1.3", "yes_no", "1"),
        ("1.4", "yes_no", "1"),
        ("2", "group", "12"),
        ("2.1", "yes_no", "5"),
        ("2.2", "yes_no", "5"),
        ("2.3", "survey", "2"),
    ]
    return [row(code, method, points, i) for i, (code, method, points) in enumerate(codes)]


def seed(round_: Round, group: UnitGroup, count: int, prefix: str = "U") -> list[UnitAssessment]:
    """``count`` units of ``group`` with an assessment each, in every interesting state."""
    if not round_.criteria_sets.filter(group=group).exists():
        services.import_criteria_set(round_, group, two_field_rows(), by=None)
    Unit.objects.bulk_create(
        Unit(code=f"{prefix}{i:02}", name=f"Đơn vị {prefix}{i:02}", group=group)
        for i in range(count)
    )
    now = timezone.now()
    made = []
    for i, unit in enumerate(Unit.objects.filter(code__startswith=prefix).order_by("code")):
        assessment = services.get_or_create_assessment(round_, unit)
        items = {i.criterion.code: i for i in assessment.items.select_related("criterion")}
        items["1.1"].self_score = Decimal("1")
        items["1.1"].save()
        if i % 2:
            UnitAssessment.objects.filter(pk=assessment.pk).update(
                state=AssessmentState.APPRAISING, submitted_at=now
            )
            evidence = Evidence.objects.create(
                unit=unit,
                round=round_,
                file="evidence/x",
                original_name="x.pdf",
                title="QĐ",
                size=1,
                content_type="application/pdf",
                sha256=f"{i:064}",
            )
            EvidenceLink.objects.create(evidence=evidence, item=items["1.1"])
            ItemScore.objects.filter(pk=items["1.1"].pk).update(
                appraisal1_at=now, appraisal1_score=Decimal("1"), explanation_required=True
            )
            ExplanationRequest.objects.create(item=items["1.1"], question="Vì sao?")
        made.append(assessment)
    return made


def get(user: Any, year: int = 2016) -> Any:
    return client_for(user).get(reverse("secretariat_dashboard", args=[year]))


def board_row(response: Any, code: str) -> dashboard.UnitRow:
    for block in response.context["board"].groups:
        for unit_row in block.rows:
            if unit_row.unit.code == code:
                return unit_row
    raise AssertionError(f"{code} is not on the dashboard")


# --- who sees it -----------------------------------------------------------------------------


def test_it_sends_an_anonymous_visitor_to_the_login_page(open_round: Round) -> None:
    response = get(None)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "persona",
    ["appraiser", "council_member", "chair", "leader", "focal", "other_unit_focal", "no_role_user"],
)
def test_it_refuses_everyone_but_the_secretariat_lead(
    request: pytest.FixtureRequest, open_round: Round, persona: str
) -> None:
    assert get(request.getfixturevalue(persona)).status_code == 403


def test_it_answers_404_for_a_round_that_does_not_exist(secretariat_lead: Any) -> None:
    assert get(secretariat_lead, year=2031).status_code == 404


def test_it_refuses_a_post(secretariat_lead: Any, open_round: Round) -> None:
    response = client_for(secretariat_lead).post(reverse("secretariat_dashboard", args=[2016]))
    assert response.status_code == 405


# --- what it shows ---------------------------------------------------------------------------


def test_it_shows_every_unit_with_progress_evidence_and_appraisal(
    secretariat_lead: Any, open_round: Round, groups: dict[str, UnitGroup]
) -> None:
    draft, appraising = seed(open_round, groups["SO"], 2)
    response = get(secretariat_lead)
    assert response.status_code == 200

    first = board_row(response, draft.unit.code)
    assert first.assessment is not None
    assert first.assessment.state == AssessmentState.DRAFT
    # Six self-assessed leaves (the survey item is not self-assessed), one scored.
    assert (first.counts.leaves, first.counts.scored, first.counts.with_evidence) == (6, 1, 0)
    assert first.timeliness == "pending"
    assert not first.appraisal_started
    assert first.difference is None

    second = board_row(response, appraising.unit.code)
    assert (second.counts.scored, second.counts.with_evidence) == (1, 1)
    assert [(f.code, f.appraised, f.total) for f in second.fields] == [("1", 1, 4), ("2", 0, 2)]
    assert second.counts.open_explanations == 1
    assert second.difference == Decimal("0.00")
    assert second.timeliness == "on_time"

    html = response.content.decode()
    assert "1: 1/4" in html
    assert "2: 0/2" in html
    assert reverse("unit_workspace", args=[2016, draft.unit.code]) in html
    assert reverse("appraisal_unit", args=[2016, appraising.unit.code]) in html
    assert reverse("unit_deadline", args=[2016, draft.unit.code]) in html
    assert reverse("appraiser_assignments", args=[2016]) in html


def test_it_lists_units_that_have_not_started_under_their_group(
    secretariat_lead: Any, open_round: Round, units: dict[str, Unit]
) -> None:
    response = get(secretariat_lead)
    groups = [
        (b.group.code, [r.unit.code for r in b.rows]) for b in response.context["board"].groups
    ]
    assert groups == [("SO", ["STP", "SYT"]), ("HUYEN", ["HBS"])]
    assert all(r.assessment is None for b in response.context["board"].groups for r in b.rows)


def test_it_counts_an_answered_explanation_as_closed(
    secretariat_lead: Any, open_round: Round, groups: dict[str, UnitGroup]
) -> None:
    _draft, appraising = seed(open_round, groups["SO"], 2)
    ExplanationRequest.objects.filter(item__assessment=appraising).update(
        answer="Vì thế.", answered_at=timezone.now()
    )
    assert board_row(get(secretariat_lead), appraising.unit.code).counts.open_explanations == 0


def test_it_shows_the_difference_with_a_decimal_comma_and_colours_an_over_scoring_unit(
    secretariat_lead: Any, open_round: Round, groups: dict[str, UnitGroup]
) -> None:
    _draft, modest, _other, boastful = seed(open_round, groups["SO"], 4)
    now = timezone.now()
    # The modest unit claimed 5 on 2.1, round 1 gave 2.5: −2.5 (not coloured). The
    # difference is the council's: provisional total − self total (§4.4).
    ItemScore.objects.filter(assessment=modest, criterion__code="2.1").update(
        self_score=Decimal("5"), appraisal1_at=now, appraisal1_score=Decimal("2.50")
    )
    # The boastful unit claimed 10 on field 2; round 1 gave 5 + 0, round 2 lowered 5 to 4.75:
    # 4.75 − 10 = −5.25 (coloured). Round 2 counts when set (§4.4).
    ItemScore.objects.filter(assessment=boastful, criterion__code="2.1").update(
        self_score=Decimal("5"),
        appraisal1_at=now,
        appraisal1_score=Decimal("5"),
        explanation_required=True,
        appraisal2_at=now,
        appraisal2_score=Decimal("4.75"),
    )
    ItemScore.objects.filter(assessment=boastful, criterion__code="2.2").update(
        self_score=Decimal("5"), appraisal1_at=now, appraisal1_score=Decimal("0")
    )
    response = get(secretariat_lead)
    assert board_row(response, modest.unit.code).difference == Decimal("-2.50")
    assert not board_row(response, modest.unit.code).over_scored
    assert board_row(response, boastful.unit.code).difference == Decimal("-5.25")
    assert board_row(response, boastful.unit.code).over_scored
    html = response.content.decode()
    assert 'data-testid="difference">-2,5<' in html
    assert 'data-testid="difference" class="text-danger fw-semibold">-5,25<' in html


def test_it_marks_late_auto_locked_and_extended_units(
    secretariat_lead: Any, open_round: Round, groups: dict[str, UnitGroup]
) -> None:
    on_time, late, locked, extended = seed(open_round, groups["SO"], 4)
    deadline = open_round.self_assessment_deadline
    assert deadline is not None
    UnitAssessment.objects.filter(pk=on_time.pk).update(
        state=AssessmentState.SUBMITTED, submitted_at=deadline - datetime.timedelta(days=1)
    )
    UnitAssessment.objects.filter(pk=late.pk).update(
        state=AssessmentState.SUBMITTED, submitted_at=deadline + datetime.timedelta(hours=1)
    )
    UnitAssessment.objects.filter(pk=locked.pk).update(
        state=AssessmentState.SUBMITTED, submitted_at=deadline, auto_locked=True
    )
    # Submitted after the round's deadline but within its own extension: on time.
    UnitAssessment.objects.filter(pk=extended.pk).update(
        state=AssessmentState.SUBMITTED,
        submitted_at=deadline + datetime.timedelta(days=2),
        extended_until=deadline + datetime.timedelta(days=3),
        extension_reason="Mất điện",
    )
    response = get(secretariat_lead)
    assert board_row(response, on_time.unit.code).timeliness == "on_time"
    assert board_row(response, late.unit.code).timeliness == "late"
    assert board_row(response, locked.unit.code).timeliness == "late"
    assert board_row(response, extended.unit.code).timeliness == "on_time"
    html = response.content.decode()
    local = timezone.localtime(deadline + datetime.timedelta(days=3))
    assert local.strftime("%H:%M %d/%m/%Y") in html


def test_a_draft_past_its_deadline_is_overdue(open_round: Round) -> None:
    open_round.self_assessment_deadline = timezone.now() - datetime.timedelta(hours=1)
    assessment = UnitAssessment(round=open_round, state=AssessmentState.DRAFT)
    assert dashboard.timeliness(open_round, assessment) == "overdue"
    # A unit that never opened its assessment is overdue too.
    assert dashboard.timeliness(open_round, None) == "overdue"
    open_round.self_assessment_deadline = timezone.now() + datetime.timedelta(hours=1)
    assert dashboard.timeliness(open_round, None) == "pending"


def test_it_names_the_next_deadline_of_the_round_in_days(open_round: Round) -> None:
    now = timezone.now()
    open_round.self_assessment_deadline = now - datetime.timedelta(days=1)
    open_round.appraisal1_deadline = now + datetime.timedelta(days=7)
    open_round.explanation_deadline = now + datetime.timedelta(days=14)
    nxt = dashboard.next_deadline(open_round, now)
    assert nxt is not None
    assert nxt.at == open_round.appraisal1_deadline
    assert nxt.days == 7
    assert nxt.label == str(dashboard.Deadline.APPRAISAL1.label)
    open_round.appraisal1_deadline = open_round.explanation_deadline = None
    assert dashboard.next_deadline(open_round, now) is None


def test_it_shows_each_appraisers_fields_and_progress_within_their_units(
    secretariat_lead: Any, appraiser: Any, open_round: Round, groups: dict[str, UnitGroup]
) -> None:
    assessments = seed(open_round, groups["SO"], 4)
    criteria_set = assessments[0].criteria_set
    field1 = criteria_set.criteria.get(code="1")
    # Only units 1 and 2: unit 1 is appraising (1 of 4 appraised), unit 2 is still a draft.
    council_services.assign_appraisers(
        criteria_set,
        field1,
        appraiser,
        by=secretariat_lead,
        units=[assessments[1].unit, assessments[2].unit],
    )
    response = get(secretariat_lead)
    (entry,) = [r for r in response.context["board"].appraisers if r.appraiser == appraiser]
    (progress,) = entry.assignments
    assert (progress.appraised, progress.total) == (1, 4)
    assert progress.unit_codes == sorted([assessments[1].unit.code, assessments[2].unit.code])
    assert "1/4" in response.content.decode()


def test_it_offers_an_extension_form_that_posts_to_the_deadline_page(
    secretariat_lead: Any, open_round: Round, groups: dict[str, UnitGroup]
) -> None:
    (draft,) = seed(open_round, groups["SO"], 1)
    html = get(secretariat_lead).content.decode()
    assert f'action="{reverse("unit_deadline", args=[2016, draft.unit.code])}"' in html
    # Typed as dd/mm/yyyy hh:mm, never a native picker that follows the browser's language.
    assert 'type="datetime-local"' not in html and 'placeholder="dd/mm/yyyy hh:mm"' in html
    until = timezone.localtime(timezone.now() + datetime.timedelta(days=30))
    response = client_for(secretariat_lead).post(
        reverse("unit_deadline", args=[2016, draft.unit.code]),
        {"action": "extend", "until": until.strftime("%d/%m/%Y %H:%M"), "reason": "Lũ lụt"},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.extension_reason == "Lũ lụt"


# --- query budget ----------------------------------------------------------------------------


def queries_for(user: Any, year: int) -> tuple[int, list[str]]:
    client = client_for(user)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("secretariat_dashboard", args=[year]))
    assert response.status_code == 200
    return len(captured.captured_queries), [q["sql"] for q in captured.captured_queries]


def test_it_runs_the_same_number_of_queries_for_5_and_for_30_units(
    secretariat_lead: Any, appraiser: Any, open_round: Round, groups: dict[str, UnitGroup]
) -> None:
    small = seed(open_round, groups["SO"], 5, prefix="A")
    field = small[0].criteria_set.criteria.get(code="1")
    council_services.assign_appraisers(small[0].criteria_set, field, appraiser, by=secretariat_lead)
    few, _sql = queries_for(secretariat_lead, 2016)

    seed(open_round, groups["SO"], 25, prefix="B")
    seed(open_round, groups["HUYEN"], 5, prefix="C")
    assert UnitAssessment.objects.filter(round=open_round).count() == 35
    many, sql = queries_for(secretariat_lead, 2016)
    assert many == few, "\n".join(sql)
    # Session, user, two for the roles, the round; units, assessments, the leaf rows (the
    # counts and the totals), assignments (+ their units), the appraisal team; the
    # navigation's unread count; and the results ledger's criteria sets and criteria.
    assert many == 14, "\n".join(sql)


def test_an_inactive_unit_keeps_its_totals_on_the_dashboard(
    secretariat_lead: Any, open_round: Round, groups: dict[str, UnitGroup]
) -> None:
    # A unit merged mid-round is inactive but still on the dashboard, with its difference.
    _draft, merged = seed(open_round, groups["SO"], 2)
    ItemScore.objects.filter(assessment=merged, criterion__code="2.1").update(
        self_score=Decimal("5"), appraisal1_at=timezone.now(), appraisal1_score=Decimal("2.50")
    )
    Unit.objects.filter(pk=merged.unit_id).update(is_active=False)
    row = board_row(get(secretariat_lead), merged.unit.code)
    assert row.result is not None
    assert row.difference == Decimal("-2.50")
