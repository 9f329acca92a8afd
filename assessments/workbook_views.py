"""The unit's offline self-assessment workbook: download, upload → check → preview → confirm."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods

from . import access, services, widgets
from .downloads import xlsx_response
from .forms import MAX_WORKBOOK_BYTES, ConfirmImportForm
from .importers import ImportFailed
from .models import UnitAssessment, UnitRole
from .unit_workbook import (
    GUIDE_SHEET,
    Change,
    apply_changes,
    build_unit_workbook,
    check_open,
    load_items,
    load_tree,
    parse_unit_workbook,
)

WORKBOOK_SALT = "assessments.unit-workbook"
WORKBOOK_MAX_AGE = 60 * 60  # a preview is valid for an hour
TEMPLATE = "assessments/workbook/upload.html"
UNIT_ROLES = (UnitRole.LEADER, UnitRole.FOCAL, UnitRole.CONTRIBUTOR)


class UnitWorkbookUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Completed workbook (.xlsx)"),
        widget=widgets.FileInput(attrs={"accept": ".xlsx,.csv", "class": "form-control"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError(_("Choose the .xlsx workbook downloaded from the portal."))
        if upload.size > MAX_WORKBOOK_BYTES:
            raise forms.ValidationError(
                _("The file is larger than 5 MB; a unit's workbook is much smaller.")
            )
        return upload


def workbook_filename(assessment: UnitAssessment) -> str:
    return f"tu-danh-gia-{assessment.round.year}-{assessment.unit.code}.xlsx"


@login_required
@require_GET
def download(request: HttpRequest, year: int, unit: str) -> HttpResponse:
    """Any member of the unit and province staff may download the unit's workbook."""
    assessment = access.get_assessment_for_user(request.user, year, unit)
    content = build_unit_workbook(assessment, load_tree(assessment), load_items(assessment))
    return xlsx_response(content, workbook_filename(assessment))


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest, year: int, unit: str) -> HttpResponse:
    """Upload → every problem (422) or a preview of the changes → confirm (all or nothing)."""
    assessment = access.get_assessment_for_user(request.user, year, unit)
    role = access.require_unit_role(request.user, assessment, *UNIT_ROLES)
    if request.method == "POST" and "payload" in request.POST:
        return confirm(request, assessment, role)
    form = UnitWorkbookUploadForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {
        "assessment": assessment,
        "form": form,
        "is_open": assessment.is_open(),
        "is_contributor": role == UnitRole.CONTRIBUTOR,
        "guide_sheet": GUIDE_SHEET,
    }
    if request.method != "POST":
        return render(request, TEMPLATE, context)
    if not form.is_valid():
        return render(request, TEMPLATE, context, status=422)
    try:
        check_open(assessment)
    except services.ServiceError as error:
        context["refusal"] = error.message
        return render(request, TEMPLATE, context, status=409)
    upload_file = form.cleaned_data["file"]
    assigned = (
        access.assigned_codes(assessment, request.user) if role == UnitRole.CONTRIBUTOR else None
    )
    try:
        changes = parse_unit_workbook(
            upload_file, upload_file.name, assessment, load_items(assessment), assigned=assigned
        )
    except ImportFailed as error:
        context.update({"problems": error.problems, "filename": upload_file.name})
        return render(request, TEMPLATE, context, status=422)
    payload = signing.dumps(
        {
            "assessment": assessment.pk,
            "user": request.user.pk,
            "changes": [change.as_json() for change in changes],
        },
        salt=WORKBOOK_SALT,
        compress=True,
    )
    context.update(
        {
            "changes": changes,
            "filename": upload_file.name,
            "confirm_form": ConfirmImportForm(initial={"payload": payload}),
        }
    )
    return render(request, TEMPLATE, context)


def confirm(request: HttpRequest, assessment: UnitAssessment, role: str) -> HttpResponse:
    upload_url = reverse("unit_workbook_upload", args=[assessment.round.year, assessment.unit.code])
    form = ConfirmImportForm(request.POST)
    try:
        if not form.is_valid():
            raise signing.BadSignature
        data = signing.loads(
            form.cleaned_data["payload"], salt=WORKBOOK_SALT, max_age=WORKBOOK_MAX_AGE
        )
        if data["assessment"] != assessment.pk or data["user"] != request.user.pk:
            raise signing.BadSignature
        changes = [Change.from_json(change) for change in data["changes"]]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        messages.error(
            request,
            _(
                "This preview has expired or was altered; nothing was saved. Upload the workbook again."
            ),
        )
        return redirect(upload_url)
    if role == UnitRole.CONTRIBUTOR:
        # Assignments may have changed since the preview.
        assigned = access.assigned_codes(assessment, request.user)
        refused = [c.code for c in changes if not access.is_assigned(c.code, assigned)]
        if refused:
            messages.error(
                request,
                _(
                    "Nothing was saved: item(s) %(codes)s are no longer assigned to you. Upload the workbook again."
                )
                % {"codes": ", ".join(refused)},
            )
            return redirect(upload_url)
    try:
        count = apply_changes(assessment, changes, by=cast(User, request.user))
    except services.ServiceError as error:
        messages.error(request, error.message)
        return redirect(upload_url)
    messages.success(
        request,
        ngettext(
            "%(count)s item was updated from the workbook.",
            "%(count)s items were updated from the workbook.",
            count,
        )
        % {"count": count},
    )
    return redirect(reverse("unit_workspace", args=[assessment.round.year, assessment.unit.code]))
