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
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessments import access as unit_access
from assessments import confirm, evidence, states
from assessments.models import (
    AssessmentState,
    Round,
    UnitAssessment,
    UnitRole,
)
from assessments.roles import get_roles
from assessments.services import ServiceError, deadline_text

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
    """The units an appraiser works through in the current appraisal rounds, with their
    progress per unit and per field (the lead: every unit, every item), then the fields
    assigned (each opens the field across all units)."""
    rows = access.visible_assignments(request.user)
    scope = access.appraisal_scope(request.user, rows)
    every_state = request.GET.get("tat-ca") == "1"
    page, units = worklists.units_page(
        scope, every_state=every_state, number=request.GET.get("trang")
    )
    totals = worklists.field_progress(rows)
    return render(
        request,
        "councils/appraisal_home.html",
        {
            "page": page,
            "units": units,
            "every_state": every_state,
            "is_lead": scope.everything,
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
    """One unit: the user's items (the lead's and the council's: every item) field by field,
    self score and evidence beside the appraisal, bulk accept, the previous and next unit,
    and the lead's round actions. In round 2 the flagged items first (``?tat-ca=1``: all)."""
    assessment = unit_access.get_assessment_for_user(request.user, year, unit)
    roles = get_roles(request.user)
    if not unit_access.appraisal_visible_to_staff(request.user, assessment):
        # The unit reads its results on its explanation page; the council once appraised.
        raise PermissionDenied
    scope = access.appraisal_scope(request.user)
    fields = scope.own_fields(assessment.criteria_set_id, assessment.unit_id)
    # Appraisers see their own fields; the lead and the council read every field.
    shown = fields if roles.is_appraiser and not roles.is_secretariat_lead else None
    round_no = worklists.round_of(assessment.state)
    every_item = request.GET.get("tat-ca") == "1"
    lines = worklists.unit_lines(
        assessment, fields, shown, only_flagged=round_no == 2 and not every_item
    )
    previous, following = (
        worklists.neighbours(scope, assessment)
        if roles.is_appraiser or roles.is_secretariat_lead
        else (None, None)
    )
    flagged = sum(1 for line in lines if line.item.explanation_required)
    deadline = {1: assessment.round.appraisal1_deadline, 2: assessment.round.appraisal2_deadline}
    return render(
        request,
        "councils/appraisal_unit.html",
        {
            "assessment": assessment,
            "sections": worklists.sections_of(assessment, lines),
            "lines": lines,
            "appraised": sum(1 for line in lines if line.item.is_appraised),
            "reappraised": flagged - sum(1 for line in lines if line.pending_reappraisal),
            "flagged": flagged,
            "acceptable": sum(1 for line in lines if line.acceptable),
            "is_lead": roles.is_secretariat_lead,
            "fields": sorted(fields),
            "own_only": shown is not None,
            "round_no": round_no,
            "deadline": deadline.get(round_no or 0),
            "every_item": every_item,
            "previous": previous,
            "next": following,
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
        "saved": error is None,
        "show_unit": request.POST.get("show_unit") == "1",
    }
    return render(request, "councils/includes/appraisal_line.html", context, status=status)


@login_required
@require_POST
def bulk_accept(request: HttpRequest, year: int, unit: str) -> HttpResponse:
    """Accept the self scores of the appraiser's own items that have evidence, or need none
    (0 points, N/A, a criterion that requires no evidence): see ``services.acceptable``.
    The rest is left for a closer look."""
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
    return ngettext(
        "%(count)s item accepted with its self score.",
        "%(count)s items accepted with their self scores.",
        count,
    ) % {"count": count}


@login_required
@require_POST
def finish_round(request: HttpRequest, year: int, unit: str) -> HttpResponse:
    """The secretariat lead finishes round 1 or round 2 of a unit, after a confirmation that
    states the numbers (DESIGN §11)."""
    assessment = unit_access.get_assessment_for_user(request.user, year, unit)
    if not get_roles(request.user).is_secretariat_lead:
        raise PermissionDenied
    round_two = request.POST.get("round") == "2"
    expected = AssessmentState.EXPLAINED if round_two else AssessmentState.APPRAISING
    # A unit in another state is refused by the service below, with its message.
    if assessment.state == expected and not confirm.confirmed(request):
        summary = worklists.round_summary(assessment)
        back = reverse("appraisal_unit", args=[year, assessment.unit.code])
        return confirm.ask(
            request,
            _round2_confirmation(assessment, summary, back)
            if round_two
            else _round1_confirmation(assessment, summary, back),
        )
    try:
        if round_two:
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


def _round1_confirmation(
    assessment: UnitAssessment, summary: worklists.RoundSummary, back: str
) -> confirm.Confirmation:
    name = assessment.unit.name
    title = _("Finish appraisal round 1 of %(unit)s?") % {"unit": name}
    appraised = _("%(done)s of %(total)s items appraised in round 1.") % {
        "done": summary.appraised,
        "total": summary.items,
    }
    if summary.unappraised:
        return confirm.Confirmation(
            title=title,
            consequences=[
                appraised,
                ngettext(
                    "Round 1 cannot be finished: %(count)s item is not appraised yet.",
                    "Round 1 cannot be finished: %(count)s items are not appraised yet.",
                    len(summary.unappraised),
                )
                % {"count": len(summary.unappraised)},
            ],
            button=_("Finish round 1"),
            cancel_url=back,
            items=_by_field(summary.unappraised, back),
            items_heading=_("Items not appraised yet"),
            blocked=True,
        )
    deadline = assessment.round.explanation_deadline
    if summary.to_explain and deadline is not None:
        sent = ngettext(
            "%(count)s explanation request will be sent to the unit, to answer before %(deadline)s.",
            "%(count)s explanation requests will be sent to the unit, to answer before %(deadline)s.",
            summary.to_explain,
        ) % {"count": summary.to_explain, "deadline": deadline_text(deadline)}
    elif summary.to_explain:
        sent = ngettext(
            "%(count)s explanation request will be sent to the unit.",
            "%(count)s explanation requests will be sent to the unit.",
            summary.to_explain,
        ) % {"count": summary.to_explain}
    else:
        sent = _("No item is flagged for explanation: %(unit)s will be appraised and notified.") % {
            "unit": name
        }
    return confirm.Confirmation(
        title=title,
        consequences=[
            appraised,
            sent,
            _("After finishing, the appraisers cannot change the round-1 scores."),
        ],
        button=_("Finish round 1"),
        cancel_url=back,
    )


def _by_field(codes: list[str], back: str) -> list[tuple[str, str]]:
    """The blocking items, one line per field linking to it on the unit page."""
    fields: dict[str, list[str]] = {}
    for code in codes:
        fields.setdefault(access.field_code(code), []).append(code)
    return [
        (
            _("Field %(code)s: %(items)s") % {"code": field, "items": ", ".join(items)},
            f"{back}#field-{field}",
        )
        for field, items in fields.items()
    ]


def _round2_confirmation(
    assessment: UnitAssessment, summary: worklists.RoundSummary, back: str
) -> confirm.Confirmation:
    title = _("Finish appraisal round 2 of %(unit)s?") % {"unit": assessment.unit.name}
    reappraised = _("%(done)s of %(total)s flagged items re-appraised in round 2.") % {
        "done": summary.reappraised,
        "total": summary.flagged,
    }
    if summary.not_reappraised:
        return confirm.Confirmation(
            title=title,
            consequences=[
                reappraised,
                ngettext(
                    "Round 2 cannot be finished: %(count)s flagged item is not re-appraised yet.",
                    "Round 2 cannot be finished: %(count)s flagged items are not re-appraised yet.",
                    len(summary.not_reappraised),
                )
                % {"count": len(summary.not_reappraised)},
            ],
            button=_("Finish round 2"),
            cancel_url=back,
            items=_by_field(summary.not_reappraised, back),
            items_heading=_("Flagged items not re-appraised yet"),
            blocked=True,
        )
    return confirm.Confirmation(
        title=title,
        consequences=[
            reappraised,
            _("%(unit)s will be appraised and notified; its results go to the council.")
            % {"unit": assessment.unit.name},
            _("After finishing, the appraisers cannot change the round-2 scores."),
        ],
        button=_("Finish round 2"),
        cancel_url=back,
    )


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
                if assessment.state in states.EXPLAINING and not confirm.confirmed(request):
                    return confirm.ask(request, _submit_confirmation(assessment))
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


def _submit_confirmation(assessment: UnitAssessment) -> confirm.Confirmation:
    """What submitting the explanations does: the requests answered and unanswered."""
    answered, unanswered = worklists.open_requests(assessment)
    back = reverse("unit_explanations", args=[assessment.round.year, assessment.unit.code])
    counts = _("%(answered)s of %(total)s explanation requests answered, %(open)s unanswered.") % {
        "answered": answered,
        "total": answered + len(unanswered),
        "open": len(unanswered),
    }
    title = _("Submit the explanations of %(unit)s?") % {"unit": assessment.unit.name}
    if unanswered:
        return confirm.Confirmation(
            title=title,
            consequences=[counts, _("Answer every question before submitting.")],
            button=_("Submit the explanations"),
            cancel_url=back,
            items=[
                (f"{r.item.criterion.code} {r.item.criterion.title}", f"{back}#q-{r.pk}")
                for r in unanswered
            ],
            items_heading=_("Questions not answered yet"),
            blocked=True,
        )
    return confirm.Confirmation(
        title=title,
        consequences=[
            counts,
            _("The answers go to the secretariat for appraisal round 2."),
            _("After submitting you cannot change the answers."),
        ],
        button=_("Submit the explanations"),
        cancel_url=back,
    )
