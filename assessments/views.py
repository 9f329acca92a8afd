from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import access, confirm, evidence, results, scoring, services
from .downloads import xlsx_response
from .exports import criteria_workbook
from .forms import (
    AssignmentForm,
    ConfirmImportForm,
    CriteriaUploadForm,
    ExtensionForm,
    ReturnForm,
    SignOffForm,
)
from .importers import (
    CRITERIA_COLUMNS,
    CriterionRow,
    ImportFailed,
    criteria_rows,
    read_table,
    validate_criteria,
)
from .models import (
    AssessmentState,
    Assignment,
    CriterionNode,
    Event,
    EventAction,
    ItemScore,
    Method,
    UnitAssessment,
    UnitRole,
)
from .roles import get_roles
from .workspace import (
    FILTER_MINE,
    FILTER_MISSING,
    FILTER_NA,
    FILTER_NO_EVIDENCE,
    FILTERS,
    Submission,
    Workspace,
    entry_from,
    filter_sections,
    load_workspace,
    matching_codes,
    version_from,
)

IMPORT_SALT = "assessments.criteria-import"
APPRAISAL_ACTIONS = [
    EventAction.APPRAISED,
    EventAction.EXPLANATION_FLAGGED,
    EventAction.REAPPRAISED,
]
IMPORT_MAX_AGE = 60 * 60  # a preview is valid for an hour


@login_required
@require_GET
def criteria_index(request: HttpRequest) -> HttpResponse:
    sets = list(access.visible_criteria_sets(request.user))
    by_round: dict[int, list[Any]] = {}
    for criteria_set in sets:
        by_round.setdefault(criteria_set.round.year, []).append(criteria_set)
    return render(
        request,
        "assessments/criteria_index.html",
        {"by_round": sorted(by_round.items(), reverse=True)},
    )


@dataclass
class CriterionRowView:
    """One line of the criteria browser, computed in the view (no queries in templates)."""

    node: CriterionNode
    description: str
    method_label: str

    @property
    def criterion(self) -> Any:
        return self.node.criterion


def describe_tree(
    roots: list[CriterionNode],
) -> list[tuple[CriterionRowView, list[CriterionRowView]]]:
    """Top-level nodes with the flattened rows under them."""
    labels = dict(Method.choices)
    sections = []
    for root in roots:
        rows = []
        for node in root.walk():
            c = node.criterion
            try:
                params = scoring.parse_params(c.method, c.params, c.max_points)
                description = scoring.describe(c.method, params, c.max_points)
            except scoring.ScoringError as error:  # pragma: no cover - imports validate params
                description = error.message
            rows.append(CriterionRowView(node, description, str(labels.get(c.method, c.method))))
        sections.append((rows[0], rows[1:]))
    return sections


@login_required
@require_GET
def criteria_detail(request: HttpRequest, year: int, group: str) -> HttpResponse:
    criteria_set = access.get_criteria_set_for_user(request.user, year, group)
    roots = criteria_set.tree()
    sections = describe_tree(roots)
    leaves = [node for root in roots for node in root.leaves()]
    counts = Counter(node.criterion.method for node in leaves)
    fields_total = sum(
        (root.criterion.max_points for root in roots if root.criterion.method == scoring.GROUP),
        Decimal("0"),
    )
    siblings = [
        s for s in access.visible_criteria_sets(request.user) if s.round_id == criteria_set.round_id
    ]
    return render(
        request,
        "assessments/criteria_detail.html",
        {
            "criteria_set": criteria_set,
            "sections": sections,
            "leaf_count": len(leaves),
            "survey_points": sum(
                (n.criterion.max_points for n in leaves if n.criterion.method == scoring.SURVEY),
                Decimal("0"),
            ),
            "fields_total": fields_total,
            "method_counts": sorted(
                ((str(dict(Method.choices)[m]), n) for m, n in counts.items()), key=lambda p: -p[1]
            ),
            "siblings": siblings,
            "can_export": get_roles(request.user).is_secretariat_lead,
        },
    )


