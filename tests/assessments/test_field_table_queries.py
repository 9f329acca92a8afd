"""The field table runs a fixed number of queries, whatever the number of items in the field
(and in the other fields), and so does a row's save (tests/queries.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments import services
from assessments.importers import CriterionRow
from assessments.models import Round, Unit, UnitGroup, UnitRole
from tests.conftest import client_for, unit_user
from tests.queries import Counted, assert_pinned, queries_of

pytestmark = pytest.mark.django_db

PINNED_TABLE = 13
PINNED_ROW_SAVE = 21  # one more: the field is checked before the write


def two_fields(leaves: int) -> list[CriterionRow]:
    """Field 1 with ``leaves`` yes/no items, field 2 with as many."""
    rows: list[CriterionRow] = []
    position = 0
    for field in ("1", "2"):
        position += 1
        rows.append(
            CriterionRow(
                field,
                f"Lĩnh vực {field}",
                Decimal(leaves),
                "group",
                "",
                False,
                False,
                "",
                "",
                "",
                None,
                position,
            )
        )
        for i in range(1, leaves + 1):
            position += 1
            rows.append(
                CriterionRow(
                    f"{field}.{i}",
                    f"Mục {field}.{i}",
                    Decimal("1"),
                    "yes_no",
                    "",
                    True,
                    True,
                    "Văn bản",
                    "",
                    "",
                    field,
                    position,
                )
            )
    return rows


def measure(open_round: Round, group: UnitGroup, code: str) -> tuple[Counted, int]:
    unit = Unit.objects.create(code=code, name=f"Đơn vị {code}", group=group)
    focal = unit_user(f"{code.lower()}.daumoi", unit, UnitRole.FOCAL)
    assessment = services.get_or_create_assessment(open_round, unit)
    client = client_for(focal)
    table = queries_of(client, reverse("field_table", args=[2016, code, "1"]))
    assert table.sql  # the page answered
    item = assessment.items.select_related("criterion").get(criterion__code="1.1")
    with CaptureQueriesContext(connection) as captured:
        response = client.post(
            reverse("field_row_save", args=[2016, code, "1", "1.1"]),
            {"value": "có", "version": item.version, "no_evidence_reason": "Văn bản mật"},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200, response.content.decode()[:300]
    return table, len(captured.captured_queries)


def test_the_field_table_and_a_row_save_run_the_same_queries_for_3_and_for_30_items(
    open_round: Round, groups: dict[str, UnitGroup], db: Any
) -> None:
    small_group, large_group = groups["SO"], groups["HUYEN"]
    services.import_criteria_set(open_round, small_group, two_fields(3), by=None)
    services.import_criteria_set(open_round, large_group, two_fields(30), by=None)
    small, small_save = measure(open_round, small_group, "Q01")
    large, large_save = measure(open_round, large_group, "Q02")
    assert_pinned(small, large, PINNED_TABLE)
    assert small_save == large_save == PINNED_ROW_SAVE
