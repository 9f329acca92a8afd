"""Notification e-mail (issue 10, item 7): one message per recipient, never a shared To:
list, and a mail server that fails never fails the user's action."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from typing import Any

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from assessments import confirm, services
from assessments.models import AssessmentState, Notification, UnitAssessment
from councils import services as council_services
from tests.builders import appraised, fill, submitted
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down: every send raises, as smtplib does."""

    def send_messages(self, email_messages: Sequence[Any]) -> int:
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class UnreachableBackend(BaseEmailBackend):
    """No mail server at all (connection refused)."""

    def open(self) -> bool:
        raise ConnectionRefusedError(111, "Connection refused")

    def send_messages(self, email_messages: Sequence[Any]) -> int:
        self.open()
        return 0


def test_each_recipient_gets_a_message_of_their_own(
    django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    people = [make_user(f"nguoi{n}", email=f"nguoi{n}@example.vn") for n in range(5)]
    people.append(make_user("khong-thu"))  # no address: the inbox only
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(people, "Kết quả đã công bố", "Xem kết quả.", url="/cong-khai/2015/")
    assert len(mail.outbox) == 5
    assert sorted(m.to[0] for m in mail.outbox) == [f"nguoi{n}@example.vn" for n in range(5)]
    assert all(len(m.to) == 1 and not m.cc and not m.bcc for m in mail.outbox)
    assert all(
        m.subject == "Kết quả đã công bố" and "/cong-khai/2015/" in m.body for m in mail.outbox
    )
    assert Notification.objects.count() == 6


def test_the_same_address_twice_gets_one_message(
    django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    people = [make_user("a", email="chung@example.vn"), make_user("b", email="chung@example.vn")]
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(people, "Tiêu đề", "Nội dung")
    assert [m.to for m in mail.outbox] == [["chung@example.vn"]]


def test_nothing_is_sent_when_the_change_rolls_back(
    django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    from django.db import transaction

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    person = make_user("a", email="a@example.vn")
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.notify([person], "Tiêu đề", "Nội dung")
        raise RuntimeError
    assert mail.outbox == [] and not Notification.objects.exists()


@pytest.mark.parametrize("backend", [RefusingBackend, UnreachableBackend])
def test_a_failing_mail_server_is_logged_and_the_inbox_row_stays(
    backend: type, django_capture_on_commit_callbacks: Any, settings: Any, caplog: Any
) -> None:
    settings.EMAIL_BACKEND = f"{__name__}.{backend.__name__}"
    person = make_user("a", email="a@example.vn")
    with django_capture_on_commit_callbacks(execute=True):
        services.notify([person], "Tiêu đề", "Nội dung")
    assert Notification.objects.filter(user=person, subject="Tiêu đề").exists()
    assert any("notification e-mail" in r.getMessage() for r in caplog.records)


def test_the_lead_finishes_round_1_although_the_mail_server_is_down(
    criteria_sets: Any,
    units: Any,
    open_round: Any,
    leader: Any,
    focal: Any,
    appraiser: Any,
    secretariat_lead: Any,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    """The user's action goes through the view and commits; only the e-mail is lost."""
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    for user in (leader, focal):
        user.email = f"{user.username}@stp.example.vn"
        user.save()
    assessment = services.get_or_create_assessment(open_round, units["STP"])
    fill(assessment, leader)
    services.submit_assessment(assessment, by=leader)
    for field in assessment.criteria_set.criteria.filter(parent__isnull=True):
        council_services.assign_appraisers(
            assessment.criteria_set, field, appraiser, by=secretariat_lead
        )
    for item in assessment.items.select_related("criterion").exclude(criterion__method="survey"):
        item.assessment = assessment
        council_services.accept_self_score(item, by=appraiser)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(secretariat_lead).post(
            reverse("appraisal_finish", args=[2016, "STP"]),
            {"round": "1", confirm.CONFIRM_FIELD: "1"},
        )
    assert response.status_code == 302
    assert UnitAssessment.objects.get(pk=assessment.pk).state == AssessmentState.APPRAISED
    assert Notification.objects.filter(user=leader).exists()


def test_finishing_round_1_mails_the_leader_and_the_focal_officer_one_message_each(
    criteria_sets: Any,
    units: Any,
    open_round: Any,
    leader: Any,
    focal: Any,
    appraiser: Any,
    secretariat_lead: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    for user in (leader, focal):
        user.email = f"{user.username}@stp.example.vn"
        user.save()
    assessment = submitted(services.get_or_create_assessment(open_round, units["STP"]), leader)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        appraised(assessment, appraiser, secretariat_lead)
    finished = [m for m in mail.outbox if "stp" in m.to[0]]
    assert sorted(m.to for m in finished) == [["stp.daumoi@stp.example.vn"], ["stp@stp.example.vn"]]
