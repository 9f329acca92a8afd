"""The secretariat lead assigns appraisers to fields, optionally for some units (DESIGN §3, §6)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import CriteriaSet, Event, EventAction, Notification, Round, Unit
from councils import assignment_services
from councils import services as council_services
from councils.models import AppraiserAssignment
from tests.conftest import client_for, staff_user

pytestmark = pytest.mark.django_db

URL = reverse("appraiser_assignments", args=[2016])


def form_data(criteria_set: CriteriaSet, **values: Any) -> dict[str, Any]:
    prefix = f"set-{criteria_set.pk}"
    data: dict[str, Any] = {"criteria_set": criteria_set.pk}
    data.update({f"{prefix}-{name}": value for name, value in values.items()})
    return data


@pytest.fixture
def so(criteria_sets: dict[str, CriteriaSet]) -> CriteriaSet:
    return criteria_sets["SO"]


# --- who may ---------------------------------------------------------------------------------


def test_it_sends_an_anonymous_visitor_to_the_login_page(open_round: Round) -> None:
    response = client_for(None).get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "persona",
    ["appraiser", "council_member", "chair", "leader", "other_unit_focal", "no_role_user"],
)
def test_it_refuses_everyone_but_the_secretariat_lead(
    request: pytest.FixtureRequest, so: CriteriaSet, appraiser: Any, persona: str
) -> None:
    user = request.getfixturevalue(persona)
    field = so.criteria.get(code="1")
    client = client_for(user)
    assert client.get(URL).status_code == 403
    response = client.post(URL, form_data(so, field=field.pk, appraiser=appraiser.pk))
    assert response.status_code == 403
    assert not AppraiserAssignment.objects.exists()


def test_it_refuses_an_unassignment_by_anyone_but_the_lead(
    so: CriteriaSet, appraiser: Any, secretariat_lead: Any, council_member: Any
) -> None:
    assignment = council_services.assign_appraisers(
        so, so.criteria.get(code="1"), appraiser, by=secretariat_lead
    )
    url = reverse("appraiser_unassign", args=[2016, assignment.pk])
    assert client_for(council_member).post(url).status_code == 403
    assert AppraiserAssignment.objects.filter(pk=assignment.pk).exists()


def test_it_answers_404_for_a_round_that_does_not_exist(secretariat_lead: Any) -> None:
    response = client_for(secretariat_lead).get(reverse("appraiser_assignments", args=[2031]))
    assert response.status_code == 404


def test_it_answers_404_for_an_assignment_of_another_round(
    so: CriteriaSet, appraiser: Any, secretariat_lead: Any
) -> None:
    assignment = council_services.assign_appraisers(
        so, so.criteria.get(code="1"), appraiser, by=secretariat_lead
    )
    Round.objects.create(year=2017)
    url = reverse("appraiser_unassign", args=[2017, assignment.pk])
    assert client_for(secretariat_lead).post(url).status_code == 404


def test_unassigning_needs_a_post(so: CriteriaSet, appraiser: Any, secretariat_lead: Any) -> None:
    assignment = council_services.assign_appraisers(
        so, so.criteria.get(code="1"), appraiser, by=secretariat_lead
    )
    url = reverse("appraiser_unassign", args=[2016, assignment.pk])
    assert client_for(secretariat_lead).get(url).status_code == 405


# --- the page --------------------------------------------------------------------------------


def test_it_offers_every_field_appraiser_and_unit_of_each_group(
    so: CriteriaSet, appraiser: Any, secretariat_lead: Any, units: dict[str, Unit]
) -> None:
    response = client_for(secretariat_lead).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    field = so.criteria.get(code="1")
    assert f'value="{field.pk}"' in html
    assert f'value="{appraiser.pk}"' in html
    assert f'name="set-{so.pk}-units"' in html
    assert "STP – Sở Tư pháp" in html
    # The header links both secretariat pages.
    assert reverse("secretariat_dashboard", args=[2016]) in html


def test_the_page_runs_a_fixed_number_of_queries(
    so: CriteriaSet, appraiser: Any, secretariat_lead: Any, units: dict[str, Unit]
) -> None:
    client = client_for(secretariat_lead)
    council_services.assign_appraisers(
        so, so.criteria.get(code="1"), appraiser, by=secretariat_lead
    )
    with CaptureQueriesContext(connection) as one:
        client.get(URL)
    second = staff_user("thamdinh2", "appraiser")
    for code in ("2", "3"):
        council_services.assign_appraisers(
            so, so.criteria.get(code=code), second, by=secretariat_lead, units=[units["STP"]]
        )
    with CaptureQueriesContext(connection) as three:
        client.get(URL)
    assert len(one) == len(three), "\n".join(q["sql"] for q in three.captured_queries)


def test_the_lead_assigns_an_appraiser_to_a_field_for_some_units(
    so: CriteriaSet, appraiser: Any, secretariat_lead: Any, units: dict[str, Unit]
) -> None:
    field = so.criteria.get(code="3")
    response = client_for(secretariat_lead).post(
        URL, form_data(so, field=field.pk, appraiser=appraiser.pk, units=[units["SYT"].pk])
    )
    assert response.status_code == 302
    assert response["Location"] == URL
    assignment = AppraiserAssignment.objects.get()
    assert (assignment.criteria_set, assignment.field, assignment.appraiser) == (
        so,
        field,
        appraiser,
    )
    assert assignment.assigned_by == secretariat_lead
    assert [u.code for u in assignment.units.all()] == ["SYT"]
    event = Event.objects.get(action=EventAction.APPRAISERS_ASSIGNED)
    assert event.actor == secretariat_lead
    assert event.criterion == field
    assert event.detail == {"appraiser": appraiser.username, "units": ["SYT"]}
    note = Notification.objects.get(user=appraiser)
    assert "3" in note.subject
    assert note.url == reverse("appraisal_field", args=[2016, "SO", "3"])
    page = client_for(secretariat_lead).get(URL).content.decode()
    assert reverse("appraiser_unassign", args=[2016, assignment.pk]) in page


def test_an_assignment_without_units_covers_the_whole_group(
    so: CriteriaSet, appraiser: Any, secretariat_lead: Any, units: dict[str, Unit]
) -> None:
    field = so.criteria.get(code="1")
    client_for(secretariat_lead).post(URL, form_data(so, field=field.pk, appraiser=appraiser.pk))
    assert AppraiserAssignment.objects.get().units.count() == 0


def test_it_refuses_someone_outside_the_appraisal_team_and_keeps_what_was_typed(
    so: CriteriaSet, appraiser: Any, secretariat_lead: Any, leader: Any, units: dict[str, Unit]
) -> None:
    field = so.criteria.get(code="2")
    response = client_for(secretariat_lead).post(
        URL, form_data(so, field=field.pk, appraiser=leader.pk, units=[units["STP"].pk])
    )
    assert response.status_code == 422
    assert not AppraiserAssignment.objects.exists()
    form = dict((c.criteria_set.pk, f) for c, f in response.context["forms"])[so.pk]
    assert "appraiser" in form.errors
    html = response.content.decode()
    assert f'<option value="{field.pk}" selected>' in html
    assert f'<option value="{units["STP"].pk}" selected>' in html


def test_it_refuses_a_unit_of_another_group(
    so: CriteriaSet, appraiser: Any, secretariat_lead: Any, units: dict[str, Unit]
) -> None:
    field = so.criteria.get(code="2")
    response = client_for(secretariat_lead).post(
        URL, form_data(so, field=field.pk, appraiser=appraiser.pk, units=[units["HBS"].pk])
    )
    assert response.status_code == 422
    assert not AppraiserAssignment.objects.exists()


def test_it_refuses_a_criterion_that_is_not_a_field(
    so: CriteriaSet, appraiser: Any, secretariat_lead: Any
) -> None:
    sub = so.criteria.get(code="1.1")
    response = client_for(secretariat_lead).post(
        URL, form_data(so, field=sub.pk, appraiser=appraiser.pk)
    )
    assert response.status_code == 422
    assert not AppraiserAssignment.objects.exists()


def test_a_post_that_names_no_criteria_set_changes_nothing(
    so: CriteriaSet, appraiser: Any, secretariat_lead: Any
) -> None:
    response = client_for(secretariat_lead).post(URL, {"criteria_set": "999999"})
    assert response.status_code == 422
    assert not AppraiserAssignment.objects.exists()


def test_the_lead_removes_an_assignment_and_the_appraiser_is_told(
    so: CriteriaSet, appraiser: Any, secretariat_lead: Any, units: dict[str, Unit]
) -> None:
    field = so.criteria.get(code="3")
    assignment = council_services.assign_appraisers(
        so, field, appraiser, by=secretariat_lead, units=[units["STP"]]
    )
    Notification.objects.all().delete()
    response = client_for(secretariat_lead).post(
        reverse("appraiser_unassign", args=[2016, assignment.pk])
    )
    assert response.status_code == 302
    assert response["Location"] == URL
    assert not AppraiserAssignment.objects.exists()
    event = Event.objects.filter(action=EventAction.APPRAISERS_ASSIGNED).first()
    assert event is not None
    assert event.actor == secretariat_lead
    assert event.criterion == field
    assert event.detail == {"removed": appraiser.username, "group": "SO", "units": ["STP"]}
    assert Notification.objects.get(user=appraiser).subject.endswith("3")


def test_removing_an_assignment_twice_is_refused(
    so: CriteriaSet, appraiser: Any, secretariat_lead: Any
) -> None:
    assignment = council_services.assign_appraisers(
        so, so.criteria.get(code="1"), appraiser, by=secretariat_lead
    )
    stale = AppraiserAssignment.objects.get(pk=assignment.pk)
    assignment_services.unassign_appraiser(assignment, by=secretariat_lead)
    with pytest.raises(assignment_services.ServiceError):
        assignment_services.unassign_appraiser(stale, by=secretariat_lead)
    assert Event.objects.filter(detail__has_key="removed").count() == 1
