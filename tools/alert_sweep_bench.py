"""The alert sweep under load: many open Recovery at Home referrals, a few of them due.

Used by `manage.py bench_alerts` (`make bench-alerts`) on a throw-away database, and by a
small test that keeps the benchmark working.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import Neighbourhood, Patient, Practice, Role, RoleGrant, Service, User
from recovery_at_home import alerts
from recovery_at_home.models import Episode
from referrals.models import Reason, Referral, Source, Status

BATCH = 5000


@dataclass
class SweepMeasure:
    seconds: float
    queries: int
    counts: dict[str, int]

    def __str__(self) -> str:
        raised = ", ".join(f"{kind} {n}" for kind, n in self.counts.items() if kind != "notified")
        return (
            f"{self.seconds * 1000:.0f} ms, {self.queries} queries "
            f"(raised: {raised}; delivered: {self.counts['notified']})"
        )


@transaction.atomic
def build_open_referrals(*, open_referrals: int, due: int, coordinators: int = 2) -> None:
    """Open referrals with running clocks: `due` of them already past their response time,
    the rest due between 31 minutes and two days from now (outside the due-soon window)."""
    now = timezone.now()
    rah, _ = Service.objects.get_or_create(
        code=Service.Code.RECOVERY_AT_HOME, defaults={"name": "Recovery at Home", "base": "Leechmere"}
    )
    neighbourhood, _ = Neighbourhood.objects.get_or_create(code="bench", defaults={"name": "Benchmark"})
    practice, _ = Practice.objects.get_or_create(
        ods_code="B99999", defaults={"name": "Benchmark Practice", "neighbourhood": neighbourhood}
    )
    for n in range(coordinators):
        user = User.objects.create_user(username=f"bench-coordinator-{n}", email=f"bench{n}@example.nhs.uk")
        RoleGrant.objects.create(user=user, role=Role.RAH_COORDINATOR)

    for start in range(0, open_referrals, BATCH):
        numbers = range(start, min(start + BATCH, open_referrals))
        patients = Patient.objects.bulk_create(
            Patient(given_name="Bench", family_name=f"Patient {n}", practice=practice) for n in numbers
        )
        referrals = Referral.objects.bulk_create(
            Referral(
                reference=f"BENCH-{n:07d}",
                patient=patient,
                service=rah,
                source=Source.GP,
                reason=Reason.FALL,
                consent_to_referral=True,
                consent_to_share=True,
                received_at=now - timedelta(hours=2),
                status=(Status.RECEIVED, Status.ACCEPTED, Status.IN_PROGRESS)[n % 3],
            )
            for n, patient in zip(numbers, patients, strict=True)
        )
        Episode.objects.bulk_create(
            Episode(
                referral=referral,
                window_minutes=120,
                response_due_at=(
                    now - timedelta(minutes=1 + n % 10) if n < due else now + timedelta(minutes=31 + n % 2850)
                ),
            )
            for n, referral in zip(numbers, referrals, strict=True)
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure_sweep() -> SweepMeasure:
    """One whole sweep as beat runs it: raise, deliver (timeline and emails), heartbeat."""
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        counts = alerts.sweep()
        seconds = time.perf_counter() - started
    return SweepMeasure(seconds=seconds, queries=len(queries), counts=counts)
