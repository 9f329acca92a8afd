"""Public pages under /cong-khai/ (DESIGN §9, §10): published rounds only, read from the
snapshot, with rankings, bands, charts, year-over-year change, corrections and open data."""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments import services as unit_services
from assessments.importers import CriterionRow
from assessments.models import AssessmentState, ItemScore, Round, Unit, UnitAssessment, UnitGroup
from reporting import services
from reporting.models import ResultSnapshot

pytestmark = pytest.mark.django_db

# ---------------------------------------------------------------------------------------------
# Builders: a criteria set of two fields (60 + 40 = 100 points, one manual leaf each), so that
# the index equals the total and any index to the cent can be written directly.
# ---------------------------------------------------------------------------------------------


def two_field_rows() -> list[CriterionRow]:
    def row(code: str, title: str, points: str, method: str, parent: str | None, pos: int) -> Any:
        return CriterionRow(
            code, title, Decimal(points), method, "", False, False, "", "", "", parent, pos
        )

    return [
        row("1", "Công tác chỉ đạo, điều hành CCHC", "60", "group", None, 1),
        row("1.1", "Kế hoạch CCHC năm", "60", "manual", "1", 2),
        row("2", "Hiện đại hóa nền hành chính", "40", "group", None, 3),
        row("2.1", "Ứng dụng công nghệ thông tin", "40", "manual", "2", 4),
    ]


def build_round(
    year: int,
    scores: dict[Unit, tuple[str, str]],
    *,
    appraised: bool = True,
    groups: list[UnitGroup] | None = None,
) -> Round:
    """A round whose units have the given field scores. With ``appraised``, the scores are
    appraisal round 1 (self scores are 1 point lower, so a leak would show) and every unit is
    appraised; without, they are self scores of submitted units."""
    round_ = Round.objects.create(year=year)
    for group in groups or sorted({u.group for u in scores}, key=lambda g: g.position):
        unit_services.import_criteria_set(round_, group, two_field_rows(), by=None)
    now = timezone.now()
    for unit, (first, second) in scores.items():
        assessment = unit_services.get_or_create_assessment(round_, unit)
        for code, points in (("1.1", first), ("2.1", second)):
            value = Decimal(points)
            item = ItemScore.objects.get(assessment=assessment, criterion__code=code)
            if appraised:
                item.self_score = max(value - 1, Decimal(0))
                item.appraisal1_score = value
                item.appraisal1_at = now
                item.appraisal1_comment = "Nhận xét nội bộ của Tổ thẩm định"
                item.note = "Ghi chú nội bộ của đơn vị"
            else:
                item.self_score = value
            item.save()
        UnitAssessment.objects.filter(pk=assessment.pk).update(
            state=AssessmentState.APPRAISED if appraised else AssessmentState.SUBMITTED,
            submitted_at=now,
        )
    return round_


def approve(round_: Round, chair: Any) -> ResultSnapshot:
    return services.approve_round(
        round_,
        by=chair,
        number=f"{round_.year}/QĐ-UBND",
        date=datetime.date(round_.year + 1, 3, 15),
        signer="Nguyễn Văn An",
    )


def publish(round_: Round, chair: Any) -> ResultSnapshot:
    approve(round_, chair)
    return services.publish_round(round_, by=chair)


def get(url: str) -> Any:
    return Client().get(url)


def text(response: Any) -> str:
    return response.content.decode()


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def province(groups: dict[str, UnitGroup], units: dict[str, Unit]) -> dict[str, Unit]:
    """Four departments (two of them tied) and two districts."""
    return {
        **units,
        # "Đài …" sorts before "Thanh …" in Vietnamese (Đ follows D), not by code point.
        "TTR": Unit.objects.create(code="TTR", name="Thanh tra tỉnh", group=groups["SO"]),
        "DPT": Unit.objects.create(
            code="DPT", name="Đài Phát thanh và Truyền hình", group=groups["SO"]
        ),
        "HTN": Unit.objects.create(code="HTN", name="UBND huyện Trà Ninh", group=groups["HUYEN"]),
    }


SCORES_2015 = {
    "STP": ("55.00", "36.25"),  # 91.25
    "DPT": ("50.00", "35.00"),  # 85.00, tied
    "TTR": ("45.00", "40.00"),  # 85.00, tied
    "SYT": ("50.00", "34.99"),  # 84.99
    "HBS": ("40.00", "20.00"),  # 60.00
    "HTN": ("25.00", "15.00"),  # 40.00
}


@pytest.fixture
def round_2015(province: dict[str, Unit]) -> Round:
    return build_round(2015, {province[c]: s for c, s in SCORES_2015.items()})


