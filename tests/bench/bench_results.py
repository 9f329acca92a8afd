"""Benchmark (not a timed test): the results ledger over a round of 400 units × 40 leaves.

``results.compute`` (every unit's totals, ranks, field ranks, the §4.4 rule per leaf) beside
its floor measured in the same run: fetching the same leaf rows from the database and doing
nothing with them. Prints both and their ratio; docs/performance.md records the numbers.
Collected only when named explicitly (pytest collects test_*.py).
"""

from __future__ import annotations

import datetime
import statistics
import time
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from assessments import results
from assessments import services as unit_services
from assessments.models import AssessmentState, ItemScore, Round, Unit, UnitAssessment
from tests.builders import small_rows

UNITS = 400
LEAVES = 40
RUNS = 5


def best_and_median(work: Any) -> tuple[float, float]:
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        work()
        timings.append(time.perf_counter() - start)
    return min(timings), statistics.median(timings)


@pytest.mark.django_db
def test_bench_results_ledger(groups: Any, capsys: Any) -> None:
    round_ = Round.objects.create(
        year=2041,
        opens_at=timezone.now() - datetime.timedelta(days=30),
        self_assessment_deadline=timezone.now() - datetime.timedelta(days=1),
    )
    unit_services.import_criteria_set(round_, groups["SO"], small_rows(LEAVES), by=None)
    units = Unit.objects.bulk_create(
        Unit(code=f"B{n:04d}", name=f"Đơn vị {n:04d}", group=groups["SO"]) for n in range(UNITS)
    )
    for unit in units:
        unit_services.get_or_create_assessment(round_, unit)
    now = timezone.now()
    UnitAssessment.objects.filter(round=round_).update(
        state=AssessmentState.APPRAISED, submitted_at=now
    )
    # Deterministic scores: self 1 or 0, appraised 1 on two leaves of three.
    items = list(ItemScore.objects.filter(assessment__round=round_).order_by("pk"))
    for number, item in enumerate(items):
        item.self_value, item.self_score = "có", Decimal("1") if number % 5 else Decimal("0")
        item.appraisal1_at = now
        item.appraisal1_score = Decimal("1") if number % 3 else Decimal("0")
    ItemScore.objects.bulk_update(
        items, ["self_value", "self_score", "appraisal1_at", "appraisal1_score"], batch_size=2000
    )

    def floor() -> None:
        list(results.leaf_rows(ItemScore.objects.filter(assessment__round=round_)))

    def ledger() -> None:
        results.compute(round_, provisional=True)

    floor()
    ledger()  # warm-up
    floor_best, floor_median = best_and_median(floor)
    ledger_best, ledger_median = best_and_median(ledger)
    with capsys.disabled():
        print(
            f"\nBENCH results ledger {UNITS} units x {LEAVES} leaves [{connection.vendor}]: "
            f"compute best {ledger_best * 1000:.0f} ms (median {ledger_median * 1000:.0f}), "
            f"floor (fetch the rows) best {floor_best * 1000:.0f} ms "
            f"(median {floor_median * 1000:.0f}); ratio {ledger_best / floor_best:.1f}x"
        )
