"""The unit's offline self-assessment workbook: export, fill in Excel, import all or nothing
(DESIGN §9, §10), by command and on the web."""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from assessments import services
from assessments.models import (
    AssessmentState,
    Assignment,
    Criterion,
    Event,
    EventAction,
    ItemScore,
    Round,
    UnitAssessment,
)
from assessments.unit_workbook import GUIDE_SHEET, IDENTITY_NAME, SHEET, UNIT_COLUMNS
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def english() -> Iterator[None]:
    # Message assertions must not depend on the state of the vi catalogue.
    with translation.override("en"):
        yield


@pytest.fixture
def assessment(open_round: Round, criteria_sets: Any, units: Any) -> UnitAssessment:
    return services.get_or_create_assessment(open_round, units["STP"])


def export(tmp_path: Path, name: str = "stp.xlsx", unit: str = "STP") -> Path:
    path = tmp_path / name
    args = ["--round", "2016", "--unit", unit, "-o", str(path)]
    call_command("export_unit_workbook", *args, stdout=io.StringIO())
    return path


def fill(path: Path, rows: dict[str, dict[str, Any]], extra: Sequence[list[Any]] = ()) -> Path:
    """Write cells as Excel would store them (keys of UNIT_COLUMNS; ``None`` empties a cell),
    then append the ``extra`` rows."""
    workbook = load_workbook(path)
    sheet = workbook[SHEET]
    header = {cell.value: cell.column for cell in sheet[1]}
    column = {key: header[labels[-1]] for key, labels in UNIT_COLUMNS.items()}
    row_of = {sheet.cell(row=r, column=1).value: r for r in range(2, sheet.max_row + 1)}
    for code, cells in rows.items():
        for key, value in cells.items():
            sheet.cell(row=row_of[code], column=column[key]).value = value
    for values in extra:
        sheet.append(values)
    workbook.save(path)
    return path


def run_import(path: Path) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_unit_workbook",
        str(path),
        "--round",
        "2016",
        "--unit",
        "STP",
        stdout=out,
        stderr=err,
    )
    return out.getvalue(), err.getvalue()


def failed_import(path: Path) -> tuple[str, str]:
    """The command's final error and what it printed to stderr; it must fail."""
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_unit_workbook",
            *(str(path), "--round", "2016", "--unit", "STP"),
            stdout=io.StringIO(),
            stderr=err,
        )
    return str(caught.value), err.getvalue()


def item(assessment: UnitAssessment, code: str) -> ItemScore:
    return ItemScore.objects.get(assessment=assessment, criterion__code=code)


def snapshot(assessment: UnitAssessment) -> list[tuple[Any, ...]]:
    return list(
        ItemScore.objects.filter(assessment=assessment)
        .order_by("pk")
        .values_list("self_value", "self_score", "not_applicable", "na_reason", "note", "version")
    )


FILLED: dict[str, dict[str, Any]] = {
    "1.1.1": {"value": "có"},  # yes_no, 0.5
    "1.1.2": {"value": "45/50"},  # threshold 100:1; 80:0.5 → 90 % → 0.5
    "1.2": {"value": 2},  # deduction 0.25 per lapse, max 1 → 0.5
    "1.5": {"value": "1 sáng kiến"},  # choice → 0.5
    "3.3": {"value": 97.5},  # threshold 100:5; 98:4; 95:3 → 3, a float cell
    "3.4": {"not_applicable": "x", "na_reason": "Không có hồ sơ số hóa trong năm"},
    "7.3": {"value": "1,5", "note": "Theo biên bản chấm"},  # manual step 0.5, text cell
    "P.2": {"value": 2.5},  # manual step 0.5, a float cell
}
EXPECTED = {
    "1.1.1": ("có", D("0.50")),
    "1.1.2": ("45/50", D("0.50")),
    "1.2": ("2", D("0.50")),
    "1.5": ("1 sáng kiến", D("0.50")),
    "3.3": ("97.5", D("3.00")),
    "3.4": ("", None),
    "7.3": ("1,5", D("1.50")),
    "P.2": ("2.5", D("2.50")),
}


# --- export -----------------------------------------------------------------------------------


