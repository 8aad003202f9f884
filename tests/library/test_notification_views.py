"""The notifications page, marking read by POST, and the unread badge in every page's header."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from library.inbox import notification_unread_count
from library.models import Notification, NotificationKind
from tests.builders import user_build

pytestmark = pytest.mark.django_db

LIST_URL = "/notifications/"


def notice(learner, title="Your video is ready", *, age_minutes=0, read=False, **fields):
    """A notification created `age_minutes` ago (read now when `read`)."""
    fields.setdefault("kind", NotificationKind.VIDEO_READY)
    created = Notification.objects.create(learner=learner, title=title, **fields)
    Notification.objects.filter(pk=created.pk).update(
        created_at=timezone.now() - timedelta(minutes=age_minutes),
        read_at=timezone.now() if read else None,
    )
    created.refresh_from_db()
    return created


def read_url(notification: Notification) -> str:
    return reverse("notifications:read", args=[notification.pk])


def is_read(notification: Notification) -> bool:
    notification.refresh_from_db()
    return notification.read_at is not None


def item_html(html: str, notification: Notification) -> str:
    """The <li> of one notification on the page."""
    match = re.search(
        rf'<li class="[^"]*" data-notification-id="{notification.pk}">.*?</li>', html, re.S
    )
    assert match, f"notification {notification.pk} is not on the page"
    return match.group(0)


def header_html(html: str) -> str:
    return html.split("</header>", 1)[0]


@pytest.fixture
def learner():
    return user_build()


@pytest.fixture
def other():
    return user_build()


@pytest.fixture
def signed_in(client, learner):
    client.force_login(learner)
    return client


# --- the list -----------------------------------------------------------------


def test_urls_are_the_documented_ones():
    assert reverse("notifications:list") == "/notifications/"
    assert reverse("notifications:read", args=[7]) == "/notifications/7/read"
    assert reverse("notifications:read_all") == "/notifications/read-all"


def test_list_needs_sign_in(client):
    response = client.get(LIST_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_list_shows_own_notifications_newest_first(signed_in, learner, other):
    notice(learner, "Older news", age_minutes=60, body="From an hour ago.")
    notice(learner, "Latest news", age_minutes=1)
    notice(other, "Someone else's news")

    html = signed_in.get(LIST_URL).content.decode()

    assert html.index("Latest news") < html.index("Older news")
    assert "From an hour ago." in html
    assert "Someone else&#x27;s news" not in html and "Someone else's news" not in html


def test_unread_ones_are_highlighted_and_say_so(signed_in, learner):
    unread = notice(learner, "Fresh")
    read = notice(learner, "Seen", read=True)

    html = signed_in.get(LIST_URL).content.decode()

    unread_item, read_item = item_html(html, unread), item_html(html, read)
    assert 'class="notice unread"' in unread_item
    assert "Unread: " in unread_item
    assert "Mark as read" in unread_item
    assert 'class="notice"' in read_item
    assert "Unread" not in read_item
    assert "Mark as read" not in read_item
    assert "1 unread" in html


def test_read_notification_with_a_url_links_to_it(signed_in, learner):
    read = notice(learner, "Seen", url="/library/", read=True)
    plain = notice(learner, "No link here", read=True)

    html = signed_in.get(LIST_URL).content.decode()

    assert '<a href="/library/">Seen</a>' in item_html(html, read)
    assert "<a " not in item_html(html, plain)


def test_unread_notification_with_a_url_opens_through_marking_it_read(signed_in, learner):
    unread = notice(learner, "Fresh", url="/library/")

    html = signed_in.get(LIST_URL).content.decode()

    item = item_html(html, unread)
    assert f'action="{read_url(unread)}"' in item
    assert ">Fresh</button>" in item


def test_off_site_url_is_not_linked(signed_in, learner):
    read = notice(learner, "Odd", url="https://evil.example/steal", read=True)

    html = signed_in.get(LIST_URL).content.decode()

    assert "evil.example" not in html
    assert "Odd" in item_html(html, read)


def test_empty_state(signed_in):
    html = signed_in.get(LIST_URL).content.decode()

    assert "No notifications yet." in html
    assert "Mark all as read" not in html


def test_unread_only_filter(signed_in, learner):
    notice(learner, "Fresh")
    notice(learner, "Seen", read=True)

    html = signed_in.get(LIST_URL, {"show": "unread"}).content.decode()

    assert "Fresh" in html
    assert "Seen" not in html


def test_unread_only_filter_empty_state(signed_in, learner):
    notice(learner, "Seen", read=True)

    html = signed_in.get(LIST_URL, {"show": "unread"}).content.decode()

    assert "No unread notifications." in html


def test_list_is_paginated(signed_in, learner):
    for n in range(25):
        notice(learner, f"Notice number {n:02d}", age_minutes=n)

    first = signed_in.get(LIST_URL).content.decode()
    second = signed_in.get(LIST_URL, {"page": 2}).content.decode()

    assert first.count('data-notification-id="') == 20
    assert "Notice number 00" in first and "Notice number 19" in first
    assert "Notice number 20" not in first
    assert "Page 1 of 2" in first
    assert 'href="?page=2"' in first
    assert second.count('data-notification-id="') == 5
    assert "Notice number 24" in second and "Notice number 19" not in second


@pytest.mark.parametrize("page", ["abc", "0", "-3", "999"])
def test_a_bad_page_number_shows_a_page_instead_of_an_error(signed_in, learner, page):
    notice(learner, "Only one")

    response = signed_in.get(LIST_URL, {"page": page})

    assert response.status_code == 200
    assert "Only one" in response.content.decode()


# --- marking one read ---------------------------------------------------------


def test_read_marks_it_and_goes_to_its_url(signed_in, learner):
    fresh = notice(learner, url="/library/")

    response = signed_in.post(read_url(fresh))

    assert response.status_code == 302
    assert response["Location"] == "/library/"
    assert is_read(fresh)


def test_read_without_url_goes_back_to_the_list(signed_in, learner):
    fresh = notice(learner)

    response = signed_in.post(read_url(fresh))

    assert response["Location"] == LIST_URL
    assert is_read(fresh)


def test_read_follows_a_same_site_next_first(signed_in, learner):
    fresh = notice(learner, url="/library/")

    response = signed_in.post(read_url(fresh), {"next": "/notifications/?page=2"})

    assert response["Location"] == "/notifications/?page=2"
    assert is_read(fresh)


def test_read_accepts_next_in_the_query_string(signed_in, learner):
    fresh = notice(learner)

    response = signed_in.post(f"{read_url(fresh)}?next=/playlists/")

    assert response["Location"] == "/playlists/"


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"]
)
def test_read_never_follows_an_off_site_next(signed_in, learner, next_url):
    fresh = notice(learner, url="/library/")

    response = signed_in.post(read_url(fresh), {"next": next_url})

    assert response["Location"] == LIST_URL
    assert is_read(fresh)


def test_read_never_follows_an_off_site_notification_url(signed_in, learner):
    fresh = notice(learner, url="https://evil.example/")

    response = signed_in.post(read_url(fresh))

    assert response["Location"] == LIST_URL


def test_read_of_a_read_one_keeps_its_first_read_time(signed_in, learner):
    seen = notice(learner, read=True)
    first_read_at = seen.read_at

    signed_in.post(read_url(seen))

    seen.refresh_from_db()
    assert seen.read_at == first_read_at


def test_read_of_another_learners_notification_is_not_found(signed_in, other):
    theirs = notice(other, url="/library/")

    response = signed_in.post(read_url(theirs))

    assert response.status_code == 404
    assert not is_read(theirs)


def test_read_of_a_missing_notification_is_not_found(signed_in, learner):
    response = signed_in.post(reverse("notifications:read", args=[999999]))

    assert response.status_code == 404


def test_read_needs_post(signed_in, learner):
    fresh = notice(learner)

    response = signed_in.get(read_url(fresh))

    assert response.status_code == 405
    assert not is_read(fresh)


def test_read_needs_sign_in(client, learner):
    fresh = notice(learner)

    response = client.post(read_url(fresh))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not is_read(fresh)


# --- marking all read ---------------------------------------------------------


def test_read_all_marks_only_the_learners_own(signed_in, learner, other):
    notice(learner)
    notice(learner)
    notice(other)

    response = signed_in.post(reverse("notifications:read_all"), follow=True)

    assert response.redirect_chain == [(LIST_URL, 302)]
    assert notification_unread_count(learner=learner) == 0
    assert notification_unread_count(learner=other) == 1
    assert "Marked 2 notifications as read." in response.content.decode()


def test_read_all_with_nothing_unread_says_so(signed_in, learner):
    notice(learner, read=True)

    response = signed_in.post(reverse("notifications:read_all"), follow=True)

    assert "You have no unread notifications." in response.content.decode()


def test_read_all_needs_post(signed_in, learner):
    notice(learner)

    response = signed_in.get(reverse("notifications:read_all"))

    assert response.status_code == 405
    assert notification_unread_count(learner=learner) == 1


# --- the badge in the header --------------------------------------------------


def test_header_badge_shows_the_unread_count_on_other_pages(signed_in, learner):
    notice(learner)
    notice(learner)
    notice(learner, read=True)

    header = header_html(signed_in.get(reverse("profile")).content.decode())

    assert f'href="{LIST_URL}"' in header
    assert '<span class="badge" aria-label="2 unread">2</span>' in header


def test_header_badge_is_hidden_when_nothing_is_unread(signed_in, learner):
    notice(learner, read=True)

    header = header_html(signed_in.get(reverse("profile")).content.decode())

    assert "Notifications" in header
    assert 'class="badge"' not in header


def test_header_badge_caps_what_it_shows_but_says_the_real_count(signed_in, learner):
    Notification.objects.bulk_create(
        Notification(learner=learner, kind=NotificationKind.INFO, title=f"n{n}") for n in range(120)
    )

    header = header_html(signed_in.get(reverse("profile")).content.decode())

    assert '<span class="badge" aria-label="120 unread">99+</span>' in header


def test_header_badge_goes_away_after_reading_all(signed_in, learner):
    notice(learner)

    response = signed_in.post(reverse("notifications:read_all"), follow=True)

    assert 'class="badge"' not in header_html(response.content.decode())


def test_header_badge_costs_one_query(signed_in, learner):
    notice(learner)

    with CaptureQueriesContext(connection) as queries:
        signed_in.get(reverse("profile"))

    counted = [q["sql"] for q in queries if "library_notification" in q["sql"]]
    assert len(counted) == 1
    assert "COUNT(" in counted[0].upper()


def test_staff_get_no_notifications_link_or_count(client):
    staff = user_build(is_staff=True)
    notice(staff)
    client.force_login(staff)

    response = client.get(reverse("profile"))

    assert response.status_code == 200
    assert "notifications_unread" not in response.context
    assert "Notifications" not in header_html(response.content.decode())


def test_signed_out_pages_get_no_count(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert "notifications_unread" not in response.context