@login_required
@require_GET
def criteria_export(request: HttpRequest, year: int, group: str) -> HttpResponse:
    criteria_set = access.get_criteria_set_for_user(request.user, year, group)
    access.require_secretariat_lead(request.user)
    rows = criteria_rows(criteria_set.criteria.order_by("position"))
    title = _("Criteria set %(group)s – round %(year)s") % {
        "group": criteria_set.group.name,
        "year": year,
    }
    return xlsx_response(
        criteria_workbook(rows, title), f"tieu-chi-{year}-{criteria_set.group.code}.xlsx"
    )


TEMPLATE_ROWS = [
    CriterionRow(
        "1",
        "Công tác chỉ đạo, điều hành cải cách hành chính",
        Decimal("3"),
        "group",
        "",
        False,
        False,
        "",
        "Steering and management of PAR",
        "",
        None,
        1,
    ),
    CriterionRow(
        "1.1",
        "Ban hành kế hoạch CCHC năm đúng thời hạn",
        Decimal("1"),
        "yes_no",
        "",
        False,
        True,
        "Kế hoạch CCHC năm (số, ngày ký)",
        "Plan issued on time",
        "Có: ban hành trước 31/12 năm trước.",
        "1",
        2,
    ),
    CriterionRow(
        "1.2",
        "Tỷ lệ hồ sơ TTHC được giải quyết đúng hạn",
        Decimal("2"),
        "threshold",
        "100:2; 95:1; 0:0",
        True,
        True,
        "Báo cáo từ Hệ thống thông tin giải quyết TTHC",
        "Dossiers settled on time (%)",
        "",
        "1",
        3,
    ),
    CriterionRow(
        "B",
        "Điểm thưởng",
        Decimal("1"),
        "bonus",
        "",
        False,
        False,
        "",
        "Bonus block (cap 1)",
        "",
        None,
        4,
    ),
    CriterionRow(
        "B.1",
        "Được cấp có thẩm quyền khen thưởng về công tác CCHC",
        Decimal("1"),
        "choice",
        "Bằng khen trở lên=1; Giấy khen=0.5; Không=0",
        False,
        True,
        "Quyết định khen thưởng",
        "Award for PAR work",
        "",
        "B",
        5,
    ),
]


@login_required
@require_GET
def criteria_template(request: HttpRequest) -> HttpResponse:
    access.require_secretariat_lead(request.user)
    title = _("Criteria workbook template")
    return xlsx_response(criteria_workbook(TEMPLATE_ROWS, title), "mau-bo-tieu-chi.xlsx")


@login_required
@require_http_methods(["GET", "POST"])
def criteria_import(request: HttpRequest) -> HttpResponse:
    """Upload → full validation report → confirm (nothing is written before the confirm)."""
    access.require_secretariat_lead(request.user)
    if request.method == "POST" and "payload" in request.POST:
        return confirm_criteria_import(request)
    form = CriteriaUploadForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form}
    if request.method == "POST" and form.is_valid():
        round_, group = form.cleaned_data["round"], form.cleaned_data["group"]
        upload = form.cleaned_data["file"]
        try:
            rows = validate_criteria(read_table(upload, upload.name, CRITERIA_COLUMNS))
        except ImportFailed as error:
            context["problems"] = error.problems
            context["filename"] = upload.name
            return render(request, "assessments/criteria_import.html", context, status=422)
        try:
            services.check_criteria_import(round_, group, replace=form.cleaned_data["replace"])
        except services.ServiceError as error:
            form.add_error(None, error.message)
            return render(request, "assessments/criteria_import.html", context, status=422)
        payload = signing.dumps(
            {
                "user": request.user.pk,
                "year": round_.year,
                "group": group.code,
                "replace": form.cleaned_data["replace"],
                "rows": [row.as_json() for row in rows],
            },
            salt=IMPORT_SALT,
            compress=True,
        )
        context.update(
            {
                "preview": preview(rows),
                "round": round_,
                "group": group,
                "replace": form.cleaned_data["replace"],
                "filename": upload.name,
                "confirm_form": ConfirmImportForm(initial={"payload": payload}),
            }
        )
    elif request.method == "POST":
        return render(request, "assessments/criteria_import.html", context, status=422)
    return render(request, "assessments/criteria_import.html", context)


