"""The council's pages (DESIGN §5.3, §6): the round's ranking with the chair's approval,
publication and correction; one unit's result with the members' opinions and the chair's
"send back for re-appraisal"."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from assessments import access as unit_access
from assessments import scoring
from assessments.models import (
    AssessmentState,
    Criterion,
    EvidenceLink,
    ItemScore,
    Round,
    UnitAssessment,
    build_tree,
)
from assessments.roles import Roles, get_roles
from assessments.services import ServiceError
from councils import services as council_services
from councils.access import COUNCIL_REVIEW, appraisal_visible_to_staff
from councils.models import ExplanationRequest, Opinion

from . import results, services
from .forms import ApprovalForm, OpinionForm, ReasonForm
from .models import ResultSnapshot

ZERO = Decimal("0.00")
FINAL_STATES = (AssessmentState.APPROVED, AssessmentState.PUBLISHED)
TOP_DIFFERENCES = 10


# --- access (§6) -------------------------------------------------------------------------------
# These belong in reporting/access.py ("one place per app"); they live here until that module
# exists.


def require_council_reader(user: User | AnonymousUser) -> Roles:
    """Council members, the chair and the secretariat lead read the council's pages; every
    other signed-in account is an insider without the role (403)."""
    roles = get_roles(user)
    if not (roles.is_council_member or roles.is_council_chair or roles.is_secretariat_lead):
        raise PermissionDenied
    return roles


def may_read_provisional(user: User | AnonymousUser, round_: Round) -> bool:
    """Provisional (unapproved) results of every unit: the secretariat lead and the chair at
    any time; council members once every unit is appraised (council review, §6); nobody
    else (appraisers and units read published results)."""
    from .services import not_appraised

    roles = get_roles(user)
    if roles.is_secretariat_lead or roles.is_council_chair:
        return True
    return roles.is_council_member and not not_appraised(round_)


def get_round_for_council(user: User | AnonymousUser, year: int) -> Round:
    require_council_reader(user)
    try:
        return Round.objects.select_related("decision").get(year=year)
    except Round.DoesNotExist:
        raise Http404 from None


def reads_every_state(roles: Roles) -> bool:
    """The chair and the secretariat lead read a unit in any state; a member only during
    council review (§6)."""
    return roles.is_council_chair or roles.is_secretariat_lead


def get_assessment_for_council(user: User | AnonymousUser, year: int, code: str) -> UnitAssessment:
    """A unit's assessment on the council's unit page.

    No role: 403; another unit's user: 404 (``get_assessment_for_user``); the unit's own users
    too get 404, the council's pages are not theirs; appraisers: 403; a council member reads a
    unit only once it is appraised (403 before).
    """
    assessment = unit_access.get_assessment_for_user(user, year, code)
    roles = get_roles(user)
    if not roles.is_province_staff:
        raise Http404
    require_council_reader(user)
    if not reads_every_state(roles) and assessment.state not in COUNCIL_REVIEW:
        raise PermissionDenied
    return assessment


# --- the round page ----------------------------------------------------------------------------


@dataclass
class Row:
    code: str
    name: str
    state: str
    self_total: Decimal
    self_index: Decimal
    total: Decimal
    index: Decimal
    rank: int
    band: str
    agree: int
    disagree: int
    readable: bool

    @property
    def difference(self) -> Decimal:
        return self.total - self.self_total

    @property
    def state_label(self) -> str:
        return str(AssessmentState(self.state).label)


@dataclass
class GroupRows:
    code: str
    name: str
    rows: list[Row] = field(default_factory=list)


def opinion_counts(round_: Round) -> dict[str, tuple[int, int]]:
    """Agree / disagree counts per unit code, in one query."""
    rows = (
        Opinion.objects.filter(assessment__round=round_)
        .values("assessment__unit__code")
        .annotate(
            agree=Count("pk", filter=Q(agrees=True)), disagree=Count("pk", filter=Q(agrees=False))
        )
    )
    return {r["assessment__unit__code"]: (r["agree"], r["disagree"]) for r in rows}


def ranking(
    round_: Round, snapshot: ResultSnapshot | None, roles: Roles
) -> tuple[bool, list[GroupRows]]:
    """The groups' rankings: provisional before approval (§4.4), else the snapshot's final
    numbers beside the self scores. A fixed number of queries: ``results.compute`` and one
    count of opinions."""
    provisional = snapshot is None
    computed = results.compute(round_, provisional=provisional)
    counts = opinion_counts(round_)
    every_state = reads_every_state(roles)
    by_code = {unit.code: unit for group in computed.groups for unit in group.units}

    def row(unit: results.UnitResult, frozen: dict[str, Any] | None) -> Row:
        agree, disagree = counts.get(unit.code, (0, 0))
        return Row(
            code=unit.code,
            name=unit.name,
            state=unit.state,
            self_total=unit.self_total,
            self_index=unit.self_index,
            total=Decimal(frozen["total"]) if frozen else unit.total,
            index=Decimal(frozen["index"]) if frozen else unit.index,
            rank=frozen["rank"] if frozen else unit.rank,
            band=frozen["band"] if frozen else unit.band,
            agree=agree,
            disagree=disagree,
            readable=every_state or unit.state in COUNCIL_REVIEW,
        )

    if snapshot is None:
        return True, [
            GroupRows(group.code, group.name, [row(unit, None) for unit in group.units])
            for group in computed.groups
        ]
    groups = []
    for group in snapshot.data["groups"]:
        block = GroupRows(group["code"], group["name"])
        for frozen in group["units"]:
            unit = by_code.get(frozen["code"])
            if unit is not None:
                block.rows.append(row(unit, frozen))
        groups.append(block)
    return False, groups


def chosen_snapshot(snapshots: list[ResultSnapshot], wanted: str | None) -> ResultSnapshot | None:
    """The version asked for (``?phien-ban=1``), else the latest."""
    if not snapshots:
        return None
    if wanted and wanted.isdigit():
        for snapshot in snapshots:
            if snapshot.version == int(wanted):
                return snapshot
        raise Http404
    return snapshots[0]


@login_required
@require_GET
def council_home(request: HttpRequest) -> HttpResponse:
    """The council's page of the latest round that has a criteria set."""
    require_council_reader(request.user)
    latest = Round.objects.filter(criteria_sets__isnull=False).order_by("-year").first()
    if latest is None:
        messages.info(request, _("No round has criteria yet."))
        return redirect("home")
    return redirect("council_round", year=latest.year)