def test_the_export_lists_every_item_with_inputs_only_on_self_scored_items(
    assessment: UnitAssessment, tmp_path: Path, english: None
) -> None:
    saved = item(assessment, "1.1.1")
    services.save_item(
        saved, services.ItemInput(value="co", note="đã ban hành"), by=None, expected_version=0
    )
    workbook = load_workbook(export(tmp_path))
    assert workbook.sheetnames == [SHEET, GUIDE_SHEET]
    assert workbook.defined_names[IDENTITY_NAME].attr_text == '"2016/STP"'
    sheet = workbook[SHEET]
    header = [cell.value for cell in sheet[1]]
    for labels in UNIT_COLUMNS.values():
        assert labels[-1] in header
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    criteria = Criterion.objects.filter(criteria_set=assessment.criteria_set)
    assert set(rows) == {c.code for c in criteria}
    value = header.index("Giá trị tự đánh giá")
    na = header.index("Không áp dụng")
    note = header.index("Ghi chú")
    # The stored value and note come back; the current score is shown.
    assert rows["1.1.1"][value].value == "có" and rows["1.1.1"][note].value == "đã ban hành"
    assert rows["1.1.1"][-1].value == D("0.5")
    # A group row is bold and has no input cell open; a survey leaf is marked as such.
    assert rows["1"][0].font.b and rows["1"][value].protection.locked
    assert rows["1.7"][value].protection.locked
    assert "survey" in rows["1.7"][header.index("What to enter")].value
    # Inputs of a self-scored leaf are open; N/A only where the leaf allows it.
    assert not rows["1.1.1"][value].protection.locked
    assert rows["1.1.1"][na].protection.locked
    assert not rows["3.4"][na].protection.locked
    assert rows["1.5"][header.index("What to enter")].value.startswith(
        "Từ 2 sáng kiến trở lên; 1 sáng kiến; Không có"
    )
    assert sheet.protection.sheet and sheet.freeze_panes == "C2"
    lists = {dv.formula1: str(dv.sqref) for dv in sheet.data_validations.dataValidation}
    assert '"có,không"' in lists and '"x"' in lists
    assert rows["1.1.1"][value].coordinate in lists['"có,không"'].split()
    assert rows["3.4"][na].coordinate in lists['"x"'].split()
    assert '"Từ 2 sáng kiến trở lên,1 sáng kiến,Không có"' in lists


# --- import by command ------------------------------------------------------------------------


def test_a_filled_workbook_imports_every_kind_of_value_to_the_cent(
    assessment: UnitAssessment, tmp_path: Path, english: None
) -> None:
    path = fill(export(tmp_path), FILLED)
    out, err = run_import(path)
    assert err == ""
    assert "Changed 8 items of STP, round 2016." in out
    for code, (value, score) in EXPECTED.items():
        saved = item(assessment, code)
        assert (saved.self_value, saved.self_score) == (value, score), code
        assert saved.version == 1 and saved.updated_by is None
    na = item(assessment, "3.4")
    assert na.not_applicable and na.na_reason == "Không có hồ sơ số hóa trong năm"
    assert item(assessment, "7.3").note == "Theo biên bản chấm"
    event = Event.objects.get(action=EventAction.WORKBOOK_IMPORTED)
    assert event.detail["items"] == 8 and event.unit_id == assessment.unit_id
    assert event.actor is None
    assert Event.objects.filter(action=EventAction.SCORE_SAVED).count() == 8


def test_unchanged_rows_are_not_counted_and_write_no_event(
    assessment: UnitAssessment, tmp_path: Path, english: None
) -> None:
    run_import(fill(export(tmp_path), FILLED))
    before = snapshot(assessment)
    events = Event.objects.count()
    # A fresh export imported as it is, and the same numbers retyped with a decimal comma.
    path = fill(export(tmp_path, "again.xlsx"), {"3.3": {"value": "97,5"}, "P.2": {"value": 2.5}})
    out, _err = run_import(path)
    assert "Changed 0 items" in out
    assert snapshot(assessment) == before
    assert Event.objects.count() == events


def test_a_note_alone_is_a_change_that_keeps_the_value(
    assessment: UnitAssessment, tmp_path: Path, english: None
) -> None:
    run_import(fill(export(tmp_path), FILLED))
    out, _err = run_import(fill(export(tmp_path, "b.xlsx"), {"1.1.1": {"note": "Quyết định 12"}}))
    assert "Changed 1 item of STP" in out
    saved = item(assessment, "1.1.1")
    assert (saved.self_value, saved.self_score, saved.note) == ("có", D("0.50"), "Quyết định 12")


