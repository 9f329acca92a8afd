"""`manage.py export_results` (DESIGN §10): final results from the latest snapshot, provisional
results computed with self scores standing in; JSON, CSV and .xlsx."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from openpyxl import load_workbook

from assessments.models import ItemScore, Round, Unit, UnitGroup
from reporting import services
from reporting.models import ResultSnapshot
from tests.reporting.test_public import approve, build_round, get, publish

pytestmark = pytest.mark.django_db


def export(*args: str) -> str:
    out = io.StringIO()
    call_command("export_results", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def scores(groups: dict[str, UnitGroup], units: dict[str, Unit]) -> dict[Unit, tuple[str, str]]:
    return {
        units["STP"]: ("55.00", "36.25"),  # 91.25
        units["SYT"]: ("50.00", "34.99"),  # 84.99
        units["HBS"]: ("40.00", "20.00"),  # 60.00
    }


@pytest.fixture
def appraised_round(scores: dict[Unit, tuple[str, str]]) -> Round:
    return build_round(2015, scores)


def test_final_results_of_a_round_that_is_not_approved_are_refused(
    appraised_round: Round,
) -> None:
    for kind in ("json", "csv"):
        with pytest.raises(CommandError, match="--provisional"):
            export("--round", "2015", "--format", kind)


def test_an_unknown_round_is_refused(appraised_round: Round) -> None:
    with pytest.raises(CommandError, match="2031"):
        export("--round", "2031", "--provisional", "--format", "json")


def test_the_command_exits_non_zero_from_the_command_line(
    appraised_round: Round, capsys: Any
) -> None:
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(
            ["manage.py", "export_results", "--round", "2015", "--format", "json"]
        ).execute()
    assert exit_info.value.code != 0
    assert "2015" in capsys.readouterr().err


def test_final_json_is_the_latest_snapshot_and_what_the_public_page_serves(
    appraised_round: Round, chair: Any
) -> None:
    publish(appraised_round, chair)
    exported = export("--round", "2015", "--format", "json")
    snapshot = ResultSnapshot.objects.get(round=appraised_round)
    assert json.loads(exported) == snapshot.data
    assert exported == get(reverse("public_json", args=[2015])).content.decode()
    assert list(json.loads(exported)) == ["round", "provisional", "groups"]
    assert '"name": "Sở Tư pháp"' in exported  # ensure_ascii=False
    assert '\n  "provisional": false,' in exported  # indent 2


def test_final_numbers_come_from_the_snapshot_not_a_recomputation(
    appraised_round: Round, chair: Any
) -> None:
    approve(appraised_round, chair)
    # A score changed behind the snapshot's back (no correction) must not leak into the export.
    ItemScore.objects.filter(
        assessment__round=appraised_round, assessment__unit__code="SYT", criterion__code="2.1"
    ).update(appraisal1_score=Decimal("40.00"))
    data = json.loads(export("--round", "2015", "--format", "json"))
    syt = next(u for u in data["groups"][0]["units"] if u["code"] == "SYT")
    assert (syt["index"], syt["band"]) == ("84.99", "Khá")

    services.correct_results(appraised_round, by=chair, reason="Sửa điểm lĩnh vực 2 của Sở Y tế")
    data = json.loads(export("--round", "2015", "--format", "json"))
    syt = next(u for u in data["groups"][0]["units"] if u["code"] == "SYT")
    assert (syt["index"], syt["band"]) == ("90.00", "Tốt")
    assert data == ResultSnapshot.objects.get(round=appraised_round, version=2).data


def test_provisional_json_uses_self_scores_where_there_is_no_appraisal(
    scores: dict[Unit, tuple[str, str]],
) -> None:
    round_ = build_round(2015, scores, appraised=False)
    # One appraised item: the appraisal counts there, the self score elsewhere.
    ItemScore.objects.filter(
        assessment__round=round_, assessment__unit__code="STP", criterion__code="1.1"
    ).update(appraisal1_score=Decimal("50.00"), appraisal1_at="2016-01-10T08:00:00Z")
    data = json.loads(export("--round", "2015", "--provisional", "--format", "json"))
    assert data["provisional"] is True
    units = {u["code"]: u for g in data["groups"] for u in g["units"]}
    assert units["STP"]["index"] == "86.25"  # 50.00 appraised + 36.25 self
    assert units["STP"]["fields"][0] == {"code": "1", "score": "50.00", "max": "60.00"}
    assert units["SYT"]["index"] == "84.99"
    assert units["HBS"]["band"] == "Trung bình"
    assert not ResultSnapshot.objects.exists()


def test_csv_goes_to_a_file_with_a_bom_and_one_row_per_unit(
    appraised_round: Round, chair: Any, tmp_path: Path
) -> None:
    approve(appraised_round, chair)
    target = tmp_path / "ket-qua.csv"
    export("--round", "2015", "--format", "csv", "-o", str(target))
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0][:5] == ["group", "group_name", "rank", "code", "name"]
    assert [(r[3], r[2], r[5], r[6]) for r in rows[1:]] == [
        ("STP", "1", "91.25", "Tốt"),
        ("SYT", "2", "84.99", "Khá"),
        ("HBS", "1", "60.00", "Trung bình"),
    ]
    # The same bytes as the public download.
    publish_snapshot = services.publish_round(appraised_round, by=chair)
    assert publish_snapshot.version == 1
    assert get(reverse("public_csv", args=[2015])).content == raw


def test_xlsx_has_a_sheet_per_group_with_vietnamese_headers_and_two_decimals(
    appraised_round: Round, chair: Any, tmp_path: Path
) -> None:
    approve(appraised_round, chair)
    target = tmp_path / "ket-qua.xlsx"
    export("--round", "2015", "--format", "xlsx", "-o", str(target))
    workbook = load_workbook(target)
    assert workbook.sheetnames == ["SO", "HUYEN"]
    sheet = workbook["SO"]
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["Xếp hạng", "Mã đơn vị", "Tên đơn vị", "Chỉ số (%)", "Xếp loại"]
    assert header[-2:] == ["Lĩnh vực 1", "Lĩnh vực 2"]
    first = [c.value for c in sheet[2]]
    assert first[:5] == [1, "STP", "Sở Tư pháp", 91.25, "Tốt"]
    assert sheet["D2"].number_format == "0.00"
    assert sheet.max_row == 3
    assert [c.value for c in workbook["HUYEN"][2]][:3] == [1, "HBS", "UBND huyện Bình Sơn"]


def test_xlsx_needs_an_output_file(appraised_round: Round, chair: Any) -> None:
    approve(appraised_round, chair)
    with pytest.raises(CommandError, match="-o"):
        export("--round", "2015", "--format", "xlsx")