@login_required
@require_http_methods(["GET", "POST"])
def council_round(request: HttpRequest, year: int) -> HttpResponse:
    """The round's ranking per group; the chair approves, publishes and corrects here."""
    round_ = get_round_for_council(request.user, year)
    roles = get_roles(request.user)
    approval_form = ApprovalForm()
    correction_form = ReasonForm(prefix="correction")
    status = 200
    if request.method == "POST":
        if not roles.is_council_chair:
            raise PermissionDenied
        by = cast(User, request.user)
        action = request.POST.get("action")
        try:
            if action == "approve":
                approval_form = ApprovalForm(request.POST, request.FILES)
                if approval_form.is_valid():
                    data = approval_form.cleaned_data
                    services.approve_round(
                        round_,
                        by=by,
                        number=data["number"],
                        date=data["date"],
                        signer=data["signer"],
                        signed_pdf=data["signed_pdf"],
                    )
                    messages.success(request, _("The results are approved and frozen (version 1)."))
                    return redirect("council_round", year=year)
                status = 422
            elif action == "publish":
                services.publish_round(round_, by=by)
                messages.success(request, _("The results are published."))
                return redirect("council_round", year=year)
            elif action == "correct":
                correction_form = ReasonForm(request.POST, prefix="correction")
                if correction_form.is_valid():
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
    provisional, groups = ranking(round_, shown, roles)
    return render(
        request,
        "reporting/council/round.html",
        {
            "round": round_,
            "decision": getattr(round_, "decision", None),
            "provisional": provisional,
            "groups": groups,
            "snapshots": snapshots,
            "shown": shown,
            "latest": snapshots[0] if snapshots else None,
            "missing": services.not_appraised(round_) if not snapshots else [],
            "is_chair": roles.is_council_chair,
            "approval_form": approval_form,
            "correction_form": correction_form,
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


@dataclass
class FieldLine:
    code: str
    title: str
    self_score: Decimal
    score: Decimal
    max: Decimal

    @property
    def difference(self) -> Decimal:
        return self.score - self.self_score


@dataclass
class Difference:
    item: ItemScore
    self_points: Decimal
    final_points: Decimal
    links: list[EvidenceLink] = field(default_factory=list)

    @property
    def difference(self) -> Decimal:
        return self.final_points - self.self_points


def score_row(item: ItemScore) -> dict[str, Any]:
    """The values ``results.leaf_score`` reads, from a loaded item."""
    return {
        "criterion__method": item.criterion.method,
        "self_score": item.self_score,
        "not_applicable": item.not_applicable,
        "appraisal1_at": item.appraisal1_at,
        "appraisal1_score": item.appraisal1_score,
        "appraisal1_na": item.appraisal1_na,
        "appraisal2_at": item.appraisal2_at,
        "appraisal2_score": item.appraisal2_score,
        "appraisal2_na": item.appraisal2_na,
        "survey_score": item.survey_score,
    }


def unit_totals(
    assessment: UnitAssessment, criteria: list[Criterion], items: list[ItemScore]
) -> tuple[scoring.Totals, scoring.Totals, list[FieldLine]]:
    """The unit's self and appraised totals per field, by the rules of ``results`` (§4.4),
    without computing every other unit of the round."""
    roots = build_tree(criteria)
    nodes = [root.to_scoring() for root in roots]
    submitted = assessment.state in results.SUBMITTED_STATES
    provisional = assessment.state not in FINAL_STATES
    scores = {
        item.criterion.code: results.leaf_score(
            score_row(item), provisional=provisional, submitted=submitted
        )
        for item in items
    }
    self_scores = {
        item.criterion.code: scoring.LeafScore(
            item.self_score if submitted else None, item.not_applicable and submitted
        )
        for item in items
        if item.criterion.method != scoring.SURVEY
    }
    appraised = scoring.aggregate(nodes, scores)
    own = scoring.aggregate(nodes, self_scores)
    titles = {root.criterion.code: root.criterion.title for root in roots}
    own_fields = {code: score for code, score, _max in own.fields}
    lines = [
        FieldLine(code, titles.get(code, ""), own_fields.get(code, ZERO), score, max_)
        for code, score, max_ in appraised.fields
    ]
    return own, appraised, lines


def largest_differences(items: list[ItemScore]) -> list[Difference]:
    """Appraised items whose final score differs from the self score (or whose N/A was not
    accepted), largest difference first."""
    found = []
    for item in items:
        if item.criterion.method == scoring.SURVEY or not item.is_appraised:
            continue
        own = ZERO if item.not_applicable or item.self_score is None else item.self_score
        final = item.final_score
        final = ZERO if item.final_not_applicable or final is None else final
        if own != final or item.not_applicable != item.final_not_applicable:
            found.append(Difference(item, own, final))
    found.sort(key=lambda d: (-abs(d.difference), d.item.criterion.position))
    return found[:TOP_DIFFERENCES]


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
        assessment.refresh_from_db(fields=["state", "version"])

    criteria = list(Criterion.objects.filter(criteria_set_id=assessment.criteria_set_id))
    items = list(
        ItemScore.objects.filter(assessment=assessment)
        .select_related("criterion")
        .order_by("criterion__position")
    )
    own, appraised, fields = unit_totals(assessment, criteria, items)
    differences = largest_differences(items)
    links: dict[int, list[EvidenceLink]] = {}
    for link in (
        EvidenceLink.objects.filter(item_id__in=[d.item.pk for d in differences])
        .select_related("evidence")
        .order_by("evidence__title")
    ):
        links.setdefault(link.item_id, []).append(link)
    for difference in differences:
        difference.links = links.get(difference.item.pk, [])
    explanations = list(
        ExplanationRequest.objects.filter(item__assessment=assessment)
        .select_related("item__criterion", "asked_by", "answered_by")
        .prefetch_related("evidence")
        .order_by("item__criterion__position")
    )
    opinions = list(
        Opinion.objects.filter(assessment=assessment)
        .select_related("member")
        .order_by("-updated_at")
    )
    mine = next((o for o in opinions if o.member_id == request.user.pk), None)
    if opinion_form is None:
        opinion_form = OpinionForm(
            initial={"agrees": "1" if mine.agrees else "0", "note": mine.note} if mine else None
        )
    tally = Counter(o.agrees for o in opinions)
    in_review = assessment.state == AssessmentState.APPRAISED
    return render(
        request,
        "reporting/council/unit.html",
        {
            "assessment": assessment,
            "own": own,
            "appraised": appraised,
            "provisional": assessment.state not in FINAL_STATES,
            "fields": fields,
            "differences": differences,
            "explanations": explanations,
            "opinions": opinions,
            "agree": tally[True],
            "disagree": tally[False],
            "mine": mine,
            "can_opine": can_opine and in_review,
            "can_send_back": roles.is_council_chair and in_review,
            "appraisal_readable": appraisal_visible_to_staff(request.user, assessment),
            "opinion_form": opinion_form,
            "send_back_form": send_back_form,
        },
        status=status,
    )
