"""Every permission-checked lookup of the council's and the public pages (DESIGN §6).

An outsider asking for an object gets 404; an insider without the role gets 403. The §6
predicates on a unit's data live with that data, in ``assessments.access``.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from assessments import access as unit_access
from assessments.models import Round, UnitAssessment
from assessments.roles import Roles, get_roles
from assessments.states import COUNCIL_REVIEW

from . import services
from .models import ResultSnapshot
from .presentation import VERSION_PARAMETER


def require_council_reader(user: User | AnonymousUser) -> Roles:
    """Council members, the chair and the secretariat lead read the council's pages; every
    other signed-in account is an insider without the role (403)."""
    roles = get_roles(user)
    if not roles.is_council_reader:
        raise PermissionDenied
    return roles


def may_read_provisional(user: User | AnonymousUser, round_: Round) -> bool:
    """Provisional (unapproved) results of every unit: the secretariat lead and the chair at
    any time; council members once every unit is appraised (council review, §6); nobody
    else (appraisers and units read published results)."""
    roles = get_roles(user)
    if roles.is_secretariat_lead or roles.is_council_chair:
        return True
    return roles.is_council_member and not services.not_appraised(round_)


def get_round_for_council(user: User | AnonymousUser, year: int) -> Round:
    require_council_reader(user)
    try:
        return Round.objects.select_related("decision").get(year=year)
    except Round.DoesNotExist:
        raise Http404 from None


def council_reads_unit(roles: Roles, state: str) -> bool:
    """On the council's pages, the chair and the secretariat lead read a unit in any state;
    council members only during council review (§6), whatever other role they hold."""
    return roles.is_council_chair or roles.is_secretariat_lead or state in COUNCIL_REVIEW


def get_assessment_for_council(user: User | AnonymousUser, year: int, code: str) -> UnitAssessment:
    """A unit's assessment on the council's unit page.

    No role: 403; a unit's user: 404, the council's pages are not theirs; appraisers: 403; a council member reads a
    unit only once it is appraised (403 before, ``assessments.access``).
    """
    roles = get_roles(user)
    if roles.has_any and not roles.is_province_staff:
        raise Http404  # the council's pages are not the units' (their own unit included)
    require_council_reader(user)
    assessment = unit_access.get_assessment_for_user(user, year, code)
    if not council_reads_unit(roles, assessment.state):
        raise PermissionDenied
    return assessment


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


def published_or_404(request: HttpRequest, year: int) -> tuple[ResultSnapshot, ResultSnapshot]:
    """(the version to show, the current version) of a published round, or 404.

    ``?phien-ban=N`` reads an earlier published version (a correction keeps the old one
    readable, §5.3); an unknown or unpublished version is a 404 like an unknown round.
    """
    current = services.published_snapshot(year)
    if current is None:
        raise Http404(_("The results of this round have not been published."))
    wanted = request.GET.get(VERSION_PARAMETER, "")
    if not wanted:
        return current, current
    try:
        version = int(wanted)
    except ValueError:
        raise Http404(_("There is no such version of these results.")) from None
    if version == current.version:
        return current, current
    shown = ResultSnapshot.objects.filter(
        round_id=current.round_id, version=version, published_at__isnull=False
    ).first()
    if shown is None:
        raise Http404(_("There is no such version of these results."))
    return shown, current
