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
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import access, evidence, results, scoring, services
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
    Assignment,
    CriterionNode,
    Event,
    EventAction,
    ItemScore,
    Method,
    Round,
    Unit,
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
    filter_sections,
    load_workspace,
    round_roll,
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
def home(request: HttpRequest) -> HttpResponse:
    roles = get_roles(request.user)
    rounds = list(Round.objects.all()) if roles.has_any else []
    now = timezone.now()
    open_round = next(
        (
            r
            for r in rounds
            if r.is_open_to_units(now)
            and r.self_assessment_deadline
            and r.self_assessment_deadline > now
        ),
        None,
    )
    unit_states: list[tuple[Unit, UnitAssessment | None]] = []
    if roles.is_secretariat_lead and open_round is not None:
        unit_states = round_roll(open_round)
    return render(
        request,
        "assessments/home.html",
        {
            "rounds": rounds,
            "open_round": open_round,
            "unit_states": unit_states,
            "criteria_sets": list(access.visible_criteria_sets(request.user))
            if roles.has_any
            else [],
            "now": now,
        },
    )


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


@login_required
@require_GET
def unit_workspace(request: HttpRequest, year: int, unit: str) -> HttpResponse:
    """The focal officer's home for weeks: the tree, progress, totals, filters, time left."""
    assessment = access.get_assessment_for_user(request.user, year, unit)
    role = access.unit_role(request.user, assessment)
    workspace = load_workspace(assessment, cast(User, request.user), role)
    filter_ = request.GET.get("loc", "")
    filter_ = filter_ if filter_ in FILTERS else ""
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
            "filters": [
                (FILTER_MISSING, _("Not scored yet")),
                (FILTER_NO_EVIDENCE, _("Missing evidence")),
                (FILTER_MINE, _("Assigned to me")),
                (FILTER_NA, _("Not applicable")),
            ],
        },
    )


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
    leaves = list(
        assessment.criteria_set.criteria.exclude(method__in=sorted(scoring.BRANCH_METHODS))
        .order_by("position")
        .values_list("code", flat=True)
    )
    index = leaves.index(criterion.code)
    history = Event.objects.filter(
        unit_id=assessment.unit_id, round_id=assessment.round_id, criterion=criterion
    )
    if not access.results_visible_to(request.user, assessment):
        # The unit sees its appraisal only once round 1 is finished (§6).
        history = history.exclude(action__in=APPRAISAL_ACTIONS)
    elif not access.round2_visible_to(request.user, assessment):
        history = history.exclude(action=EventAction.REAPPRAISED)
    history = history.select_related("actor").order_by("-created_at", "-pk")[:50]
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
        "history": history,
        "previous_code": leaves[index - 1] if index > 0 else None,
        "next_code": leaves[index + 1] if index + 1 < len(leaves) else None,
    }


def entry_from(post: Any) -> services.ItemInput:
    return services.ItemInput(
        value=post.get("value", "")[:200],
        not_applicable=post.get("not_applicable") == "on",
        na_reason=post.get("na_reason", "")[:2000],
        note=post.get("note", "")[:2000],
        no_evidence_reason=post.get("no_evidence_reason", "")[:2000],
    )


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
    try:
        expected = int(request.POST.get("version", ""))
    except ValueError:
        expected = -1
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
    template = (
        "assessments/item.html#editor"
        if getattr(request, "htmx", False)
        else "assessments/item.html"
    )
    return render(request, template, context, status=status)


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


@login_required
@require_http_methods(["GET", "POST"])
def sign_off(request: HttpRequest, year: int, unit: str) -> HttpResponse:
    """The leader's summary and the submission; the focal officer sends it to the leader."""
    assessment = access.get_assessment_for_user(request.user, year, unit)
    role = access.require_unit_role(
        request.user, assessment, UnitRole.LEADER, UnitRole.FOCAL, UnitRole.CONTRIBUTOR
    )
    status = 200
    problems: list[Any] = []
    form = SignOffForm(request.POST or None, instance=assessment)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "send":
                access.require_unit_role(request.user, assessment, UnitRole.FOCAL, UnitRole.LEADER)
                services.send_to_leader(assessment, by=cast(User, request.user))
                messages.success(request, _("Sent to the leader, who has been notified by e-mail."))
                return redirect("sign_off", year=year, unit=unit)
            if action == "submit":
                access.require_unit_role(request.user, assessment, UnitRole.LEADER)
                if form.is_valid():
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
            else:
                return HttpResponse(status=400)
        except services.SubmissionRefused as refused:
            messages.error(request, refused.message)
            problems, status = refused.problems, 422
        except services.ServiceError as refused:
            messages.error(request, refused.message)
            status = 422
        assessment.refresh_from_db()
    workspace = load_workspace(assessment, cast(User, request.user), role)
    without_evidence = workspace.without_evidence()
    return render(
        request,
        "assessments/sign_off.html",
        {
            "assessment": assessment,
            "workspace": workspace,
            "role": role,
            "form": form,
            "problems": problems,
            "without_evidence": without_evidence,
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
