"""The response clock's two editable settings, followed by every door that reads them
(recovery_at_home.clock): the alert policy's due-soon minutes by the queue, its countdown
and the alert sweep; a category's 2-hour flag by the dashboard, the export and the
referral page."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from portal import performance
from recovery_at_home import alerts, services
from recovery_at_home.models import Alert, AlertPolicy, TriageCategory
from tests.factories import ReferralFactory

LONDON = ZoneInfo("Europe/London")
# Tomorrow at 10:00 UK time: after the world's own referrals, made at the real now.
NOW = (dt.datetime.now(LONDON) + dt.timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)


def _triaged(world, *, received: dt.datetime, code: str):
    with time_machine.travel(received, tick=False):
        referral = ReferralFactory(service=world.rah, patient=world.patient_b)
        services.triage_referral(
            referral=referral,
            category=TriageCategory.objects.get(code=code),
            user=world.users["rah_coordinator"],
        )
    return referral


def _due_soon_minutes(minutes: int) -> None:
    policy = AlertPolicy.current()
    policy.due_soon_minutes = minutes
    policy.save()


@pytest.fixture
def due_in_an_hour(world):
    """An urgent (2-hour) referral received an hour ago: due in an hour."""
    return _triaged(world, received=NOW - dt.timedelta(hours=1), code="urgent")


def _queue_row_state(client, reference: str) -> str:
    page = client.get(reverse("recovery_at_home:queue"))
    (row,) = [row for row in page.context["rows"] if row.reference == reference]
    return row.state, page.content.decode()


def test_the_due_soon_minutes_move_the_queue_its_countdown_and_the_alerts(world, client_for, due_in_an_hour):
    with time_machine.travel(NOW, tick=False):
        coordinator = client_for(world.users["rah_coordinator"])
        state, page = _queue_row_state(coordinator, due_in_an_hour.reference)
        assert state == "on_time" and "due within 30 minutes" in page
        assert 'data-due-soon-seconds="1800"' in page
        alerts.raise_due_alerts(now=NOW)
        assert not Alert.objects.filter(episode__referral=due_in_an_hour).exists()

        _due_soon_minutes(90)  # as an administrator saves it

        state, page = _queue_row_state(coordinator, due_in_an_hour.reference)
        assert state == "due_soon" and "due within 90 minutes" in page
        assert 'data-due-soon-seconds="5400"' in page  # static/js/queue.js's window
        assert f'data-label-due-soon="{"Due soon"}"' in page
        rows = coordinator.get(reverse("recovery_at_home:queue_rows"), {"state": "due_soon"}).context["rows"]
        assert [row.reference for row in rows] == [due_in_an_hour.reference]
        alerts.raise_due_alerts(now=NOW)
        (alert,) = Alert.objects.filter(episode__referral=due_in_an_hour)
        assert alert.kind == Alert.Kind.DUE_SOON


def test_the_api_queue_follows_the_due_soon_minutes(world, api, due_in_an_hour):
    with time_machine.travel(NOW, tick=False):
        states = {
            entry["reference"]: entry["state"]
            for entry in api("rah_coordinator").get("/api/rah/queue/").json()["results"]
        }
        assert states[due_in_an_hour.reference] == "on_time"
        _due_soon_minutes(90)
        states = {
            entry["reference"]: entry["state"]
            for entry in api("rah_coordinator").get("/api/rah/queue/").json()["results"]
        }
        assert states[due_in_an_hour.reference] == "due_soon"


def _export_rows(client, day: dt.date) -> dict[str, dict]:
    response = client.get(reverse("referral_export"), {"received_from": day, "received_to": day})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return {row["Referral identifier"]: row for row in csv.DictReader(io.StringIO(text))}


def test_a_categorys_two_hour_flag_moves_the_dashboard_the_export_and_the_page(world, client_for):
    received = NOW - dt.timedelta(hours=3)
    crisis = _triaged(world, received=received, code="crisis")
    with time_machine.travel(received + dt.timedelta(minutes=50), tick=False):
        services.record_arrival(referral=crisis, user=world.users["rah_coordinator"])
    period = performance.Period(start=NOW.date(), end=NOW.date())
    column = "2-hour UCR standard met (Y/N; empty when not counted)"
    shown = "<dt>2-hour UCR standard</dt><dd>Met</dd>"

    with time_machine.travel(NOW, tick=False):
        manager = client_for(world.users["service_manager"])
        figures = performance.two_hour_standard(period)
        assert (figures["met"], figures["total"]) == (1, 1)  # crisis is a 2-hour referral, as set up
        assert _export_rows(manager, NOW.date())[crisis.reference][column] == "Y"
        coordinator = client_for(world.users["rah_coordinator"])  # the manager's session ends
        assert shown in coordinator.get(crisis.get_absolute_url()).content.decode()

        TriageCategory.objects.filter(code="crisis").update(two_hour_standard=False)  # as an administrator

        assert performance.two_hour_standard(period)["total"] == 0
        manager = client_for(world.users["service_manager"])  # one signed-in person at a time
        assert _export_rows(manager, NOW.date())[crisis.reference][column] == ""
        coordinator = client_for(world.users["rah_coordinator"])
        assert "2-hour UCR standard" not in coordinator.get(crisis.get_absolute_url()).content.decode()