def confirm_criteria_import(request: HttpRequest) -> HttpResponse:
    form = ConfirmImportForm(request.POST)
    try:
        if not form.is_valid():
            raise signing.BadSignature
        data = signing.loads(form.cleaned_data["payload"], salt=IMPORT_SALT, max_age=IMPORT_MAX_AGE)
        if data.get("user") != request.user.pk:
            raise signing.BadSignature
    except signing.BadSignature:
        messages.error(
            request, _("This preview has expired or was altered. Upload the file again.")
        )
        return redirect("criteria_import")
    round_, group = access.get_round_and_group_for_setup(request.user, data["year"], data["group"])
    rows = [CriterionRow.from_json(row) for row in data["rows"]]
    try:
        services.import_criteria_set(
            round_, group, rows, by=cast(User, request.user), replace=data["replace"]
        )
    except services.ServiceError as error:
        messages.error(request, error.message)
        return redirect("criteria_import")
    messages.success(
        request,
        _("Imported %(count)s criteria for %(group)s into round %(year)s.")
        % {"count": len(rows), "group": group.name, "year": round_.year},
    )
    return redirect("criteria_detail", year=round_.year, group=group.code)


def preview(rows: list[CriterionRow]) -> dict[str, Any]:
    fields = [r for r in rows if r.parent_code is None]
    leaves = [r for r in rows if r.method in scoring.LEAF_METHODS]
    per_field = Counter(r.code.split(".")[0] for r in leaves)
    return {
        "fields": [(field, per_field[field.code]) for field in fields],
        "leaf_count": len(leaves),
        "total": sum((r.max_points for r in fields if r.method == scoring.GROUP), Decimal("0")),
        "survey": sum((r.max_points for r in leaves if r.method == scoring.SURVEY), Decimal("0")),
    }


# --- unit self-assessment --------------------------------------------------------------------


def workspace_url(assessment: UnitAssessment) -> str:
    return reverse("unit_workspace", args=[assessment.round.year, assessment.unit.code])


def workspace_filter(request: HttpRequest) -> str:
    """The workspace filter in the query string ("loc"), carried to the item pages."""
    filter_ = request.GET.get("loc", "")
    return filter_ if filter_ in FILTERS else ""


@dataclass
class UnitReading:
    """What the unit reads of its appraisal (§6: once round 1 is finished): the ledger's
    result beside its own totals; once the round is published, its rank is the published
    snapshot's, on the public page (``published``)."""

    result: results.UnitResult
    self_totals: scoring.Totals
    round2_pending: bool = False
    published: bool = False

    @property
    def bonus_difference(self) -> Decimal:
        return self.result.bonus - self.self_totals.bonus

    @property
    def penalty_difference(self) -> Decimal:
        return self.result.penalty - self.self_totals.penalty


def unit_reading(
    request: HttpRequest, assessment: UnitAssessment, workspace: Workspace
) -> UnitReading | None:
    if workspace.role is None or not access.results_visible_to(request.user, assessment):
        return None
    if not access.round2_visible_to(request.user, assessment) and (
        assessment.state == AssessmentState.EXPLAINED
    ):
        # Round 2 is being typed: its scores reach the unit once it is finished (§6), and
        # the ledger has no round-1-only total, so the unit waits for the finished round.
        return UnitReading(
            result=results.unit_result(assessment, items=workspace.items()),
            self_totals=workspace.totals,
            round2_pending=True,
        )
    reading = UnitReading(
        result=results.unit_result(assessment, items=workspace.items()),
        self_totals=workspace.totals,
    )
    # The rank is the published snapshot's (§5.3), read on the public page: it is not
    # recomputed here, where a unit moved or deactivated since approval would change it.
    reading.published = assessment.state == AssessmentState.PUBLISHED
    return reading


