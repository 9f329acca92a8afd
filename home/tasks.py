"""What each person must do now (DESIGN §11): every role's tasks, in which round, by when,
with the link that does it; and every round the person can act on, one click away.

The rules are the workflow apps' own — the state sets of ``assessments.states``, "scored" and
"lacks evidence" of the results ledger and the services, "ready for approval" of
``reporting.services.not_appraised``; this module only counts them for one person. A fixed
number of queries per role, whatever the number of units (counts are aggregated in the
database; a unit user's items are those of the few units they belong to).
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessments import scoring, services
from assessments.access import is_assigned
from assessments.models import (
    AssessmentState,
    Assignment,
    CriteriaSet,
    ItemScore,
    Round,
    Unit,
    UnitAssessment,
    UnitRole,
)
from assessments.roles import Roles
from assessments.rounds import round_stage, state_counts
from assessments.states import APPRAISABLE, AWAITING_COUNCIL, EXPLAINING, FINAL, IN_APPRAISAL
from assessments.templatetags.portal import time_left
from assessments.workspace import FILTER_MINE, FILTER_MISSING, FILTER_NO_EVIDENCE
from councils.models import ExplanationRequest
from councils.services import unappraised_items
from councils.worklists import appraiser_tasks
from reporting.models import ResultSnapshot
from reporting.services import not_appraised

S = AssessmentState


@dataclass(frozen=True)
class Task:
    """One line of a home page. ``urgent``: this person must act now; ``done``: information
    only, nothing to do."""

    year: int
    title: str
    detail: str = ""
    url: str = ""
    button: str = ""
    urgent: bool = False
    done: bool = False


@dataclass
class UnitCard:
    unit: Unit
    role: str
    tasks: list[Task] = field(default_factory=list)
    criteria: list[tuple[int, str]] = field(default_factory=list)  # (year, criteria page)

    @property
    def role_label(self) -> str:
        return str(UnitRole(self.role).label)


@dataclass
class RoundLine:
    """A round with its stage and the pages this person can open for it."""

    round: Round
    stage: str
    links: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Home:
    units: list[UnitCard] = field(default_factory=list)
    staff: list[Task] = field(default_factory=list)
    rounds: list[RoundLine] = field(default_factory=list)

    @property
    def urgent(self) -> list[Task]:
        found = [t for t in self.staff if t.urgent]
        return found + [t for card in self.units for t in card.tasks if t.urgent]


def by_deadline(deadline: datetime.datetime | None) -> str:
    if deadline is None:
        return ""
    return _("Deadline: %(when)s (%(left)s left).") % {
        "when": services.deadline_text(deadline),
        "left": time_left(deadline),
    }


# --- unit users ---------------------------------------------------------------------------


@dataclass
class _Progress:
    leaves: int = 0
    unscored: int = 0
    missing_evidence: int = 0
    mine: int = 0
    mine_unscored: int = 0


def _progress(user: User, open_ids: list[int]) -> dict[int, _Progress]:
    """Per open draft: unscored self-assessed leaves, leaves lacking evidence (§7), and the
    user's assigned leaves (two queries)."""
    progress: dict[int, _Progress] = defaultdict(_Progress)
    if not open_ids:
        return progress
    mine: dict[int, set[str]] = defaultdict(set)
    for assessment_id, code in Assignment.objects.filter(
        assessment_id__in=open_ids, assignee_id=user.pk
    ).values_list("assessment_id", "criterion__code"):
        mine[assessment_id].add(code)
    items = (
        ItemScore.objects.filter(assessment_id__in=open_ids)
        .select_related("criterion")
        .annotate(n_evidence=Count("evidence_links"))
    )
    for item in items:
        if item.criterion.method == scoring.SURVEY:
            continue
        entry = progress[item.assessment_id]
        scored = item.is_scored
        entry.leaves += 1
        entry.unscored += not scored
        entry.missing_evidence += services.lacks_evidence(item.criterion, item, item.n_evidence)
        if is_assigned(item.criterion.code, mine[item.assessment_id]):
            entry.mine += 1
            entry.mine_unscored += not scored
    return progress


def _open_requests(explaining_ids: list[int]) -> dict[int, int]:
    """Per assessment, its unanswered explanation requests (one query)."""
    if not explaining_ids:
        return {}
    return dict(
        ExplanationRequest.objects.unanswered()
        .filter(item__assessment_id__in=explaining_ids)
        .values("item__assessment_id")
        .annotate(n=Count("pk"))
        .values_list("item__assessment_id", "n")
    )


