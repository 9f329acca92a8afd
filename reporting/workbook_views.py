"""Downloads of the round workbook (DESIGN §9): the secretariat's and the council's (every
sheet, provisional before approval) and the public one (published rankings and field scores)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from assessments.downloads import xlsx_response
from assessments.models import Round

from . import workbook
from .access import chosen_snapshot, may_read_provisional, published_or_404, require_council_reader
from .models import ResultSnapshot


@login_required
@require_GET
def round_workbook(request: HttpRequest, year: int) -> HttpResponse:
    """The secretariat lead and the council (members see provisional results only in council
    review, see ``may_read_provisional``). Appraisers, unit users and accounts without a
    role: 403; an unknown round: 404. ``?phien-ban=N`` picks a version."""
    roles = require_council_reader(request.user)
    round_ = Round.objects.filter(year=year).first()
    if round_ is None:
        raise Http404
    snapshots = list(ResultSnapshot.objects.filter(round=round_).order_by("-version"))
    shown = chosen_snapshot(snapshots, request.GET.get("phien-ban"))
    if shown is None and not may_read_provisional(request.user, round_):
        raise PermissionDenied
    source = workbook.staff_source(round_, shown, full_detail=roles.is_secretariat_lead)
    suffix = "tam-tinh" if shown is None else f"v{shown.version}"
    return xlsx_response(workbook.build(source), f"chi-so-cchc-{year}-{suffix}.xlsx")


@require_GET
def public_round_workbook(request: HttpRequest, year: int) -> HttpResponse:
    """A published round's rankings and field scores, exactly as published; 404 otherwise."""
    shown, current = published_or_404(request, year)
    name = f"chi-so-cchc-{year}" + ("" if shown.pk == current.pk else f"-v{shown.version}")
    return xlsx_response(workbook.build(workbook.public_source(shown, year)), f"{name}.xlsx")
