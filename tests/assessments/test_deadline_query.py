"""``UnitAssessment.past_deadline`` is the query form of the ``deadline`` property: both say
the same for every combination of a round deadline and an extension (the home page counts
late units with the query, the workspace closes with the property)."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

import pytest
from django.utils import timezone

from assessments import services
from assessments.models import Round, UnitAssessment

pytestmark = pytest.mark.django_db

NOW = timezone.now()
DAY = datetime.timedelta(days=1)
MOMENTS = {"none": None, "past": NOW - DAY, "future": NOW + DAY, "far past": NOW - 5 * DAY}


@pytest.mark.parametrize(("round_deadline", "extension"), list(itertools.product(MOMENTS, MOMENTS)))
def test_the_query_and_the_property_agree(
    round_deadline: str, extension: str, criteria_sets: Any, units: Any, open_round: Round
) -> None:
    assessment = services.get_or_create_assessment(open_round, units["STP"])
    Round.objects.filter(pk=open_round.pk).update(
        opens_at=NOW - 10 * DAY, self_assessment_deadline=MOMENTS[round_deadline]
    )
    UnitAssessment.objects.filter(pk=assessment.pk).update(
        extended_until=MOMENTS[extension], extension_reason="Lũ lụt" if MOMENTS[extension] else ""
    )
    loaded = UnitAssessment.objects.select_related("round").get(pk=assessment.pk)
    by_property = loaded.deadline is not None and loaded.deadline <= NOW
    by_query = UnitAssessment.objects.filter(
        UnitAssessment.past_deadline(NOW), pk=assessment.pk
    ).exists()
    assert by_query == by_property