def unit_cards(user: User, roles: Roles, now: datetime.datetime) -> list[UnitCard]:
    """One card per unit the user belongs to, with a task per round open to units."""
    pairs = roles.unit_roles()
    if not pairs:
        return []
    sets = (
        CriteriaSet.objects.filter(
            group_id__in=roles.group_ids, round__opens_at__isnull=False, round__opens_at__lte=now
        )
        .select_related("round", "group")
        .order_by("-round__year")
    )
    rounds_of: dict[int, list[Round]] = defaultdict(list)
    rounds: dict[int, Round] = {}
    criteria: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for criteria_set in sets:
        rounds_of[criteria_set.group_id].append(criteria_set.round)
        criteria[criteria_set.group_id].append(
            (
                criteria_set.round.year,
                reverse("criteria_detail", args=[criteria_set.round.year, criteria_set.group.code]),
            )
        )
        rounds[criteria_set.round_id] = criteria_set.round
    assessments = {
        (a.unit_id, a.round_id): a
        for a in UnitAssessment.objects.filter(
            unit_id__in=[u.pk for u, _r in pairs], round_id__in=list(rounds)
        )
    }
    for assessment in assessments.values():
        assessment.round = rounds[assessment.round_id]  # the deadline reads the round
    open_ids = [a.pk for a in assessments.values() if a.state == S.DRAFT and a.is_open(now)]
    explaining = [a.pk for a in assessments.values() if a.state in EXPLAINING]
    progress = _progress(user, open_ids)
    requests = _open_requests(explaining)
    cards = []
    for unit, role in pairs:
        card = UnitCard(unit, role, criteria=criteria.get(unit.group_id, [])[:1])
        for round_ in rounds_of.get(unit.group_id, []):
            found = assessments.get((unit.pk, round_.pk))
            card.tasks.append(
                _unit_task(unit, role, round_, found, now, progress, requests, open_ids)
            )
        cards.append(card)
    return cards


