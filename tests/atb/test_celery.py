"""Background work goes through the real Redis broker to a real worker."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from atb.celery import app
from core.models import Heartbeat
from core.tasks import record_heartbeat


def test_beat_records_the_heartbeat_every_minute(db):
    entry = PeriodicTask.objects.get(task="core.tasks.record_heartbeat")
    assert entry.enabled
    assert (entry.interval.every, entry.interval.period) == (1, "minutes")


def test_healthz_reports_a_worker_that_was_never_seen(db, client):
    assert client.get(reverse("healthz")).json()["background_worker"] == "never seen"


@pytest.mark.django_db(transaction=True)
def test_a_task_sent_through_redis_is_run_by_a_worker(client):
    assert app.conf.broker_url.startswith("redis://")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        record_heartbeat.delay()
        deadline = time.monotonic() + 15
        while not Heartbeat.objects.filter(name="worker").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    assert Heartbeat.objects.filter(name="worker").exists(), "the worker did not run the task"
    assert client.get(reverse("healthz")).json()["background_worker"].startswith("ok: last seen")
