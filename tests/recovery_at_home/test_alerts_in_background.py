"""Alerts raised by the real background processes: `celery beat` sends the sweep through
Redis and a `celery worker` runs it. Nothing here calls the sweep itself.

The schedule is the migration's own row, run every 6 seconds instead of every minute: the
same beat, broker and worker, without a minute's wait in each test (that the migration
schedules it every minute is `test_alerts.py`'s to check).
"""

from __future__ import annotations

import datetime as dt
import importlib
import re

import pytest
import time_machine
from django.apps import apps as django_apps
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from atb.celery import app
from core.models import Heartbeat, OutboundEmail, Role
from core.notifications import queue_email
from recovery_at_home import care, services
from recovery_at_home.alerts import SWEEP_HEARTBEAT
from recovery_at_home.models import Alert, Episode, Outcome
from referrals.models import ReferralEvent
from tests.background import BackgroundProcesses
from tests.factories import PatientFactory, RecoveryAtHomeFactory, ReferralFactory, UserFactory

# The subprocesses must see committed rows, so these tests commit (and the tables are
# emptied afterwards, the migrations' rows included: the fixture puts the schedule back).
pytestmark = pytest.mark.django_db(transaction=True)

SWEEP_TASK = "recovery_at_home.tasks.sweep_alerts"
SWEEP_SECONDS = 6


@pytest.fixture
def background(tmp_path):
    sweep_schedule = importlib.import_module("recovery_at_home.migrations.0004_alert_sweep_schedule")
    sweep_schedule.create_schedule(django_apps, None)  # as the migration made it
    every_few_seconds, _ = IntervalSchedule.objects.get_or_create(every=SWEEP_SECONDS, period="seconds")
    PeriodicTask.objects.filter(task=SWEEP_TASK).update(interval=every_few_seconds)
    processes = BackgroundProcesses(tmp_path)
    yield processes
    processes.stop_all()
    app.control.purge()  # emails the killed worker never sent must not reach a later test


@pytest.fixture
def coordinators():
    return [
        UserFactory(username=f"coordinator{n}", roles=[Role.RAH_COORDINATOR], email=f"c{n}@example.nhs.uk")
        for n in (1, 2)
    ]


def _beat_last_swept_a_minute_ago():
    """As if beat had been running: its next sweep is due now, and then every few seconds."""
    PeriodicTask.objects.filter(task=SWEEP_TASK).update(
        last_run_at=timezone.now() - dt.timedelta(seconds=SWEEP_SECONDS)
    )


def _swept_since(moment):
    return Heartbeat.objects.filter(name=SWEEP_HEARTBEAT, seen_at__gte=moment).exists()


def test_beat_and_a_worker_raise_the_alert_of_a_referral_that_falls_due(background, coordinators):
    referral = ReferralFactory(service=RecoveryAtHomeFactory(), patient=PatientFactory())
    _beat_last_swept_a_minute_ago()
    started = timezone.now()
    background.start_worker("worker")
    background.start_beat()
    background.wait_for(lambda: _swept_since(started), seconds=60, what="the first scheduled sweep")
    assert not Alert.objects.exists()  # due in two hours: nothing yet

    Episode.objects.filter(referral=referral).update(response_due_at=timezone.now())
    waited = background.wait_for(
        lambda: Alert.objects.filter(notified_at__isnull=False).exists(),
        seconds=120,
        what="the breach alert of a referral that fell due",
    )

    (alert,) = Alert.objects.all()
    assert (alert.episode.referral_id, alert.kind, alert.late) == (referral.pk, Alert.Kind.BREACHED, False)
    assert waited > SWEEP_SECONDS / 3  # raised by the next sweep, not by the one already seen
    assert ReferralEvent.objects.filter(referral=referral, kind=ReferralEvent.Kind.ALERT).count() == 1
    subjects = set(OutboundEmail.objects.values_list("to", "subject"))
    assert subjects == {
        (
            user.email,
            f"Recovery at Home {referral.reference} breached: was due at "
            f"{timezone.localtime(alert.for_due_at).day} {timezone.localtime(alert.for_due_at):%b %Y %H:%M}",
        )
        for user in coordinators
    }


def test_the_worker_logs_the_emails_it_prints_as_information_not_warnings(tmp_path):
    """`EMAIL_URL=consolemail://` (the demo's and compose's default) prints each email;
    the worker must log it as what it is, not as a warning an operator would chase."""
    background = BackgroundProcesses(tmp_path, email_url="consolemail://")
    try:
        with transaction.atomic():
            queue_email(
                key="log-level-check",
                to="nurse@example.nhs.uk",
                subject="Printed by the worker",
                body="Hello",
            )
        background.start_worker("worker")
        background.wait_for(
            lambda: OutboundEmail.objects.filter(key="log-level-check", sent_at__isnull=False).exists(),
            seconds=60,
            what="the email sent by the worker",
        )
    finally:
        background.stop_all()
    log = (tmp_path / "worker.log").read_text()
    # One record per printed email, over several lines: "[time: LEVEL/process] Content-Type…"
    records = re.split(r"(?m)^(?=\[\d{4}-\d\d-\d\d )", log)
    (email,) = [record for record in records if "Subject: Printed by the worker" in record]
    assert re.match(r"\[[^]]*: INFO/", email), email


