"""Benchmark (not a timed test): the unit workspace with 120 leaves.

Run by `make bench` on SQLite and, when DATABASE_URL points at it, PostgreSQL. Prints the median
and 90th-percentile time of the workspace page and its query count; docs/performance.md
records the numbers. Collected only when named explicitly (pytest collects test_*.py).
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

from assessments import services
from assessments.models import EvidenceLink, ItemScore, Round
from tests.builders import small_rows
from tests.conftest import client_for

RUNS = 40


@pytest.mark.django_db
def test_bench_workspace_120_leaves(
    groups: Any, units: Any, focal: Any, contributor: Any, capsys: Any
) -> None:
    round_ = Round.objects.create(
        year=2040,
        opens_at=timezone.now() - datetime.timedelta(days=1),
        self_assessment_deadline=timezone.now() + datetime.timedelta(days=10),
    )
    services.import_criteria_set(round_, groups["SO"], small_rows(120), by=None)
    assessment = services.get_or_create_assessment(round_, units["STP"])
    items = list(ItemScore.objects.filter(assessment=assessment).select_related("criterion"))
    for entry in items[:90]:
        services.save_item(
            entry,
            services.ItemInput(value="có", note="Đã có văn bản"),
            by=focal,
            expected_version=0,
        )
    from assessments.models import Evidence

    document = Evidence.objects.create(
        unit=units["STP"],
        round=round_,
        file="x.pdf",
        original_name="x.pdf",
        title="Kế hoạch",
        size=1,
        content_type="application/pdf",
        sha256="b" * 64,
    )
    EvidenceLink.objects.bulk_create(
        EvidenceLink(evidence=document, item=entry) for entry in items[:60]
    )
    services.assign_items(
        assessment, assessment.criteria_set.criteria.get(code="1"), contributor, by=focal
    )

    client = client_for(focal)
    url = reverse("unit_workspace", args=[2040, "STP"])
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    query_count = len(captured.captured_queries)
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - start)
        assert response.status_code == 200
    timings.sort()
    with capsys.disabled():
        print(
            f"\nBENCH workspace 120 leaves [{connection.vendor}]: median {statistics.median(timings) * 1000:.1f} ms, "
            f"p90 {timings[int(RUNS * 0.9)] * 1000:.1f} ms, {query_count} queries, {RUNS} runs"
        )
