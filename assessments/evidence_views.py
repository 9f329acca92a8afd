"""The evidence library pages of a unit's self-assessment (DESIGN §7): thin views over
``assessments.evidence``.

Every view starts from ``access.get_assessment_for_user`` (outsiders 404, accounts without a
role 403). Province staff read and download; only the unit writes: the leader and the focal
officer everything, a contributor uploads and links documents on the items assigned to them.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import access, confirm, evidence, widgets
from .models import Evidence, ItemScore, UnitAssessment, UnitRole

UPLOAD_ROWS = 5  # one row per file: file, title, number, date; no JavaScript needed
UPLOAD_PREFIX = "tai-lieu"
WRITERS = (UnitRole.LEADER, UnitRole.FOCAL)
UPLOADERS = (UnitRole.LEADER, UnitRole.FOCAL, UnitRole.CONTRIBUTOR)


# What the file chooser offers: the types the library accepts (the server checks them again).
ACCEPT = ",".join(f".{ext}" for ext in evidence.ACCEPTED)


class UploadRowForm(forms.Form):
    """One file of an upload with what the user types about it; the title defaults to the
    file name."""

    file = forms.FileField(label=gettext_lazy("File"), required=False, widget=widgets.FileInput)
    title = forms.CharField(
        label=gettext_lazy("Title"), max_length=evidence.MAX_TITLE, required=False
    )
    number = forms.CharField(
        label=gettext_lazy("Document number"), max_length=evidence.MAX_NUMBER, required=False
    )
    date = widgets.DateField(label=gettext_lazy("Document date"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("class", "form-control form-control-sm")
            if name == "title":
                field.widget.attrs["placeholder"] = _("the file name")
        self.fields["file"].widget.attrs["accept"] = ACCEPT

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        typed = data.get("title") or data.get("number") or data.get("date")
        if typed and not data.get("file"):
            raise forms.ValidationError(_("Choose the file for this row, or clear the row."))
        return data


UploadFormSet = forms.formset_factory(
    UploadRowForm, extra=UPLOAD_ROWS, max_num=UPLOAD_ROWS, absolute_max=UPLOAD_ROWS
)


def item_links_context(
    assessment: UnitAssessment,
    item: ItemScore,
    *,
    can_edit: bool,
    error: str = "",
    typed: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The context of ``assessments/evidence/item_links.html`` (two queries)."""
    return {
        "assessment": assessment,
        "item": item,
        "links": evidence.links_of(item),
        "library": evidence.library_of(assessment),
        "can_edit": can_edit,
        "evidence_error": error,
        "typed": typed or {},
    }


def library_url(assessment: UnitAssessment) -> str:
    return reverse("evidence_library", args=[assessment.round.year, assessment.unit.code])


@login_required
@require_http_methods(["GET", "POST"])
def evidence_library(request: HttpRequest, year: int, unit: str) -> HttpResponse:
    """The unit's library for the round; POST uploads up to ``UPLOAD_ROWS`` files at once."""
    assessment = access.get_assessment_for_user(request.user, year, unit)
    role = access.unit_role(request.user, assessment)
    formset = UploadFormSet(prefix=UPLOAD_PREFIX)
    status = 200
    if request.method == "POST":
        access.require_unit_role(request.user, assessment, *UPLOADERS)
        formset = UploadFormSet(request.POST, request.FILES, prefix=UPLOAD_PREFIX)
        response = upload(request, assessment, formset)
        if response is not None:
            return response
        status = 422
    is_open = assessment.is_open()
    return render(
        request,
        "assessments/evidence/library.html",
        {
            "assessment": assessment,
            "documents": list(evidence.library(assessment)),
            "formset": formset,
            "can_upload": assessment.accepts_uploads() and role in UPLOADERS,
            "can_manage": is_open and role in WRITERS,
            "is_open": is_open,
            "max_mb": evidence.megabytes(settings.EVIDENCE_MAX_BYTES),
            "accepted": evidence.accepted_types_sentence(),
        },
        status=status,
    )


