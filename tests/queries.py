"""One query-count helper for every page (STYLE: every list, workspace, report and export has
a pinned number of queries, checked at 5 and at 30 units so that an N+1 shows)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


@dataclass
class Counted:
    url: str
    count: int
    sql: list[str]

    def __str__(self) -> str:
        lines = "\n".join(f"  {n}. {q}" for n, q in enumerate(self.sql, start=1))
        return f"{self.url}: {self.count} queries\n{lines}"


def queries_of(client: Client, url: str, *, status: int = 200) -> Counted:
    """The SQL one GET of ``url`` runs (the page must answer ``status``)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return Counted(
        url, len(captured.captured_queries), [q["sql"] for q in captured.captured_queries]
    )


def assert_pinned(small: Counted, large: Counted, pinned: int) -> None:
    """The same number at both sizes, and the number written in the test: on failure the SQL
    of the larger page is printed, so the repeated query shows."""
    assert small.count == large.count == pinned, (
        f"expected {pinned} queries at both sizes, got {small.count} and {large.count}\n{large}"
    )
