"""The in-app inbox: listing, marking read, opening links, the navigation badge."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments.models import Notification
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

INBOX = "/hop-thu/"


def notification(user: Any, subject: str = "Việc cần làm", **extra: Any) -> Notification:
    extra.setdefault("body", "Dòng một\nDòng hai")
    extra.setdefault("url", "/tham-dinh/")
    return Notification.objects.create(user=user, subject=subject, **extra)


def many(user: Any, count: int) -> None:
    start = timezone.now() - datetime.timedelta(hours=count)
    Notification.objects.bulk_create(
        Notification(
            user=user,
            subject=f"Thông báo {i:03d}",
            body="Nội dung",
            url="/don-vi/2016/STP/",
            created_at=start + datetime.timedelta(hours=i),
            read_at=None if i % 2 else start,
        )
        for i in range(count)
    )


def test_the_urls_have_the_names_other_pages_use() -> None:
    assert reverse("inbox") == INBOX
    assert reverse("inbox_mark_read") == "/hop-thu/da-doc/"
    assert reverse("inbox_open", args=[7]) == "/hop-thu/7/mo/"


def test_an_anonymous_visitor_is_sent_to_the_login_page(db: None) -> None:
    for url in (INBOX, reverse("inbox_open", args=[1])):
        response = client_for(None).get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    response = client_for(None).post(reverse("inbox_mark_read"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_inbox_lists_the_user_s_own_notifications_newest_first_with_unread_marked(
    leader: Any, focal: Any
) -> None:
    old = notification(leader, "Cũ đã đọc", read_at=timezone.now())
    Notification.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=2)
    )
    new = notification(leader, "Mới chưa đọc")
    notification(focal, "Của người khác")
    response = client_for(leader).get(INBOX)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Của người khác" not in page
    assert page.index("Mới chưa đọc") < page.index("Cũ đã đọc")
    assert list(response.context["page"].object_list) == [new, old]
    assert "Dòng một<br>Dòng hai" in page
    assert timezone.localtime(new.created_at).strftime("%H:%M %d/%m/%Y") in page
    assert reverse("inbox_open", args=[new.pk]) in page
    assert page.count("list-group-item-warning") == 1


def test_a_user_without_any_role_has_an_inbox(no_role_user: Any) -> None:
    notification(no_role_user, "Chào mừng")
    response = client_for(no_role_user).get(INBOX)
    assert response.status_code == 200
    assert "Chào mừng" in response.content.decode()


def test_the_navigation_shows_the_unread_count_to_a_signed_in_user(leader: Any) -> None:
    for _i in range(3):
        notification(leader)
    notification(leader, read_at=timezone.now())
    response = client_for(leader).get(reverse("home"))
    assert response.status_code == 200
    assert str(response.context["inbox_unread"]) == "3"
    page = response.content.decode()
    assert f'href="{INBOX}"' in page
    assert 'rounded-pill text-bg-warning">3<' in page


def test_the_navigation_shows_no_badge_when_everything_is_read(leader: Any) -> None:
    notification(leader, read_at=timezone.now())
    page = client_for(leader).get(reverse("home")).content.decode()
    assert f'href="{INBOX}"' in page
    assert "rounded-pill text-bg-warning" not in page


def test_an_anonymous_page_neither_shows_the_inbox_nor_counts(db: None) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = client_for(None).get(reverse("login"))
    assert response.status_code == 200
    assert "inbox_unread" not in response.context
    assert f'href="{INBOX}"' not in response.content.decode()
    assert not any("councils_notification" in q["sql"] for q in queries.captured_queries)


def test_the_unread_count_costs_one_query(leader: Any) -> None:
    notification(leader)
    client = client_for(leader)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("home"))
    counts = [q["sql"] for q in queries.captured_queries if "councils_notification" in q["sql"]]
    assert len(counts) == 1, "\n".join(counts)
    assert "COUNT(" in counts[0].upper()


def test_the_inbox_shows_50_a_page(leader: Any) -> None:
    many(leader, 60)
    client = client_for(leader)
    first = client.get(INBOX)
    assert len(first.context["page"].object_list) == 50
    assert first.context["page"].object_list[0].subject == "Thông báo 059"
    second = client.get(INBOX, {"page": 2})
    assert [n.subject for n in second.context["page"].object_list] == [
        f"Thông báo {i:03d}" for i in range(9, -1, -1)
    ]
    assert client.get(INBOX, {"page": "abc"}).status_code == 200


def inbox_queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(INBOX).status_code == 200
    return len(queries)


def test_the_inbox_runs_as_many_queries_for_40_notifications_as_for_3(
    leader: Any, focal: Any
) -> None:
    many(leader, 3)
    many(focal, 40)
    small, large = client_for(leader), client_for(focal)
    inbox_queries(small), inbox_queries(large)  # warm up the sessions
    with CaptureQueriesContext(connection) as queries:
        large.get(INBOX)
    assert inbox_queries(small) == inbox_queries(large), "\n".join(
        q["sql"] for q in queries.captured_queries
    )
    # session, user, roles (2), paginator count, the page, the unread count
    assert inbox_queries(large) <= 7, "\n".join(q["sql"] for q in queries.captured_queries)


def test_mark_read_marks_every_unread_notification_of_the_user_only(
    leader: Any, focal: Any
) -> None:
    earlier = timezone.now() - datetime.timedelta(days=1)
    already = notification(leader, read_at=earlier)
    mine = [notification(leader), notification(leader)]
    theirs = notification(focal)
    response = client_for(leader).post(reverse("inbox_mark_read"))
    assert response.status_code == 302 and response["Location"] == INBOX
    assert all(Notification.objects.get(pk=n.pk).read_at is not None for n in mine)
    assert Notification.objects.get(pk=already.pk).read_at == earlier
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_mark_read_with_an_id_marks_only_that_notification(leader: Any) -> None:
    one, other = notification(leader), notification(leader)
    response = client_for(leader).post(reverse("inbox_mark_read"), {"id": one.pk, "page": "2"})
    assert response.status_code == 302 and response["Location"] == f"{INBOX}?page=2"
    assert Notification.objects.get(pk=one.pk).read_at is not None
    assert Notification.objects.get(pk=other.pk).read_at is None


def test_mark_read_refuses_someone_else_s_notification_with_a_404(leader: Any, focal: Any) -> None:
    theirs = notification(focal)
    client = client_for(leader)
    assert client.post(reverse("inbox_mark_read"), {"id": theirs.pk}).status_code == 404
    assert client.post(reverse("inbox_mark_read"), {"id": "x"}).status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_mark_read_refuses_get(leader: Any) -> None:
    notification(leader)
    assert client_for(leader).get(reverse("inbox_mark_read")).status_code == 405
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


@pytest.mark.parametrize("method", ["get", "post"])
def test_opening_a_notification_marks_it_read_and_follows_its_link(
    leader: Any, method: str
) -> None:
    item = notification(leader, url="/don-vi/2016/STP/?tab=1#muc-3")
    response = getattr(client_for(leader), method)(reverse("inbox_open", args=[item.pk]))
    assert response.status_code == 302
    assert response["Location"] == "/don-vi/2016/STP/?tab=1#muc-3"
    assert Notification.objects.get(pk=item.pk).read_at is not None


def test_opening_keeps_the_time_it_was_first_read(leader: Any) -> None:
    earlier = timezone.now() - datetime.timedelta(days=3)
    item = notification(leader, read_at=earlier)
    client_for(leader).get(reverse("inbox_open", args=[item.pk]))
    assert Notification.objects.get(pk=item.pk).read_at == earlier


def test_opening_someone_else_s_notification_is_a_404_and_leaves_it_unread(
    leader: Any, other_unit_focal: Any
) -> None:
    theirs = notification(other_unit_focal)
    response = client_for(leader).get(reverse("inbox_open", args=[theirs.pk]))
    assert response.status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert client_for(leader).get(reverse("inbox_open", args=[999999])).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/",
        "http://evil.example/don-vi/",
        "//evil.example/",
        "/\\evil.example/",
        "/\t/evil.example/",
        "javascript:alert(1)",
        "don-vi/2016/STP/",
        " /don-vi/",
    ],
)
def test_opening_a_link_off_the_site_is_refused(leader: Any, url: str) -> None:
    item = notification(leader, url=url)
    response = client_for(leader).get(reverse("inbox_open", args=[item.pk]), follow=True)
    assert response.redirect_chain == [(INBOX, 302)]
    assert "evil.example" not in response.redirect_chain[0][0]
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert Notification.objects.get(pk=item.pk).read_at is not None


def test_opening_a_notification_without_a_link_goes_back_to_the_inbox(leader: Any) -> None:
    item = notification(leader, url="")
    response = client_for(leader).post(reverse("inbox_open", args=[item.pk]))
    assert response.status_code == 302 and response["Location"] == INBOX
    assert Notification.objects.get(pk=item.pk).read_at is not None
    page = client_for(leader).get(INBOX).content.decode()
    assert reverse("inbox_open", args=[item.pk]) not in page


def test_opening_refuses_other_methods(leader: Any) -> None:
    item = notification(leader)
    assert client_for(leader).put(reverse("inbox_open", args=[item.pk])).status_code == 405
    assert Notification.objects.get(pk=item.pk).read_at is None