@login_required
@require_GET
def unit_workspace(request: HttpRequest, year: int, unit: str) -> HttpResponse:
    """The focal officer's home for weeks: the tree, progress, totals, filters, time left;
    once round 1 is finished, the appraised result beside the unit's own scores."""
    assessment = access.get_assessment_for_user(request.user, year, unit)
    role = access.unit_role(request.user, assessment)
    workspace = load_workspace(assessment, cast(User, request.user), role)
    filter_ = workspace_filter(request)
    query = request.GET.get("q", "").strip()[:100]
    return render(
        request,
        "assessments/workspace.html",
        {
            "assessment": assessment,
            "workspace": workspace,
            "sections": filter_sections(workspace.sections, filter_, query, request.user.pk),
            "filter": filter_,
            "query": query,
            "role": role,
            "is_open": assessment.is_open(),
            "results_visible": role is not None
            and access.results_visible_to(request.user, assessment),
            "reading": unit_reading(request, assessment, workspace),
            "filters": workspace_filters(),
        },
    )


def item_history(request: HttpRequest, assessment: UnitAssessment, criterion: Any) -> list[Event]:
    """The item's history as this user may read it (the unit sees the appraisal only once
    round 1 is finished, round 2 once it is finished, §6)."""
    history = Event.objects.filter(
        unit_id=assessment.unit_id, round_id=assessment.round_id, criterion=criterion
    )
    if not access.results_visible_to(request.user, assessment):
        history = history.exclude(action__in=APPRAISAL_ACTIONS)
    elif not access.round2_visible_to(request.user, assessment):
        history = history.exclude(action=EventAction.REAPPRAISED)
    return list(history.select_related("actor").order_by("-created_at", "-pk")[:50])


def neighbours(codes: list[str], matching: set[str], code: str) -> tuple[str | None, str | None]:
    """The previous and next leaf among ``matching`` around ``code`` (in the set's order);
    the next one wraps around to the first match before, so "next unscored" finds every
    item that is left."""
    index = codes.index(code) if code in codes else -1
    before = [c for c in codes[: max(index, 0)] if c in matching]
    after = [c for c in codes[index + 1 :] if c in matching]
    following = after[0] if after else (before[0] if before else None)
    return (before[-1] if before else None), following


def item_context(
    request: HttpRequest, assessment: UnitAssessment, item: ItemScore
) -> dict[str, Any]:
    criterion = item.criterion
    params = scoring.parse_params(criterion.method, criterion.params, criterion.max_points)
    role = access.unit_role(request.user, assessment)
    editable = False
    if role in (UnitRole.LEADER, UnitRole.FOCAL):
        editable = True
    elif role == UnitRole.CONTRIBUTOR:
        editable = access.is_assigned(
            criterion.code, access.assigned_codes(assessment, cast(User, request.user))
        )
    editable = editable and criterion.method != scoring.SURVEY and assessment.is_open()
    links = evidence.links_of(item)
    library = evidence.library_of(assessment)
    filter_ = workspace_filter(request)
    if filter_:
        # The workspace's filter ("Chưa chấm" …) goes on from item to item.
        workspace = load_workspace(assessment, cast(User, request.user), role)
        leaves = [row.criterion.code for row in workspace.leaf_rows()]
        matching = set(matching_codes(workspace, filter_, request.user.pk))
    else:
        leaves = list(
            assessment.criteria_set.criteria.exclude(method__in=sorted(scoring.BRANCH_METHODS))
            .order_by("position")
            .values_list("code", flat=True)
        )
        matching = set(leaves)
    previous_code, next_code = neighbours(leaves, matching, criterion.code)
    return {
        "assessment": assessment,
        "item": item,
        "scores": results.item_scores(item),
        "criterion": criterion,
        "description": scoring.describe(criterion.method, params, criterion.max_points),
        "levels": criterion.levels,
        "can_edit": editable,
        "links": links,
        "library": library,
        "history": item_history(request, assessment, criterion),
        "previous_code": previous_code,
        "next_code": next_code,
        "field_code": criterion.code.split(".")[0],
        "filter": filter_,
        "filter_query": f"?loc={filter_}" if filter_ else "",
        "filter_label": dict(workspace_filters()).get(filter_, ""),
    }


