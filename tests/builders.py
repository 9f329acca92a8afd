"""Small builders shared by tests (not a test module: no tests are collected here)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from assessments import scoring, services
from assessments.importers import CriterionRow
from assessments.models import ItemScore, UnitAssessment
from councils import services as council_services


def small_rows(leaves: int = 10) -> list[CriterionRow]:
    """A valid criteria set of one field with ``leaves`` yes/no items of 1 point."""
    rows = [
        CriterionRow(
            "1", "Lĩnh vực thử", Decimal(leaves), "group", "", False, False, "", "", "", None, 1
        )
    ]
    rows += [
        CriterionRow(
            f"1.{i}",
            f"Mục {i}",
            Decimal("1"),
            "yes_no",
            "",
            False,
            True,
            "Văn bản",
            "",
            "",
            "1",
            i + 1,
        )
        for i in range(1, leaves + 1)
    ]
    return rows


# --- rounds in a given state, through the services (no raw state updates, DESIGN §7) ---------

FIRST_VALUES = {"yes_no": "có", "threshold": "100", "proportional": "100", "deduction": "0"}


def first_value(criterion: Any) -> str | None:
    """A valid value a unit could type for a self-assessed leaf (None for survey leaves)."""
    if criterion.method == "survey":
        return None
    if criterion.method == "manual":
        return "0"
    if criterion.method == "choice":
        return str(criterion.params.split(";")[0].split("=")[0].strip())
    return FIRST_VALUES.get(criterion.method)


def fill(assessment: Any, by: Any, values: dict[str, str] | None = None) -> None:
    """Score every self-assessed leaf through ``save_item`` (``values`` by code win), with a
    written reason where evidence would be required."""
    values = values or {}
    for item in ItemScore.objects.filter(assessment=assessment).select_related("criterion"):
        value = values.get(item.criterion.code, first_value(item.criterion))
        if value is None:
            continue
        item.assessment = assessment
        services.save_item(
            item,
            services.ItemInput(value=value, no_evidence_reason="Văn bản lưu tại đơn vị"),
            by=by,
            expected_version=item.version,
        )


def submitted(assessment: Any, leader: Any, values: dict[str, str] | None = None) -> Any:
    """A unit's assessment filled and submitted by its leader (§5.2 draft → submitted)."""
    fill(assessment, leader, values)
    return services.submit_assessment(assessment, by=leader)


def appraised(
    assessment: Any, appraiser: Any, lead: Any, scores: dict[str, str] | None = None
) -> Any:
    """Appraisal round 1 of every leaf (the self score accepted, or ``scores`` by code), then
    finished by the lead (§5.2 submitted → appraising → appraised). The appraiser is assigned
    every field of the unit's set first."""
    criteria_set = assessment.criteria_set
    for field in criteria_set.criteria.filter(parent__isnull=True):
        council_services.assign_appraisers(criteria_set, field, appraiser, by=lead)
    scores = scores or {}
    for item in (
        ItemScore.objects.filter(assessment=assessment)
        .select_related("criterion")
        .exclude(criterion__method=scoring.SURVEY)
    ):
        item.assessment = assessment
        if item.criterion.code in scores:
            council_services.save_appraisal(item, by=appraiser, value=scores[item.criterion.code])
        else:
            council_services.accept_self_score(item, by=appraiser)
    return council_services.finish_round1(UnitAssessment.objects.get(pk=assessment.pk), by=lead)