def upload(request: HttpRequest, assessment: UnitAssessment, formset: Any) -> HttpResponse | None:
    """Store the files of a valid form and redirect; ``None`` re-renders the form with what the
    user typed and the reason next to each refused file."""
    if not formset.is_valid():
        return None
    rows = [
        (index, form.cleaned_data)
        for index, form in enumerate(formset.forms)
        if form.cleaned_data.get("file")
    ]
    if not rows:
        formset._non_form_errors = formset.error_class([_("Choose at least one file to upload.")])
        return None
    uploads = [
        evidence.Upload(data["file"], data["title"], data["number"], data["date"])
        for _index, data in rows
    ]
    try:
        result = evidence.add_evidence(assessment, uploads, by=cast(User, request.user))
    except evidence.UploadRefused as error:
        for position, problem in error.problems.items():
            formset.forms[rows[position][0]].add_error("file", problem)
        formset._non_form_errors = formset.error_class(
            [error.message, _("A browser does not keep the chosen files: choose them again.")]
        )
        return None
    except evidence.ServiceError as error:
        messages.error(request, error.message)
        return redirect(library_url(assessment))
    if result.created:
        messages.success(
            request,
            ngettext(
                "%(count)s document added to the library.",
                "%(count)s documents added to the library.",
                len(result.created),
            )
            % {"count": len(result.created)},
        )
    for name, existing in result.duplicates:
        messages.info(
            request,
            _("“%(name)s” is already in the library as “%(title)s”; it was not stored again.")
            % {"name": name, "title": existing.title},
        )
    return redirect(library_url(assessment))


INLINE_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})


@login_required
@require_GET
def evidence_download(request: HttpRequest, year: int, unit: str, pk: int) -> FileResponse:
    """The file, only through this permission check (DESIGN §7), as an attachment; with
    ``?xem=1`` a PDF or an image opens in the browser instead (appraisers read evidence
    there). Its type was checked from the content at upload and ``nosniff`` keeps the
    browser to it; the sandbox CSP stops anything active inside it."""
    assessment = access.get_assessment_for_user(request.user, year, unit)
    document = access.get_evidence_for_user(assessment, pk)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    inline = request.GET.get("xem") == "1" and document.content_type in INLINE_TYPES
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=document.original_name,
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    if inline:
        response["Content-Security-Policy"] = (
            "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
        )
    response["Cache-Control"] = "private, no-store"
    return response


def deletion_confirmation(assessment: UnitAssessment, document: Evidence) -> confirm.Confirmation:
    """What deleting a document does, item by item (DESIGN §11)."""
    lost = evidence.deletion_impact(document)
    year, code = assessment.round.year, assessment.unit.code
    consequences = [
        _("The file “%(title)s” is removed from the unit's evidence library.")
        % {"title": document.title}
    ]
    if lost:
        consequences.append(
            ngettext(
                "%(n)s item loses this document.", "%(n)s items lose this document.", len(lost)
            )
            % {"n": len(lost)}
        )
    blocking = [entry for entry in lost if entry.then_lacks]
    if blocking:
        consequences.append(
            ngettext(
                "%(n)s item then has no evidence and no explanation: the self-assessment "
                "cannot be submitted until you add one.",
                "%(n)s items then have no evidence and no explanation: the self-assessment "
                "cannot be submitted until you add one.",
                len(blocking),
            )
            % {"n": len(blocking)}
        )
    items = []
    for entry in lost:
        note = (
            _("no evidence left, submission refused")
            if entry.then_lacks
            else ngettext("%(n)s document left", "%(n)s documents left", entry.left)
            % {"n": entry.left}
        )
        items.append(
            (
                f"{entry.code} {entry.title} — {note}",
                reverse("item_edit", args=[year, code, entry.code]),
            )
        )
    return confirm.Confirmation(
        title=_("Delete “%(title)s”?") % {"title": document.title},
        consequences=consequences,
        button=_("Delete the document"),
        cancel_url=library_url(assessment),
        items=items,
        items_heading=_("Items that lose this document"),
        danger=True,
    )