def test_one_bad_row_changes_nothing_and_fails_naming_the_row(
    assessment: UnitAssessment, tmp_path: Path, english: None
) -> None:
    path = fill(export(tmp_path), {**FILLED, "7.3": {"value": "1,3"}})
    before = snapshot(assessment)
    error, stderr = failed_import(path)
    assert "1 problem" in error
    lines = stderr.strip().splitlines()
    assert len(lines) == 1
    row = row_number(path, "7.3")
    assert f"row {row}," in lines[0] and "Giá trị tự đánh giá" in lines[0]
    assert "7.3" in lines[0] and "steps of 0.5" in lines[0]
    assert snapshot(assessment) == before
    assert not Event.objects.filter(unit=assessment.unit).exists()


def row_number(path: Path, code: str) -> int:
    sheet = load_workbook(path)[SHEET]
    return next(r for r in range(2, sheet.max_row + 1) if sheet.cell(row=r, column=1).value == code)


def test_every_bad_row_is_listed_and_nothing_is_imported(
    assessment: UnitAssessment, tmp_path: Path, english: None
) -> None:
    bad = {
        "1": {"value": "5"},  # a group row
        "1.7": {"value": "3"},  # a survey leaf
        "1.1.1": {"value": "có lẽ"},  # not có/không
        "1.5": {"value": "Ba sáng kiến"},  # unknown level
        "2.4": {"not_applicable": "x", "na_reason": "Không có"},  # N/A not allowed here
        "3.3": {"not_applicable": "x"},  # N/A without a reason
        "3.4": {"not_applicable": "có", "na_reason": "Lý do"},  # flag is not "x"
        "3.5": {"na_reason": "Quên đánh dấu"},  # a reason without the flag
        "5.2": {"value": "-1"},  # a negative count
    }
    path = fill(
        export(tmp_path),
        {**FILLED, **bad},
        extra=[["1.1.2", None, None, None, None, "1"], ["9.9", None, None, None, None, "có"]],
    )
    before = snapshot(assessment)
    error, text = failed_import(path)
    assert "11 problem" in error
    assert len(text.strip().splitlines()) == 11
    for code in bad:
        assert f"row {row_number(path, code)}," in text, code
    sheet_rows = load_workbook(path)[SHEET].max_row
    assert f"row {sheet_rows - 1}," in text and "already used on row" in text
    assert f"row {sheet_rows}," in text and "no item “9.9”" in text
    assert "sociological survey" in text and "group of items" in text
    assert "cannot be marked not applicable" in text and "give the reason" in text
    assert snapshot(assessment) == before
    assert not Event.objects.filter(unit=assessment.unit).exists()


def test_the_import_is_refused_after_submission(
    assessment: UnitAssessment, tmp_path: Path, english: None
) -> None:
    path = fill(export(tmp_path), FILLED)
    UnitAssessment.objects.filter(pk=assessment.pk).update(
        state=AssessmentState.SUBMITTED, submitted_at=timezone.now()
    )
    before = snapshot(assessment)
    with pytest.raises(CommandError, match="submitted and is locked"):
        run_import(path)
    assert snapshot(assessment) == before


def test_the_import_is_refused_after_the_deadline(
    assessment: UnitAssessment, open_round: Round, tmp_path: Path, english: None
) -> None:
    path = fill(export(tmp_path), FILLED)
    Round.objects.filter(pk=open_round.pk).update(
        self_assessment_deadline=timezone.now() - datetime.timedelta(hours=1)
    )
    before = snapshot(assessment)
    with pytest.raises(CommandError, match="deadline"):
        run_import(path)
    assert snapshot(assessment) == before


def test_a_workbook_of_another_unit_is_refused(
    assessment: UnitAssessment, units: Any, tmp_path: Path, english: None
) -> None:
    services.get_or_create_assessment(assessment.round, units["SYT"])
    path = fill(export(tmp_path, "syt.xlsx", unit="SYT"), FILLED)
    _error, stderr = failed_import(path)
    assert "downloaded for the unit SYT" in stderr
    assert not ItemScore.objects.exclude(self_value="").exists()


