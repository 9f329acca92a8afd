"""PDF reports (DESIGN §9, §11): the province report, the decision annex, a unit's
self-assessment report and scorecard, the zip of every unit. The text of each PDF (pypdf) is
compared with the results engine's §10 JSON; fonts must be embedded and Vietnamese intact."""

from __future__ import annotations

import datetime
import io
import os
import re
import shutil
import subprocess
import unicodedata
import zipfile
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext
from pypdf import PdfReader

from assessments.models import ItemScore, Round, Unit, UnitAssessment, UnitGroup, UnitRole
from reporting import services
from tests.conftest import ARTIFACTS, client_for, unit_user
from tests.reporting.test_public import build_round

pytestmark = pytest.mark.django_db

SIGNER = "Huỳnh Văn Lộc"
DECISION_NUMBER = "125/QĐ-UBND"


# ---------------------------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def province(groups: dict[str, UnitGroup], units: dict[str, Unit]) -> dict[str, Unit]:
    """Departments and districts whose names carry stacked accents (ể, ộ, ế)."""
    return {
        **units,
        "VHTT": Unit.objects.create(
            code="VHTT", name="Sở Văn hóa, Thể thao và Du lịch", group=groups["SO"]
        ),
        "HQT": Unit.objects.create(
            code="HQT", name="UBND huyện Quyết Thắng", group=groups["HUYEN"]
        ),
        "HLN": Unit.objects.create(code="HLN", name="UBND huyện Lộc Ninh", group=groups["HUYEN"]),
    }


SCORES = {
    "STP": ("55.00", "36.25"),  # 91.25
    "VHTT": ("50.00", "35.00"),  # 85.00
    "SYT": ("45.00", "40.00"),  # 85.00, tied
    "HQT": ("40.00", "20.50"),  # 60.50
    "HBS": ("30.00", "15.00"),  # 45.00
    "HLN": ("30.00", "15.00"),  # 45.00, tied
}


def opened(round_: Round) -> Round:
    """The unit pages need a round that has opened to units."""
    Round.objects.filter(pk=round_.pk).update(opens_at=timezone.now() - datetime.timedelta(days=90))
    round_.refresh_from_db()
    return round_


@pytest.fixture
def round_2015(province: dict[str, Unit]) -> Round:
    round_ = opened(build_round(2015, {province[c]: s for c, s in SCORES.items()}))
    assessment = UnitAssessment.objects.get(round=round_, unit__code="STP")
    UnitAssessment.objects.filter(pk=assessment.pk).update(
        difficulties="Thiếu cán bộ chuyên trách về Thể chế",
        recommendations="Đề nghị tập huấn nghiệp vụ Quyết toán",
    )
    item = ItemScore.objects.get(assessment=assessment, criterion__code="1.1")
    item.criterion.evidence_required = True
    item.criterion.save()
    ItemScore.objects.filter(pk=item.pk).update(
        no_evidence_reason="Văn bản đang chờ Lãnh đạo ký duyệt"
    )
    return round_


def approve(round_: Round, chair: Any) -> None:
    services.approve_round(
        round_, by=chair, number=DECISION_NUMBER, date=datetime.date(2016, 3, 15), signer=SIGNER
    )


@pytest.fixture
def approved_2015(round_2015: Round, chair: Any) -> Round:
    approve(round_2015, chair)
    return round_2015


@pytest.fixture
def published_2015(approved_2015: Round, chair: Any) -> Round:
    services.publish_round(approved_2015, by=chair)
    return approved_2015


def province_url(year: int = 2015, public: bool = False) -> str:
    return reverse("pdf_province_report", args=[year]) + ("?cong-khai=1" if public else "")


def annex_url(year: int = 2015) -> str:
    return reverse("pdf_decision_annex", args=[year])


def scorecard_url(unit: str = "STP", year: int = 2015) -> str:
    return reverse("pdf_scorecard", args=[year, unit])


