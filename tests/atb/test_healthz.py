from __future__ import annotations

from django.urls import reverse


def test_healthz_answers_200_when_postgresql_and_redis_answer(db, client, settings):
    assert settings.REDIS_URL, "the suite runs against a real Redis"
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["unavailable"]) == ("ok", [])
    assert body["checks"] == {"database": "ok", "redis": "ok", "alert_sweep": "never run"}


def test_healthz_answers_503_naming_redis_when_it_is_unreachable(db, client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["unavailable"] == ["redis"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("unreachable")


def test_healthz_reports_the_alert_sweep_and_answers_503_when_it_is_older_than_5_minutes(db, client):
    import datetime as dt

    import time_machine

    from recovery_at_home import alerts

    start = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        alerts.sweep()
        clock.shift(dt.timedelta(minutes=4))
        fresh = client.get(reverse("healthz"))
        clock.shift(dt.timedelta(minutes=2))
        stale = client.get(reverse("healthz"))
    assert (
        fresh.status_code == 200 and fresh.json()["checks"]["alert_sweep"] == "ok: last sweep 240 seconds ago"
    )
    assert stale.status_code == 503
    assert stale.json()["unavailable"] == ["alert_sweep"]