def workspace_filters() -> list[tuple[str, str]]:
    return [
        (FILTER_MISSING, _("Not scored yet")),
        (FILTER_NO_EVIDENCE, _("Missing evidence")),
        (FILTER_MINE, _("Assigned to me")),
        (FILTER_NA, _("Not applicable")),
    ]


@login_required
@require_http_methods(["GET", "POST"])
def item_edit(request: HttpRequest, year: int, unit: str, code: str) -> HttpResponse:
    """One item: the input that fits its method, points from the server, evidence, history.

    A save through htmx re-renders only the editor (no page reload); without JavaScript the
    form posts and the page comes back with the same content.
    """
    assessment = access.get_assessment_for_user(request.user, year, unit)
    if request.method == "GET":
        item = access.get_item_for_user(request.user, assessment, code)
        context = item_context(request, assessment, item)
        context.update({"entry": None, "form_value": item.self_value})
        return render(request, "assessments/item.html", context)

    item = access.get_item_for_edit(request.user, assessment, code)
    entry = entry_from(request.POST)
    expected = version_from(request.POST)
    status = 200
    error = conflict = None
    try:
        item = services.save_item(
            item, entry, by=cast(User, request.user), expected_version=expected
        )
        item.assessment = assessment
        saved = True
    except services.Conflict as refused:
        conflict, saved, status = refused.message, False, 409
        item = access.get_item_for_user(request.user, assessment, code)
    except services.ServiceError as refused:
        error, saved, status = refused.message, False, 422
    context = item_context(request, assessment, item)
    # An invalid entry comes back as typed; after a conflict the form shows the other person's
    # value (and version) and the alert shows what this user typed.
    keep = entry if error else None
    context.update(
        {
            "entry": keep,
            "form_value": keep.value if keep else item.self_value,
            "typed": entry if conflict else None,
            "error": error,
            "conflict": conflict,
            "saved": saved,
        }
    )
    # htmx swaps the editor and, out of band, the history (the save is its newest line).
    template = (
        "assessments/item.html#saved"
        if getattr(request, "htmx", False)
        else "assessments/item.html"
    )
    return render(request, template, context, status=status)


@login_required
@require_GET
def item_history_view(request: HttpRequest, year: int, unit: str, code: str) -> HttpResponse:
    """The item's history panel alone: the item page reloads it after linking evidence."""
    assessment = access.get_assessment_for_user(request.user, year, unit)
    item = access.get_item_for_user(request.user, assessment, code)
    return render(
        request,
        "assessments/item.html#history",
        {
            "assessment": assessment,
            "criterion": item.criterion,
            "history": item_history(request, assessment, item.criterion),
        },
    )


@login_required
@require_POST
def item_preview(request: HttpRequest, year: int, unit: str, code: str) -> HttpResponse:
    """The points an input would give, computed by the server before saving (nothing saved)."""
    assessment = access.get_assessment_for_user(request.user, year, unit)
    item = access.get_item_for_edit(request.user, assessment, code)
    try:
        _value, points = services.evaluate(item.criterion, entry_from(request.POST))
        context: dict[str, Any] = {"points": points, "error": None}
    except services.ServiceError as refused:
        context = {"points": None, "error": refused.message}
    return render(request, "assessments/item.html#preview", context)