@pytest.fixture
def published_2015(round_2015: Round, chair: Any) -> Round:
    publish(round_2015, chair)
    return round_2015


def urls_of(year: int, unit: str = "STP") -> list[str]:
    return [
        reverse("public_round", args=[year]),
        reverse("public_round", args=[year]) + "?phien-ban=1",
        reverse("public_unit", args=[year, unit]),
        reverse("public_json", args=[year]),
        reverse("public_csv", args=[year]),
    ]


# ---------------------------------------------------------------------------------------------
# Only published rounds are public
# ---------------------------------------------------------------------------------------------


def test_every_public_url_of_a_round_that_is_not_approved_is_404(round_2015: Round) -> None:
    for url in urls_of(2015):
        assert get(url).status_code == 404, url


def test_every_public_url_of_an_approved_but_unpublished_round_is_404(
    round_2015: Round, chair: Any
) -> None:
    approve(round_2015, chair)
    for url in urls_of(2015):
        assert get(url).status_code == 404, url
    assert "2015" not in text(get(reverse("public_index")))


def test_every_public_url_of_an_unknown_round_is_404(published_2015: Round) -> None:
    for url in urls_of(2031):
        assert get(url).status_code == 404, url


def test_an_unknown_unit_or_version_of_a_published_round_is_404(published_2015: Round) -> None:
    assert get(reverse("public_unit", args=[2015, "XYZ"])).status_code == 404
    assert get(reverse("public_round", args=[2015]) + "?phien-ban=2").status_code == 404
    assert get(reverse("public_round", args=[2015]) + "?phien-ban=abc").status_code == 404
    assert get(reverse("public_json", args=[2015]) + "?phien-ban=9").status_code == 404


def test_the_public_pages_need_no_login_and_refuse_other_methods(published_2015: Round) -> None:
    client = Client()
    for url in [reverse("public_index"), *urls_of(2015)]:
        assert client.get(url).status_code == 200, url
        assert client.post(url).status_code == 405, url


def test_the_index_lists_published_rounds_with_their_number_of_units(
    published_2015: Round,
) -> None:
    page = text(get(reverse("public_index")))
    assert reverse("public_round", args=[2015]) in page
    assert '<td class="text-end">6</td>' in page


# ---------------------------------------------------------------------------------------------
# Rankings
# ---------------------------------------------------------------------------------------------


def ranking_rows(page: str, group_code: str) -> list[tuple[str, str, str, str]]:
    """(rank, unit, index, band) of a group's table, read from the HTML."""
    section = page.split(f'id="group-{group_code}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(
        r"<tr>\s*<td[^>]*>(\d+)</td>\s*<th[^>]*><a[^>]*>([^<]+)</a></th>\s*"
        r"<td[^>]*>([^<]+)</td>\s*<td>.*?<span>([^<]+)</span></span>",
        section,
    )
    return [(r, n, i, b) for r, n, i, b in rows]


def test_equal_indexes_share_a_rank_and_are_listed_in_vietnamese_alphabetical_order(
    published_2015: Round,
) -> None:
    page = text(get(reverse("public_round", args=[2015])))
    assert ranking_rows(page, "SO") == [
        ("1", "Sở Tư pháp", "91,25", "Tốt"),
        ("2", "Đài Phát thanh và Truyền hình", "85,00", "Tốt"),
        ("2", "Thanh tra tỉnh", "85,00", "Tốt"),
        ("4", "Sở Y tế", "84,99", "Khá"),
    ]
    assert ranking_rows(page, "HUYEN") == [
        ("1", "UBND huyện Bình Sơn", "60,00", "Trung bình"),
        ("2", "UBND huyện Trà Ninh", "40,00", "Yếu"),
    ]


def test_bands_are_classified_at_the_boundaries_in_the_published_data(
    published_2015: Round,
) -> None:
    data = json.loads(get(reverse("public_json", args=[2015])).content)
    bands = {u["code"]: (u["index"], u["band"]) for g in data["groups"] for u in g["units"]}
    assert bands["DPT"] == ("85.00", "Tốt")
    assert bands["SYT"] == ("84.99", "Khá")


def test_the_round_page_shows_band_counts_decision_and_download_links(
    published_2015: Round,
) -> None:
    page = text(get(reverse("public_round", args=[2015])))
    so = page.split('id="group-SO"', 1)[1].split('id="group-HUYEN"', 1)[0]
    assert "<span>Tốt</span></span>: <strong>3</strong>" in so
    assert "<span>Khá</span></span>: <strong>1</strong>" in so
    assert "<span>Trung bình</span></span>: <strong>0</strong>" in so
    assert "<span>Yếu</span></span>: <strong>0</strong>" in so
    assert "2015/QĐ-UBND" in page
    assert "15/03/2016" in page
    assert "Nguyễn Văn An" in page
    assert reverse("public_json", args=[2015]) in page
    assert reverse("public_csv", args=[2015]) in page


