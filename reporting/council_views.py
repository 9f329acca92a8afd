"""The council's pages (DESIGN §5.3, §6): the round's ranking with the chair's approval,
publication and correction; one unit's result with the members' opinions and the chair's
"send back for re-appraisal"."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from assessments import access as unit_access
from assessments import confirm, results
from assessments.models import (
    Round,
)
from assessments.roles import get_roles
from assessments.services import ServiceError
from assessments.states import AWAITING_COUNCIL
from councils import services as council_services
from councils.worklists import explanations_of

from . import council, services
from .access import (
    chosen_snapshot,
    get_assessment_for_council,
    get_round_for_council,
    require_council_reader,
)
from .forms import ApprovalForm, OpinionForm, ReasonForm
from .models import ResultSnapshot

ZERO = Decimal("0.00")
TOP_DIFFERENCES = 10


# --- the round page ----------------------------------------------------------------------------


@login_required
@require_GET
def council_home(request: HttpRequest) -> HttpResponse:
    """The council's rounds, newest first, with what waits for the council in each."""
    require_council_reader(request.user)
    return render(
        request,
        "reporting/council/home.html",
        {"entries": council.council_rounds(), "is_chair": get_roles(request.user).is_council_chair},
    )


@login_required
@require_http_methods(["GET", "POST"])
def council_round(request: HttpRequest, year: int) -> HttpResponse:
    """The round's ranking per group; the chair publishes and corrects here (each after a
    confirmation step) and opens the approval page."""
    round_ = get_round_for_council(request.user, year)
    roles = get_roles(request.user)
    correction_form = ReasonForm(prefix="correction")
    status = 200
    if request.method == "POST":
        if not roles.is_council_chair:
            raise PermissionDenied
        by = cast(User, request.user)
        action = request.POST.get("action")
        here = reverse("council_round", args=[year])
        try:
            if action == "publish":
                latest = ResultSnapshot.objects.filter(round=round_).order_by("-version").first()
                if latest is not None and not confirm.confirmed(request):
                    return confirm.ask(request, council.publication_confirmation(round_, latest))
                services.publish_round(round_, by=by)
                messages.success(request, _("The results are published."))
                return redirect("council_round", year=year)
            elif action == "correct":
                correction_form = ReasonForm(request.POST, prefix="correction")
                if correction_form.is_valid():
                    latest = (
                        ResultSnapshot.objects.filter(round=round_).order_by("-version").first()
                    )
                    if latest is not None and not confirm.confirmed(request):
                        return confirm.ask(
                            request,
                            council.correction_confirmation(
                                round_, latest, correction_form.cleaned_data["reason"], here
                            ),
                        )
                    snapshot = services.correct_results(
                        round_, by=by, reason=correction_form.cleaned_data["reason"]
                    )
                    messages.success(
                        request,
                        _("Correction saved as version %(version)s.")
                        % {"version": snapshot.version},
                    )
                    return redirect("council_round", year=year)
                status = 422
            else:
                return HttpResponse(status=400)
        except ServiceError as refused:
            messages.error(request, refused.message)
            status = 422
        round_ = Round.objects.select_related("decision").get(pk=round_.pk)
    snapshots = list(ResultSnapshot.objects.filter(round=round_).order_by("-version"))
    shown = chosen_snapshot(snapshots, request.GET.get("phien-ban"))
    provisional, groups = council.ranking(round_, shown, roles)
    return render(
        request,
        "reporting/council/round.html",
        {
            "round": round_,
            "years": council.council_years(),
            "decision": getattr(round_, "decision", None),
            "provisional": provisional,
            "groups": groups,
            "snapshots": snapshots,
            "shown": shown,
            "latest": snapshots[0] if snapshots else None,
            "missing": services.not_appraised(round_) if not snapshots else [],
            "is_chair": roles.is_council_chair,
            "correction_form": correction_form,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def council_approve(request: HttpRequest, year: int) -> HttpResponse:
    """The chair's approval, on its own page: what approval freezes, in numbers, and the
    decision's number, date, signer and signed PDF. This page is the confirmation step: the
    round is approved only by its button (which carries the confirmation), never by a bare
    POST."""
    round_ = get_round_for_council(request.user, year)
    roles = get_roles(request.user)
    if not roles.is_council_chair:
        raise PermissionDenied
    form = ApprovalForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 422
        if not confirm.confirmed(request):
            messages.error(request, _("Read what approval does, then press the approval button."))
        elif form.is_valid():
            data = form.cleaned_data
            try:
                services.approve_round(
                    round_,
                    by=cast(User, request.user),
                    number=data["number"],
                    date=data["date"],
                    signer=data["signer"],
                    signed_pdf=data["signed_pdf"],
                )
            except ServiceError as refused:
                messages.error(request, refused.message)
            else:
                messages.success(request, _("The results are approved and frozen (version 1)."))
                return redirect("council_round", year=year)
    return render(
        request,
        "reporting/council/approve.html",
        {
            "round": round_,
            "preview": council.approval_preview(round_, roles),
            "form": form,
            "confirm_field": confirm.CONFIRM_FIELD,
        },
        status=status,
    )


@login_required
@require_GET
def council_decision_pdf(request: HttpRequest, year: int) -> FileResponse:
    """The signed approval decision, for the council and the secretariat lead."""
    round_ = get_round_for_council(request.user, year)
    decision = getattr(round_, "decision", None)
    if decision is None or not decision.signed_pdf:
        raise Http404
    try:
        handle = decision.signed_pdf.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"quyet-dinh-{round_.year}.pdf",
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- the unit page -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def council_unit(request: HttpRequest, year: int, unit: str) -> HttpResponse:
    """One unit's result for the council: fields, largest differences, explanations,
    opinions; members record theirs, the chair may send the unit back."""
    assessment = get_assessment_for_council(request.user, year, unit)
    roles = get_roles(request.user)
    can_opine = roles.is_council_member or roles.is_council_chair
    opinion_form: OpinionForm | None = None
    send_back_form = ReasonForm(prefix="back")
    status = 200
    if request.method == "POST":
        by = cast(User, request.user)
        action = request.POST.get("action")
        if action == "opinion":
            if not can_opine:
                raise PermissionDenied
            opinion_form = OpinionForm(request.POST)
            if opinion_form.is_valid():
                try:
                    council_services.record_opinion(
                        assessment,
                        by=by,
                        agrees=opinion_form.cleaned_data["agrees"],
                        note=opinion_form.cleaned_data["note"],
                    )
                    messages.success(request, _("Your opinion has been recorded."))
                    return redirect("council_unit", year=year, unit=assessment.unit.code)
                except ServiceError as refused:
                    messages.error(request, refused.message)
            status = 422
        elif action == "send_back":
            if not roles.is_council_chair:
                raise PermissionDenied
            send_back_form = ReasonForm(request.POST, prefix="back")
            if send_back_form.is_valid():
                try:
                    council_services.send_back(
                        assessment, by=by, reason=send_back_form.cleaned_data["reason"]
                    )
                    messages.success(
                        request,
                        _("%(unit)s has been sent back for re-appraisal.")
                        % {"unit": assessment.unit.name},
                    )
                    return redirect("council_round", year=year)
                except ServiceError as refused:
                    messages.error(request, refused.message)
            status = 422
        else:
            return HttpResponse(status=400)
        assessment.refresh_from_db(fields=["state"])

    items = council.items_of(assessment)
    result = results.unit_result(assessment, items=items)
    differences = council.largest_differences(items)
    explanations = explanations_of(assessment)
    opinions = council.opinions_of(assessment)
    mine = next((o for o in opinions if o.member_id == request.user.pk), None)
    if opinion_form is None:
        opinion_form = OpinionForm(
            initial={"agrees": "1" if mine.agrees else "0", "note": mine.note} if mine else None
        )
    tally = Counter(o.agrees for o in opinions)
    in_review = assessment.state in AWAITING_COUNCIL
    return render(
        request,
        "reporting/council/unit.html",
        {
            "assessment": assessment,
            "result": result,
            "provisional": result.provisional,
            "fields": result.fields,
            "differences": differences,
            "explanations": explanations,
            "opinions": opinions,
            "agree": tally[True],
            "disagree": tally[False],
            "mine": mine,
            "can_opine": can_opine and in_review,
            "can_send_back": roles.is_council_chair and in_review,
            "appraisal_readable": unit_access.appraisal_visible_to_staff(request.user, assessment),
            "opinion_form": opinion_form,
            "send_back_form": send_back_form,
        },
        status=status,
    )