def _unit_task(  # one branch per state of §5.2, read top to bottom
    unit: Unit,
    role: str,
    round_: Round,
    assessment: UnitAssessment | None,
    now: datetime.datetime,
    progress: dict[int, _Progress],
    open_requests: dict[int, int],
    open_ids: list[int],
) -> Task:
    year = round_.year
    workspace = reverse("unit_workspace", args=[year, unit.code])
    sign_off = reverse("sign_off", args=[year, unit.code])
    if assessment is None:
        deadline = round_.self_assessment_deadline
        if deadline is not None and deadline <= now:
            return Task(year, _("The self-assessment deadline has passed."), done=True)
        return Task(
            year,
            _("The self-assessment is open: start it."),
            by_deadline(deadline),
            workspace,
            _("Start the self-assessment"),
            urgent=role != UnitRole.LEADER,
        )
    state = assessment.state
    if state == S.DRAFT and assessment.pk not in open_ids:
        return Task(
            year,
            _("The self-assessment deadline has passed and it was not submitted."),
            _("Ask the secretariat (Department of Home Affairs) for an extension."),
            workspace,
            _("Open"),
            done=True,
        )
    if state == S.DRAFT:
        entry = progress[assessment.pk]
        due = by_deadline(assessment.deadline)
        if role == UnitRole.CONTRIBUTOR:
            if not entry.mine:
                return Task(year, _("No item is assigned to you yet."), due, done=True)
            return Task(
                year,
                ngettext(
                    "%(n)s item is assigned to you, %(left)s still unscored.",
                    "%(n)s items are assigned to you, %(left)s still unscored.",
                    entry.mine,
                )
                % {"n": entry.mine, "left": entry.mine_unscored},
                due,
                f"{workspace}?loc={FILTER_MINE}",
                _("Fill my items"),
                urgent=bool(entry.mine_unscored),
                done=not entry.mine_unscored,
            )
        if role == UnitRole.LEADER:
            if assessment.sent_to_leader_at:
                return Task(
                    year,
                    _("The self-assessment waits for your signature."),
                    _("Sent to you at %(when)s. %(deadline)s")
                    % {
                        "when": services.deadline_text(assessment.sent_to_leader_at),
                        "deadline": due,
                    },
                    sign_off,
                    _("Review and submit"),
                    urgent=True,
                )
            return Task(
                year,
                _("Your unit is scoring: %(done)s of %(all)s items scored.")
                % {"done": entry.leaves - entry.unscored, "all": entry.leaves},
                due,
                sign_off,
                _("Summary and sign-off"),
            )
        if entry.unscored:
            return Task(
                year,
                ngettext(
                    "Score the %(n)s item still unscored.",
                    "Score the %(n)s items still unscored.",
                    entry.unscored,
                )
                % {"n": entry.unscored},
                " ".join(
                    filter(
                        None,
                        [
                            ngettext(
                                "%(n)s scored item has no evidence document and no explanation.",
                                "%(n)s scored items have no evidence document and no explanation.",
                                entry.missing_evidence,
                            )
                            % {"n": entry.missing_evidence}
                            if entry.missing_evidence
                            else "",
                            due,
                        ],
                    )
                ),
                f"{workspace}?loc={FILTER_MISSING}",
                _("Continue the self-assessment"),
                urgent=True,
            )
        if entry.missing_evidence:
            return Task(
                year,
                ngettext(
                    "Add evidence or an explanation to %(n)s item.",
                    "Add evidence or an explanation to %(n)s items.",
                    entry.missing_evidence,
                )
                % {"n": entry.missing_evidence},
                due,
                f"{workspace}?loc={FILTER_NO_EVIDENCE}",
                _("Show these items"),
                urgent=True,
            )
        if assessment.sent_to_leader_at:
            return Task(
                year,
                _("Sent to the leader at %(when)s; waiting for the signature.")
                % {"when": services.deadline_text(assessment.sent_to_leader_at)},
                due,
                sign_off,
                _("Summary and sign-off"),
                done=True,
            )
        return Task(
            year,
            _("Every item is scored: send the self-assessment to the leader."),
            due,
            sign_off,
            _("Send to the leader"),
            urgent=True,
        )
    if state in APPRAISABLE:
        return Task(
            year,
            _("Submitted at %(when)s; the secretariat is appraising it.")
            % {"when": services.deadline_text(assessment.submitted_at)},
            "",
            workspace,
            _("Open"),
            done=True,
        )
    if state in EXPLAINING:
        n = open_requests.get(assessment.pk, 0)
        due = by_deadline(round_.explanation_deadline)
        explanations = reverse("unit_explanations", args=[year, unit.code])
        if role == UnitRole.CONTRIBUTOR:
            return Task(
                year,
                _("The secretariat asked your unit for explanations."),
                due,
                workspace,
                _("Open"),
                done=True,
            )
        if n:
            return Task(
                year,
                ngettext(
                    "Answer %(n)s explanation request.", "Answer %(n)s explanation requests.", n
                )
                % {"n": n},
                due,
                explanations,
                _("Answer the requests"),
                urgent=True,
            )
        if role == UnitRole.LEADER:
            return Task(
                year,
                _("Every explanation request is answered: submit the explanations."),
                due,
                explanations,
                _("Review and submit the explanations"),
                urgent=True,
            )
        return Task(
            year,
            _("Every explanation request is answered; the leader submits them."),
            due,
            explanations,
            _("Open"),
            done=True,
        )
    if state == S.EXPLAINED:
        return Task(
            year,
            _("Explanations sent; the secretariat appraises them in round 2."),
            "",
            workspace,
            _("See the appraised result"),
            done=True,
        )
    if state == S.APPRAISED:
        return Task(
            year,
            _("Appraisal finished; the council reviews the results."),
            "",
            workspace,
            _("See the appraised result"),
            done=True,
        )
    if state == S.APPROVED:
        return Task(
            year,
            _("The results are approved; they will be published."),
            "",
            workspace,
            _("See the result"),
            done=True,
        )
    return Task(
        year,
        _("The results are published."),
        "",
        reverse("public_unit", args=[year, unit.code]),
        _("See the published result"),
        done=True,
    )


# --- province staff -------------------------------------------------------------------------