def test_the_chart_is_an_accessible_svg_coloured_by_band_without_inline_style(
    published_2015: Round,
) -> None:
    page = text(get(reverse("public_round", args=[2015])))
    chart = page.split('id="group-SO"', 1)[1].split('class="chart', 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in chart
    assert '<title id="chart-SO-title">' in chart
    assert '<desc id="chart-SO-desc">' in chart
    assert "Sở Tư pháp" in chart and "91,25" in chart
    assert 'fill="#1e7b45"' in chart  # Tốt
    assert 'fill="#0b5ed7"' in chart  # Khá
    assert "style=" not in page
    assert "<script>" not in page


def test_the_pages_never_show_the_units_internal_data(published_2015: Round) -> None:
    for url in [reverse("public_round", args=[2015]), reverse("public_unit", args=[2015, "STP"])]:
        page = text(get(url))
        assert "Nhận xét nội bộ" not in page
        assert "Ghi chú nội bộ" not in page
        assert "54,00" not in page and "54.00" not in page  # the self score of field 1


def test_the_unit_page_shows_index_rank_band_and_field_scores(published_2015: Round) -> None:
    response = get(reverse("public_unit", args=[2015, "SYT"]))
    page = text(response)
    assert response.status_code == 200
    assert "Sở Y tế" in page
    assert "84,99" in page
    assert re.search(r">\s*4(?: of |/)4\s*<", page)  # rank 4 of the 4 departments
    assert "Khá" in page
    assert "Công tác chỉ đạo, điều hành CCHC" in page
    assert "34,99" in page
    assert page.count('class="meter"') == 2
    assert "style=" not in page


# ---------------------------------------------------------------------------------------------
# Open data
# ---------------------------------------------------------------------------------------------


def test_the_json_is_exactly_the_published_snapshot(published_2015: Round) -> None:
    response = get(reverse("public_json", args=[2015]))
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Access-Control-Allow-Origin"] == "*"
    data = json.loads(response.content)
    assert data == ResultSnapshot.objects.get(round=published_2015).data
    assert list(data) == ["round", "provisional", "groups"]
    assert data["provisional"] is False
    assert "Tư pháp" in response.content.decode()  # not \u escapes
    assert data["groups"][0]["units"][0] == {
        "code": "STP",
        "name": "Sở Tư pháp",
        "rank": 1,
        "index": "91.25",
        "total": "91.25",
        "applicable_max": "100.00",
        "band": "Tốt",
        "bonus": "0.00",
        "penalty": "0.00",
        "fields": [
            {"code": "1", "score": "55.00", "max": "60.00"},
            {"code": "2", "score": "36.25", "max": "40.00"},
        ],
    }


def test_the_csv_has_a_bom_and_one_row_per_unit(published_2015: Round) -> None:
    response = get(reverse("public_csv", args=[2015]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="chi-so-cchc-2015.csv"'
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[0][:6] == ["group", "group_name", "rank", "code", "name", "index"]
    assert rows[0][-2:] == ["field_1", "field_2"]
    assert len(rows) == 1 + 6
    assert rows[1] == [
        "SO",
        "Sở, ban, ngành",
        "1",
        "STP",
        "Sở Tư pháp",
        "91.25",
        "Tốt",
        "91.25",
        "100.00",
        "0.00",
        "0.00",
        "55.00",
        "36.25",
    ]
    assert [r[3] for r in rows[1:]] == ["STP", "DPT", "TTR", "SYT", "HBS", "HTN"]


# ---------------------------------------------------------------------------------------------
# Corrections and year-over-year change
# ---------------------------------------------------------------------------------------------


def test_a_correction_is_shown_by_default_and_the_first_version_stays_readable(
    published_2015: Round, chair: Any
) -> None:
    ItemScore.objects.filter(
        assessment__unit__code="SYT", assessment__round=published_2015, criterion__code="2.1"
    ).update(appraisal1_score=Decimal("35.00"))
    services.correct_results(published_2015, by=chair, reason="Sửa lỗi nhập điểm của Sở Y tế")

    current = text(get(reverse("public_round", args=[2015])))
    assert "Sửa lỗi nhập điểm của Sở Y tế" in current
    assert ("Sở Y tế", "85,00", "Tốt") in [(n, i, b) for _r, n, i, b in ranking_rows(current, "SO")]
    assert "?phien-ban=1" in current

    first = text(get(reverse("public_round", args=[2015]) + "?phien-ban=1"))
    assert ("4", "Sở Y tế", "84,99", "Khá") in ranking_rows(first, "SO")
    assert "?phien-ban=1" in first  # the links of the old version stay on it

    old_json = json.loads(get(reverse("public_json", args=[2015]) + "?phien-ban=1").content)
    assert old_json == ResultSnapshot.objects.get(round=published_2015, version=1).data
    new_json = json.loads(get(reverse("public_json", args=[2015])).content)
    assert new_json == ResultSnapshot.objects.get(round=published_2015, version=2).data
    assert old_json != new_json
    unit_v1 = text(get(reverse("public_unit", args=[2015, "SYT"]) + "?phien-ban=1"))
    assert "84,99" in unit_v1


def test_the_ranking_shows_the_change_against_the_previous_published_round(
    province: dict[str, Unit], chair: Any, groups: dict[str, UnitGroup]
) -> None:
    publish(
        build_round(
            2014,
            {
                province["STP"]: ("50.00", "38.90"),  # 88.90 → 91.25: +2,35, rank 2 → 1
                province["DPT"]: ("55.00", "40.00"),  # 95.00 → 85.00: -10,00, rank 1 → 2
                province["TTR"]: ("40.00", "30.00"),  # 70.00, rank 4 → 2
                province["SYT"]: ("50.00", "30.00"),  # 80.00, rank 3 → 4
                province["HBS"]: ("40.00", "20.00"),
                province["HTN"]: ("25.00", "15.00"),
            },
        ),
        chair,
    )
    new_unit = Unit.objects.create(code="SNV", name="Sở Nội vụ", group=groups["SO"])
    scores = {province[c]: s for c, s in SCORES_2015.items()} | {new_unit: ("30.00", "30.00")}
    publish(build_round(2015, scores), chair)

    page = text(get(reverse("public_round", args=[2015])))
    so = page.split('id="group-SO"', 1)[1].split("</table>", 1)[0]

    def cells(name: str) -> str:
        return so.split(f">{name}</a></th>", 1)[1].split("</tr>", 1)[0]

    assert "+2,35" in cells("Sở Tư pháp") and "↑1" in cells("Sở Tư pháp")
    assert "-10,00" in cells("Đài Phát thanh và Truyền hình")
    assert "↓1" in cells("Đài Phát thanh và Truyền hình")
    assert "+15,00" in cells("Thanh tra tỉnh") and "↑2" in cells("Thanh tra tỉnh")
    assert "↓1" in cells("Sở Y tế")
    assert "—" in cells("Sở Nội vụ") and "↑" not in cells("Sở Nội vụ")

    unit_page = text(get(reverse("public_unit", args=[2015, "STP"])))
    assert "88,90" in unit_page and "+2,35" in unit_page and "↑1" in unit_page
    # The earlier round's page has no earlier round to compare with.
    assert "↑" not in text(get(reverse("public_round", args=[2014])))


# ---------------------------------------------------------------------------------------------
# Query budget: the pages read the snapshot, so 30 units cost what 5 do
# ---------------------------------------------------------------------------------------------


def count_queries(url: str) -> tuple[int, list[str]]:
    client = Client()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries), [q["sql"] for q in queries.captured_queries]


def test_the_public_pages_cost_the_same_queries_for_5_and_for_30_units(chair: Any) -> None:
    small = UnitGroup.objects.create(code="XA5", name="UBND cấp xã (nhỏ)", position=5)
    large = UnitGroup.objects.create(code="XA30", name="UBND cấp xã (lớn)", position=6)
    five = {
        Unit.objects.create(code=f"A{i:02}", name=f"UBND xã An {i:02}", group=small): (
            f"{30 + i}.00",
            "20.00",
        )
        for i in range(5)
    }
    thirty = {
        Unit.objects.create(code=f"B{i:02}", name=f"UBND xã Bình {i:02}", group=large): (
            f"{20 + i}.50",
            "25.00",
        )
        for i in range(30)
    }
    publish(build_round(2020, five), chair)
    publish(build_round(2021, thirty), chair)
    # Budgets: the snapshot shown; + the previous round's, the version list and the decision
    # (round page); + the field titles and the previous round's (unit page).
    for name, args_small, args_large, budget in [
        ("public_round", [2020], [2021], 4),
        ("public_unit", [2020, "A01"], [2021, "B01"], 3),
        ("public_json", [2020], [2021], 1),
        ("public_csv", [2020], [2021], 1),
    ]:
        few, few_sql = count_queries(reverse(name, args=args_small))
        many, many_sql = count_queries(reverse(name, args=args_large))
        assert few == many == budget, (name, few_sql, many_sql)
    index, index_sql = count_queries(reverse("public_index"))
    assert index == 1, index_sql
