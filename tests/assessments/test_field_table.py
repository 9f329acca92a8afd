"""The fast self-assessment: a field as a table, saved row by row (issue 10 item 2), and the
item page's fixes (the filter kept, "tối đa", the history refreshed after a save)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments import services
from assessments.models import (
    AssessmentState,
    Assignment,
    Event,
    EventAction,
    ItemScore,
    Round,
    UnitAssessment,
)
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def assessment(criteria_sets: Any, units: Any, open_round: Round) -> UnitAssessment:
    return services.get_or_create_assessment(open_round, units["STP"])


def table_url(field: str = "1", unit: str = "STP") -> str:
    return reverse("field_table", args=[2016, unit, field])


def row_url(code: str, field: str = "1") -> str:
    return reverse("field_row_save", args=[2016, "STP", field, code])


def item(assessment: UnitAssessment, code: str) -> ItemScore:
    return ItemScore.objects.select_related("criterion").get(
        assessment=assessment, criterion__code=code
    )


def post_row(
    client: Any, assessment: UnitAssessment, code: str, *, htmx: bool = True, **data: Any
) -> Any:
    data.setdefault("version", item(assessment, code).version)
    data.setdefault("then", "row")
    return client.post(row_url(code, code.split(".")[0]), data, **(HTMX if htmx else {}))


# --- the page ---------------------------------------------------------------------------------


def test_the_table_lists_every_leaf_of_the_field_with_the_input_of_its_method(
    focal: Any, assessment: UnitAssessment
) -> None:
    response = client_for(focal).get(table_url())
    assert response.status_code == 200
    body = response.content.decode()
    for code in ("1.1.1", "1.1.2", "1.2", "1.5", "1.6", "1.7"):
        assert f'id="muc-{code.replace(".", "-")}"' in body
        assert reverse("item_edit", args=[2016, "STP", code]) in body  # the detail is one click
    assert "2.1" not in re.findall(r'id="muc-([\d-]+)"', body)  # only this field
    assert 'type="radio" form="f-muc-1-1-1" name="value" value="có"' in body  # yes/no
    assert re.search(r'<select[^>]*form="f-muc-1-5"', body)  # choice: its levels
    assert re.search(r'<input[^>]*type="text" form="f-muc-1-1-2"', body)  # threshold
    assert "tối đa" in body and "0,5 điểm" in body  # the maximum never reads as the score
    assert "Chấm bằng điều tra xã hội học" in body  # the survey leaf: read-only
    assert 'form="f-muc-1-7"' not in body


def test_the_workspace_links_every_field_to_its_table(
    focal: Any, assessment: UnitAssessment
) -> None:
    body = client_for(focal).get(reverse("unit_workspace", args=[2016, "STP"])).content.decode()
    for field in ("1", "2", "3"):
        assert table_url(field) in body


def test_an_unknown_field_or_an_item_of_another_field_is_404(
    focal: Any, assessment: UnitAssessment
) -> None:
    client = client_for(focal)
    assert client.get(table_url("99")).status_code == 404
    response = client.post(row_url("2.1", "1"), {"value": "100", "version": 0})
    assert response.status_code == 404
    # A sub-criterion in the field's place is no table: refused before anything is saved.
    target = item(assessment, "1.1.1")
    response = client.post(row_url("1.1.1", "1.1"), {"value": "có", "version": target.version})
    assert response.status_code == 404
    assert item(assessment, "1.1.1").version == target.version


def test_an_outsider_gets_404_and_an_account_without_a_role_403(
    other_unit_focal: Any, no_role_user: Any, assessment: UnitAssessment
) -> None:
    assert client_for(other_unit_focal).get(table_url()).status_code == 404
    assert client_for(other_unit_focal).post(row_url("1.1.1"), {"value": "có"}).status_code == 404
    assert client_for(no_role_user).get(table_url()).status_code == 403


def test_province_staff_read_the_table_but_cannot_save_a_row(
    secretariat_lead: Any, assessment: UnitAssessment
) -> None:
    client = client_for(secretariat_lead)
    response = client.get(table_url())
    assert response.status_code == 200
    assert 'id="f-muc' not in response.content.decode()  # no row form
    assert post_row(client, assessment, "1.1.1", value="có").status_code == 403
    assert item(assessment, "1.1.1").self_value == ""


def test_the_table_refuses_a_post_and_the_row_a_get(focal: Any, assessment: UnitAssessment) -> None:
    client = client_for(focal)
    assert client.post(table_url()).status_code == 405
    assert client.get(row_url("1.1.1")).status_code == 405


# --- saving a row -----------------------------------------------------------------------------


def test_a_row_saves_through_htmx_with_the_version_check_and_comes_back_saved(
    focal: Any, assessment: UnitAssessment
) -> None:
    response = post_row(client_for(focal), assessment, "1.1.2", value="97,5")
    assert response.status_code == 200
    body = response.content.decode()
    saved = item(assessment, "1.1.2")
    assert (saved.self_value, str(saved.self_score), saved.version) == ("97,5", "0.50", 1)
    assert body.lstrip().startswith('<tbody id="muc-1-1-2"')
    assert re.search(r'role="status" data-focus-after-swap[^>]*>Đã lưu tiêu chí 1\.1\.2', body)
    assert f'name="version" value="{saved.version}"' in body  # the next save is checked too
    assert 'id="field-total" aria-live="polite" hx-swap-oob="true"' in body  # the field's total
    assert "0,5" in body
    assert saved.updated_by == focal
    event = Event.objects.get(action=EventAction.SCORE_SAVED, criterion=saved.criterion)
    assert event.detail["new"]["value"] == "97,5"


def test_a_row_keeps_the_note_and_the_explanation_written_on_the_item_page(
    focal: Any, assessment: UnitAssessment
) -> None:
    one = item(assessment, "1.1.1")
    services.save_item(
        one,
        services.ItemInput(value="không", note="Ghi chú", no_evidence_reason="Văn bản mật"),
        by=focal,
        expected_version=one.version,
    )
    client = client_for(focal)
    body = client.get(table_url()).content.decode()
    assert 'name="note" value="Ghi chú"' in body
    response = post_row(
        client, assessment, "1.1.1", value="có", note="Ghi chú", no_evidence_reason="Văn bản mật"
    )
    assert response.status_code == 200
    saved = item(assessment, "1.1.1")
    assert (saved.self_value, saved.note, saved.no_evidence_reason) == (
        "có",
        "Ghi chú",
        "Văn bản mật",
    )


def test_a_conflict_is_409_in_the_row_with_the_other_value_and_what_was_typed(
    focal: Any, leader: Any, assessment: UnitAssessment
) -> None:
    client = client_for(focal)
    loaded = item(assessment, "1.1.2").version
    other = item(assessment, "1.1.2")
    services.save_item(other, services.ItemInput(value="50"), by=leader, expected_version=loaded)
    response = post_row(client, assessment, "1.1.2", value="97,5", version=loaded)
    assert response.status_code == 409
    body = response.content.decode()
    assert 'role="alert" data-focus-after-swap' in body
    assert "97,5" in body  # what the user typed, in the message
    assert 'value="50"' in body  # the other person's value in the input
    assert item(assessment, "1.1.2").self_value == "50"  # not overwritten


def test_a_refused_value_is_422_in_the_row_kept_as_typed_and_marked_invalid(
    focal: Any, assessment: UnitAssessment
) -> None:
    response = post_row(client_for(focal), assessment, "1.2", value="1,5")
    assert response.status_code == 422
    body = response.content.decode()
    assert re.search(r'id="v-muc-1-2" value="1,5"[^>]*aria-invalid="true"', body, re.S)
    assert 'role="alert" data-focus-after-swap tabindex="-1" id="msg-muc-1-2"' in body
    assert "1.2" in body
    assert item(assessment, "1.2").version == 0


def test_na_without_a_reason_marks_the_reason_invalid(
    focal: Any, assessment: UnitAssessment
) -> None:
    response = post_row(client_for(focal), assessment, "3.1.1", value="", not_applicable="on")
    assert response.status_code == 422
    assert re.search(r'id="nar-muc-3-1-1"[^>]*aria-invalid="true"', response.content.decode())
    ok = post_row(
        client_for(focal),
        assessment,
        "3.1.1",
        not_applicable="on",
        na_reason="Không có TTHC",
    )
    assert ok.status_code == 200
    assert item(assessment, "3.1.1").not_applicable
    assert "Không áp dụng" in ok.content.decode()


def test_enter_saves_the_row_and_brings_the_next_row_with_its_input_focused(
    focal: Any, assessment: UnitAssessment
) -> None:
    response = post_row(client_for(focal), assessment, "1.1.1", value="có", then="next")
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#muc-1-1-2"
    assert response["HX-Reswap"] == "outerHTML"
    body = response.content.decode()
    assert body.lstrip().startswith('<tbody id="muc-1-1-2"')
    assert re.search(r'id="v-muc-1-1-2"[^>]*autofocus data-focus-after-swap', body, re.S)
    assert '<tbody id="muc-1-1-1" hx-swap-oob="true">' in body  # the saved row, out of band
    assert "Đã lưu tiêu chí 1.1.1" in body
    assert item(assessment, "1.1.1").self_value == "có"


def test_enter_on_the_last_row_stays_on_it(focal: Any, assessment: UnitAssessment) -> None:
    response = post_row(client_for(focal), assessment, "1.6", value="90", then="next")
    assert response.status_code == 200 and "HX-Retarget" not in response
    assert "Đã lưu tiêu chí 1.6" in response.content.decode()


def test_without_javascript_a_row_posts_and_redirects_back_to_the_row(
    focal: Any, assessment: UnitAssessment
) -> None:
    client = client_for(focal)
    response = post_row(client, assessment, "1.1.1", htmx=False, value="có")
    assert response.status_code == 302
    assert response["Location"] == table_url() + "#muc-1-1-1"
    response = post_row(client, assessment, "1.1.2", htmx=False, value="100", then="next")
    assert response["Location"] == table_url() + "#muc-1-1-3"
    page = client.get(table_url()).content.decode()
    assert "= 1 điểm" in page  # 1.1.2 at 100 %
    assert item(assessment, "1.1.2").self_value == "100"


def test_without_javascript_a_refused_row_comes_back_in_the_whole_table(
    focal: Any, assessment: UnitAssessment
) -> None:
    response = post_row(client_for(focal), assessment, "1.2", htmx=False, value="-1")
    assert response.status_code == 422
    body = response.content.decode()
    assert "<html" in body and 'id="muc-1-1-1"' in body
    assert re.search(r'id="v-muc-1-2" value="-1"[^>]*aria-invalid="true"', body, re.S)


def test_a_contributor_sees_and_saves_only_the_assigned_items(
    focal: Any, contributor: Any, assessment: UnitAssessment
) -> None:
    services.assign_items(
        assessment,
        assessment.criteria_set.criteria.get(code="1.1"),
        contributor,
        by=focal,
    )
    client = client_for(contributor)
    body = client.get(table_url()).content.decode()
    codes = re.findall(r'<tbody id="muc-([\w-]+)"', body)
    assert codes == ["1-1-1", "1-1-2", "1-1-3"]
    assert post_row(client, assessment, "1.1.1", value="có").status_code == 200
    assert post_row(client, assessment, "1.2", value="0").status_code == 403
    assert Assignment.objects.count() == 1


def test_a_contributor_with_nothing_assigned_in_the_field_is_told_so(
    contributor: Any, assessment: UnitAssessment
) -> None:
    body = client_for(contributor).get(table_url()).content.decode()
    assert "Không có tiêu chí nào của lĩnh vực này được giao cho bạn" in body


def test_after_submission_the_table_is_read_only_and_a_row_post_is_refused(
    focal: Any, assessment: UnitAssessment
) -> None:
    UnitAssessment.objects.filter(pk=assessment.pk).update(
        state=AssessmentState.SUBMITTED, submitted_at=timezone.now()
    )
    client = client_for(focal)
    body = client.get(table_url()).content.decode()
    assert 'id="f-muc' not in body and "chỉ xem" in body
    response = post_row(client, assessment, "1.1.1", value="có")
    assert response.status_code == 422
    assert item(assessment, "1.1.1").self_value == ""


# --- the item page ----------------------------------------------------------------------------


def test_next_on_the_item_page_keeps_the_filter_and_skips_scored_items(
    focal: Any, assessment: UnitAssessment
) -> None:
    one = item(assessment, "1.1.2")
    services.save_item(one, services.ItemInput(value="100"), by=focal, expected_version=0)
    client = client_for(focal)
    workspace = client.get(reverse("unit_workspace", args=[2016, "STP"]) + "?loc=chua-cham")
    assert reverse("item_edit", args=[2016, "STP", "1.1.1"]) + "?loc=chua-cham" in (
        workspace.content.decode()
    )
    page = client.get(reverse("item_edit", args=[2016, "STP", "1.1.1"]) + "?loc=chua-cham")
    body = page.content.decode()
    # 1.1.2 is scored: "next unscored" goes to 1.1.3, with the filter.
    assert reverse("item_edit", args=[2016, "STP", "1.1.3"]) + "?loc=chua-cham" in body
    assert "Chưa chấm" in body
    # The save keeps the filter in the form's address.
    response = client.post(
        reverse("item_edit", args=[2016, "STP", "1.1.1"]) + "?loc=chua-cham",
        {"value": "có", "version": 0},
        **HTMX,
    )
    assert reverse("item_edit", args=[2016, "STP", "1.1.3"]) + "?loc=chua-cham" in (
        response.content.decode()
    )


def test_without_a_filter_next_is_the_next_code(focal: Any, assessment: UnitAssessment) -> None:
    body = client_for(focal).get(reverse("item_edit", args=[2016, "STP", "1.1.1"])).content.decode()
    assert reverse("item_edit", args=[2016, "STP", "1.1.2"]) + '"' in body
    assert "tối đa 0,5 điểm" in body


def test_the_history_panel_comes_back_with_the_save(focal: Any, assessment: UnitAssessment) -> None:
    response = client_for(focal).post(
        reverse("item_edit", args=[2016, "STP", "1.1.1"]), {"value": "có", "version": 0}, **HTMX
    )
    body = response.content.decode()
    assert 'id="history" hx-swap-oob="true"' in body
    history = body.split('id="history"', 1)[1]
    assert "Chưa có thay đổi" not in history
    assert "có" in history and "0,5" in history


def test_the_history_panel_alone_is_what_the_page_reloads_after_linking_evidence(
    focal: Any, other_unit_focal: Any, assessment: UnitAssessment
) -> None:
    url = reverse("item_history", args=[2016, "STP", "1.1.1"])
    assert client_for(other_unit_focal).get(url).status_code == 404
    body = client_for(focal).get(url).content.decode()
    assert body.lstrip().startswith("<section") and "Chưa có thay đổi" in body
    assert 'hx-trigger="htmx:afterSettle from:#evidence-section"' in body
    assert client_for(focal).post(url).status_code == 405
