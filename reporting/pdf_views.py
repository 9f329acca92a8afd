"""Downloads of the PDF reports (DESIGN §9) and the secretariat's zip of every unit.

Who reads what (§6):

- province report and decision annex: the secretariat lead and the council (members, chair) at
  any time — the latest snapshot once approved, provisional results before; anybody, without
  login, for a published round (``?cong-khai=1``, or automatically for a visitor who is not a
  council reader): the latest published snapshot, 404 while the round is unpublished;
- a unit's self-assessment report: the unit's own members and province staff
  (``get_assessment_for_user``: another unit 404, no role 403);
- a unit's scorecard: the same people — province staff at any time, the unit's members once
  the round is approved (its rank depends on the other units' results, which a unit never sees
  unapproved, §6) — and anybody for a published round;
- the zip of every unit: the secretariat lead and the council.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from assessments import access as unit_access
from assessments import downloads
from assessments.downloads import PDF
from assessments.models import Round
from assessments.roles import get_roles

from . import pdf
from .access import may_read_provisional, published_or_404, require_council_reader
from .models import ResultSnapshot

PUBLIC_PARAMETER = "cong-khai"


def attachment(content: bytes, filename: str, content_type: str = PDF) -> HttpResponse:
    return downloads.attachment(content, filename, content_type)


def wants_public(request: HttpRequest) -> bool:
    return bool(request.GET.get(PUBLIC_PARAMETER)) or not request.user.is_authenticated


def public_round_source(request: HttpRequest, year: int) -> pdf.Source:
    """The published version (``?phien-ban=N`` as on the public pages), else 404."""
    shown, _current = published_or_404(request, year)
    shown = ResultSnapshot.objects.select_related("round").get(pk=shown.pk)
    return pdf.public_source(shown)


def round_report_source(request: HttpRequest, year: int) -> pdf.Source:
    """Council readers get the internal version; everyone else the published one.

    An appraiser (province staff without a council role) asking for an unpublished round is an
    insider without the role (403); anybody else gets 404, as on the public pages.
    """
    if wants_public(request):
        return public_round_source(request, year)
    roles = get_roles(request.user)
    if roles.is_council_reader:
        round_ = Round.objects.filter(year=year).first()
        if round_ is None:
            raise Http404
        source = pdf.staff_source(round_)
        if source.provisional and not may_read_provisional(request.user, round_):
            raise PermissionDenied
        return source
    try:
        return public_round_source(request, year)
    except Http404:
        if roles.is_province_staff and Round.objects.filter(year=year).exists():
            raise PermissionDenied from None
        raise


@require_GET
def pdf_province_report(request: HttpRequest, year: int) -> HttpResponse:
    source = round_report_source(request, year)
    suffix = "-tam-tinh" if source.provisional else ""
    return attachment(pdf.province_report(source, request), f"bao-cao-tinh-{year}{suffix}.pdf")


@require_GET
def pdf_decision_annex(request: HttpRequest, year: int) -> HttpResponse:
    source = round_report_source(request, year)
    suffix = "-tam-tinh" if source.provisional else ""
    return attachment(pdf.decision_annex(source, request), f"phu-luc-quyet-dinh-{year}{suffix}.pdf")


@require_GET
def pdf_scorecard(request: HttpRequest, year: int, unit: str) -> HttpResponse:
    if wants_public(request):
        source = public_round_source(request, year)
    else:
        try:
            assessment = unit_access.get_assessment_for_user(request.user, year, unit)
        except (Http404, PermissionDenied):
            # Published results are for everybody: an outsider gets the public scorecard.
            if ResultSnapshot.objects.filter(round__year=year, published_at__isnull=False).exists():
                source = public_round_source(request, year)
            else:
                raise
        else:
            roles = get_roles(request.user)
            is_council = roles.is_council_reader
            source = pdf.staff_source(assessment.round)
            if source.provisional and not may_read_provisional(request.user, assessment.round):
                raise PermissionDenied(
                    _("The scorecard is available once the council approves the results.")
                )
            if not is_council:
                # A rank depends on every other unit: units and appraisers read the scorecard
                # once the results are published (§6).
                source = public_round_source(request, year)
    found = pdf.find_unit(source.data, unit)
    if found is None:
        raise Http404
    group, entry = found
    suffix = "-tam-tinh" if source.provisional else ""
    return attachment(
        pdf.scorecard(source, group, entry, request),
        f"phieu-ket-qua-{entry['code']}-{year}{suffix}.pdf",
    )


@login_required
@require_GET
def pdf_self_assessment(request: HttpRequest, year: int, unit: str) -> HttpResponse:
    assessment = unit_access.get_assessment_for_user(request.user, year, unit)
    return attachment(
        pdf.self_assessment(assessment, request),
        f"tu-danh-gia-{assessment.unit.code}-{year}.pdf",
    )


@login_required
@require_GET
def pdf_all_units_zip(request: HttpRequest, year: int) -> HttpResponse:
    require_council_reader(request.user)
    round_ = Round.objects.filter(year=year).first()
    if round_ is None:
        raise Http404
    source = pdf.staff_source(round_)
    if source.provisional and not may_read_provisional(request.user, round_):
        raise PermissionDenied
    suffix = "-tam-tinh" if source.provisional else ""
    return attachment(
        pdf.all_units_zip(source, request),
        f"chi-so-cchc-{year}-tat-ca-don-vi{suffix}.zip",
        content_type="application/zip",
    )
