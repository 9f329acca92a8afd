"""Deadline reminders (DESIGN §5.1): who is warned 3 days and 1 day before each deadline."""

from __future__ import annotations

import datetime
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from assessments import services as unit_services
from assessments.models import (
    AssessmentState,
    CriteriaSet,
    ItemScore,
    Notification,
    Round,
    StaffRole,
    UnitAssessment,
    UnitGroup,
    UnitRole,
)
from assessments.services import deadline_text
from councils.inbox import Reminder, deliver, lead_time, send_reminders
from councils.models import AppraiserAssignment, Deadline, ReminderSent
from tests.builders import small_rows
from tests.conftest import client_for, staff_user, unit_user

pytestmark = pytest.mark.django_db

NOW = timezone.now()
DAY = datetime.timedelta(days=1)


@pytest.fixture
def small_sets(open_round: Round, groups: dict[str, UnitGroup]) -> dict[str, CriteriaSet]:
    """One field ("1") of three yes/no items per group: enough to tell done from not done."""
    return {
        code: unit_services.import_criteria_set(open_round, group, small_rows(3), by=None)
        for code, group in groups.items()
    }


@pytest.fixture
def people(
    units: Any, leader: Any, focal: Any, contributor: Any, other_unit_focal: Any, appraiser: Any
) -> dict[str, Any]:
    """Everybody with an e-mail address, so that every reminder also shows in the outbox."""
    everybody = {
        "stp": leader,
        "stp.daumoi": focal,
        "stp.cv1": contributor,
        "hbs.daumoi": other_unit_focal,
        "syt": unit_user("syt", units["SYT"], UnitRole.LEADER),
        "thamdinh1": appraiser,
        "thamdinh2": staff_user("thamdinh2", StaffRole.APPRAISER),
    }
    for username, user in everybody.items():
        user.email = f"{username}@example.vn"
        user.save(update_fields=["email"])
    return everybody


def set_deadlines(round_: Round, **deadlines: datetime.datetime | None) -> None:
    """Move the round's calendar; deadlines not named are cleared (they must stay in order)."""
    calendar: dict[str, datetime.datetime | None] = {
        "self_assessment_deadline": None,
        "appraisal1_deadline": None,
        "explanation_deadline": None,
        "appraisal2_deadline": None,
    }
    calendar.update(deadlines)
    Round.objects.filter(pk=round_.pk).update(**calendar)


def assessment(round_: Round, unit: Any, state: str = AssessmentState.DRAFT) -> UnitAssessment:
    created = unit_services.get_or_create_assessment(round_, unit)
    if state != AssessmentState.DRAFT:
        UnitAssessment.objects.filter(pk=created.pk).update(state=state, submitted_at=NOW - DAY)
    return UnitAssessment.objects.get(pk=created.pk)


def appraise_all(assessment_: UnitAssessment) -> None:
    ItemScore.objects.filter(assessment=assessment_).update(appraisal1_at=NOW - DAY)


def assign(small_sets: dict[str, CriteriaSet], appraiser: Any, *units: Any) -> None:
    criteria_set = small_sets["SO"]
    assignment = AppraiserAssignment.objects.create(
        criteria_set=criteria_set,
        field=criteria_set.criteria.get(code="1"),
        appraiser=appraiser,
    )
    assignment.units.set(units)


def run(callbacks: Any, now: datetime.datetime = NOW) -> int:
    with callbacks(execute=True):
        return send_reminders(now)


def reminded(kind: str | None = None) -> set[str]:
    rows = ReminderSent.objects.all()
    if kind is not None:
        rows = rows.filter(deadline=kind)
    return set(rows.values_list("user__username", flat=True))


def outbox_recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def test_the_lead_time_is_the_most_urgent_reminder_due() -> None:
    assert lead_time(NOW + 4 * DAY, NOW) is None
    assert lead_time(NOW + 3 * DAY, NOW) == 3
    assert lead_time(NOW + 1.5 * DAY, NOW) == 3
    assert lead_time(NOW + DAY, NOW) == 1
    assert lead_time(NOW + datetime.timedelta(minutes=1), NOW) == 1
    assert lead_time(NOW, NOW) is None
    assert lead_time(NOW - DAY, NOW) is None
    assert lead_time(None, NOW) is None


