from __future__ import annotations

import resource
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from core.models import Patient, Service
from portal import exports
from recovery_at_home.models import Episode
from referrals.models import Referral
from tools.bulk import insert_series


class Command(BaseCommand):
    help = (
        "Benchmark the referrals CSV export on a throw-away copy of the database (test_<name>): "
        "N referrals, streamed to nowhere; prints the time and the peak memory."
    )

    def add_arguments(self, parser):
        parser.add_argument("--referrals", type=int, default=1_000_000)

    def handle(self, *args, referrals: int, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark is for PostgreSQL: set DATABASE_URL=postgres://...")
        real_name = connection.settings_dict["NAME"]
        bench_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            self._build(referrals, bench_name)
            self._measure(referrals)
        finally:
            connection.creation.destroy_test_db(real_name, verbosity=0)

    def _build(self, count: int, bench_name: str) -> None:
        self.stdout.write(f"Building {count:,} referrals in {bench_name}…")
        started = time.perf_counter()
        rah = Service.objects.get_or_create(
            code=Service.Code.RECOVERY_AT_HOME, defaults={"name": "Recovery at Home", "base": "Leechmere"}
        )[0]
        with connection.cursor() as cursor:
            cursor.execute(
                insert_series(
                    Patient,
                    1000,
                    {
                        "given_name": "'Bench'",
                        "family_name": "'Person ' || n",
                        "created_at": "now()",
                        "updated_at": "now()",
                    },
                )
            )
            first_patient = Patient.objects.order_by("pk").values_list("pk", flat=True).first()
            received = "now() - (n || ' minutes')::interval"
            cursor.execute(
                insert_series(
                    Referral,
                    count,
                    {
                        "reference": "'BENCH-' || lpad(n::text, 8, '0')",
                        "patient": f"{first_patient} + n % 1000",
                        "service": str(rah.pk),
                        "source": "(ARRAY['gp','nhs_111','ambulance','hospital_discharge'])[1 + n % 4]",
                        "reason": "(ARRAY['fall','frailty','delirium','carer_breakdown'])[1 + n % 4]",
                        "consent_to_referral": "true",
                        "received_at": received,
                        "status": "CASE WHEN n % 4 = 0 THEN 'closed' ELSE 'in_progress' END",
                        "status_changed_at": received,
                        "outcome": "CASE WHEN n % 4 = 0 THEN 'Remained at home' ELSE '' END",
                        "created_at": "now()",
                    },
                )
            )
            first_referral = Referral.objects.order_by("pk").values_list("pk", flat=True).first()
            cursor.execute(
                insert_series(
                    Episode,
                    count,
                    {
                        "referral": f"{first_referral} + n - 1",
                        "window_minutes": "120",
                        "response_due_at": f"{received} + interval '2 hours'",
                        "arrived_at": f"{received} + ((n % 180) || ' minutes')::interval",
                        "arrival_recorded_at": f"{received} + ((n % 180) || ' minutes')::interval",
                    },
                )
            )
            cursor.execute("ANALYZE")
        self.stdout.write(f"  built in {time.perf_counter() - started:.1f} s")

    def _measure(self, count: int) -> None:
        referrals = Referral.objects.order_by("received_at", "pk")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        started = time.perf_counter()
        lines = sum(1 for _ in exports.csv_lines(referrals))
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(
            f"Exported {lines - 1:,} rows in {seconds:.1f} s ({(lines - 1) / seconds:,.0f} rows/s); "
            f"peak memory of the whole process {peak:.0f} MB ({before:.0f} MB before the export began)"
        )
