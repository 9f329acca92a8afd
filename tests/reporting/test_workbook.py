"""The round workbook (DESIGN §9): its numbers agree with `export_results`, provisional before
approval and final after; its sheets print well; the public one holds only published numbers;
who may download it; a fixed number of queries."""

from __future__ import annotations

import datetime
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from assessments.models import AssessmentState, ItemScore, Round, Unit, UnitAssessment, UnitGroup
from councils.models import ExplanationRequest
from reporting import services
from tests.conftest import client_for
from tests.reporting import test_public as public
from tests.reporting.test_public import SCORES_2015, approve, build_round, publish

pytestmark = pytest.mark.django_db

# The public pages' fixtures: six units of two groups whose field scores are appraisal round 1
# (self scores 1 point lower), every unit appraised.
province = public.province
round_2015 = public.round_2015
published_2015 = public.published_2015

HEADER_ROW = 3  # title, status, header
DATA_ROW = 4


def vi(msgid: str, **values: Any) -> str:
    """The Vietnamese text the workbook writes for ``msgid`` (the catalogue's, or the msgid
    while it is untranslated)."""
    with translation.override("vi"):
        text = translation.gettext(msgid)
    return text % values if values else text


def staff_url(year: int = 2015) -> str:
    return reverse("round_workbook", args=[year])


def public_url(year: int = 2015) -> str:
    return reverse("public_round_workbook", args=[year])