def test_the_leader_and_focal_officer_of_a_draft_or_unstarted_unit_are_reminded_of_the_self_assessment_deadline(
    open_round: Round,
    units: Any,
    small_sets: Any,
    people: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    set_deadlines(open_round, self_assessment_deadline=NOW + 2 * DAY)
    assessment(open_round, units["STP"])  # draft
    assessment(open_round, units["SYT"], AssessmentState.SUBMITTED)
    # HBS has not opened its assessment yet: it is not done either.
    assert run(django_capture_on_commit_callbacks) == 3
    # Neither the contributor, nor the leader of the unit that submitted, nor staff.
    assert reminded() == {"stp", "stp.daumoi", "hbs.daumoi"}
    assert set(ReminderSent.objects.values_list("deadline", "days_before")) == {
        (Deadline.SELF_ASSESSMENT, 3)
    }
    assert outbox_recipients() == [
        "hbs.daumoi@example.vn",
        "stp.daumoi@example.vn",
        "stp@example.vn",
    ]
    for message in mail.outbox:
        assert len(message.to) == 1
        user = people[message.to[0].split("@")[0]]
        note = Notification.objects.get(user=user)
        assert message.subject == note.subject
        assert "2016" in note.subject and "3" in note.subject
        unit = "HBS" if user.username == "hbs.daumoi" else "STP"
        assert note.url == reverse("unit_workspace", args=[2016, unit])
        assert note.url in message.body


def test_a_reminder_is_sent_once_however_often_the_command_runs(
    open_round: Round,
    units: Any,
    small_sets: Any,
    people: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    set_deadlines(open_round, self_assessment_deadline=NOW + 2 * DAY)
    assessment(open_round, units["STP"])
    # STP's leader and focal officer; SYT's leader and HBS's focal officer (not started).
    first = run(django_capture_on_commit_callbacks)
    assert first == 4 and len(mail.outbox) == 4
    assert run(django_capture_on_commit_callbacks) == 0
    assert run(django_capture_on_commit_callbacks, NOW + datetime.timedelta(hours=5)) == 0
    assert len(mail.outbox) == 4
    assert Notification.objects.count() == 4
    assert ReminderSent.objects.count() == 4


def test_the_one_day_reminder_follows_the_three_day_reminder(
    open_round: Round,
    units: Any,
    small_sets: Any,
    people: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    set_deadlines(open_round, self_assessment_deadline=NOW + 2.5 * DAY)
    assessment(open_round, units["STP"])
    assessment(open_round, units["SYT"], AssessmentState.SUBMITTED)
    assessment(open_round, units["HBS"], AssessmentState.SUBMITTED)
    assert run(django_capture_on_commit_callbacks) == 2
    assert run(django_capture_on_commit_callbacks, NOW + 2 * DAY) == 2
    assert run(django_capture_on_commit_callbacks, NOW + 2.2 * DAY) == 0
    assert sorted(
        ReminderSent.objects.filter(user=people["stp"]).values_list("days_before", flat=True)
    ) == [1, 3]
    assert len(mail.outbox) == 4


def test_a_missed_three_day_mark_sends_only_the_one_day_reminder(
    open_round: Round,
    units: Any,
    small_sets: Any,
    people: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    set_deadlines(open_round, self_assessment_deadline=NOW + datetime.timedelta(hours=20))
    assessment(open_round, units["STP"])
    assert run(django_capture_on_commit_callbacks) == 4
    assert set(ReminderSent.objects.values_list("days_before", flat=True)) == {1}
    assert Notification.objects.filter(user=people["stp"]).count() == 1
    assert outbox_recipients().count("stp@example.vn") == 1


@pytest.mark.parametrize("deadline", [NOW + 3 * DAY + datetime.timedelta(minutes=1), NOW - DAY])
def test_nothing_is_sent_before_the_three_day_mark_or_after_the_deadline(
    open_round: Round,
    units: Any,
    small_sets: Any,
    people: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
    deadline: datetime.datetime,
) -> None:
    set_deadlines(open_round, self_assessment_deadline=deadline)
    assessment(open_round, units["STP"])
    assert run(django_capture_on_commit_callbacks) == 0
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_an_extension_moves_the_unit_s_reminders_to_its_own_deadline(
    open_round: Round,
    units: Any,
    small_sets: Any,
    people: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    set_deadlines(open_round, self_assessment_deadline=NOW + 2 * DAY)
    extended = assessment(open_round, units["STP"])
    UnitAssessment.objects.filter(pk=extended.pk).update(
        extended_until=NOW + 10 * DAY, extension_reason="Mất điện"
    )
    assessment(open_round, units["HBS"])
    assessment(open_round, units["SYT"], AssessmentState.SUBMITTED)
    assert run(django_capture_on_commit_callbacks) == 1
    assert reminded() == {"hbs.daumoi"}
    # Eight days later the round's deadline has passed, but STP's extension is two days away.
    mail.outbox.clear()
    assert run(django_capture_on_commit_callbacks, NOW + 8 * DAY) == 2
    assert outbox_recipients() == ["stp.daumoi@example.vn", "stp@example.vn"]


def test_the_appraiser_with_unappraised_items_is_reminded_and_the_one_who_is_done_is_not(
    open_round: Round,
    units: Any,
    small_sets: Any,
    people: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    set_deadlines(
        open_round, self_assessment_deadline=NOW - 5 * DAY, appraisal1_deadline=NOW + 2 * DAY
    )
    assessment(open_round, units["STP"], AssessmentState.SUBMITTED)
    appraise_all(assessment(open_round, units["SYT"], AssessmentState.APPRAISING))
    # The same field for both, but each only for their own units: STP is not thamdinh2's.
    assign(small_sets, people["thamdinh1"], units["STP"])
    assign(small_sets, people["thamdinh2"], units["SYT"])
    assert run(django_capture_on_commit_callbacks) == 1
    assert reminded(Deadline.APPRAISAL1) == {"thamdinh1"}
    assert outbox_recipients() == ["thamdinh1@example.vn"]
    note = Notification.objects.get(user=people["thamdinh1"])
    assert note.url == reverse("appraisal_home")
    left = note.body.replace(deadline_text(NOW + 2 * DAY), "")
    assert "3" in left  # three items are left


def test_an_appraiser_assigned_to_every_unit_is_reminded_of_any_unit_s_items(
    open_round: Round,
    units: Any,
    small_sets: Any,
    people: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    set_deadlines(
        open_round, self_assessment_deadline=NOW - 5 * DAY, appraisal1_deadline=NOW + 0.5 * DAY
    )
    assessment(open_round, units["STP"], AssessmentState.APPRAISING)
    assign(small_sets, people["thamdinh2"])
    assert run(django_capture_on_commit_callbacks) == 1
    assert set(ReminderSent.objects.values_list("user__username", "days_before")) == {
        ("thamdinh2", 1)
    }


def test_appraisers_are_not_reminded_of_drafts_or_finished_assessments(
    open_round: Round,
    units: Any,
    small_sets: Any,
    people: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    set_deadlines(
        open_round, self_assessment_deadline=NOW - 5 * DAY, appraisal1_deadline=NOW + 2 * DAY
    )
    assessment(open_round, units["STP"])  # a draft (extension or not, not theirs yet)
    assessment(open_round, units["SYT"], AssessmentState.EXPLANATION_REQUESTED)
    assign(small_sets, people["thamdinh1"])
    assert run(django_capture_on_commit_callbacks) == 0
    assert mail.outbox == []


def test_the_units_asked_to_explain_are_reminded_of_the_explanation_deadline(
    open_round: Round,
    units: Any,
    small_sets: Any,
    people: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    set_deadlines(
        open_round,
        self_assessment_deadline=NOW - 9 * DAY,
        appraisal1_deadline=NOW - 5 * DAY,
        explanation_deadline=NOW + 2 * DAY,
    )
    assessment(open_round, units["STP"], AssessmentState.EXPLANATION_REQUESTED)
    assessment(open_round, units["SYT"], AssessmentState.APPRAISED)
    assessment(open_round, units["HBS"], AssessmentState.EXPLAINED)
    assert run(django_capture_on_commit_callbacks) == 2
    assert reminded(Deadline.EXPLANATION) == {"stp", "stp.daumoi"}
    assert outbox_recipients() == ["stp.daumoi@example.vn", "stp@example.vn"]
    assert {n.url for n in Notification.objects.all()} == {
        reverse("unit_explanations", args=[2016, "STP"])
    }


def test_appraisers_of_flagged_items_not_re_appraised_are_reminded_of_round_2(
    open_round: Round,
    units: Any,
    small_sets: Any,
    people: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    set_deadlines(
        open_round,
        self_assessment_deadline=NOW - 9 * DAY,
        appraisal1_deadline=NOW - 5 * DAY,
        explanation_deadline=NOW - 2 * DAY,
        appraisal2_deadline=NOW + 2 * DAY,
    )
    pending = assessment(open_round, units["STP"], AssessmentState.EXPLAINED)
    done = assessment(open_round, units["SYT"], AssessmentState.EXPLAINED)
    for item in (pending, done):
        appraise_all(item)
        ItemScore.objects.filter(assessment=item, criterion__code="1.1").update(
            explanation_required=True
        )
    ItemScore.objects.filter(assessment=done, criterion__code="1.1").update(appraisal2_at=NOW - DAY)
    assign(small_sets, people["thamdinh1"], units["STP"])
    assign(small_sets, people["thamdinh2"], units["SYT"])
    assert run(django_capture_on_commit_callbacks) == 1
    assert reminded(Deadline.APPRAISAL2) == {"thamdinh1"}
    assert outbox_recipients() == ["thamdinh1@example.vn"]


def test_a_unit_flagged_but_still_explaining_is_not_yet_for_round_2(
    open_round: Round,
    units: Any,
    small_sets: Any,
    people: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    set_deadlines(
        open_round,
        self_assessment_deadline=NOW - 9 * DAY,
        appraisal1_deadline=NOW - 5 * DAY,
        explanation_deadline=NOW + 3 * DAY,
        appraisal2_deadline=NOW + 3 * DAY,
    )
    explaining = assessment(open_round, units["STP"], AssessmentState.EXPLANATION_REQUESTED)
    appraise_all(explaining)
    ItemScore.objects.filter(assessment=explaining, criterion__code="1.1").update(
        explanation_required=True
    )
    assign(small_sets, people["thamdinh1"])
    run(django_capture_on_commit_callbacks)
    assert reminded(Deadline.APPRAISAL2) == set()
    assert reminded(Deadline.EXPLANATION) == {"stp", "stp.daumoi"}


def test_the_command_prints_how_many_reminders_it_sent(
    open_round: Round,
    units: Any,
    small_sets: Any,
    people: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    Round.objects.filter(pk=open_round.pk).update(self_assessment_deadline=timezone.now() + 2 * DAY)
    assessment(open_round, units["STP"], AssessmentState.SUBMITTED)
    assessment(open_round, units["SYT"], AssessmentState.SUBMITTED)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders", stdout=out)
    assert out.getvalue().strip() == "Sent 1 reminder(s)."  # HBS's focal officer
    assert outbox_recipients() == ["hbs.daumoi@example.vn"]
    out = StringIO()
    call_command("send_reminders", stdout=out)
    assert out.getvalue().strip() == "Sent 0 reminder(s)."


def test_a_reminder_shows_in_the_recipient_s_inbox(
    open_round: Round,
    units: Any,
    small_sets: Any,
    people: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    set_deadlines(open_round, self_assessment_deadline=NOW + 2 * DAY)
    assessment(open_round, units["STP"])
    run(django_capture_on_commit_callbacks)
    note = Notification.objects.get(user=people["stp"])
    page = client_for(people["stp"]).get(reverse("inbox")).content.decode()
    assert reverse("inbox_open", args=[note.pk]) in page


def test_the_database_refuses_a_second_copy_of_a_reminder_even_without_the_pre_check(
    open_round: Round, people: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    reminder = Reminder(
        user=people["stp"],
        round=open_round,
        deadline=Deadline.SELF_ASSESSMENT,
        days_before=3,
        subject="[Chỉ số CCHC 2016] Còn 3 ngày",
        body="Nhắc việc",
        url="/",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(reminder) is True
        assert deliver(reminder) is False
    assert outbox_recipients() == ["stp@example.vn"]
    assert Notification.objects.count() == 1