def test_the_commands_refuse_an_unknown_unit_or_a_missing_file(
    assessment: UnitAssessment, tmp_path: Path, english: None
) -> None:
    with pytest.raises(CommandError, match="no unit XYZ"):
        call_command("export_unit_workbook", "--round", "2016", "--unit", "XYZ", "-o", "a.xlsx")
    with pytest.raises(CommandError, match="does not exist"):
        run_import(tmp_path / "missing.xlsx")


# --- the web flow -----------------------------------------------------------------------------


def upload_url(unit: str = "STP") -> str:
    return reverse("unit_workbook_upload", args=[2016, unit])


def download_url(unit: str = "STP") -> str:
    return reverse("unit_workbook_download", args=[2016, unit])


def english_client(user: Any) -> Any:
    client = client_for(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def first_message(response: Any) -> str:
    return str(next(iter(response.wsgi_request._messages)))


def post_file(client: Any, path: Path) -> Any:
    with path.open("rb") as handle:
        return client.post(upload_url(), {"file": handle})


def test_a_focal_officer_previews_then_confirms_the_changes(
    assessment: UnitAssessment, focal: Any, tmp_path: Path
) -> None:
    client = english_client(focal)
    response = client.get(download_url())
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="tu-danh-gia-2016-STP.xlsx"'
    path = tmp_path / "web.xlsx"
    path.write_bytes(response.content)
    fill(path, FILLED)
    before = snapshot(assessment)
    response = post_file(client, path)
    assert response.status_code == 200
    body = response.content.decode()
    assert "changes 8 items" in body and "45/50" in body and "Confirm and save" in body
    assert snapshot(assessment) == before  # nothing is saved before the confirmation
    payload = response.context["confirm_form"].initial["payload"]
    response = client.post(upload_url(), {"payload": payload})
    assert response.status_code == 302
    assert response.url == reverse("unit_workspace", args=[2016, "STP"])
    for code, (value, score) in EXPECTED.items():
        saved = item(assessment, code)
        assert (saved.self_value, saved.self_score, saved.updated_by) == (value, score, focal)
    event = Event.objects.get(action=EventAction.WORKBOOK_IMPORTED)
    assert event.actor == focal and event.detail["items"] == 8
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["8 items were updated from the workbook."]


def test_a_web_upload_with_bad_rows_is_a_422_listing_every_row(
    assessment: UnitAssessment, leader: Any, tmp_path: Path
) -> None:
    path = fill(export(tmp_path), {**FILLED, "1": {"value": "5"}, "7.3": {"value": "8"}})
    response = post_file(english_client(leader), path)
    assert response.status_code == 422
    assert len(response.context["problems"]) == 2
    assert "confirm_form" not in response.context
    assert not ItemScore.objects.exclude(self_value="").exists()


def test_a_tampered_payload_is_refused_and_saves_nothing(
    assessment: UnitAssessment, focal: Any, tmp_path: Path
) -> None:
    client = english_client(focal)
    response = post_file(client, fill(export(tmp_path), FILLED))
    payload = response.context["confirm_form"].initial["payload"]
    tampered = payload[:-3] + ("AAA" if not payload.endswith("AAA") else "BBB")
    response = client.post(upload_url(), {"payload": tampered})
    assert response.status_code == 302 and response.url == upload_url()
    assert not ItemScore.objects.exclude(self_value="").exists()
    assert "expired or was altered" in first_message(response)


def test_a_preview_cannot_be_confirmed_by_another_member(
    assessment: UnitAssessment, focal: Any, leader: Any, tmp_path: Path
) -> None:
    response = post_file(english_client(focal), fill(export(tmp_path), FILLED))
    payload = response.context["confirm_form"].initial["payload"]
    response = english_client(leader).post(upload_url(), {"payload": payload})
    assert response.status_code == 302
    assert not ItemScore.objects.exclude(self_value="").exists()


def test_a_change_between_preview_and_confirm_refuses_the_whole_import(
    assessment: UnitAssessment, focal: Any, leader: Any, tmp_path: Path
) -> None:
    client = english_client(focal)
    response = post_file(client, fill(export(tmp_path), FILLED))
    payload = response.context["confirm_form"].initial["payload"]
    # The leader saves item 1.5 on the web meanwhile.
    services.save_item(
        item(assessment, "1.5"), services.ItemInput(value="Không có"), by=leader, expected_version=0
    )
    before = snapshot(assessment)
    response = client.post(upload_url(), {"payload": payload})
    assert response.status_code == 302 and response.url == upload_url()
    assert snapshot(assessment) == before
    assert item(assessment, "1.5").self_value == "Không có"
    assert not Event.objects.filter(action=EventAction.WORKBOOK_IMPORTED).exists()
    message = first_message(response)
    assert "1.5" in message and "Nothing was imported" in message


def test_a_web_upload_after_submission_is_refused(
    assessment: UnitAssessment, leader: Any, tmp_path: Path
) -> None:
    path = fill(export(tmp_path), FILLED)
    UnitAssessment.objects.filter(pk=assessment.pk).update(
        state=AssessmentState.SUBMITTED, submitted_at=timezone.now()
    )
    client = english_client(leader)
    page = client.get(upload_url())
    assert page.status_code == 200 and "not open for changes" in page.content.decode()
    response = post_file(client, path)
    assert response.status_code == 409
    assert not ItemScore.objects.exclude(self_value="").exists()


def test_a_contributor_may_change_only_the_items_assigned_to_them(
    assessment: UnitAssessment, contributor: Any, focal: Any, tmp_path: Path
) -> None:
    field_one = Criterion.objects.get(criteria_set=assessment.criteria_set, code="1")
    Assignment.objects.create(assessment=assessment, criterion=field_one, assignee=contributor)
    client = english_client(contributor)
    path = fill(export(tmp_path), {"1.1.1": {"value": "có"}, "3.3": {"value": "99"}})
    response = post_file(client, path)
    assert response.status_code == 422
    [problem] = response.context["problems"]
    assert (
        problem.row == row_number(path, "3.3") and "3.3 is not assigned to you" in problem.message
    )
    # Only the assigned item: accepted and saved.
    path = fill(export(tmp_path, "mine.xlsx"), {"1.1.1": {"value": "có"}})
    response = post_file(client, path)
    assert response.status_code == 200 and len(response.context["changes"]) == 1
    response = client.post(
        upload_url(), {"payload": response.context["confirm_form"].initial["payload"]}
    )
    assert response.status_code == 302
    assert item(assessment, "1.1.1").self_score == D("0.50")


def test_download_is_for_the_unit_and_province_staff_only(
    assessment: UnitAssessment,
    leader: Any,
    contributor: Any,
    secretariat_lead: Any,
    appraiser: Any,
    other_unit_focal: Any,
    no_role_user: Any,
) -> None:
    for user in (leader, contributor, secretariat_lead, appraiser):
        assert client_for(user).get(download_url()).status_code == 200
    assert client_for(other_unit_focal).get(download_url()).status_code == 404
    assert client_for(no_role_user).get(download_url()).status_code == 403
    response = client_for(None).get(download_url())
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert client_for(leader).post(download_url()).status_code == 405


def test_upload_is_for_unit_members_only(
    assessment: UnitAssessment,
    secretariat_lead: Any,
    appraiser: Any,
    other_unit_focal: Any,
    no_role_user: Any,
    contributor: Any,
    tmp_path: Path,
) -> None:
    path = export(tmp_path)
    for user in (secretariat_lead, appraiser):
        assert client_for(user).get(upload_url()).status_code == 403
        assert post_file(client_for(user), path).status_code == 403
    assert client_for(other_unit_focal).get(upload_url()).status_code == 404
    assert client_for(no_role_user).get(upload_url()).status_code == 403
    response = client_for(None).post(upload_url())
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert client_for(contributor).get(upload_url()).status_code == 200
    assert client_for(contributor).put(upload_url()).status_code == 405


def test_a_file_that_is_not_a_workbook_is_refused_with_a_message(
    assessment: UnitAssessment, leader: Any, tmp_path: Path
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    assert post_file(english_client(leader), path).status_code == 422
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"not a zip")
    response = post_file(english_client(leader), path)
    assert response.status_code == 422
    assert "not a readable Excel workbook" in response.content.decode()


def test_the_download_runs_a_fixed_number_of_queries(
    assessment: UnitAssessment, leader: Any
) -> None:
    client = client_for(leader)
    client.get(download_url())  # warm up sessions and the assessment row
    with CaptureQueriesContext(connection) as queries:
        assert client.get(download_url()).status_code == 200
    # session, user, roles (2), unit, round, assessment, criteria, items
    assert len(queries) <= 10, "\n".join(q["sql"] for q in queries.captured_queries)
