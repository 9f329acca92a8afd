"""The fast self-assessment (issue 10 item 2): one field of the criteria set as a table of its
leaves, each row saved on its own (htmx, or a plain POST without JavaScript), beside the item
page that keeps the detail (guidance, evidence, history)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from . import access, services
from .models import UnitAssessment
from .workspace import FieldTable, Row, entry_from, field_table, load_workspace, version_from

# The row's "then" button: Enter saves and moves to the next row, the "Lưu" button stays.
THEN_NEXT = "next"


def anchor(code: str) -> str:
    """An id for a row that is also a plain CSS selector (codes have dots)."""
    return "muc-" + code.replace(".", "-")


@dataclass
class TableRow:
    """A row of the table with what the last save said about it."""

    row: Row
    entry: services.ItemInput | None = None  # kept as typed after a refusal
    typed: services.ItemInput | None = None  # what the user typed, after a conflict
    error: str = ""
    conflict: str = ""
    saved: bool = False
    focus_input: bool = False  # Enter moved here: the first input takes the focus

    @property
    def anchor(self) -> str:
        return anchor(self.row.criterion.code)

    @property
    def form_id(self) -> str:
        return "f-" + self.anchor

    @property
    def value(self) -> str:
        if self.entry is not None:
            return self.entry.value
        return self.row.item.self_value if self.row.item else ""

    @property
    def not_applicable(self) -> bool:
        if self.entry is not None:
            return self.entry.not_applicable
        return bool(self.row.item and self.row.item.not_applicable)

    @property
    def invalid_value(self) -> bool:
        """The refused input is the value (or the N/A reason, when N/A was ticked)."""
        return bool(self.error) and not self.not_applicable

    @property
    def invalid_reason(self) -> bool:
        return bool(self.error) and self.not_applicable

    @property
    def na_reason(self) -> str:
        if self.entry is not None:
            return self.entry.na_reason
        return self.row.item.na_reason if self.row.item else ""


def field_url(assessment: UnitAssessment, code: str) -> str:
    return reverse("field_table", args=[assessment.round.year, assessment.unit.code, code])


def load_table(
    request: HttpRequest, assessment: UnitAssessment, code: str
) -> tuple[FieldTable, str | None]:
    role = access.unit_role(request.user, assessment)
    workspace = load_workspace(assessment, cast(User, request.user), role)
    table = field_table(workspace, code)
    if table is None:
        raise Http404
    if not assessment.is_open():
        for row in table.leaves:
            row.editable = False
    return table, role


def table_context(
    assessment: UnitAssessment, table: FieldTable, role: str | None, states: dict[str, TableRow]
) -> dict[str, Any]:
    return {
        "assessment": assessment,
        "table": table,
        "section": table.section,
        "rows": [states.get(row.criterion.code) or TableRow(row) for row in table.rows],
        "role": role,
        "is_open": assessment.is_open(),
        "can_edit_any": any(row.editable for row in table.leaves),
    }


@login_required
@require_GET
def field_table_view(request: HttpRequest, year: int, unit: str, code: str) -> HttpResponse:
    """Every leaf of one field with the input that fits its method."""
    assessment = access.get_assessment_for_user(request.user, year, unit)
    table, role = load_table(request, assessment, code)
    return render(
        request, "assessments/field_table.html", table_context(assessment, table, role, {})
    )


@login_required
@require_POST
def field_row_save(
    request: HttpRequest, year: int, unit: str, code: str, item_code: str
) -> HttpResponse:
    """Save one row, version-checked like the item page (409 on a conflict, 422 refused).

    htmx swaps the row (and the field's total); after Enter the next row comes back as the
    swapped element, with the saved row out of band, so the focus lands on the next input.
    Without JavaScript a save redirects back to the table at the row (or the next one).
    """
    assessment = access.get_assessment_for_user(request.user, year, unit)
    # A field of the unit's set (a top-level criterion) holding the item, checked before the
    # write: a sub-criterion's code in the URL would save, then find no table.
    if not (item_code == code or item_code.startswith(code + ".")) or not (
        assessment.criteria_set.criteria.filter(code=code, parent__isnull=True).exists()
    ):
        raise Http404
    item = access.get_item_for_edit(request.user, assessment, item_code)
    entry = entry_from(request.POST)
    expected = version_from(request.POST)
    status, error, conflict, saved = 200, "", "", False
    try:
        services.save_item(item, entry, by=cast(User, request.user), expected_version=expected)
        saved = True
    except services.Conflict as refused:
        conflict, status = refused.message, 409
    except services.ServiceError as refused:
        error, status = refused.message, 422
    table, role = load_table(request, assessment, code)
    current = next((row for row in table.leaves if row.criterion.code == item_code), None)
    if current is None:  # pragma: no cover - get_item_for_edit checked the same rules
        raise Http404
    then_next = request.POST.get("then") == THEN_NEXT
    following = table.next_after(item_code) if saved and then_next else None
    htmx = getattr(request, "htmx", False)
    if saved and not htmx:
        target = following or current
        return redirect(f"{field_url(assessment, code)}#{anchor(target.criterion.code)}")
    state = TableRow(
        current,
        entry=entry if error else None,
        typed=entry if conflict else None,
        error=error,
        conflict=conflict,
        saved=saved,
    )
    if not htmx:
        # A refused plain POST: the whole table again, the row as typed with the message.
        return render(
            request,
            "assessments/field_table.html",
            table_context(assessment, table, role, {item_code: state}),
            status=status,
        )
    context = table_context(assessment, table, role, {})
    if following is None:
        context.update({"state": state, "following": None})
        return render(request, "assessments/field_table.html#row_response", context, status=status)
    # After Enter: the next row is the swapped element, the saved row comes out of band.
    context.update({"state": TableRow(following, focus_input=True), "following": state})
    response = render(request, "assessments/field_table.html#row_response", context)
    response["HX-Retarget"] = "#" + anchor(following.criterion.code)
    response["HX-Reswap"] = "outerHTML"
    return response
