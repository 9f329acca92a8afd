"""Benchmark (not a timed test): the appraisal table of one field across 30 units.

Run by `make bench`; docs/performance.md records the numbers.
"""

from __future__ import annotations

import datetime
import statistics
import time
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments import services as unit_services
from assessments.models import AssessmentState, ItemScore, Round, Unit, UnitAssessment
from councils import services
from tests.builders import small_rows
from tests.conftest import client_for

RUNS = 20


@pytest.mark.django_db
def test_bench_field_table_30_units(
    groups: Any, secretariat_lead: Any, appraiser: Any, capsys: Any
) -> None:
    round_ = Round.objects.create(
        year=2045,
        opens_at=timezone.now() - datetime.timedelta(days=30),
        self_assessment_deadline=timezone.now() - datetime.timedelta(days=1),
    )
    criteria_set = unit_services.import_criteria_set(round_, groups["SO"], small_rows(8), by=None)
    services.assign_appraisers(
        criteria_set, criteria_set.criteria.get(code="1"), appraiser, by=secretariat_lead
    )
    for n in range(30):
        unit = Unit.objects.create(code=f"B{n:02d}", name=f"Đơn vị {n:02d}", group=groups["SO"])
        assessment = unit_services.get_or_create_assessment(round_, unit)
        items = list(ItemScore.objects.filter(assessment=assessment).select_related("criterion"))
        for entry in items:
            entry.self_value, entry.self_score = "có", entry.criterion.max_points
        ItemScore.objects.bulk_update(items, ["self_value", "self_score"])
        UnitAssessment.objects.filter(pk=assessment.pk).update(
            state=AssessmentState.SUBMITTED, submitted_at=timezone.now()
        )
        assessment.refresh_from_db()
        for entry in items[:4]:
            entry.assessment = assessment
            services.accept_self_score(entry, by=appraiser)
    client = client_for(appraiser)
    url = reverse("appraisal_field", args=[2045, "SO", "1"])
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    query_count = len(captured.captured_queries)
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        assert client.get(url).status_code == 200
        timings.append(time.perf_counter() - start)
    timings.sort()
    with capsys.disabled():
        print(
            f"\nBENCH field table 30 units x 8 items [{connection.vendor}]: median {statistics.median(timings) * 1000:.1f} ms, "
            f"p90 {timings[int(RUNS * 0.9)] * 1000:.1f} ms, {query_count} queries, {RUNS} runs"
        )
