"""Appraisal, explanation and re-appraisal (DESIGN §5.2): every write and state transition.

Each function is atomic, re-reads the unit's assessment under a row lock, checks its state,
records an Event and notifies the people concerned after the commit.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments import results, scoring, states
from assessments.models import (
    AssessmentState,
    CriteriaSet,
    Criterion,
    Event,
    EventAction,
    Evidence,
    ItemScore,
    StaffMembership,
    StaffRole,
    Unit,
    UnitAssessment,
    UnitRole,
)
from assessments.services import (
    ItemInput,
    ServiceError,
    deadline_text,
    evaluate,
    lock_assessment,
    notify,
    secretariat_leads,
    transition,
    unit_members,
)

from .models import AppraiserAssignment, ExplanationRequest, Opinion

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def record(
    action: str,
    assessment: UnitAssessment,
    *,
    by: User | None,
    criterion: Criterion | None = None,
    **detail: Any,
) -> None:
    Event.objects.create(
        actor=by,
        action=action,
        round_id=assessment.round_id,
        unit_id=assessment.unit_id,
        criterion=criterion,
        reason=detail.pop("reason", ""),
        detail=detail,
    )


# --- appraiser assignment --------------------------------------------------------------------


@transaction.atomic
def assign_appraisers(
    criteria_set: CriteriaSet,
    field: Criterion,
    appraiser: User,
    *,
    by: User,
    units: Iterable[Unit] = (),
) -> AppraiserAssignment:
    """The secretariat lead gives an appraiser a field, for every unit or only some."""
    if field.criteria_set_id != criteria_set.pk or field.parent_id is not None:
        raise ServiceError(_("Choose a field (a top-level row) of this criteria set."))
    if not StaffMembership.objects.filter(user=appraiser, role=StaffRole.APPRAISER).exists():
        raise ServiceError(_("Only members of the appraisal team can be assigned."))
    assignment, _created = AppraiserAssignment.objects.update_or_create(
        criteria_set=criteria_set, field=field, appraiser=appraiser, defaults={"assigned_by": by}
    )
    chosen = [unit for unit in units if unit.group_id == criteria_set.group_id]
    assignment.units.set(chosen)
    Event.objects.create(
        actor=by,
        action=EventAction.APPRAISERS_ASSIGNED,
        round_id=criteria_set.round_id,
        criterion=field,
        detail={"appraiser": appraiser.username, "units": sorted(u.code for u in chosen)},
    )
    notify(
        [appraiser],
        _("[PAR index %(year)s] You appraise field %(code)s")
        % {"year": criteria_set.round.year, "code": field.code},
        _("You have been assigned to appraise field %(code)s “%(title)s” of %(group)s%(units)s.")
        % {
            "code": field.code,
            "title": field.title,
            "group": criteria_set.group.name,
            "units": (" (" + ", ".join(u.name for u in chosen) + ")") if chosen else "",
        },
        url=reverse(
            "appraisal_field", args=[criteria_set.round.year, criteria_set.group.code, field.code]
        ),
    )
    return assignment


# --- appraisal -------------------------------------------------------------------------------


def appraisal_state(item: ItemScore) -> dict[str, Any]:
    return {
        "value": item.appraisal1_value,
        "score": None if item.appraisal1_score is None else str(item.appraisal1_score),
        "not_applicable": item.appraisal1_na,
        "comment": item.appraisal1_comment,
        "explanation_required": item.explanation_required,
    }


def reappraisal_state(item: ItemScore) -> dict[str, Any]:
    return {
        "value": item.appraisal2_value,
        "score": None if item.appraisal2_score is None else str(item.appraisal2_score),
        "not_applicable": item.appraisal2_na,
        "comment": item.appraisal2_comment,
    }


def appraised_values(
    criterion: Criterion, value: str, not_applicable: bool, comment: str
) -> tuple[str, Any]:
    """The same checks as the unit's input (§4.1); an accepted N/A needs the reason."""
    if criterion.method == scoring.SURVEY:
        raise ServiceError(
            _("Item %(code)s is scored by the sociological survey, not appraised.")
            % {"code": criterion.code}
        )
    if not_applicable:
        entry = ItemInput(not_applicable=True, na_reason=comment)
    else:
        entry = ItemInput(value=value)
        if not value.strip():
            raise ServiceError(
                _("Item %(code)s: enter the appraised value, or accept the self score.")
                % {"code": criterion.code}
            )
    return evaluate(criterion, entry)