@login_required
@require_POST
def evidence_delete(request: HttpRequest, year: int, unit: str, pk: int) -> HttpResponse:
    assessment = access.get_assessment_for_user(request.user, year, unit)
    access.require_unit_role(request.user, assessment, *WRITERS)
    document = access.get_evidence_for_user(assessment, pk)
    if not confirm.confirmed(request):
        return confirm.ask(request, deletion_confirmation(assessment, document))
    try:
        evidence.delete_evidence(document, by=cast(User, request.user))
    except evidence.ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("“%(title)s” was deleted.") % {"title": document.title})
    return redirect(library_url(assessment))


@login_required
@require_http_methods(["GET", "POST"])
def evidence_carry_over(request: HttpRequest, year: int, unit: str) -> HttpResponse:
    """Choose documents of last year's library to reuse in this round."""
    assessment = access.get_assessment_for_user(request.user, year, unit)
    access.require_unit_role(request.user, assessment, *WRITERS)
    if request.method == "POST":
        try:
            ids = [int(pk) for pk in request.POST.getlist("evidence")]
        except ValueError:
            ids = []
        try:
            result = evidence.carry_over(assessment, ids, by=cast(User, request.user))
        except evidence.ServiceError as error:
            messages.error(request, error.message)
            return redirect("evidence_carry_over", year=year, unit=assessment.unit.code)
        if result.created:
            messages.success(
                request,
                ngettext(
                    "%(count)s document carried over from last year.",
                    "%(count)s documents carried over from last year.",
                    len(result.created),
                )
                % {"count": len(result.created)},
            )
        if result.skipped:
            messages.info(
                request,
                _("Already in this year's library, not copied again: %(titles)s.")
                % {"titles": "; ".join(f"“{e.title}”" for e in result.skipped)},
            )
        return redirect(library_url(assessment))
    source_round = evidence.previous_round(assessment.round)
    documents, present = evidence.carry_over_choices(assessment, source_round)
    return render(
        request,
        "assessments/evidence/carry_over.html",
        {
            "assessment": assessment,
            "source_round": source_round,
            "rows": [(document, document.sha256 in present) for document in documents],
            "can_carry": assessment.is_open(),
        },
    )


def after_link_change(
    request: HttpRequest,
    assessment: UnitAssessment,
    item: ItemScore,
    *,
    error: str = "",
    typed: dict[str, str] | None = None,
) -> HttpResponse:
    """htmx gets the re-rendered fragment (an error is shown inside it, so htmx swaps it: a
    4xx would not be swapped); a plain form post goes back to the item editor."""
    if request.htmx:  # type: ignore[attr-defined]
        return render(
            request,
            "assessments/evidence/item_links.html",
            item_links_context(
                assessment, item, can_edit=assessment.is_open(), error=error, typed=typed
            ),
        )
    if error:
        messages.error(request, error)
    return redirect(
        reverse(
            "item_edit", args=[assessment.round.year, assessment.unit.code, item.criterion.code]
        )
    )


@login_required
@require_POST
def evidence_link(request: HttpRequest, year: int, unit: str, code: str) -> HttpResponse:
    assessment = access.get_assessment_for_user(request.user, year, unit)
    item = access.get_item_for_edit(request.user, assessment, code)
    typed = {
        "evidence": request.POST.get("evidence", ""),
        "page_ref": request.POST.get("page_ref", ""),
    }
    if not typed["evidence"].isdigit():
        return after_link_change(
            request,
            assessment,
            item,
            error=_("Choose a document from the library to link to item %(code)s.")
            % {"code": code},
            typed=typed,
        )
    document = access.get_evidence_for_user(assessment, int(typed["evidence"]))
    try:
        evidence.link_evidence(item, document, typed["page_ref"], by=cast(User, request.user))
    except evidence.ServiceError as error:
        return after_link_change(request, assessment, item, error=error.message, typed=typed)
    return after_link_change(request, assessment, item)


@login_required
@require_POST
def evidence_unlink(
    request: HttpRequest, year: int, unit: str, code: str, link_pk: int
) -> HttpResponse:
    assessment = access.get_assessment_for_user(request.user, year, unit)
    item = access.get_item_for_edit(request.user, assessment, code)
    link = access.get_link_for_edit(item, link_pk)
    try:
        evidence.unlink_evidence(link, by=cast(User, request.user))
    except evidence.ServiceError as error:
        return after_link_change(request, assessment, item, error=error.message)
    return after_link_change(request, assessment, item)
