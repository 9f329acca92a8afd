"""Small builders shared by tests (not a test module: no tests are collected here)."""

from __future__ import annotations

from decimal import Decimal

from assessments.importers import CriterionRow


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
