from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from atb.celery import app
from recovery_at_home.benchmark import build_open_referrals, measure_sweep


class Command(BaseCommand):
    help = (
        "Benchmark the alert sweep: N open Recovery at Home referrals, some due. Runs on a "
        "throw-away copy of the database (test_<name>), created and dropped here."
    )

    def add_arguments(self, parser):
        parser.add_argument("--open", type=int, default=100_000, dest="open_referrals")
        parser.add_argument("--due", type=int, default=1_000)
        parser.add_argument("--keep", action="store_true", help="Keep the benchmark database afterwards.")

    def handle(self, *args, open_referrals, due, keep, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark is for PostgreSQL: set DATABASE_URL=postgres://...")
        real_name = connection.settings_dict["NAME"]
        bench_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            self._run(open_referrals, due, bench_name)
        finally:
            app.control.purge()  # the emails the sweep queued are not to be sent
            if not keep:
                connection.creation.destroy_test_db(real_name, verbosity=0)

    def _run(self, open_referrals, due, bench_name):
        self.stdout.write(f"Building {open_referrals:,} open referrals ({due:,} due) in {bench_name}…")
        started = time.perf_counter()
        build_open_referrals(open_referrals=open_referrals, due=due)
        self.stdout.write(f"  built in {time.perf_counter() - started:.1f} s")

        first = measure_sweep()
        self.stdout.write(f"First sweep (the due referrals' alerts): {first}")
        steady = measure_sweep()
        self.stdout.write(f"Next sweep (nothing new): {steady}")
