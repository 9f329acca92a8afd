"""Benchmark (not a timed test): the province PDF report of the demo (30 units, 2015,
provisional) and the zip of every unit's PDFs.

Run by `make bench`; prints time, peak Python memory (tracemalloc) and the process's peak
resident size (getrusage maxrss); docs/performance.md records the numbers. Collected only when
named explicitly (pytest collects test_*.py).
"""

from __future__ import annotations

import resource
import time
import tracemalloc
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from assessments.models import Round
from reporting import pdf


def measure(label: str, build: Any, capsys: Any, *, traced: bool = True) -> bytes:
    """Time one build; then, if ``traced``, build again under tracemalloc (which slows Python
    several times, so it never runs during the timed build)."""
    started = time.perf_counter()
    content: bytes = build()
    elapsed = time.perf_counter() - started
    peak_text = ""
    if traced:
        tracemalloc.start()
        build()
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peak_text = f"tracemalloc peak {peak / 2**20:.1f} MiB, "
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with capsys.disabled():
        print(
            f"\n{label}: {elapsed:.2f} s, {len(content) / 1024:.0f} KiB, "
            f"{peak_text}process maxrss {maxrss_mb:.0f} MiB"
        )
    return content


@pytest.mark.django_db
def test_bench_province_pdf_of_the_demo(capsys: Any) -> None:
    call_command("seed_demo", verbosity=0)
    request = RequestFactory().get("/")
    request.user = get_user_model().objects.get(username="sonoivu")
    round_ = Round.objects.get(year=2015)
    source = pdf.staff_source(round_)
    assert source.provisional
    pdf.province_report(source, request)  # warm-up: fonts, templates
    content = measure(
        "province report 2015 (provisional)", lambda: pdf.province_report(source, request), capsys
    )
    assert content.startswith(b"%PDF-")
    archive = measure(
        "zip of every unit (30 scorecards + 30 self-assessment reports)",
        lambda: pdf.all_units_zip(source, request),
        capsys,
        traced=False,
    )
    assert archive.startswith(b"PK")
