"""Benchmark (not a timed test): the round workbook for the demo and for 2,000 units.

Run by `make bench`. Prints, for each workbook, the time to load and write it (best of a few
runs), the peak Python memory while doing so (tracemalloc, a separate run: tracing slows
Python down), the file size and the query count; docs/performance.md records the numbers.
"""

from __future__ import annotations

import datetime
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments import services as unit_services
from assessments.models import (
    AssessmentState,
    ItemScore,
    Round,
    Unit,
    UnitAssessment,
    UnitGroup,
)
from councils.models import ExplanationRequest
from reporting import services, workbook
from reporting.models import ResultSnapshot
from tests.builders import small_rows

RUNS = 3
UNITS = 2000
LEAVES = 20


def measure(label: str, make: Callable[[], bytes], capsys: Any) -> None:
    make()  # warm-up
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        content = make()
        timings.append(time.perf_counter() - start)
    with CaptureQueriesContext(connection) as captured:
        make()
    tracemalloc.start()
    try:
        make()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    with capsys.disabled():
        print(
            f"\nBENCH workbook {label} [{connection.vendor}]: best {min(timings):.2f} s, "
            f"peak {peak / 2**20:.1f} MiB (tracemalloc), {len(content) / 2**10:.0f} KiB, "
            f"{len(captured.captured_queries)} queries, {RUNS} runs"
        )


def staff(round_: Round) -> Callable[[], bytes]:
    def make() -> bytes:
        snapshot = ResultSnapshot.objects.filter(round=round_).order_by("-version").first()
        return workbook.build(workbook.staff_source(round_, snapshot, full_detail=True))

    return make


def public(round_: Round) -> Callable[[], bytes]:
    def make() -> bytes:
        snapshot = services.published_snapshot(round_.year)
        assert snapshot is not None
        return workbook.build(workbook.public_source(snapshot, round_.year))

    return make


@pytest.mark.django_db
def test_bench_workbook_demo_2015(capsys: Any) -> None:
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    round_ = Round.objects.get(year=2015)
    units = UnitAssessment.objects.filter(round=round_).count()
    measure(f"demo 2015 ({units} units, staff)", staff(round_), capsys)
    if services.published_snapshot(2015) is not None:
        measure("demo 2015 (public)", public(round_), capsys)


@pytest.mark.django_db
def test_bench_workbook_2000_units(chair: Any, capsys: Any) -> None:
    group = UnitGroup.objects.create(code="XA", name="UBND cấp xã", position=1)
    round_ = Round.objects.create(year=2041)
    criteria_set = unit_services.import_criteria_set(round_, group, small_rows(LEAVES), by=None)
    leaves = list(criteria_set.criteria.filter(parent__isnull=False).order_by("position"))
    Unit.objects.bulk_create(
        Unit(code=f"X{n:04d}", name=f"UBND xã Đông Lâm {n}", group=group) for n in range(UNITS)
    )
    now = timezone.now()
    UnitAssessment.objects.bulk_create(
        UnitAssessment(
            round=round_,
            unit=unit,
            criteria_set=criteria_set,
            state=AssessmentState.APPRAISED,
            submitted_at=now - datetime.timedelta(days=30),
        )
        for unit in Unit.objects.filter(group=group)
    )
    assessments = list(UnitAssessment.objects.filter(round=round_).order_by("unit__code"))
    ItemScore.objects.bulk_create(
        (
            ItemScore(
                assessment=assessment,
                criterion=leaf,
                self_value="có",
                self_score=Decimal("1.00"),
                appraisal1_value="có" if (n + i) % 5 else "không",
                appraisal1_score=Decimal("1.00") if (n + i) % 5 else Decimal("0.00"),
                appraisal1_at=now,
            )
            for n, assessment in enumerate(assessments)
            for i, leaf in enumerate(leaves)
        ),
        batch_size=5000,
    )
    ExplanationRequest.objects.bulk_create(
        ExplanationRequest(item=item, question="Đề nghị giải trình", answer="Đã bổ sung")
        for item in ItemScore.objects.filter(assessment__round=round_, criterion=leaves[0])[::10]
    )
    label = f"{UNITS} units × {LEAVES} leaves"
    measure(f"{label} (staff, provisional)", staff(round_), capsys)
    services.approve_round(
        round_, by=chair, number="1/QĐ", date=datetime.date(2042, 1, 1), signer="Chủ tịch"
    )
    services.publish_round(round_, by=chair)
    measure(f"{label} (staff, final)", staff(round_), capsys)
    measure(f"{label} (public)", public(round_), capsys)
