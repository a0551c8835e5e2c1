from __future__ import annotations

import datetime as dt

import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

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