def self_url(unit: str = "STP", year: int = 2015) -> str:
    return reverse("pdf_self_assessment", args=[year, unit])


def zip_url(year: int = 2015) -> str:
    return reverse("pdf_all_units_zip", args=[year])


def pdf_text(content: bytes) -> str:
    """The PDF's text, NFC-normalised, with whitespace collapsed to single spaces."""
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    text = " ".join(page.extract_text() or "" for page in reader.pages)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text))


def fetch(user: Any | None, url: str) -> Any:
    response = client_for(user).get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


def index_text(value: str) -> str:
    """The §10 index ("91.25") as the Vietnamese PDF prints it ("91,25")."""
    return str(number_format(Decimal(value), decimal_pos=2, use_l10n=True))


def expected(round_: Round, *, provisional: bool) -> dict[str, Any]:
    """What ``export_results`` prints (DESIGN §10): the reference for every PDF's numbers."""
    import io
    import json

    from django.core.management import call_command

    out = io.StringIO()
    args = ["--round", str(round_.year), "--format", "json"] + (
        ["--provisional"] if provisional else []
    )
    call_command("export_results", *args, stdout=out)
    return json.loads(out.getvalue())


def assert_rankings(text: str, data: dict[str, Any]) -> None:
    """Every unit's rank, name, index (decimal comma) and band, in a ranking row."""
    for group in data["groups"]:
        for unit in group["units"]:
            row = re.compile(
                rf"{unit['rank']} {re.escape(unit['name'])} \S+ "
                rf"{re.escape(index_text(unit['index']))} {re.escape(unit['band'])}"
            )
            assert row.search(text), (unit, text)


def assert_annex_rows(text: str, data: dict[str, Any]) -> None:
    for group in data["groups"]:
        for number, unit in enumerate(group["units"], start=1):
            row = (
                f"{number} {unit['name']} {index_text(unit['index'])} {unit['rank']} {unit['band']}"
            )
            assert row in text, (row, text)