def test_a_worker_killed_mid_sweep_loses_no_alert_and_duplicates_none(background, coordinators):
    rah, patient = RecoveryAtHomeFactory(), PatientFactory()
    with time_machine.travel(timezone.now() - dt.timedelta(hours=3), tick=False):
        referrals = [ReferralFactory(service=rah, patient=patient) for _ in range(1000)]  # all overdue now
    _beat_last_swept_a_minute_ago()

    raised = _kill_a_worker_mid_delivery(background)
    assert raised == {Alert.Kind.BREACHED: 1000}  # raised and committed before the kill
    assert not ReferralEvent.objects.filter(kind=ReferralEvent.Kind.ALERT).exists()

    background.start_worker("new-worker")
    background.wait_for(
        lambda: not Alert.objects.filter(notified_at__isnull=True).exists(),
        seconds=120,
        what="the next sweep to deliver every alert",
    )

    alerts = Alert.objects.all()
    assert alerts.count() == 1000
    assert {alert.episode.referral_id for alert in alerts.select_related("episode")} == {
        r.pk for r in referrals
    }
    assert set(alerts.values_list("kind", "late")) == {(Alert.Kind.BREACHED, True)}
    events = ReferralEvent.objects.filter(kind=ReferralEvent.Kind.ALERT)
    assert events.count() == 1000
    assert events.values("referral").distinct().count() == 1000
    emails = OutboundEmail.objects.filter(subject__contains="breached")
    assert emails.count() == 2000  # one per alert per coordinator
    assert set(emails.values_list("to", flat=True)) == {user.email for user in coordinators}


def _kill_a_worker_mid_delivery(background) -> dict[str, int]:
    """Hold the timeline table so the first worker stops inside its delivery transaction,
    with a batch of alerts claimed but not delivered; kill it there, and wait for its
    claim to be rolled back. Returns the alerts raised by then, by kind."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE referrals_referralevent IN EXCLUSIVE MODE")
        background.start_worker("doomed-worker")
        background.start_beat()
        background.wait_for(_a_sweep_is_waiting_to_write_the_timeline, seconds=60, what="the sweep to block")
        raised = dict(Alert.objects.values_list("kind").annotate(count=Count("pk")))
        background.kill("doomed-worker")
    # The dead worker's database session rolls back its claim when it finds no client.
    background.wait_for(
        lambda: not Alert.objects.filter(notified_at__isnull=False).exists(),
        seconds=30,
        what="the killed worker's claim to be rolled back",
    )
    return raised


def _a_sweep_is_waiting_to_write_the_timeline() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks"
            " WHERE NOT granted AND relation = 'referrals_referralevent'::regclass"
        )
        return cursor.fetchone()[0] > 0


def test_a_missed_care_visit_is_alerted_once_across_sweeps_and_a_killed_worker(background, coordinators):
    """Short-term care with a visit whose window ended an hour ago, never recorded: the
    doomed worker claims its alert and is killed mid-delivery; the next worker delivers
    it; later sweeps raise nothing more. One alert, one timeline entry, one email each."""
    referral = ReferralFactory(service=RecoveryAtHomeFactory(), patient=PatientFactory())
    coordinator, responder = coordinators[0], UserFactory(roles=[Role.RAH_RESPONDER])
    services.record_arrival(referral=referral, user=responder)
    services.record_outcome(
        referral=referral,
        user=coordinator,
        outcome=Outcome.REMAINED_AT_HOME,
        planned_end_date=timezone.localdate() + dt.timedelta(days=7),
    )
    with time_machine.travel(timezone.now() - dt.timedelta(hours=3), tick=False):
        visit = care.plan_visit(
            referral=referral,
            user=coordinator,
            responder=responder,
            window_start=timezone.now() + dt.timedelta(hours=1),
            window_end=timezone.now() + dt.timedelta(hours=2),
            tasks="Help with washing and dressing",
        )
    _beat_last_swept_a_minute_ago()

    assert _kill_a_worker_mid_delivery(background) == {Alert.Kind.VISIT_MISSED: 1}
    started = timezone.now()
    background.start_worker("new-worker")
    background.wait_for(
        lambda: Alert.objects.filter(notified_at__isnull=False).exists(),
        seconds=120,
        what="the next sweep to deliver the alert",
    )
    background.wait_for(
        lambda: Heartbeat.objects.filter(
            name=SWEEP_HEARTBEAT, seen_at__gt=started + dt.timedelta(seconds=7)
        ).exists(),
        seconds=60,
        what="a further sweep",
    )

    (alert,) = Alert.objects.all()
    assert (alert.episode.referral_id, alert.kind, alert.for_due_at) == (
        referral.pk,
        Alert.Kind.VISIT_MISSED,
        visit.window_end,
    )
    assert ReferralEvent.objects.filter(referral=referral, kind=ReferralEvent.Kind.ALERT).count() == 1
    emails = OutboundEmail.objects.filter(subject__contains="care visit")
    assert sorted(emails.values_list("to", flat=True)) == sorted(user.email for user in coordinators)
