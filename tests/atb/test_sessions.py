from __future__ import annotations

import datetime as dt

import time_machine
from django.conf import settings
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