@transaction.atomic
def save_appraisal(
    item: ItemScore,
    *,
    by: User,
    value: str,
    not_applicable: bool = False,
    comment: str = "",
) -> ItemScore:
    """Round-1 appraisal of one item (or round 2 when the unit has explained, §5.2)."""
    assessment = lock_assessment(item.assessment)
    if assessment.state in states.REAPPRAISABLE:
        return _save_reappraisal(
            assessment, item, by=by, value=value, not_applicable=not_applicable, comment=comment
        )
    if assessment.state not in states.APPRAISABLE:
        raise ServiceError(
            _("%(unit)s is not open for appraisal (%(state)s).")
            % {"unit": assessment.unit.name, "state": assessment.get_state_display()}
        )
    current_item = ItemScore.objects.get(pk=item.pk)
    if current_item.appraisal2_at is not None:
        # Re-appraisal after the chair sent the unit back: the item's final score is its
        # round-2 score (§4.4), so that is the one to change.
        return _save_reappraisal(
            assessment, item, by=by, value=value, not_applicable=not_applicable, comment=comment
        )
    canonical, points = appraised_values(item.criterion, value, not_applicable, comment)
    if assessment.state == AssessmentState.SUBMITTED:
        transition(assessment, "start_appraisal", by=by)
    return write_appraisal(
        assessment,
        item,
        1,
        by=by,
        value=canonical,
        points=points,
        not_applicable=not_applicable,
        comment=comment,
    )


def write_appraisal(
    assessment: UnitAssessment,
    item: ItemScore,
    round_no: int,
    *,
    by: User,
    value: str,
    points: Any,
    not_applicable: bool,
    comment: str,
) -> ItemScore:
    """Store round 1 or round 2 of an item's appraisal and record old → new as an Event."""
    prefix = f"appraisal{round_no}_"
    state_of = appraisal_state if round_no == 1 else reappraisal_state
    old = state_of(ItemScore.objects.get(pk=item.pk))
    ItemScore.objects.filter(pk=item.pk).update(
        **{
            f"{prefix}value": value,
            f"{prefix}score": points,
            f"{prefix}na": not_applicable,
            f"{prefix}comment": comment.strip(),
            f"{prefix}at": timezone.now(),
            f"{prefix}by": by,
        },
        version=F("version") + 1,
    )
    saved = ItemScore.objects.select_related("criterion", f"{prefix}by").get(pk=item.pk)
    record(
        EventAction.APPRAISED if round_no == 1 else EventAction.REAPPRAISED,
        assessment,
        by=by,
        criterion=item.criterion,
        old=old,
        new=state_of(saved),
    )
    saved.assessment = assessment
    return saved


def _save_reappraisal(
    assessment: UnitAssessment,
    item: ItemScore,
    *,
    by: User,
    value: str,
    not_applicable: bool,
    comment: str,
) -> ItemScore:
    current = ItemScore.objects.get(pk=item.pk)
    if not current.explanation_required:
        raise ServiceError(
            _("Only items flagged for explanation are re-appraised in round 2; %(code)s was not.")
            % {"code": item.criterion.code}
        )
    canonical, points = appraised_values(item.criterion, value, not_applicable, comment)
    return write_appraisal(
        assessment,
        item,
        2,
        by=by,
        value=canonical,
        points=points,
        not_applicable=not_applicable,
        comment=comment,
    )


def accept_self_score(item: ItemScore, *, by: User, comment: str = "") -> ItemScore:
    """ "Accept the self score" in one click: the appraisal takes the unit's value or N/A."""
    if item.not_applicable:
        return save_appraisal(
            item, by=by, value="", not_applicable=True, comment=comment or item.na_reason
        )
    if item.self_score is None:
        raise ServiceError(
            _("Item %(code)s has no self score to accept; enter the appraised value.")
            % {"code": item.criterion.code}
        )
    return save_appraisal(item, by=by, value=item.self_value, comment=comment)


def acceptable(item: ItemScore, evidence_count: int) -> bool:
    """Whether bulk accept takes this item's self score: scored, not appraised yet, not a
    survey leaf, and with nothing left to prove under §7: N/A or 0 points, a criterion that
    does not require evidence, or at least one linked document. Points on a criterion that
    requires evidence without a document, even with a written reason, are left for a closer
    look (where the page shows "no evidence" red, bulk accept never takes the item)."""
    if item.is_appraised or item.criterion.method == scoring.SURVEY or not item.is_scored:
        return False
    return not item.has_points or not item.criterion.evidence_required or evidence_count > 0


