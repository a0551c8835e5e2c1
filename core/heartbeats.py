"""The worker's heartbeat: beat queues `record_heartbeat` every minute, a worker runs it.

If the heartbeat is old, one of the two is down, and time-based work (response alerts)
is not happening: `/healthz` says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from core.models import Heartbeat

WORKER = "worker"
STALE_AFTER = timedelta(minutes=3)


def record_heartbeat(*, name: str = WORKER) -> datetime:
    now = timezone.now()
    Heartbeat.objects.update_or_create(name=name, defaults={"seen_at": now})
    return now


def heartbeat_status(*, name: str = WORKER) -> str:
    age = heartbeat_age(name=name)
    if age is None:
        return "never seen"
    state = "stale" if age > STALE_AFTER else "ok"
    return f"{state}: last seen {int(age.total_seconds())} seconds ago"


def heartbeat_age(*, name: str) -> timedelta | None:
    seen_at = Heartbeat.objects.filter(name=name).values_list("seen_at", flat=True).first()
    return None if seen_at is None else timezone.now() - seen_at
