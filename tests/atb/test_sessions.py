from __future__ import annotations

import datetime as dt

import time_machine
from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.uk_time import spoken_duration

# The evening before the clocks go forward (01:00 UTC on 29 March 2026).
SIGNED_IN = dt.datetime(2026, 3, 28, 20, 0, tzinfo=dt.UTC)


def _sign_in(client):
    return client.post(reverse("login"), {"username": "gp_a", "password": "correct-horse-battery-staple"})


def test_a_session_ends_after_30_minutes_idle(world, client):
    with time_machine.travel(SIGNED_IN, tick=False) as clock:
        _sign_in(client)
        clock.shift(dt.timedelta(minutes=29))
        assert client.get(reverse("referrals:home")).status_code == 200  # renews the timeout
        clock.shift(dt.timedelta(minutes=31))
        response = client.get(reverse("referrals:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_busy_session_ends_12_hours_after_sign_in_even_across_a_clock_change(world, client):
    with time_machine.travel(SIGNED_IN, tick=False) as clock:
        _sign_in(client)
        for _ in range(24):  # busy all night, every 29 minutes: never idle
            clock.shift(dt.timedelta(minutes=29))
            assert client.get(reverse("referrals:home")).status_code == 200
        # 11h36m of real time have passed, though the local clock moved 12h36m.
        clock.shift(dt.timedelta(minutes=25))  # 12h01m after sign-in
        response = client.get(reverse("referrals:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get(reverse("referrals:home")).status_code == 302  # signed out for good


def test_the_session_cookie_ends_when_the_browser_closes(world, client):
    response = _sign_in(client)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""  # a browser-session cookie
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def _session_writes(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [q for q in queries.captured_queries if q["sql"].startswith('UPDATE "django_session"')]


def test_the_idle_timeout_is_renewed_at_most_once_a_minute(world, client):
    """The queue polls every 15 seconds: renewing the session on each poll would be a
    database write per poll per coordinator. It is renewed at most once a minute, so a
    session ends 29 to 30 minutes after the last request."""
    home = reverse("referrals:home")
    with time_machine.travel(SIGNED_IN, tick=False) as clock:
        _sign_in(client)
        clock.shift(dt.timedelta(minutes=1))
        assert _session_writes(client, home)  # renewed at 20:01
        clock.shift(dt.timedelta(seconds=45))
        assert not _session_writes(client, home)  # 45 s later: not yet
        clock.shift(dt.timedelta(seconds=15))
        assert _session_writes(client, home)  # a minute after the last renewal (20:02)
        clock.shift(dt.timedelta(minutes=29, seconds=50))
        assert client.get(home).status_code == 200  # 29m50s idle: still signed in
        clock.shift(dt.timedelta(minutes=30, seconds=1))
        response = client.get(home)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


HTMX = {"HTTP_HX_REQUEST": "true"}


def test_a_poll_once_signed_out_is_told_so_not_sent_the_sign_in_page(world, client_for):
    """The queue's rows, polled after the person signed out in another tab: a 401 the page
    handles (static/js/session.js), never the sign-in page to swap into the table."""
    client = client_for(world.users["rah_coordinator"])
    assert client.get(reverse("recovery_at_home:queue_rows"), **HTMX).status_code == 200
    client.post(reverse("logout"))
    poll = client.get(reverse("recovery_at_home:queue_rows"), **HTMX)
    assert (poll.status_code, poll["Cache-Control"]) == (401, "no-store")
    assert b"Sign in" not in poll.content
    # A page, not a poll, still goes to the sign-in page.
    page = client.get(reverse("recovery_at_home:queue"))
    assert page.status_code == 302 and page["Location"].startswith(reverse("login"))


def test_a_poll_after_12_hours_is_told_it_is_signed_out(world, client):
    with time_machine.travel(SIGNED_IN, tick=False) as clock:
        client.post(
            reverse("login"), {"username": "rah_coordinator", "password": "correct-horse-battery-staple"}
        )
        clock.shift(dt.timedelta(hours=12, minutes=1))
        poll = client.get(reverse("recovery_at_home:queue_rows"), **HTMX)
    assert poll.status_code == 401


def test_stay_signed_in_renews_the_idle_timeout(world, client):
    with time_machine.travel(SIGNED_IN, tick=False) as clock:
        _sign_in(client)
        clock.shift(dt.timedelta(minutes=29))
        assert client.post(reverse("stay_signed_in")).status_code == 204
        clock.shift(dt.timedelta(minutes=29))  # 58 minutes after the last page
        assert client.get(reverse("referrals:home")).status_code == 200


def test_each_page_tells_its_script_when_an_idle_session_ends(world, client_for):
    html = client_for(world.users["gp_a"]).get(reverse("referrals:home")).content.decode()
    assert f'data-session-idle-seconds="{settings.SESSION_COOKIE_AGE}"' in html
    assert 'id="atb-idle-warning" role="alert" hidden' in html
    assert 'id="atb-signed-out" role="alert" hidden' in html


def test_a_length_of_time_is_said_as_a_person_says_it():

    said = [spoken_duration(dt.timedelta(minutes=m)) for m in (1, 30, 60, 75, 120, 121)]
    assert said == ["1 minute", "30 minutes", "1 hour", "1 hour 15 minutes", "2 hours", "2 hours 1 minute"]


def test_a_gp_with_mdt_actions_has_the_way_to_them(world, client_for):
    html = client_for(world.users["gp_a"]).get(reverse("referrals:home")).content.decode()
    assert f'href="{reverse("mdt:my_actions")}">MDT actions</a>' in html


def test_an_administrator_starts_in_the_portal_and_the_admin_site_leads_back(world, client_for, settings):
    """Django's admin has no way to the portal's own pages: an administrator lands on the
    audit trail, and the admin site names the audit trail and break-glass report too."""
    settings.ADMIN_TWO_FACTOR = False
    client = client_for(world.users["administrator"])
    assert client.get(reverse("home"))["Location"] == reverse("audit_search")
    admin = client.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("audit_search")}">Audit trail</a>' in admin
    assert f'href="{reverse("break_glass_report")}">Break-glass report</a>' in admin
    assert 'rel="icon"' in admin


def test_every_page_names_its_icon_so_browsers_do_not_ask_for_a_missing_one(world, client_for):
    html = client_for(world.users["gp_a"]).get(reverse("referrals:home")).content.decode()
    assert 'rel="icon"' in html and "img/favicon" in html
    assert finders.find("img/favicon.svg")