def _lead_tasks(
    rounds: list[Round], counts: dict[int, Counter[str]], now: datetime.datetime
) -> list[Task]:
    """The secretariat lead: per round not yet approved, what is late, what waits for him."""
    live = [
        r
        for r in rounds
        if sum(counts[r.pk][s] for s in FINAL) < sum(counts[r.pk].values()) or not counts[r.pk]
    ]
    if not live:
        return []
    ids = [r.pk for r in live]
    late = Q(state=S.DRAFT) & UnitAssessment.past_deadline(now)
    per_round = {
        row["round_id"]: row
        for row in UnitAssessment.objects.filter(round_id__in=ids)
        .values("round_id")
        .annotate(
            late=Count("pk", filter=late, distinct=True),
        )
        .order_by()
    }
    left = unappraised_items(ItemScore.objects.filter(assessment=OuterRef("pk")))
    ready = dict(
        UnitAssessment.objects.filter(round_id__in=ids, state=S.APPRAISING)
        .filter(~Exists(left))
        .values("round_id")
        .annotate(n=Count("pk"))
        .values_list("round_id", "n")
        .order_by()
    )
    units = dict(
        Unit.objects.filter(is_active=True, group__criteria_sets__round_id__in=ids)
        .values("group__criteria_sets__round_id")
        .annotate(n=Count("pk", distinct=True))
        .values_list("group__criteria_sets__round_id", "n")
        .order_by()
    )
    tasks = []
    for round_ in live:
        year, states = round_.year, counts[round_.pk]
        dashboard = reverse("secretariat_dashboard", args=[year])
        total = units.get(round_.pk, 0)
        started = sum(states.values())
        submitted = started - states[S.DRAFT]
        deadline = round_.self_assessment_deadline
        late = per_round.get(round_.pk, {}).get("late", 0)
        if deadline is not None and deadline <= now and round_.units_locked_at is None:
            late += max(total - started, 0)
        if deadline is not None and deadline > now:
            tasks.append(
                Task(
                    year,
                    _("Self-assessment: %(n)s of %(all)s units have submitted.")
                    % {"n": submitted, "all": total},
                    by_deadline(deadline),
                    dashboard,
                    _("Open the dashboard"),
                )
            )
        if late:
            tasks.append(
                Task(
                    year,
                    ngettext(
                        "%(n)s unit is late: the deadline passed and it has not submitted.",
                        "%(n)s units are late: the deadline passed and they have not submitted.",
                        late,
                    )
                    % {"n": late},
                    _("Grant an extension or let the deadline lock them."),
                    dashboard,
                    _("Open the dashboard"),
                    urgent=True,
                )
            )
        if ready.get(round_.pk):
            n = ready[round_.pk]
            tasks.append(
                Task(
                    year,
                    ngettext(
                        "%(n)s unit is fully appraised: finish its appraisal round 1.",
                        "%(n)s units are fully appraised: finish their appraisal round 1.",
                        n,
                    )
                    % {"n": n},
                    by_deadline(round_.appraisal1_deadline),
                    dashboard,
                    _("Open the dashboard"),
                    urgent=True,
                )
            )
        if states[S.EXPLAINED]:
            n = states[S.EXPLAINED]
            tasks.append(
                Task(
                    year,
                    ngettext(
                        "%(n)s unit has explained: appraise round 2 and finish it.",
                        "%(n)s units have explained: appraise round 2 and finish them.",
                        n,
                    )
                    % {"n": n},
                    by_deadline(round_.appraisal2_deadline),
                    dashboard,
                    _("Open the dashboard"),
                    urgent=True,
                )
            )
        in_appraisal = states[S.SUBMITTED] + states[S.APPRAISING]
        if in_appraisal:
            tasks.append(
                Task(
                    year,
                    ngettext(
                        "%(n)s submitted unit is waiting for or in appraisal round 1.",
                        "%(n)s submitted units are waiting for or in appraisal round 1.",
                        in_appraisal,
                    )
                    % {"n": in_appraisal},
                    by_deadline(round_.appraisal1_deadline),
                    reverse("appraisal_home"),
                    _("Appraisal"),
                    done=True,
                )
            )
        with_council = sum(states[s] for s in AWAITING_COUNCIL)
        if with_council:
            tasks.append(
                Task(
                    year,
                    ngettext(
                        "%(n)s unit is appraised and with the council.",
                        "%(n)s units are appraised and with the council.",
                        with_council,
                    )
                    % {"n": with_council},
                    "",
                    reverse("council_round", args=[year]),
                    _("Open the council page"),
                    done=True,
                )
            )
        if states[S.EXPLANATION_REQUESTED]:
            n = states[S.EXPLANATION_REQUESTED]
            tasks.append(
                Task(
                    year,
                    ngettext(
                        "%(n)s unit is answering explanation requests.",
                        "%(n)s units are answering explanation requests.",
                        n,
                    )
                    % {"n": n},
                    by_deadline(round_.explanation_deadline),
                    dashboard,
                    _("Open the dashboard"),
                    done=True,
                )
            )
    return tasks