def download(client: Client, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"].startswith("attachment;")
    return response


def open_book(response: Any, *, read_only: bool = True) -> Workbook:
    return load_workbook(io.BytesIO(response.content), read_only=read_only)


def export(year: int, *, provisional: bool) -> dict[str, Any]:
    out = io.StringIO()
    args = ["--round", str(year), "--format", "json"] + (["--provisional"] if provisional else [])
    call_command("export_results", *args, stdout=out)
    return json.loads(out.getvalue())


def ranking_sheets(book: Workbook) -> list[Any]:
    prefix = vi("Ranking %(group)s", group="")
    return [book[name] for name in book.sheetnames if name.startswith(prefix)]


def ranked(book: Workbook) -> dict[str, tuple[int, str, str, str]]:
    """unit code -> (rank, name, index with two decimals, band) from the ranking sheets."""
    found = {}
    for sheet in ranking_sheets(book):
        for row in sheet.iter_rows(min_row=DATA_ROW, values_only=True):
            rank, code, name, index, band = row[:5]
            found[code] = (rank, name, f"{index:.2f}", band)
    return found


def expected(data: dict[str, Any]) -> dict[str, tuple[int, str, str, str]]:
    return {
        u["code"]: (u["rank"], u["name"], u["index"], u["band"])
        for g in data["groups"]
        for u in g["units"]
    }


def padded(rows: Any, width: int = 12) -> list[tuple[Any, ...]]:
    """Rows of a read-only sheet stop at their last value: pad them to ``width``."""
    return [tuple(row) + (None,) * (width - len(row)) for row in rows]


def values(book: Workbook) -> list[Any]:
    return [
        value
        for name in book.sheetnames
        for row in book[name].iter_rows(values_only=True)
        for value in row
        if value is not None
    ]


# --- numbers -------------------------------------------------------------------------------


def test_the_provisional_workbook_has_the_numbers_of_export_results_and_says_provisional(
    round_2015: Round, secretariat_lead: Any
) -> None:
    book = open_book(download(client_for(secretariat_lead), staff_url()))
    data = export(2015, provisional=True)
    assert ranked(book) == expected(data)
    assert len(ranked(book)) == len(SCORES_2015)
    first = book[book.sheetnames[0]]
    assert first["A1"].value == vi("PAR index %(year)s", year=2015) + " – " + vi(
        "Ranking: %(group)s", group="Sở, ban, ngành"
    )
    assert first["A2"].value == vi("PROVISIONAL – not approved by the council")
    # Every sheet says so, not only the first.
    for name in book.sheetnames:
        assert book[name]["A2"].value == vi("PROVISIONAL – not approved by the council")


def test_after_approval_the_workbook_has_the_snapshot_numbers_of_export_results(
    round_2015: Round, chair: Any, council_member: Any
) -> None:
    approve(round_2015, chair)
    response = download(client_for(council_member), staff_url())
    assert "v1.xlsx" in response["Content-Disposition"]
    book = open_book(response)
    assert ranked(book) == expected(export(2015, provisional=False))
    status = book[book.sheetnames[0]]["A2"].value
    assert status == vi("Final results approved by the council, version %(version)s", version=1)
    assert vi("PROVISIONAL – not approved by the council") not in values(book)


def test_the_ranking_sheet_has_totals_and_field_scores_and_the_field_sheet_ranks_each_field(
    round_2015: Round, secretariat_lead: Any
) -> None:
    book = open_book(download(client_for(secretariat_lead), staff_url()))
    sheet = ranking_sheets(book)[0]
    header = next(sheet.iter_rows(min_row=HEADER_ROW, max_row=HEADER_ROW, values_only=True))
    assert header[:5] == (vi("Rank"), vi("Unit code"), vi("Unit"), vi("Index (%)"), vi("Band"))
    assert header[9:] == (vi("Field %(code)s", code="1"), vi("Field %(code)s", code="2"))
    first = next(sheet.iter_rows(min_row=DATA_ROW, max_row=DATA_ROW, values_only=True))
    # STP: 55.00 + 36.25 = 91.25 of 100, first.
    assert first[:10] == (1, "STP", "Sở Tư pháp", 91.25, "Tốt", 91.25, 100, 0, 0, 55)
    assert first[10] == 36.25
    fields = book[vi("Fields %(group)s", group="SO")]
    titles = next(fields.iter_rows(min_row=3, max_row=3, values_only=True))
    assert titles[3] == "1. Công tác chỉ đạo, điều hành CCHC"
    assert titles[6] == "2. Hiện đại hóa nền hành chính"
    rows = {r[1]: r for r in fields.iter_rows(min_row=5, values_only=True)}
    # Field 2: TTR 40 is first, STP 36.25 second.
    assert rows["TTR"][6:9] == (40, 40, 1)
    assert rows["STP"][3:9] == (55, 60, 1, 36.25, 40, 2)


def test_vietnamese_names_keep_their_diacritics(
    province: dict[str, Unit],
    groups: dict[str, UnitGroup],
    secretariat_lead: Any,
) -> None:
    dong_lam = Unit.objects.create(code="HDL", name="UBND huyện Đông Lâm", group=groups["HUYEN"])
    build_round(2015, {province["STP"]: ("50", "40"), dong_lam: ("30", "30")})
    book = open_book(download(client_for(secretariat_lead), staff_url()))
    names = {code: row[1] for code, row in ranked(book).items()}
    assert names == {"STP": "Sở Tư pháp", "HDL": "UBND huyện Đông Lâm"}
    assert book[vi("Ranking %(group)s", group="HUYEN")]["A1"].value.endswith("UBND cấp huyện")


def test_every_sheet_has_frozen_headers_print_set_up_and_two_decimal_scores(
    round_2015: Round, secretariat_lead: Any
) -> None:
    ExplanationRequest.objects.create(
        item=ItemScore.objects.get(assessment__unit__code="STP", criterion__code="1.1"),
        question="Đề nghị bổ sung kế hoạch",
    )
    book = open_book(download(client_for(secretariat_lead), staff_url()), read_only=False)
    assert len(book.sheetnames) == 6  # ranking × 2, fields × 2, detail, explanations
    for name in book.sheetnames:
        sheet = book[name]
        assert sheet.freeze_panes is not None, name
        assert sheet.print_title_rows in ("$1:$3", "$1:$4"), (name, sheet.print_title_rows)
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.page_setup.fitToWidth == 1
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.column_dimensions["B"].width >= 11
    ranking = ranking_sheets(book)[0]
    assert ranking.freeze_panes == "D4"
    score_cells = [cell for row in ranking.iter_rows(min_row=DATA_ROW, min_col=4) for cell in row]
    numbers = [c for c in score_cells if isinstance(c.value, (int, float))]
    assert len(numbers) == 4 * 7
    assert {c.number_format for c in numbers} == {"0.00"}
    detail = book[vi("Detail")]
    assert detail.freeze_panes == "E4"
    scores = [c for row in detail.iter_rows(min_row=DATA_ROW, min_col=6, max_col=10) for c in row]
    assert len([c for c in scores if c.value is not None]) == 12 * 4  # no round 2
    assert {c.number_format for c in scores if c.value is not None} == {"0.00"}
    asked = book[vi("Explanations")].cell(row=DATA_ROW, column=6)
    assert isinstance(asked.value, datetime.datetime)
    assert asked.number_format == "dd/mm/yyyy hh:mm"


def test_the_detail_matrix_has_self_both_appraisal_rounds_and_the_final_score(
    round_2015: Round, secretariat_lead: Any
) -> None:
    item = ItemScore.objects.get(assessment__unit__code="STP", criterion__code="2.1")
    item.appraisal2_score, item.appraisal2_at = Decimal("38.50"), timezone.now()
    item.explanation_required = True  # round 2 re-appraises only flagged items
    item.save()
    book = open_book(download(client_for(secretariat_lead), staff_url()))
    sheet = book[vi("Detail")]
    header = next(sheet.iter_rows(min_row=HEADER_ROW, max_row=HEADER_ROW, values_only=True))
    assert header[6:10] == (
        vi("Self score"),
        vi("Appraisal round 1"),
        vi("Appraisal round 2"),
        vi("Final score"),
    )
    rows = {(r[1], r[3]): r for r in padded(sheet.iter_rows(min_row=DATA_ROW, values_only=True))}
    assert len(rows) == 12
    assert rows[("STP", "1.1")] == (
        "SO",
        "STP",
        "Sở Tư pháp",
        "1.1",
        "Kế hoạch CCHC năm",
        60,
        54,
        55,
        None,
        55,
        None,
        None,
    )
    assert rows[("STP", "2.1")][6:10] == (35.25, 36.25, 38.5, 38.5)


def test_the_explanations_sheet_lists_questions_answers_and_dates(
    round_2015: Round, secretariat_lead: Any
) -> None:
    ExplanationRequest.objects.create(
        item=ItemScore.objects.get(assessment__unit__code="HBS", criterion__code="2.1"),
        question="Vì sao chưa có báo cáo?",
        answer="Đã bổ sung báo cáo số 12/BC-UBND",
        asked_at=timezone.make_aware(datetime.datetime(2016, 1, 5, 9, 30)),
        answered_at=timezone.make_aware(datetime.datetime(2016, 1, 8, 14, 0)),
    )
    book = open_book(download(client_for(secretariat_lead), staff_url()))
    rows = list(book[vi("Explanations")].iter_rows(min_row=DATA_ROW, values_only=True))
    assert rows == [
        (
            "HBS",
            "UBND huyện Bình Sơn",
            "2.1",
            "Vì sao chưa có báo cáo?",
            "Đã bổ sung báo cáo số 12/BC-UBND",
            datetime.datetime(2016, 1, 5, 9, 30),
            datetime.datetime(2016, 1, 8, 14, 0),
        )
    ]


def test_the_chair_sees_no_appraisal_of_a_unit_that_is_not_appraised_yet_and_members_wait_for_council_review(
    round_2015: Round, secretariat_lead: Any, council_member: Any, chair: Any
) -> None:
    UnitAssessment.objects.filter(unit__code="STP").update(state=AssessmentState.APPRAISING)
    ExplanationRequest.objects.create(
        item=ItemScore.objects.get(assessment__unit__code="STP", criterion__code="1.1"),
        question="Câu hỏi đang thẩm định",
    )

    def detail(user: Any) -> tuple[dict[tuple[str, str], Any], list[Any]]:
        book = open_book(download(client_for(user), staff_url()))
        rows = book[vi("Detail")].iter_rows(min_row=DATA_ROW, values_only=True)
        questions = list(book[vi("Explanations")].iter_rows(min_row=DATA_ROW, values_only=True))
        return {(r[1], r[3]): r for r in padded(rows)}, questions

    lead_rows, lead_questions = detail(secretariat_lead)
    assert lead_rows[("STP", "1.1")][6:10] == (54, 55, None, 55)
    assert len(lead_questions) == 1
    # Members read provisional results only in council review (every unit appraised).
    assert client_for(council_member).get(staff_url()).status_code == 403
    member_rows, member_questions = detail(chair)
    assert member_rows[("STP", "1.1")][6:10] == (54, None, None, None)
    assert member_rows[("SYT", "1.1")][6:10] == (49, 50, None, 50)
    assert member_questions == []


# --- the public workbook ---------------------------------------------------------------------


def test_the_public_workbook_has_the_published_numbers_and_no_self_score_or_appraisal(
    published_2015: Round,
) -> None:
    response = download(Client(), public_url())
    assert 'filename="chi-so-cchc-2015.xlsx"' in response["Content-Disposition"]
    book = open_book(response)
    published = json.loads(Client().get(reverse("public_json", args=[2015])).content)
    assert ranked(book) == expected(published)
    assert ranked(book) == expected(export(2015, provisional=False))
    assert book.sheetnames == [
        vi("Ranking %(group)s", group="SO"),
        vi("Ranking %(group)s", group="HUYEN"),
        vi("Fields %(group)s", group="SO"),
        vi("Fields %(group)s", group="HUYEN"),
    ]
    everything = values(book)
    for label in ("Self score", "Appraisal round 1", "Appraisal round 2", "Detail"):
        assert vi(label) not in everything
    assert "Nhận xét nội bộ của Tổ thẩm định" not in everything
    published_numbers = {
        Decimal(v)
        for g in published["groups"]
        for u in g["units"]
        for v in [u["index"], u["total"]] + [f["score"] for f in u["fields"]]
    }
    self_scores = {
        s
        for s in ItemScore.objects.values_list("self_score", flat=True)
        if s not in published_numbers
    }
    assert self_scores
    numbers = {Decimal(str(v)) for v in everything if isinstance(v, (int, float))}
    assert not numbers & self_scores
    assert book[book.sheetnames[0]]["A2"].value == vi(
        "Published results, version %(version)s", version=1
    )


def test_the_public_workbook_exists_only_for_published_rounds(
    round_2015: Round,
    chair: Any,
) -> None:
    assert Client().get(public_url()).status_code == 404
    approve(round_2015, chair)
    assert Client().get(public_url()).status_code == 404
    assert Client().get(public_url(2031)).status_code == 404
    services.publish_round(round_2015, by=chair)
    assert Client().get(public_url()).status_code == 200
    assert Client().get(public_url() + "?phien-ban=2").status_code == 404
    assert Client().post(public_url()).status_code == 405


# --- permissions -----------------------------------------------------------------------------


def test_the_lead_and_the_council_download_the_round_workbook_and_appraisers_do_not(
    round_2015: Round,
    secretariat_lead: Any,
    appraiser: Any,
    council_member: Any,
    chair: Any,
) -> None:
    for user in (secretariat_lead, council_member, chair):  # every unit of round_2015 is appraised
        download(client_for(user), staff_url())
    assert client_for(appraiser).get(staff_url()).status_code == 403


def test_the_round_workbook_is_refused_to_everyone_else(
    round_2015: Round, leader: Any, no_role_user: Any, secretariat_lead: Any
) -> None:
    anonymous = Client().get(staff_url())
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))
    assert client_for(leader).get(staff_url()).status_code == 403
    assert client_for(no_role_user).get(staff_url()).status_code == 403
    assert client_for(no_role_user).get(staff_url(2031)).status_code == 403
    assert client_for(secretariat_lead).get(staff_url(2031)).status_code == 404
    assert client_for(secretariat_lead).post(staff_url()).status_code == 405


