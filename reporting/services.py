"""Approval, publication and correction of a round's results (DESIGN §5.3).

Approval freezes a ``ResultSnapshot`` (version 1) and moves every unit to ``approved``; after
that no score can change through any path, because every writer of scores (the unit, the
appraisers, the workbook import) requires an earlier state. Publication makes the snapshot
public. A correction is a new snapshot version with a reason; earlier versions stay readable.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments import results
from assessments.models import (
    CriteriaSet,
    Event,
    EventAction,
    Round,
    Unit,
    UnitAssessment,
    UnitRole,
)
from assessments.services import (
    ServiceError,
    notify,
    secretariat_leads,
    transition_round,
    unit_members,
)
from assessments.states import AWAITING_COUNCIL
from councils.models import Decision

from .models import ResultSnapshot

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def locked_round(round_: Round) -> Round:
    return Round.objects.select_for_update().get(pk=round_.pk)


def not_appraised(round_: Round) -> list[str]:
    """Units of the round that stop approval: every assessment of the round must be
    appraised; until ``lock_deadlines`` has closed the round's roll (``units_locked_at``),
    units of its groups that never started count too."""
    states = dict(UnitAssessment.objects.filter(round=round_).values_list("unit_id", "state"))
    names = dict(Unit.objects.filter(pk__in=states).values_list("pk", "name"))
    missing = [names[pk] for pk, state in states.items() if state not in AWAITING_COUNCIL]
    if round_.units_locked_at is None:
        group_ids = CriteriaSet.objects.filter(round=round_).values_list("group_id", flat=True)
        missing += list(
            Unit.objects.filter(group_id__in=group_ids, is_active=True)
            .exclude(pk__in=states)
            .values_list("name", flat=True)
        )
    return sorted(missing)


@transaction.atomic
def approve_round(
    round_: Round,
    *,
    by: User,
    number: str,
    date: datetime.date,
    signer: str,
    signed_pdf: UploadedFile | None = None,
) -> ResultSnapshot:
    """The chair approves when every unit is appraised: decision, snapshot v1, states."""
    round_ = locked_round(round_)
    if ResultSnapshot.objects.filter(round=round_).exists():
        raise ServiceError(_("Round %(year)s has already been approved.") % {"year": round_.year})
    # Lock every assessment of the round: a send-back cannot slip in between the check and
    # the state change.
    appraised = list(
        UnitAssessment.objects.select_for_update()
        .filter(round=round_, state__in=AWAITING_COUNCIL)
        .values_list("pk", flat=True)
    )
    missing = not_appraised(round_)
    if missing:
        raise ServiceError(
            _(
                "Round %(year)s cannot be approved yet: %(count)s unit(s) are not appraised: %(units)s."
            )
            % {"year": round_.year, "count": len(missing), "units": ", ".join(missing)}
        )
    if not number.strip() or not signer.strip():
        raise ServiceError(_("Give the decision number and the name of the signer."))
    decision = Decision(
        round=round_, number=number.strip(), date=date, signer=signer.strip(), approved_by=by
    )
    if signed_pdf is not None:
        if not signed_pdf.read(5).startswith(b"%PDF-"):
            raise ServiceError(_("The signed decision must be a PDF file."))
        signed_pdf.seek(0)
        decision.signed_pdf.save(signed_pdf.name or "quyet-dinh.pdf", signed_pdf, save=False)
    decision.save()
    changed = transition_round(round_, "approve", pks=appraised)
    if changed != len(appraised):  # pragma: no cover - the row locks make this unreachable
        raise ServiceError(_("A unit changed state during the approval; try again."))
    # The roll of units is closed: lock_deadlines adds no unit to an approved round.
    Round.objects.filter(pk=round_.pk).update(
        units_locked_at=round_.units_locked_at or timezone.now()
    )
    data = results.as_json(results.compute(round_, provisional=False))
    snapshot = ResultSnapshot.objects.create(round=round_, version=1, data=data, created_by=by)
    Event.objects.create(
        actor=by,
        action=EventAction.ROUND_APPROVED,
        round=round_,
        detail={
            "decision": decision.number,
            "date": date.isoformat(),
            "units": changed,
            "snapshot": 1,
        },
    )
    notify(
        secretariat_leads(),
        _("[PAR index %(year)s] Results approved") % {"year": round_.year},
        _("The council chair approved the results of round %(year)s (decision %(number)s).")
        % {"year": round_.year, "number": decision.number},
        url=reverse("council_round", args=[round_.year]),
    )
    return snapshot


@transaction.atomic
def publish_round(round_: Round, *, by: User) -> ResultSnapshot:
    """Make the latest snapshot public; the round then appears under /cong-khai/."""
    round_ = locked_round(round_)
    snapshot = ResultSnapshot.objects.filter(round=round_).order_by("-version").first()
    if snapshot is None:
        raise ServiceError(
            _("Round %(year)s must be approved before it is published.") % {"year": round_.year}
        )
    if snapshot.published_at is not None:
        raise ServiceError(_("Round %(year)s is already published.") % {"year": round_.year})
    ResultSnapshot.objects.filter(pk=snapshot.pk).update(published_at=timezone.now())
    transition_round(round_, "publish")
    Event.objects.create(
        actor=by,
        action=EventAction.ROUND_PUBLISHED,
        round=round_,
        detail={"snapshot": snapshot.version},
    )
    people = []
    for assessment in UnitAssessment.objects.filter(round=round_).select_related("unit"):
        people += unit_members(assessment.unit, UnitRole.LEADER, UnitRole.FOCAL)
    notify(
        people,
        _("[PAR index %(year)s] Results published") % {"year": round_.year},
        _("The PAR index results of round %(year)s have been published.") % {"year": round_.year},
        url=reverse("public_round", args=[round_.year]),
    )
    snapshot.refresh_from_db()
    return snapshot


@transaction.atomic
def correct_results(round_: Round, *, by: User, reason: str) -> ResultSnapshot:
    """A new snapshot version with a reason; earlier versions stay readable. Published
    rounds publish the correction at once."""
    round_ = locked_round(round_)
    latest = ResultSnapshot.objects.filter(round=round_).order_by("-version").first()
    if latest is None:
        raise ServiceError(
            _("Round %(year)s has not been approved; there is nothing to correct.")
            % {"year": round_.year}
        )
    if not reason.strip():
        raise ServiceError(_("Give the reason for the correction."))
    data = results.as_json(results.compute(round_, provisional=False))
    snapshot = ResultSnapshot.objects.create(
        round=round_,
        version=latest.version + 1,
        data=data,
        reason=reason.strip(),
        created_by=by,
        published_at=timezone.now() if latest.published_at else None,
    )
    Event.objects.create(
        actor=by,
        action=EventAction.RESULTS_CORRECTED,
        round=round_,
        reason=reason.strip(),
        detail={"old": latest.version, "new": snapshot.version},
    )
    return snapshot


def published_snapshot(year: int) -> ResultSnapshot | None:
    """The latest published version of a round, or None (the public sees only these)."""
    return (
        ResultSnapshot.objects.filter(round__year=year, published_at__isnull=False)
        .order_by("-version")
        .first()
    )