@login_required
@require_http_methods(["GET", "POST"])
def assignments(request: HttpRequest, year: int, unit: str) -> HttpResponse:
    """The focal officer shares the work: fields or criteria to contributors, with due dates."""
    assessment = access.get_assessment_for_user(request.user, year, unit)
    access.require_unit_role(request.user, assessment, UnitRole.LEADER, UnitRole.FOCAL)
    form = AssignmentForm(request.POST or None, assessment=assessment)
    if request.method == "POST":
        if request.POST.get("remove"):
            target = access.get_assignment_for_edit(assessment, request.POST["remove"])
            try:
                services.unassign(target, by=cast(User, request.user))
                messages.success(request, _("Assignment removed."))
            except services.ServiceError as error:
                messages.error(request, error.message)
            return redirect("assignments", year=year, unit=unit)
        if form.is_valid():
            try:
                services.assign_items(
                    assessment,
                    form.cleaned_data["criterion"],
                    form.cleaned_data["assignee"],
                    by=cast(User, request.user),
                    due_date=form.cleaned_data["due_date"],
                )
                messages.success(request, _("Assigned; the person has been notified by e-mail."))
                return redirect("assignments", year=year, unit=unit)
            except services.ServiceError as error:
                form.add_error(None, error.message)
    workspace = load_workspace(assessment, cast(User, request.user), UnitRole.FOCAL)
    progress: dict[int, dict[str, Any]] = {}
    for section in workspace.sections:
        for row in [section.head, *section.rows]:
            if row.is_leaf and not row.is_survey and row.assignee is not None and row.item:
                entry = progress.setdefault(
                    row.assignee.pk,
                    {"person": row.assignee, "total": 0, "scored": 0, "evidence": 0},
                )
                if not row.item.not_applicable:
                    entry["total"] += 1
                    entry["scored"] += row.item.is_scored
                    entry["evidence"] += bool(row.evidence_count)
    return render(
        request,
        "assessments/assignments.html",
        {
            "assessment": assessment,
            "form": form,
            "assignments": Assignment.objects.filter(assessment=assessment)
            .select_related("assignee", "criterion")
            .order_by("criterion__position"),
            "progress": sorted(progress.values(), key=lambda p: p["person"].get_full_name()),
            "is_open": assessment.is_open(),
        },
        status=422 if request.method == "POST" else 200,
    )


