"""Appraisal workspaces (one field across all units; one unit item by item), the lead's
round transitions, and the unit's explanation page (DESIGN §5.2)."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessments import access as unit_access
from assessments import evidence
from assessments.models import (
    AssessmentState,
    Round,
    UnitRole,
)
from assessments.roles import get_roles
from assessments.services import ServiceError

from . import access, services, worklists


@login_required
@require_GET
def secretariat_home(request: HttpRequest) -> HttpResponse:
    """The lead's dashboard of the latest round that has units in it."""
    if not get_roles(request.user).is_secretariat_lead:
        raise PermissionDenied
    latest = (
        Round.objects.filter(assessments__isnull=False).order_by("-year").first()
        or Round.objects.first()
    )
    if latest is None:
        messages.info(request, _("Create a round and import its criteria first."))
        return redirect("home")
    return redirect("secretariat_dashboard", year=latest.year)


@login_required
@require_GET
def appraisal_home(request: HttpRequest) -> HttpResponse:
    """An appraiser's assignments with progress; the lead sees every field of every set."""
    rows = access.visible_assignments(request.user)
    totals = worklists.field_progress(rows)
    return render(
        request,
        "councils/appraisal_home.html",
        {
            "rows": [(a, *totals.get((a.criteria_set_id, a.field.code), [0, 0])) for a in rows],
        },
    )


@login_required
@require_GET
def appraisal_field(request: HttpRequest, year: int, group: str, field: str) -> HttpResponse:
    """One field across all units: for each item, every unit's self score, evidence and the
    appraisal input, so an appraiser applies the rule the same way everywhere."""
    criteria_set, field_node = access.get_field_for_staff(request.user, year, group, field)
    can, unit_ids = access.field_scope(request.user, criteria_set, field_node)
    items = worklists.field_items(criteria_set, field_node, unit_ids)
    groups = worklists.lines_by_criterion(items, can)
    return render(
        request,
        "councils/appraisal_field.html",
        {"criteria_set": criteria_set, "field": field_node, "groups": groups},
    )


@login_required
@require_GET
def appraisal_unit(request: HttpRequest, year: int, unit: str) -> HttpResponse:
    """One unit, item by item: self score beside appraisal, with the lead's round actions."""
    assessment = unit_access.get_assessment_for_user(request.user, year, unit)
    roles = get_roles(request.user)
    if not unit_access.appraisal_visible_to_staff(request.user, assessment):
        # The unit reads its results on its explanation page; the council once appraised.
        raise PermissionDenied
    fields = access.assigned_fields(request.user, assessment) if roles.is_appraiser else set()
    lines = worklists.unit_lines(assessment, fields)
    for line in lines:
        line.item.assessment = assessment
    appraised = sum(1 for line in lines if line.item.is_appraised)
    return render(
        request,
        "councils/appraisal_unit.html",
        {
            "assessment": assessment,
            "lines": lines,
            "appraised": appraised,
            "flagged": sum(1 for line in lines if line.item.explanation_required),
            "is_lead": roles.is_secretariat_lead,
            "fields": sorted(fields),
        },
    )


@login_required
@require_POST
def appraise_item(request: HttpRequest, pk: int) -> HttpResponse:
    """Save, accept or flag one item; htmx re-renders the line in place."""
    item = access.get_item_for_appraisal(request.user, pk)
    by = cast(User, request.user)
    action = request.POST.get("action", "save")
    error = None
    status = 200
    try:
        if action == "accept":
            services.accept_self_score(item, by=by, comment=request.POST.get("comment", "")[:2000])
        elif action == "flag":
            services.flag_explanation(item, request.POST.get("question", "")[:2000], by=by)
        else:
            services.save_appraisal(
                item,
                by=by,
                value=request.POST.get("value", "")[:200],
                not_applicable=request.POST.get("not_applicable") == "on",
                comment=request.POST.get("comment", "")[:2000],
            )
    except ServiceError as refused:
        error, status = refused.message, 422
    fresh = worklists.items_with_context().get(pk=item.pk)
    line = worklists.line_for(fresh, True)
    if not getattr(request, "htmx", False):
        if error:
            messages.error(request, error)
        return redirect(
            "appraisal_unit", year=fresh.assessment.round.year, unit=fresh.assessment.unit.code
        )
    context = {
        "line": line,
        "error": error,
        "typed": request.POST if error else None,
        "show_unit": request.POST.get("show_unit") == "1",
    }
    return render(request, "councils/includes/appraisal_line.html", context, status=status)


