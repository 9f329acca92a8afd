"""The secretariat lead's pages: the round dashboard and the appraiser assignments."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessments.services import ServiceError

from . import assignment_services, dashboard, services
from .forms import AppraiserAssignmentForm


@login_required
@require_GET
def secretariat_dashboard(request: HttpRequest, year: int) -> HttpResponse:
    """Every unit of the round at a glance: progress, timeliness, appraisal, explanations."""
    round_ = dashboard.get_round_for_lead(request.user, year)
    return render(
        request,
        "councils/dashboard.html",
        {"board": dashboard.load_dashboard(round_), "tab": "dashboard"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def appraiser_assignments(request: HttpRequest, year: int) -> HttpResponse:
    """Assign an appraiser to a field of a criteria set, for every unit or only some."""
    round_ = dashboard.get_round_for_lead(request.user, year)
    page = dashboard.load_assignment_page(round_)
    posted = request.POST.get("criteria_set") if request.method == "POST" else None
    forms = []
    status = 200
    matched = False
    for choices in page.sets:
        prefix = f"set-{choices.criteria_set.pk}"
        bound = posted == str(choices.criteria_set.pk)
        form = AppraiserAssignmentForm(
            request.POST if bound else None,
            prefix=prefix,
            fields=choices.fields,
            appraisers=page.appraisers,
            units=choices.units,
        )
        if bound:
            matched = True
            if form.is_valid():
                try:
                    assignment = services.assign_appraisers(
                        choices.criteria_set,
                        form.cleaned_data["field"],
                        form.cleaned_data["appraiser"],
                        by=cast(User, request.user),
                        units=form.cleaned_data["units"],
                    )
                except ServiceError as refused:
                    form.add_error(None, refused.message)
                else:
                    messages.success(
                        request,
                        _("%(person)s now appraises field %(code)s; they have been notified.")
                        % {
                            "person": assignment.appraiser.get_full_name()
                            or assignment.appraiser.username,
                            "code": assignment.field.code,
                        },
                    )
                    return redirect("appraiser_assignments", year=year)
            status = 422
        forms.append((choices, form))
    if request.method == "POST" and not matched:
        # A POST that names no criteria set of this round: nothing was changed.
        messages.error(request, _("Choose the criteria set to assign in, then try again."))
        status = 422
    return render(
        request,
        "councils/appraisers.html",
        {"page": page, "forms": forms, "tab": "appraisers"},
        status=status,
    )


@login_required
@require_POST
def appraiser_unassign(request: HttpRequest, year: int, pk: int) -> HttpResponse:
    """Take a field away from an appraiser."""
    assignment = dashboard.get_assignment_for_lead(request.user, year, pk)
    try:
        assignment_services.unassign_appraiser(assignment, by=cast(User, request.user))
    except ServiceError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            _("%(person)s no longer appraises field %(code)s; they have been notified.")
            % {
                "person": assignment.appraiser.get_full_name() or assignment.appraiser.username,
                "code": assignment.field.code,
            },
        )
    return redirect("appraiser_assignments", year=year)
