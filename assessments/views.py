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
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from . import access, scoring, services
from .exports import criteria_workbook
from .forms import ConfirmImportForm, CriteriaUploadForm
from .importers import (
    CRITERIA_COLUMNS,
    CriterionRow,
    ImportFailed,
    criteria_rows,
    read_table,
    validate_criteria,
)
from .models import CriterionNode, Method, Round
from .roles import get_roles

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORT_SALT = "assessments.criteria-import"
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
    return render(
        request,
        "assessments/home.html",
        {
            "rounds": rounds,
            "open_round": open_round,
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


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


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