@transaction.atomic
def bulk_accept(
    assessment: UnitAssessment,
    items: Sequence[ItemScore],
    evidence_counts: dict[int, int],
    *,
    by: User,
) -> int:
    """Accept every given item that :func:`acceptable` takes; the rest is left for a closer
    look."""
    accepted = 0
    for item in items:
        if acceptable(item, evidence_counts.get(item.pk, 0)):
            item.assessment = assessment
            accept_self_score(item, by=by)
            accepted += 1
    return accepted


@transaction.atomic
def flag_explanation(item: ItemScore, question: str, *, by: User) -> ItemScore:
    """Ask the unit to explain an item (round 1 only); an empty question removes the flag."""
    assessment = lock_assessment(item.assessment)
    if assessment.state not in states.APPRAISABLE:
        raise ServiceError(_("Explanations can only be requested during appraisal round 1."))
    if item.criterion.method == scoring.SURVEY:
        raise ServiceError(
            _("Item %(code)s is scored by the sociological survey, not appraised.")
            % {"code": item.criterion.code}
        )
    if assessment.state == AssessmentState.SUBMITTED:
        # A question to the unit starts the appraisal just as a first score does.
        transition(assessment, "start_appraisal", by=by)
    question = question.strip()
    if question:
        ExplanationRequest.objects.update_or_create(
            item=item, defaults={"question": question, "asked_by": by, "asked_at": timezone.now()}
        )
    else:
        ExplanationRequest.objects.filter(item=item).delete()
    ItemScore.objects.filter(pk=item.pk).update(explanation_required=bool(question))
    record(
        EventAction.EXPLANATION_FLAGGED,
        assessment,
        by=by,
        criterion=item.criterion,
        question=question,
    )
    item.explanation_required = bool(question)
    return item


def unappraised_items(items: QuerySet[ItemScore]) -> QuerySet[ItemScore]:
    """The self-assessed leaves of ``items`` that round 1 has not appraised yet: they stop
    :func:`finish_round1` (survey leaves are the survey's)."""
    return items.exclude(results.APPRAISED).exclude(criterion__method=scoring.SURVEY)


# Flagged for explanation (round 1 asked the unit), as a filter on ItemScore.
FLAGGED = Q(explanation_required=True)
# Flagged and not re-appraised yet (round 2's work), as a filter on ItemScore.
PENDING_REAPPRAISAL = FLAGGED & ~results.REAPPRAISED


def pending_reappraisal(items: QuerySet[ItemScore]) -> QuerySet[ItemScore]:
    """The leaves of ``items`` flagged for explanation and not re-appraised yet: round 1
    sends them to the unit, they stop :func:`finish_round2` (:data:`PENDING_REAPPRAISAL`)."""
    return items.filter(PENDING_REAPPRAISAL)


def unappraised(assessment: UnitAssessment) -> list[Criterion]:
    return [
        item.criterion
        for item in unappraised_items(ItemScore.objects.filter(assessment=assessment))
        .select_related("criterion")
        .order_by("criterion__position")
    ]


