"""Two `celery beat` schedulers run; the one holding the lease sends the sweep, and when
it is killed the other takes over: within 90 seconds, as the issue asks, and in fact
within the lease's 30 (`core/leases.py`).

Real processes through Redis, as `test_alerts_in_background.py`: the sweep runs every 6
seconds instead of every minute, so a run is seen without a minute's wait."""

from __future__ import annotations

import datetime as dt
import importlib
import re
import time

import pytest
from django.apps import apps as django_apps
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from atb.celery import app
from core import leases
from core.models import Heartbeat
from recovery_at_home.alerts import SWEEP_HEARTBEAT
from tests.background import BackgroundProcesses

pytestmark = pytest.mark.django_db(transaction=True)

SWEEP_TASK = "recovery_at_home.tasks.sweep_alerts"
SWEEP_SECONDS = 6
SENT = re.compile(r"Sending due task .*\(recovery_at_home\.tasks\.sweep_alerts\)")


@pytest.fixture
def background(tmp_path):
    importlib.import_module("recovery_at_home.migrations.0004_alert_sweep_schedule").create_schedule(
        django_apps, None
    )
    every_few_seconds, _ = IntervalSchedule.objects.get_or_create(every=SWEEP_SECONDS, period="seconds")
    # Only the sweep, so the logs count its runs alone.
    PeriodicTask.objects.exclude(task=SWEEP_TASK).update(enabled=False)
    PeriodicTask.objects.filter(task=SWEEP_TASK).update(interval=every_few_seconds)
    processes = BackgroundProcesses(tmp_path)
    yield processes
    processes.stop_all()
    app.control.purge()


def _sent(tmp_path, name: str) -> int:
    return len(SENT.findall((tmp_path / f"{name}.log").read_text()))


def _swept_since(moment) -> bool:
    return Heartbeat.objects.filter(name=SWEEP_HEARTBEAT, seen_at__gt=moment).exists()


def test_killing_the_beat_that_leads_moves_the_sweep_to_the_other(background, tmp_path):
    background.start_worker("worker")
    beats = {name: background.start_beat(name) for name in ("beat-one", "beat-two")}
    started = timezone.now()
    background.wait_for(lambda: _swept_since(started), seconds=60, what="the first sweep")
    holder = leases.holder_of(name=leases.BEAT)
    (leader,) = [name for name, process in beats.items() if holder.endswith(f":{process.pid}")]
    (other,) = set(beats) - {leader}

    time.sleep(4 * SWEEP_SECONDS)  # a few runs: only the leader sends
    assert _sent(tmp_path, leader) >= 3
    assert _sent(tmp_path, other) == 0

    background.kill(leader)  # SIGKILL: no chance to give the lease up
    killed_at = timezone.now()
    took = background.wait_for(
        lambda: _swept_since(killed_at + dt.timedelta(seconds=1)) and _sent(tmp_path, other) > 0,
        seconds=90,
        what="a sweep sent by the other beat after the leader was killed",
    )
    assert took < 90
    assert leases.holder_of(name=leases.BEAT).endswith(f":{beats[other].pid}")
    print(f"\nbeat failover: the other beat swept {took:.0f} s after the leader was killed")


def test_a_beat_stopped_cleanly_hands_over_at_once(background, tmp_path):
    background.start_worker("worker")
    first = background.start_beat("beat-one")
    background.wait_for(
        lambda: (leases.holder_of(name=leases.BEAT) or "").endswith(f":{first.pid}"),
        seconds=60,
        what="the first beat taking the lease",
    )
    second = background.start_beat("beat-two")
    background.running.pop("beat-one")
    first.terminate()  # SIGTERM, as a deployment stops it
    first.wait(timeout=30)
    stopped_at = time.monotonic()
    background.wait_for(
        lambda: (leases.holder_of(name=leases.BEAT) or "").endswith(f":{second.pid}"),
        seconds=30,
        what="the second beat taking over",
    )
    assert time.monotonic() - stopped_at < 15  # not the lease's 30 s: it was given up
