"""Leases: one process at a time does a job, and another takes over when it stops.

Two (or more) `celery beat` schedulers run, so that the machine or process running one
may die without the alert sweep stopping. Only the holder of the "beat" lease sends the
schedule's tasks; it renews the lease at every tick (every few seconds). A holder that
dies stops renewing, and once the lease expires the next scheduler to ask takes it. A
holder that stops cleanly gives it up at once.

Why a lease row rather than a PostgreSQL advisory lock: a lock lives on one database
connection, and a terminated connection (a failover, a restarted pooler, an
administrator's `pg_terminate_backend`) would silently drop it while the process went on
sending; a row with an expiry survives reconnects, is visible to `/healthz` and to
people, and works on the demo's SQLite too. Each take or renewal is one conditional
UPDATE, so of two schedulers asking at once exactly one holds it.

Every task the schedule sends is also idempotent end to end (unique constraints and
delivery claims), so the one extra run a takeover may cause is harmless.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from core.models import Lease

BEAT = "beat"


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def hold(*, name: str, holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take or renew the lease for `ttl`; True if `holder` holds it now."""
    now = now or timezone.now()
    # One conditional UPDATE: renew ours, or take an expired one (keeping when it was
    # first taken only when it stays with the same holder).
    if Lease.objects.filter(Q(holder=holder) | Q(expires_at__lte=now), name=name).update(
        acquired_at=Case(When(holder=holder, then=F("acquired_at")), default=Value(now)),
        holder=holder,
        expires_at=now + ttl,
    ):
        return True
    if Lease.objects.filter(name=name).exists():
        return False  # someone else holds it, unexpired
    try:
        with transaction.atomic():
            Lease.objects.create(name=name, holder=holder, acquired_at=now, expires_at=now + ttl)
    except IntegrityError:
        return False  # another took it first
    return True


def release(*, name: str, holder: str) -> bool:
    """Give the lease up (a clean stop), so another takes over at its next tick."""
    return bool(Lease.objects.filter(name=name, holder=holder).delete()[0])


def holder_of(*, name: str, now: datetime | None = None) -> str | None:
    """Who holds the lease now, if anyone."""
    now = now or timezone.now()
    return Lease.objects.filter(name=name, expires_at__gt=now).values_list("holder", flat=True).first()