@transaction.atomic
def finish_round1(assessment: UnitAssessment, *, by: User) -> UnitAssessment:
    """The secretariat lead closes round 1: every leaf appraised; flagged items go to the unit."""
    locked = lock_assessment(assessment)
    if locked.state != AssessmentState.APPRAISING:
        raise ServiceError(
            _(
                "Round 1 of %(unit)s cannot be finished now (%(state)s); it may have been finished already."
            )
            % {"unit": locked.unit.name, "state": locked.get_state_display()}
        )
    missing = unappraised(locked)
    if missing:
        raise ServiceError(
            _("Round 1 cannot be finished: %(count)s item(s) are not appraised yet: %(codes)s.")
            % {"count": len(missing), "codes": ", ".join(c.code for c in missing)}
        )
    # Items explained and re-appraised before a send-back need no new explanation round.
    flagged = pending_reappraisal(ItemScore.objects.filter(assessment=locked)).count()
    deadline = locked.round.explanation_deadline
    if flagged and deadline is not None and timezone.now() >= deadline:
        raise ServiceError(
            _(
                "The explanation deadline (%(deadline)s) has passed, so the unit could not answer. Move the round's explanation deadline first, or remove the questions."
            )
            % {"deadline": deadline_text(deadline)}
        )
    transition(locked, "request_explanations" if flagged else "finish_round1", by=by)
    url = reverse(
        "unit_explanations" if flagged else "unit_workspace",
        args=[locked.round.year, locked.unit.code],
    )
    if flagged:
        body = _(
            "Appraisal round 1 of %(unit)s is finished. %(count)s item(s) need your explanation before %(deadline)s."
        ) % {
            "unit": locked.unit.name,
            "count": flagged,
            "deadline": deadline_text(locked.round.explanation_deadline),
        }
        subject = _("[PAR index %(year)s] Explanation requested") % {"year": locked.round.year}
    else:
        body = _("Appraisal of %(unit)s is finished; the appraised scores are in the portal.") % {
            "unit": locked.unit.name
        }
        subject = _("[PAR index %(year)s] Appraisal round 1 finished") % {"year": locked.round.year}
    notify(unit_members(locked.unit, UnitRole.LEADER, UnitRole.FOCAL), subject, body, url=url)
    return locked


# --- explanation -----------------------------------------------------------------------------


def check_explanation_open(
    assessment: UnitAssessment, now: datetime.datetime | None = None
) -> None:
    now = now or timezone.now()
    if assessment.state != AssessmentState.EXPLANATION_REQUESTED:
        raise ServiceError(
            _("Explanations are not open for %(unit)s.") % {"unit": assessment.unit.name}
        )
    deadline = assessment.round.explanation_deadline
    if deadline is not None and now >= deadline:
        raise ServiceError(
            _("The explanation deadline (%(deadline)s) has passed.")
            % {"deadline": deadline_text(deadline)}
        )


@transaction.atomic
def answer_explanation(
    item: ItemScore, answer: str, *, by: User, evidence: Iterable[Evidence] = ()
) -> ExplanationRequest:
    """The unit answers one flagged question, with supplementary evidence from its library."""
    assessment = lock_assessment(item.assessment)
    check_explanation_open(assessment)
    request = ExplanationRequest.objects.filter(item_id=item.pk).first()
    if (
        request is None
        or not ItemScore.objects.filter(pk=item.pk, explanation_required=True).exists()
    ):
        raise ServiceError(
            _("Item %(code)s was not flagged for explanation; only flagged items are answered.")
            % {"code": item.criterion.code}
        )
    if not answer.strip():
        raise ServiceError(
            _("Write the explanation for item %(code)s.") % {"code": item.criterion.code}
        )
    documents = [
        d for d in evidence if d.unit_id == assessment.unit_id and d.round_id == assessment.round_id
    ]
    request.answer = answer.strip()
    request.answered_by = by
    request.answered_at = timezone.now()
    request.save(update_fields=["answer", "answered_by", "answered_at"])
    request.evidence.set(documents)
    record(
        EventAction.EXPLANATION_ANSWERED,
        assessment,
        by=by,
        criterion=item.criterion,
        answer=request.answer,
        evidence=[d.pk for d in documents],
    )
    return request


@transaction.atomic
def submit_explanations(assessment: UnitAssessment, *, by: User) -> UnitAssessment:
    """The unit leader sends every answer at once (§5.2 explanation_requested → explained)."""
    locked = lock_assessment(assessment)
    check_explanation_open(locked)
    unanswered = list(
        ExplanationRequest.objects.unanswered()
        .filter(item__assessment=locked)
        .select_related("item__criterion")
        .order_by("item__criterion__position")
    )
    if unanswered:
        raise ServiceError(
            _("Answer every question before submitting; still open: %(codes)s.")
            % {"codes": ", ".join(r.item.criterion.code for r in unanswered)}
        )
    transition(locked, "submit_explanations", by=by)
    notify_explained(locked)
    return locked


def notify_explained(assessment: UnitAssessment) -> None:
    flagged_fields = {
        code.split(".")[0]
        for code in ItemScore.objects.filter(
            assessment=assessment, explanation_required=True
        ).values_list("criterion__code", flat=True)
    }
    appraisers = [
        a.appraiser
        for a in AppraiserAssignment.objects.filter(
            criteria_set_id=assessment.criteria_set_id, field__code__in=flagged_fields
        ).select_related("appraiser")
    ]
    notify(
        [*secretariat_leads(), *appraisers],
        _("[PAR index %(year)s] %(unit)s submitted its explanations")
        % {"year": assessment.round.year, "unit": assessment.unit.name},
        _("%(unit)s has answered the explanation requests; the flagged items can be re-appraised.")
        % {"unit": assessment.unit.name},
        url=reverse("appraisal_unit", args=[assessment.round.year, assessment.unit.code]),
    )