def _council_tasks(
    rounds: list[Round], counts: dict[int, Counter[str]], *, chair: bool
) -> list[Task]:
    """Council members: rounds with appraised units to review; the chair: a round ready for
    approval (``not_appraised`` is empty), or approved and not published."""
    with_units = [r for r in rounds if counts[r.pk]]
    if not with_units:
        return []
    snapshots = set(
        ResultSnapshot.objects.filter(round__in=with_units).values_list("round_id", flat=True)
    )
    tasks = []
    for round_ in with_units:
        year, states = round_.year, counts[round_.pk]
        page = reverse("council_round", args=[year])
        total = sum(states.values())
        if round_.pk in snapshots:
            if chair and states[S.APPROVED]:
                tasks.append(
                    Task(
                        year,
                        _("The results of %(year)s are approved: publish them.") % {"year": year},
                        "",
                        page,
                        _("Open the council page"),
                        urgent=True,
                    )
                )
            continue
        waiting = sum(states[s] for s in AWAITING_COUNCIL)
        if not waiting:
            continue
        if chair and not not_appraised(round_):
            tasks.append(
                Task(
                    year,
                    _("The results of %(year)s wait for your approval.") % {"year": year},
                    ngettext(
                        "%(n)s unit appraised; review the ranking, then approve.",
                        "All %(n)s units appraised; review the ranking, then approve.",
                        total,
                    )
                    % {"n": total},
                    page,
                    _("Review and approve"),
                    urgent=True,
                )
            )
            continue
        appraising = sum(states[s] for s in IN_APPRAISAL) - waiting
        tasks.append(
            Task(
                year,
                ngettext(
                    "Review %(year)s: %(n)s unit is appraised and waits for the council.",
                    "Review %(year)s: %(n)s units are appraised and wait for the council.",
                    waiting,
                )
                % {"year": year, "n": waiting},
                ngettext(
                    "%(n)s unit is still in appraisal.",
                    "%(n)s units are still in appraisal.",
                    appraising,
                )
                % {"n": appraising}
                if appraising
                else "",
                page,
                _("Open the council page"),
            )
        )
    return tasks


def _appraiser_tasks(user: User) -> list[Task]:
    """The appraiser: per year and appraisal round, the units with items left to appraise,
    and the page of the first of them."""
    tasks = []
    for work in appraiser_tasks(user):
        names = ", ".join(f"{u.name} ({u.remaining})" for u in work.units[:3])
        names += " …" if len(work.units) > 3 else "."
        title = (
            ngettext(
                "Appraise %(items)s item (round 1).",
                "Appraise %(items)s items (round 1).",
                work.remaining,
            )
            if work.round_no == 1
            else ngettext(
                "Re-appraise %(items)s explained item (round 2).",
                "Re-appraise %(items)s explained items (round 2).",
                work.remaining,
            )
        ) % {"items": work.remaining}
        names = ngettext("%(n)s unit: %(names)s", "%(n)s units: %(names)s", len(work.units)) % {
            "n": len(work.units),
            "names": names,
        }
        tasks.append(
            Task(
                work.year,
                title,
                " ".join(filter(None, [names, by_deadline(work.deadline)])),
                work.next_url,
                _("Appraise the next unit"),
                urgent=True,
            )
        )
    return tasks


def _round_links(round_: Round, roles: Roles, states: Counter[str]) -> list[tuple[str, str]]:
    """The pages of a round a province staff member can open from his home page."""
    year = round_.year
    links: list[tuple[str, str]] = []
    if roles.is_secretariat_lead:
        links.append((_("Dashboard"), reverse("secretariat_dashboard", args=[year])))
    if roles.is_appraiser or roles.is_secretariat_lead:
        links.append((_("Appraisal"), reverse("appraisal_home")))
    if roles.is_council_reader:
        links.append((_("Council"), reverse("council_round", args=[year])))
    if states[S.PUBLISHED]:
        links.append((_("Published results"), reverse("public_round", args=[year])))
    return links


def load_home(user: User, roles: Roles, now: datetime.datetime | None = None) -> Home:
    now = now or timezone.now()
    home = Home(units=unit_cards(user, roles, now))
    if not roles.is_province_staff:
        return home
    rounds = list(Round.objects.filter(criteria_sets__isnull=False).distinct().order_by("-year"))
    counts = state_counts(r.pk for r in rounds)
    if roles.is_council_chair or roles.is_council_member:
        home.staff += _council_tasks(rounds, counts, chair=roles.is_council_chair)
    if roles.is_secretariat_lead:
        home.staff += _lead_tasks(rounds, counts, now)
    if roles.is_appraiser:
        home.staff += _appraiser_tasks(user)
    home.rounds = [
        RoundLine(r, round_stage(r, counts[r.pk], now), _round_links(r, roles, counts[r.pk]))
        for r in rounds
    ]
    return home
