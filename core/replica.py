"""Reports off the live path: the dashboard and the exports may read from a streaming
replica (`DATABASE_REPLICA_URL`); the live queue, and everything else, never does.

A view that reports says so (`with reports():` around its reading, or `.using(
reports_database())` on a queryset it streams). The router then sends its reads to the
replica if one is configured, answers, and has replayed what the primary sent within
`REPLICA_MAX_LAG_SECONDS`; otherwise to the primary, so a report is never older than
that, and never fails for want of a replica. Writes (the audit of a report) always go to
the primary.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

log = logging.getLogger(__name__)

REPLICA = "replica"
_reporting: ContextVar[bool] = ContextVar("reporting", default=False)
_checked: dict[str, tuple[float, str]] = {}  # the last answer, and when: asked once in a while
CHECK_EVERY_SECONDS = 5.0


@contextmanager
def reports() -> Iterator[None]:
    """Reads inside go to `reports_database()`."""
    token = _reporting.set(True)
    try:
        yield
    finally:
        _reporting.reset(token)


def replica_lag_seconds() -> float | None:
    """How far behind the replica is: 0 when it has replayed all it received, else the
    seconds since its last replayed transaction; None when it cannot be asked."""
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(), "
                "EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
            )
            in_recovery, caught_up, since_replay = cursor.fetchone()
    except DatabaseError as error:
        log.warning("the reports' replica cannot be reached: %s", error)
        connections[REPLICA].close()
        return None
    if not in_recovery or caught_up:
        return 0.0
    return float(since_replay or 0.0)


def reports_database() -> str:
    """The alias reports read from now: the replica when configured and fresh enough."""
    if not settings.REPORTS_FROM_REPLICA:
        return DEFAULT_DB_ALIAS
    now = time.monotonic()
    checked_at, alias = _checked.get(REPLICA, (0.0, DEFAULT_DB_ALIAS))
    if now - checked_at >= CHECK_EVERY_SECONDS:
        lag = replica_lag_seconds()
        alias = REPLICA if lag is not None and lag <= settings.REPLICA_MAX_LAG_SECONDS else DEFAULT_DB_ALIAS
        _checked[REPLICA] = (now, alias)
    return alias


def forget_checks() -> None:
    """Ask the replica afresh next time (tests, and after a failover)."""
    _checked.clear()


class ReportsRouter:
    """Reads while reporting go to `reports_database()`; everything else to the primary."""

    def db_for_read(self, model, **hints):
        return reports_database() if _reporting.get() else None

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data, whichever copy it was read from

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA  # a replica follows the primary; it is never migrated


def streamed_from_reports(lines):
    """A streamed report (a CSV export) read through `reports()`: each line is produced
    inside it, and nothing outside it is routed (the stream runs after the view returns)."""
    iterator = iter(lines)
    while True:
        with reports():
            line = next(iterator, None)
        if line is None:
            return
        yield line