@login_required
@require_POST
def bulk_accept(request: HttpRequest, year: int, unit: str) -> HttpResponse:
    """Accept every item of the appraiser's fields that has a self score and evidence."""
    assessment = unit_access.get_assessment_for_user(request.user, year, unit)
    fields = access.assigned_fields(request.user, assessment)
    if not get_roles(request.user).is_appraiser or not fields:
        raise PermissionDenied
    items, counts = worklists.items_to_accept(assessment, fields)
    try:
        accepted = services.bulk_accept(assessment, items, counts, by=cast(User, request.user))
        messages.success(request, _n_accepted(accepted))
    except ServiceError as refused:
        messages.error(request, refused.message)
    return redirect("appraisal_unit", year=year, unit=unit)


def _n_accepted(count: int) -> str:
    from django.utils.translation import ngettext

    return ngettext(
        "%(count)s item accepted with its self score.",
        "%(count)s items accepted with their self scores.",
        count,
    ) % {"count": count}


@login_required
@require_POST
def finish_round(request: HttpRequest, year: int, unit: str) -> HttpResponse:
    """The secretariat lead finishes round 1 or round 2 of a unit."""
    assessment = unit_access.get_assessment_for_user(request.user, year, unit)
    if not get_roles(request.user).is_secretariat_lead:
        raise PermissionDenied
    try:
        if request.POST.get("round") == "2":
            services.finish_round2(assessment, by=cast(User, request.user))
            messages.success(
                request, _("Round 2 finished; the unit is appraised and has been notified.")
            )
        else:
            done = services.finish_round1(assessment, by=cast(User, request.user))
            messages.success(
                request,
                _("Round 1 finished; the unit has been asked to explain the flagged items.")
                if done.state == AssessmentState.EXPLANATION_REQUESTED
                else _("Round 1 finished; the unit is appraised and has been notified."),
            )
    except ServiceError as refused:
        messages.error(request, refused.message)
    return redirect("appraisal_unit", year=year, unit=unit)


@login_required
@require_http_methods(["GET", "POST"])
def unit_explanations(request: HttpRequest, year: int, unit: str) -> HttpResponse:
    """The unit sees its appraised scores and comments, answers each flagged question with
    text and supplementary evidence, and its leader submits the answers."""
    assessment = unit_access.get_assessment_for_user(request.user, year, unit)
    role = unit_access.unit_role(request.user, assessment)
    if not unit_access.results_visible_to(request.user, assessment):
        raise PermissionDenied
    status = 200
    if request.method == "POST":
        if role not in (UnitRole.LEADER, UnitRole.FOCAL):
            raise PermissionDenied
        by = cast(User, request.user)
        try:
            if request.POST.get("action") == "submit":
                if role != UnitRole.LEADER:
                    raise PermissionDenied
                services.submit_explanations(assessment, by=by)
                messages.success(
                    request, _("The explanations have been submitted to the secretariat.")
                )
                return redirect("unit_workspace", year=year, unit=unit)
            item = unit_access.get_item_for_user(
                request.user, assessment, request.POST.get("code", "")
            )
            documents = evidence.documents_of(
                assessment,
                [int(pk) for pk in request.POST.getlist("evidence") if pk.isdigit()],
            )
            services.answer_explanation(
                item, request.POST.get("answer", "")[:5000], by=by, evidence=documents
            )
            messages.success(
                request, _("Answer saved for item %(code)s.") % {"code": item.criterion.code}
            )
            return redirect("unit_explanations", year=year, unit=unit)
        except ServiceError as refused:
            messages.error(request, refused.message)
            status = 422
    requests = worklists.explanations_of(assessment)
    appraised = worklists.appraised_items(assessment)
    library = evidence.library_of(assessment)
    return render(
        request,
        "councils/unit_explanations.html",
        {
            "assessment": assessment,
            "requests": requests,
            "appraised": appraised,
            "library": library,
            "role": role,
            "is_open": assessment.state == AssessmentState.EXPLANATION_REQUESTED,
            "show_round2": unit_access.round2_visible_to(request.user, assessment),
        },
        status=status,
    )