def lock_explanations(now: datetime.datetime | None = None) -> int:
    """At the explanation deadline, whatever was answered goes to round 2 (§5.2). Idempotent."""
    now = now or timezone.now()
    count = 0
    due = UnitAssessment.objects.filter(
        state=AssessmentState.EXPLANATION_REQUESTED, round__explanation_deadline__lte=now
    ).select_related("round", "unit")
    for assessment in due:
        with transaction.atomic():
            if transition(assessment, "lock_explanations", by=None, refuse=False):
                notify_explained(assessment)
                count += 1
    return count


# --- round 2 ---------------------------------------------------------------------------------


@transaction.atomic
def finish_round2(assessment: UnitAssessment, *, by: User) -> UnitAssessment:
    """The secretariat lead closes round 2 once every flagged item is re-appraised."""
    locked = lock_assessment(assessment)
    if locked.state != AssessmentState.EXPLAINED:
        raise ServiceError(
            _(
                "Round 2 of %(unit)s cannot be finished now (%(state)s); it may have been finished already."
            )
            % {"unit": locked.unit.name, "state": locked.get_state_display()}
        )
    missing = [
        item.criterion.code
        for item in pending_reappraisal(ItemScore.objects.filter(assessment=locked)).select_related(
            "criterion"
        )
    ]
    if missing:
        raise ServiceError(
            _("Round 2 cannot be finished: flagged item(s) %(codes)s are not re-appraised yet.")
            % {"codes": ", ".join(sorted(missing))}
        )
    transition(locked, "finish_round2", by=by)
    notify(
        unit_members(locked.unit, UnitRole.LEADER, UnitRole.FOCAL),
        _("[PAR index %(year)s] Appraisal finished") % {"year": locked.round.year},
        _(
            "Appraisal round 2 of %(unit)s is finished; the final appraised scores are in the portal."
        )
        % {"unit": locked.unit.name},
        url=reverse("unit_workspace", args=[locked.round.year, locked.unit.code]),
    )
    return locked


# --- council review (§5.3) -------------------------------------------------------------------


@transaction.atomic
def record_opinion(
    assessment: UnitAssessment, *, by: User, agrees: bool, note: str = ""
) -> Opinion:
    """A council member agrees or disagrees (with a note) with a unit's appraised result."""
    locked = lock_assessment(assessment)
    if locked.state not in states.AWAITING_COUNCIL:
        raise ServiceError(
            _(
                "Opinions are recorded while the council reviews appraised results; %(unit)s is %(state)s."
            )
            % {"unit": locked.unit.name, "state": locked.get_state_display()}
        )
    if not agrees and not note.strip():
        raise ServiceError(_("Say why you disagree in the note."))
    opinion, _created = Opinion.objects.update_or_create(
        assessment=locked,
        member=by,
        defaults={"agrees": agrees, "note": note.strip(), "updated_at": timezone.now()},
    )
    return opinion


@transaction.atomic
def send_back(assessment: UnitAssessment, *, by: User, reason: str) -> UnitAssessment:
    """The council chair sends an appraised unit back for re-appraisal (§5.2)."""
    locked = lock_assessment(assessment)
    if not reason.strip():
        raise ServiceError(_("Give the reason for sending the unit back for re-appraisal."))
    if locked.state != AssessmentState.APPRAISED:
        raise ServiceError(
            _("Only an appraised unit can be sent back; %(unit)s is %(state)s.")
            % {"unit": locked.unit.name, "state": locked.get_state_display()}
        )
    transition(locked, "send_back", by=by, reason=reason.strip())
    notify(
        secretariat_leads(),
        _("[PAR index %(year)s] %(unit)s sent back for re-appraisal")
        % {"year": locked.round.year, "unit": locked.unit.name},
        _("The council chair sent %(unit)s back for re-appraisal: %(reason)s")
        % {"unit": locked.unit.name, "reason": reason.strip()},
        url=reverse("appraisal_unit", args=[locked.round.year, locked.unit.code]),
    )
    return locked