def test_an_earlier_version_can_be_downloaded_and_an_unknown_one_is_404(
    round_2015: Round, chair: Any
) -> None:
    approve(round_2015, chair)
    client = client_for(chair)
    assert client.get(staff_url() + "?phien-ban=1").status_code == 200
    assert client.get(staff_url() + "?phien-ban=7").status_code == 404


def test_the_pages_offer_the_workbook(
    published_2015: Round,
    secretariat_lead: Any,
    council_member: Any,
) -> None:
    council = client_for(council_member).get(reverse("council_round", args=[2015]))
    assert staff_url() in council.content.decode()
    dashboard = client_for(secretariat_lead).get(reverse("secretariat_dashboard", args=[2015]))
    assert staff_url() in dashboard.content.decode()
    public = Client().get(reverse("public_round", args=[2015]))
    assert public_url() in public.content.decode()


# --- query budget ----------------------------------------------------------------------------


def round_of(year: int, size: int) -> Round:
    group = UnitGroup.objects.create(code=f"G{year}", name=f"Nhóm {year}", position=year)
    units = {
        Unit.objects.create(code=f"U{year}{n:02d}", name=f"Đơn vị {n}", group=group): (
            str(20 + n),
            str(10 + n % 7),
        )
        for n in range(size)
    }
    round_ = build_round(year, units)
    for item in ItemScore.objects.filter(assessment__round=round_, criterion__code="1.1"):
        ExplanationRequest.objects.create(item=item, question="Câu hỏi", answer="Trả lời")
    return round_


def test_the_workbooks_run_the_same_number_of_queries_for_5_and_30_units(
    secretariat_lead: Any, chair: Any
) -> None:
    small, large = round_of(2020, 5), round_of(2021, 30)
    client = client_for(secretariat_lead)
    client.get(staff_url(2020))

    def count(url: str, anonymous: bool = False) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert (Client() if anonymous else client).get(url).status_code == 200
        return len(captured.captured_queries)

    provisional = (count(staff_url(2020)), count(staff_url(2021)))
    assert provisional[0] == provisional[1], provisional
    publish(small, chair)
    publish(large, chair)
    final = (count(staff_url(2020)), count(staff_url(2021)))
    assert final[0] == final[1], final
    public = (count(public_url(2020), True), count(public_url(2021), True))
    assert public[0] == public[1], public
    assert public[0] <= 3