def fonts_of(content: bytes) -> list[tuple[str, bool]]:
    """(font name, has an embedded TrueType program) for every font of every page."""
    found = []
    for page in PdfReader(io.BytesIO(content)).pages:
        fonts = page["/Resources"].get_object().get("/Font", {}).get_object()
        for ref in fonts.values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants.get_object()[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor").get_object()
            found.append((str(font["/BaseFont"]), "/FontFile2" in descriptor))
    return found


def assert_embedded_dejavu(content: bytes) -> None:
    fonts = fonts_of(content)
    assert fonts
    for name, embedded in fonts:
        # The shipped font (@font-face family DejaVuSansPDF), not a system fallback that
        # happens to be DejaVu too.
        assert embedded and name.split("+")[-1].startswith("DejaVuSansPDF"), fonts


# ---------------------------------------------------------------------------------------------
# The province report
# ---------------------------------------------------------------------------------------------


def test_the_province_report_before_approval_prints_the_provisional_results(
    round_2015: Round, secretariat_lead: Any
) -> None:
    response = fetch(secretariat_lead, province_url())
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    text = pdf_text(response.content)
    assert_rankings(text, expected(round_2015, provisional=True))
    assert gettext("PROVISIONAL") in text


def test_the_province_report_after_approval_prints_the_snapshot_with_the_decision(
    approved_2015: Round, council_member: Any
) -> None:
    snapshot = approved_2015.snapshots.get()
    assert snapshot.data == expected(approved_2015, provisional=False)
    text = pdf_text(fetch(council_member, province_url()).content)
    assert_rankings(text, snapshot.data)
    assert gettext("PROVISIONAL") not in text
    assert DECISION_NUMBER in text and SIGNER in text
    # Self scores are one point lower than the appraisal: a leak of them would show here.
    assert "90,25" not in text


def test_the_province_report_keeps_every_vietnamese_letter_and_embeds_dejavu(
    round_2015: Round, chair: Any
) -> None:
    content = fetch(chair, province_url()).content
    text = pdf_text(content)
    for word in ("Thể", "Quyết", "Lộc", "Sở Văn hóa, Thể thao và Du lịch", "UBND huyện Lộc Ninh"):
        assert word in text, word
    assert_embedded_dejavu(content)
    assert re.search(r"\b1/\d+\b", text)  # page numbers "… 1/N"


def test_the_province_report_compares_with_the_last_published_year(
    province: dict[str, Unit], chair: Any, secretariat_lead: Any
) -> None:
    departments = [province["STP"], province["SYT"], province["VHTT"]]
    last = build_round(
        2014, dict(zip(departments, [("50.00", "30.00"), ("1", "1"), ("2", "2")], strict=True))
    )
    approve(last, chair)  # STP 80.00
    services.publish_round(last, by=chair)
    build_round(
        2015, dict(zip(departments, [("55.00", "36.25"), ("1", "1"), ("2", "2")], strict=True))
    )
    text = pdf_text(fetch(secretariat_lead, province_url()).content)
    assert "+11,25" in text  # 91.25 − 80.00


def test_the_public_province_report_of_a_published_round_needs_no_login(
    published_2015: Round,
) -> None:
    snapshot = published_2015.snapshots.get()
    for url in (province_url(), province_url(public=True)):
        text = pdf_text(fetch(None, url).content)
        assert_rankings(text, snapshot.data)


def test_an_unpublished_round_has_no_public_pdf(
    approved_2015: Round, leader: Any, appraiser: Any, council_member: Any
) -> None:
    for url in (province_url(), annex_url(), scorecard_url(), province_url(public=True)):
        assert client_for(None).get(url).status_code == 404, url
    assert client_for(council_member).get(province_url(public=True)).status_code == 404
    # A unit is an outsider to the province's unpublished results; an appraiser is an insider
    # without the council's role.
    assert client_for(leader).get(province_url()).status_code == 404
    assert client_for(appraiser).get(province_url()).status_code == 403
    assert client_for(appraiser).get(annex_url()).status_code == 403


def test_an_unknown_round_is_404_for_everybody(
    round_2015: Round, secretariat_lead: Any, leader: Any
) -> None:
    for user in (None, secretariat_lead, leader):
        for url in (province_url(2031), annex_url(2031), scorecard_url(year=2031)):
            assert client_for(user).get(url).status_code == 404, (user, url)


def test_the_pdf_downloads_refuse_other_methods(
    published_2015: Round, secretariat_lead: Any
) -> None:
    client = client_for(secretariat_lead)
    for url in (province_url(), annex_url(), scorecard_url(), self_url(), zip_url()):
        assert client.post(url).status_code == 405, url


def test_the_province_report_costs_the_same_queries_for_5_and_for_30_units(
    secretariat_lead: Any, chair: Any
) -> None:
    counts = []
    for year, size in ((2030, 5), (2031, 30)):
        group = UnitGroup.objects.create(code=f"XA{size}", name=f"UBND cấp xã {size}", position=5)
        units = {
            Unit.objects.create(code=f"X{size}N{n:02d}", name=f"UBND xã Số {n:02d}", group=group): (
                f"{30 + n}.00",
                "20.00",
            )
            for n in range(size)
        }
        round_ = build_round(year, units)
        for provisional in (True, False):
            if not provisional:
                approve(round_, chair)
            client = client_for(secretariat_lead)
            client.get(province_url(year))  # warm the session
            with CaptureQueriesContext(connection) as queries:
                response = client.get(province_url(year))
            assert response.status_code == 200
            counts.append((provisional, len(queries), [q["sql"] for q in queries.captured_queries]))
    small_provisional, small_final, large_provisional, large_final = counts
    assert small_provisional[1] == large_provisional[1], large_provisional[2]
    assert small_final[1] == large_final[1], large_final[2]


# ---------------------------------------------------------------------------------------------
# The decision annex
# ---------------------------------------------------------------------------------------------


def test_the_annex_lists_every_group_ranking_under_the_decision(
    approved_2015: Round, secretariat_lead: Any
) -> None:
    content = fetch(secretariat_lead, annex_url()).content
    text = pdf_text(content)
    assert_annex_rows(text, approved_2015.snapshots.get().data)
    assert DECISION_NUMBER in text and "15/03/2016" in text
    assert SIGNER in text
    assert_embedded_dejavu(content)


def test_the_annex_before_approval_is_a_provisional_draft(
    round_2015: Round, council_member: Any
) -> None:
    text = pdf_text(fetch(council_member, annex_url()).content)
    assert_annex_rows(text, expected(round_2015, provisional=True))
    assert gettext("PROVISIONAL") in text
    assert DECISION_NUMBER not in text


def test_the_public_annex_of_a_published_round(published_2015: Round) -> None:
    text = pdf_text(fetch(None, annex_url()).content)
    assert_annex_rows(text, published_2015.snapshots.get().data)


# ---------------------------------------------------------------------------------------------
# A unit's scorecard
# ---------------------------------------------------------------------------------------------


def assert_scorecard(text: str, data: dict[str, Any], code: str) -> None:
    for group in data["groups"]:
        for unit in group["units"]:
            if unit["code"] == code:
                assert unit["name"] in text
                assert index_text(unit["index"]) in text
                assert f"{unit['rank']}/{len(group['units'])}" in text
                assert unit["band"] in text
                return
    raise AssertionError(code)


def test_the_unit_reads_its_scorecard_once_the_round_is_published(
    approved_2015: Round, leader: Any, contributor: Any, chair: Any
) -> None:
    # Approved but not published: a rank depends on every other unit (§6).
    assert client_for(leader).get(scorecard_url()).status_code == 404
    services.publish_round(approved_2015, by=chair)
    data = approved_2015.snapshots.get().data
    for user in (leader, contributor):
        content = fetch(user, scorecard_url()).content
        assert_scorecard(pdf_text(content), data, "STP")
    assert_embedded_dejavu(content)


def test_the_scorecard_names_the_strongest_and_the_weakest_field(
    published_2015: Round, leader: Any
) -> None:
    text = pdf_text(fetch(leader, scorecard_url("STP")).content)
    # STP: field 1 55/60 (91.7 %), field 2 36.25/40 (90.6 %).
    assert re.search(r"1\. Công tác chỉ đạo, điều hành CCHC \(55/60\)", text), text
    assert re.search(r"2\. Hiện đại hóa nền hành chính \(36,25/40\)", text), text


def test_before_approval_only_the_lead_and_the_chair_read_a_provisional_scorecard(
    round_2015: Round, leader: Any, appraiser: Any, secretariat_lead: Any, chair: Any
) -> None:
    assert client_for(leader).get(scorecard_url()).status_code == 403
    assert client_for(appraiser).get(scorecard_url("HQT")).status_code == 403
    for user in (secretariat_lead, chair):
        text = pdf_text(fetch(user, scorecard_url("HQT")).content)
        assert_scorecard(text, expected(round_2015, provisional=True), "HQT")
        assert gettext("PROVISIONAL") in text


def test_another_unit_and_no_role_cannot_read_an_unpublished_scorecard(
    approved_2015: Round, other_unit_focal: Any, no_role_user: Any
) -> None:
    assert client_for(other_unit_focal).get(scorecard_url("STP")).status_code == 404
    assert client_for(no_role_user).get(scorecard_url("STP")).status_code == 403


def test_the_scorecard_of_a_published_round_is_public(
    published_2015: Round, other_unit_focal: Any
) -> None:
    data = published_2015.snapshots.get().data
    for user in (None, other_unit_focal):
        assert_scorecard(pdf_text(fetch(user, scorecard_url("VHTT")).content), data, "VHTT")
    assert client_for(None).get(scorecard_url("XYZ")).status_code == 404


# ---------------------------------------------------------------------------------------------
# A unit's self-assessment report
# ---------------------------------------------------------------------------------------------


def test_the_self_assessment_report_has_the_summary_explanations_and_sign_off(
    round_2015: Round, units: dict[str, Unit]
) -> None:
    leader = unit_user("stp.lanhdao", units["STP"], UnitRole.LEADER)
    leader.first_name, leader.last_name = "Lộc", "Huỳnh Văn"
    leader.save()
    UnitAssessment.objects.filter(round=round_2015, unit__code="STP").update(submitted_by=leader)
    content = fetch(leader, self_url()).content
    text = pdf_text(content)
    # Self scores: 54 + 35.25 = 89.25 of 100.
    assert "89,25" in text
    assert "54/60" in text and "35,25/40" in text
    assert "Văn bản đang chờ Lãnh đạo ký duyệt" in text
    assert "Thiếu cán bộ chuyên trách về Thể chế" in text
    assert "Đề nghị tập huấn nghiệp vụ Quyết toán" in text
    assert gettext("HEAD OF THE UNIT") in text
    assert gettext("signature, full name and seal") in text
    assert "Lộc Huỳnh Văn" in text or SIGNER in text
    assert_embedded_dejavu(content)


def test_the_self_assessment_report_is_for_the_unit_and_province_staff_only(
    round_2015: Round, focal: Any, appraiser: Any, other_unit_focal: Any, no_role_user: Any
) -> None:
    for user in (focal, appraiser):
        fetch(user, self_url())
    assert client_for(other_unit_focal).get(self_url()).status_code == 404
    assert client_for(no_role_user).get(self_url()).status_code == 403
    assert client_for(None).get(self_url()).status_code == 302


# ---------------------------------------------------------------------------------------------
# The zip of every unit
# ---------------------------------------------------------------------------------------------


def test_the_secretariat_downloads_every_units_pdfs_in_one_zip(
    approved_2015: Round, secretariat_lead: Any
) -> None:
    response = fetch(secretariat_lead, zip_url())
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    data = approved_2015.snapshots.get().data
    for group in data["groups"]:
        for unit in group["units"]:
            card = next(n for n in names if n.endswith(f"phieu-ket-qua-{unit['code']}-2015.pdf"))
            assert_scorecard(pdf_text(archive.read(card)), data, unit["code"])
            assert any(n.endswith(f"tu-danh-gia-{unit['code']}-2015.pdf") for n in names)
    assert len(names) == 2 * len(SCORES)


def test_only_the_secretariat_lead_and_the_council_download_the_zip(
    round_2015: Round, leader: Any, appraiser: Any, council_member: Any
) -> None:
    assert client_for(leader).get(zip_url()).status_code == 403
    assert client_for(appraiser).get(zip_url()).status_code == 403
    assert client_for(None).get(zip_url()).status_code == 302
    assert client_for(council_member).get(zip_url()).status_code == 200


# ---------------------------------------------------------------------------------------------
# Pictures of page 1 (for the reviewers; the e2e suite is separate)
# ---------------------------------------------------------------------------------------------


def test_page_1_of_the_province_report_and_of_a_scorecard_as_png(
    approved_2015: Round, secretariat_lead: Any, tmp_path: Any
) -> None:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        if os.environ.get("CI"):
            pytest.fail("pdftoppm (poppler-utils) is missing")
        pytest.skip("pdftoppm (poppler-utils) is missing")
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    for name, url in (("pdf-province-report", province_url()), ("pdf-scorecard", scorecard_url())):
        source = tmp_path / f"{name}.pdf"
        source.write_bytes(fetch(secretariat_lead, url).content)
        subprocess.run(
            [
                pdftoppm,
                "-png",
                "-r",
                "60",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                source,
                folder / name,
            ],
            check=True,
        )
        assert (folder / f"{name}.png").stat().st_size > 1000