def submit_confirmation(
    assessment: UnitAssessment, workspace: Workspace, submission: Submission
) -> confirm.Confirmation:
    """What submitting means, in numbers (DESIGN §11): it is the unit's signature."""
    totals = workspace.totals
    year, code = assessment.round.year, assessment.unit.code
    return confirm.Confirmation(
        title=_("Submit the self-assessment of %(unit)s?") % {"unit": assessment.unit.name},
        consequences=[
            _(
                "Submit %(count)s items, %(missing)s without evidence (explained); once submitted the unit cannot change them."
            )
            % {"count": submission.items, "missing": submission.explained},
            _("Self-assessment total %(total)s / %(max)s, index %(index)s.")
            % {
                "total": scoring.format_points(totals.total),
                "max": scoring.format_points(totals.applicable_max),
                "index": scoring.format_points(totals.index),
            },
            _("The secretariat is told at once and the appraisal can start."),
        ],
        button=_("Submit"),
        cancel_url=reverse("sign_off", args=[year, code]),
        items=[
            (
                f"{row.criterion.code} {row.criterion.title} — {row.item.no_evidence_reason}",
                reverse("item_edit", args=[year, code, row.criterion.code]),
            )
            for row in submission.without_evidence
            if row.item
        ],
        items_heading=_("Items submitted without an evidence document, with the explanation"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def sign_off(request: HttpRequest, year: int, unit: str) -> HttpResponse:
    """The leader's summary and the submission; the focal officer sends it to the leader.

    The leader sees what stops the submission before pressing "Nộp"; submitting asks for
    confirmation with the numbers (``assessments.confirm``), and the typed difficulties and
    recommendations go through the confirmation and through a refusal.
    """
    assessment = access.get_assessment_for_user(request.user, year, unit)
    role = access.require_unit_role(
        request.user, assessment, UnitRole.LEADER, UnitRole.FOCAL, UnitRole.CONTRIBUTOR
    )
    status = 200
    form = SignOffForm(request.POST or None, instance=assessment)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "send":
                access.require_unit_role(request.user, assessment, UnitRole.FOCAL, UnitRole.LEADER)
                services.send_to_leader(assessment, by=cast(User, request.user))
                messages.success(request, _("Sent to the leader, who has been notified by e-mail."))
                return redirect("sign_off", year=year, unit=unit)
            if action != "submit":
                return HttpResponse(status=400)
            access.require_unit_role(request.user, assessment, UnitRole.LEADER)
            if form.is_valid():
                if not confirm.confirmed(request):
                    return ask_before_submitting(request, assessment, role, form)
                services.submit_assessment(
                    assessment,
                    by=cast(User, request.user),
                    difficulties=form.cleaned_data["difficulties"],
                    recommendations=form.cleaned_data["recommendations"],
                )
                messages.success(
                    request, _("The self-assessment has been submitted to the secretariat.")
                )
                return redirect("unit_workspace", year=year, unit=unit)
            status = 422
        except services.SubmissionRefused as refused:
            messages.error(request, refused.message)
            status = 422
        except services.ServiceError as refused:
            messages.error(request, refused.message)
            status = 422
        assessment.refresh_from_db()
    return render_sign_off(request, assessment, role, form, status=status)


def ask_before_submitting(
    request: HttpRequest, assessment: UnitAssessment, role: str, form: SignOffForm
) -> HttpResponse:
    """The first "Nộp" changes nothing: the page again with what stops the submission (the
    typed text kept in the form), or the confirmation with the numbers."""
    workspace = load_workspace(assessment, cast(User, request.user), role)
    submission = workspace.submission()
    if submission.problems or not assessment.is_open():
        messages.error(
            request,
            ngettext(
                "The self-assessment cannot be submitted yet: %(count)s item needs attention.",
                "The self-assessment cannot be submitted yet: %(count)s items need attention.",
                len(submission.problems),
            )
            % {"count": len(submission.problems)}
            if submission.problems
            else _("The self-assessment is closed for changes; it cannot be submitted."),
        )
        return render_sign_off(request, assessment, role, form, status=422, workspace=workspace)
    return confirm.ask(request, submit_confirmation(assessment, workspace, submission))


def render_sign_off(
    request: HttpRequest,
    assessment: UnitAssessment,
    role: str,
    form: SignOffForm,
    *,
    status: int = 200,
    workspace: Workspace | None = None,
) -> HttpResponse:
    workspace = workspace or load_workspace(assessment, cast(User, request.user), role)
    submission = workspace.submission()
    return render(
        request,
        "assessments/sign_off.html",
        {
            "assessment": assessment,
            "workspace": workspace,
            "role": role,
            "form": form,
            "problems": submission.problems if assessment.is_open() else [],
            "submission": submission,
            "without_evidence": submission.without_evidence,
            "is_open": assessment.is_open(),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def unit_deadline(request: HttpRequest, year: int, unit: str) -> HttpResponse:
    """Secretariat lead: grant an extension or return a submitted unit to draft."""
    assessment = access.get_assessment_for_user(request.user, year, unit)
    access.require_secretariat_lead(request.user)
    extension = ExtensionForm(request.POST if request.POST.get("action") == "extend" else None)
    back = ReturnForm(request.POST if request.POST.get("action") == "return" else None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "extend" and extension.is_valid():
                services.grant_extension(
                    assessment,
                    by=cast(User, request.user),
                    until=extension.cleaned_data["until"],
                    reason=extension.cleaned_data["reason"],
                )
                messages.success(request, _("Extension granted; the unit has been notified."))
                return redirect("unit_deadline", year=year, unit=unit)
            if request.POST.get("action") == "return" and back.is_valid():
                services.return_to_draft(
                    assessment, by=cast(User, request.user), reason=back.cleaned_data["reason"]
                )
                messages.success(
                    request, _("Returned to the unit as a draft; the unit has been notified.")
                )
                return redirect("unit_deadline", year=year, unit=unit)
        except services.ServiceError as error:
            messages.error(request, error.message)
    events = (
        Event.objects.filter(
            unit_id=assessment.unit_id, round_id=assessment.round_id, criterion__isnull=True
        )
        .select_related("actor")
        .order_by("-created_at", "-pk")[:30]
    )
    return render(
        request,
        "assessments/unit_deadline.html",
        {"assessment": assessment, "extension": extension, "back": back, "events": events},
        status=422 if request.method == "POST" else 200,
    )
