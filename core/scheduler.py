"""The beat scheduler: django-celery-beat's, sending only while it holds the beat lease
(`core.leases`), so two or more beat processes may run and exactly one sends."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections
from django_celery_beat.schedulers import DatabaseScheduler

from core import leases

log = logging.getLogger(__name__)


class LeaderScheduler(DatabaseScheduler):
    """Each tick first takes or renews the lease. Without it, the scheduler stands by and
    asks again within seconds; on taking it, it reads the schedule afresh from the
    database (what the last holder sent is there: beat syncs after every task), so it
    neither repeats the last holder's runs nor misses one."""

    def __init__(self, *args, **kwargs):
        self.identity = leases.this_process()
        self.leading = False
        super().__init__(*args, **kwargs)

    @property
    def lease_ttl(self) -> timedelta:
        return timedelta(seconds=settings.BEAT_LEASE_SECONDS)

    def _holds_lease(self) -> bool:
        try:
            return leases.hold(name=leases.BEAT, holder=self.identity, ttl=self.lease_ttl)
        except DatabaseError:
            # The database went away (restarted, or this connection was terminated): not
            # leading now; a fresh connection at the next tick.
            log.warning("beat %s could not reach the database to renew its lease", self.identity)
            close_old_connections()
            return False

    def tick(self, *args, **kwargs):
        holds = self._holds_lease()
        if holds and not self.leading:
            log.info("beat %s now leads: it sends the schedule", self.identity)
            self._initial_read, self._heap = True, None
        elif self.leading and not holds:
            log.warning("beat %s no longer leads: standing by", self.identity)
        self.leading = holds
        if not holds:
            return min(self.max_interval, settings.BEAT_STANDBY_SECONDS)
        # Renewed at least every `max_interval` seconds, well inside the lease.
        return min(super().tick(*args, **kwargs), self.lease_ttl.total_seconds() / 3)

    def close(self):
        super().close()
        if self.leading:
            try:
                leases.release(name=leases.BEAT, holder=self.identity)
            except DatabaseError:
                pass  # it expires on its own
