"""Downloads of the round workbook (DESIGN §9): the secretariat's and the council's (every
sheet, provisional before approval) and the public one (published rankings and field scores)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from assessments.models import Round
from assessments.roles import get_roles

from . import workbook
from .council_views import chosen_snapshot
from .models import ResultSnapshot
from .public_views import published_or_404

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def round_workbook(request: HttpRequest, year: int) -> HttpResponse:
    """Every province-level role: the secretariat lead, appraisers (secretariat staff who
    read every unit's items anyway, §6), council members and the chair. Unit users and
    accounts without a role: 403; an unknown round: 404. ``?phien-ban=N`` picks a version."""
    roles = get_roles(request.user)
    if not roles.is_province_staff:
        raise PermissionDenied
    round_ = Round.objects.filter(year=year).first()
    if round_ is None:
        raise Http404
    snapshots = list(ResultSnapshot.objects.filter(round=round_).order_by("-version"))
    shown = chosen_snapshot(snapshots, request.GET.get("phien-ban"))
    source = workbook.staff_source(
        round_, shown, full_detail=roles.is_secretariat_lead or roles.is_appraiser
    )
    suffix = "tam-tinh" if shown is None else f"v{shown.version}"
    return xlsx_response(workbook.build(source), f"chi-so-cchc-{year}-{suffix}.xlsx")


@require_GET
def public_round_workbook(request: HttpRequest, year: int) -> HttpResponse:
    """A published round's rankings and field scores, exactly as published; 404 otherwise."""
    shown, current = published_or_404(request, year)
    name = f"chi-so-cchc-{year}" + ("" if shown.pk == current.pk else f"-v{shown.version}")
    return xlsx_response(workbook.build(workbook.public_source(shown, year)), f"{name}.xlsx")
