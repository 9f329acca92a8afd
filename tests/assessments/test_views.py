"""Every view of the foundation: happy path, anonymous, outsider (404), wrong role (403), method."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from assessments.models import CriteriaSet, Event, EventAction, Round
from tests.conftest import REFERENCE, client_for

pytestmark = pytest.mark.django_db


def detail_url(group: str = "SO", year: int = 2016) -> str:
    return reverse("criteria_detail", args=[year, group])


# --- login, logout, language -----------------------------------------------------------------


def test_login_page_is_in_vietnamese() -> None:
    response = client_for(None).get(reverse("login"))
    assert response.status_code == 200
    assert "Đăng nhập" in response.content.decode()
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'" and policy["script-src"] == "'self'"


def test_a_user_logs_in_and_out(leader: Any) -> None:
    client = client_for(None)
    response = client.post(reverse("login"), {"username": "stp", "password": "pw"})
    assert response.status_code == 302 and response.url == reverse("home")
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_a_wrong_password_is_refused_in_vietnamese_and_keeps_the_username(leader: Any) -> None:
    response = client_for(None).post(reverse("login"), {"username": "stp", "password": "nope"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "mật khẩu chính xác" in body
    assert 'value="stp"' in body


def test_the_language_switcher_turns_the_ui_english(leader: Any) -> None:
    client = client_for(leader)
    client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})
    assert "Log out" in client.get(reverse("home")).content.decode()


# --- home ------------------------------------------------------------------------------------


def test_home_sends_an_anonymous_visitor_to_the_login_page() -> None:
    response = client_for(None).get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_home_tells_a_user_without_a_role_to_ask_the_secretariat(no_role_user: Any) -> None:
    body = client_for(no_role_user).get(reverse("home")).content.decode()
    assert "chưa được gán vai trò" in body


def test_home_tells_the_focal_officer_what_to_do_and_the_time_left(
    focal: Any, criteria_sets: dict[str, CriteriaSet]
) -> None:
    body = client_for(focal).get(reverse("home")).content.decode()
    assert "Sở Tư pháp" in body
    assert "Cán bộ đầu mối" in body
    assert "Đợt tự đánh giá đang mở: hãy bắt đầu." in body
    assert "Bắt đầu tự đánh giá" in body and "(còn " in body  # the button and the time left
    assert detail_url("SO") in body
    assert detail_url("HUYEN") not in body


def test_home_shows_the_secretariat_lead_the_rounds_and_setup_actions(
    secretariat_lead: Any, criteria_sets: dict[str, CriteriaSet]
) -> None:
    body = client_for(secretariat_lead).get(reverse("home")).content.decode()
    assert reverse("criteria_import") in body
    assert reverse("criteria_template") in body
    assert "2016" in body


@pytest.mark.parametrize("persona", ["appraiser", "council_member", "chair"])
def test_home_shows_province_staff_the_criteria(
    persona: str, request: Any, criteria_sets: Any
) -> None:
    user = request.getfixturevalue(persona)
    body = client_for(user).get(reverse("home")).content.decode()
    assert reverse("criteria_index") in body
    assert reverse("criteria_import") not in body


def test_home_refuses_post(leader: Any) -> None:
    assert client_for(leader).post(reverse("home")).status_code == 405


# --- criteria browser ------------------------------------------------------------------------


def test_the_criteria_browser_shows_the_tree_with_points_methods_and_hints(
    focal: Any, criteria_sets: dict[str, CriteriaSet]
) -> None:
    response = client_for(focal).get(detail_url("SO"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Cải cách thủ tục hành chính" in body
    assert "3.3" in body and "Tỷ lệ hồ sơ TTHC được giải quyết đúng hạn" in body
    assert "Báo cáo từ Hệ thống thông tin giải quyết TTHC" in body  # evidence hint
    assert "57 tiêu chí chấm điểm" in body
    assert "0,5" in body  # decimal comma


def test_the_criteria_browser_sends_an_anonymous_visitor_to_login(criteria_sets: Any) -> None:
    response = client_for(None).get(detail_url("SO"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_unit_of_another_group_gets_404_for_the_departments_set(
    other_unit_focal: Any, criteria_sets: Any
) -> None:
    assert client_for(other_unit_focal).get(detail_url("SO")).status_code == 404
    assert client_for(other_unit_focal).get(detail_url("HUYEN")).status_code == 200


def test_a_unit_does_not_see_criteria_of_a_round_not_yet_open(
    focal: Any, groups: Any, db: None
) -> None:
    from assessments import services
    from tests.conftest import criteria_rows

    prepared = Round.objects.create(year=2020)
    services.import_criteria_set(
        prepared, groups["SO"], criteria_rows("criteria-departments.csv"), by=None
    )
    assert client_for(focal).get(detail_url("SO", 2020)).status_code == 404


def test_a_user_without_a_role_gets_403(no_role_user: Any, criteria_sets: Any) -> None:
    assert client_for(no_role_user).get(detail_url("SO")).status_code == 403
    assert client_for(no_role_user).get(reverse("criteria_index")).status_code == 403


def test_an_unknown_set_is_404(secretariat_lead: Any, criteria_sets: Any) -> None:
    assert client_for(secretariat_lead).get(detail_url("XA")).status_code == 404
    assert client_for(secretariat_lead).get(detail_url("SO", 1999)).status_code == 404


def test_the_criteria_index_lists_only_the_sets_a_unit_may_read(
    focal: Any, criteria_sets: Any
) -> None:
    body = client_for(focal).get(reverse("criteria_index")).content.decode()
    assert detail_url("SO") in body and detail_url("HUYEN") not in body


def test_the_criteria_browser_refuses_post(focal: Any, criteria_sets: Any) -> None:
    assert client_for(focal).post(detail_url("SO")).status_code == 405


def test_the_criteria_browser_runs_the_same_queries_for_a_small_and_a_large_set(
    appraiser: Any, criteria_sets: Any, groups: Any
) -> None:
    from assessments import services
    from tests.builders import small_rows

    small_round = Round.objects.create(year=2021)
    services.import_criteria_set(small_round, groups["SO"], small_rows(), by=None)
    client = client_for(appraiser)
    counts = []
    for url in (detail_url("SO", 2021), detail_url("SO", 2016)):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 8, counts


# --- exports ---------------------------------------------------------------------------------


def test_the_secretariat_downloads_a_set_as_a_workbook(
    secretariat_lead: Any, criteria_sets: Any
) -> None:
    response = client_for(secretariat_lead).get(reverse("criteria_export", args=[2016, "SO"]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="tieu-chi-2016-SO.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert sheet.max_row == 1 + criteria_sets["SO"].criteria.count()


def test_a_unit_cannot_download_the_set_workbook(
    focal: Any, other_unit_focal: Any, criteria_sets: Any
) -> None:
    url = reverse("criteria_export", args=[2016, "SO"])
    assert client_for(focal).get(url).status_code == 403
    assert client_for(other_unit_focal).get(url).status_code == 404
    assert client_for(None).get(url).status_code == 302


def test_the_template_downloads_for_the_secretariat_only(
    secretariat_lead: Any, appraiser: Any
) -> None:
    url = reverse("criteria_template")
    response = client_for(secretariat_lead).get(url)
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Tiêu chí", "Hướng dẫn"]
    assert client_for(appraiser).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 302


# --- criteria import page --------------------------------------------------------------------


def upload(
    client: Any, path: Any, *, year: int = 2017, group: str = "SO", replace: bool = False
) -> Any:
    with open(path, "rb") as handle:
        data = {"round": year, "group": group, "file": handle}
        if replace:
            data["replace"] = "on"
        return client.post(reverse("criteria_import"), data)


def test_the_import_page_validates_previews_then_imports_on_confirm(
    secretariat_lead: Any, groups: Any, db: None
) -> None:
    Round.objects.create(year=2017)
    client = client_for(secretariat_lead)
    assert client.get(reverse("criteria_import")).status_code == 200
    response = upload(client, REFERENCE / "criteria-departments.csv")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Xác nhận nhập" in body
    assert not CriteriaSet.objects.filter(round__year=2017).exists()  # nothing before confirm
    payload = response.context["confirm_form"].initial["payload"]
    response = client.post(reverse("criteria_import"), {"payload": payload})
    assert response.status_code == 302 and response.url == detail_url("SO", 2017)
    assert CriteriaSet.objects.get(round__year=2017, group__code="SO").criteria.count() == 76
    event = Event.objects.get(action=EventAction.CRITERIA_IMPORTED, round__year=2017)
    assert event.actor == secretariat_lead


def test_the_import_page_lists_every_problem_and_imports_nothing(
    secretariat_lead: Any, groups: Any, tmp_path: Any, db: None
) -> None:
    Round.objects.create(year=2017)
    bad = tmp_path / "bad.csv"
    text = (REFERENCE / "criteria-departments.csv").read_text(encoding="utf-8")
    text = text.replace("1.1.1,", "1.1.1x,", 1).replace(
        ",yes_no,,,x,Kế hoạch kiểm tra", ",yes_no,,có,x,Kế hoạch kiểm tra"
    )
    bad.write_text(text, encoding="utf-8")
    response = upload(client_for(secretariat_lead), bad)
    body = response.content.decode()
    assert response.status_code == 422
    assert "Chưa nhập dữ liệu nào" in body
    assert body.count("<tr><td>bad.csv</td>") >= 2
    assert not CriteriaSet.objects.filter(round__year=2017).exists()


def test_a_tampered_preview_is_refused(secretariat_lead: Any, groups: Any, db: None) -> None:
    Round.objects.create(year=2017)
    response = client_for(secretariat_lead).post(
        reverse("criteria_import"), {"payload": "forged:payload"}
    )
    assert response.status_code == 302
    assert not CriteriaSet.objects.exists()


def test_the_import_page_keeps_the_choices_when_the_file_is_missing(
    secretariat_lead: Any, groups: Any, db: None
) -> None:
    Round.objects.create(year=2017)
    response = client_for(secretariat_lead).post(
        reverse("criteria_import"), {"round": 2017, "group": "HUYEN"}
    )
    assert response.status_code == 422
    assert 'value="HUYEN" selected' in response.content.decode()


@pytest.mark.parametrize(
    "persona", ["focal", "leader", "appraiser", "council_member", "chair", "no_role_user"]
)
def test_only_the_secretariat_lead_may_import(persona: str, request: Any, groups: Any) -> None:
    user = request.getfixturevalue(persona)
    client = client_for(user)
    assert client.get(reverse("criteria_import")).status_code == 403
    assert client.post(reverse("criteria_import"), {"payload": "x"}).status_code == 403


def test_the_import_page_sends_an_anonymous_visitor_to_login() -> None:
    response = client_for(None).get(reverse("criteria_import"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_import_page_refuses_put(secretariat_lead: Any) -> None:
    assert client_for(secretariat_lead).put(reverse("criteria_import")).status_code == 405


def test_an_english_browser_still_gets_vietnamese_until_the_user_switches(leader: Any) -> None:
    client = client_for(leader)
    body = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Đăng xuất" in body


def test_the_criteria_index_sends_an_anonymous_visitor_to_login() -> None:
    response = client_for(None).get(reverse("criteria_index"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_import_page_refuses_at_preview_a_set_that_cannot_be_replaced(
    secretariat_lead: Any, criteria_sets: Any
) -> None:
    response = upload(
        client_for(secretariat_lead), REFERENCE / "criteria-departments.csv", year=2016
    )
    assert response.status_code == 422
    assert "confirm_form" not in response.context


def test_a_preview_signed_for_another_user_is_refused(
    secretariat_lead: Any, groups: Any, db: None
) -> None:
    from django.core import signing

    from assessments.views import IMPORT_SALT

    Round.objects.create(year=2017)
    payload = signing.dumps(
        {"user": -1, "year": 2017, "group": "SO", "replace": False, "rows": []},
        salt=IMPORT_SALT,
        compress=True,
    )
    response = client_for(secretariat_lead).post(reverse("criteria_import"), {"payload": payload})
    assert response.status_code == 302 and not CriteriaSet.objects.exists()
