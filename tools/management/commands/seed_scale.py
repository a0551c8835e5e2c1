"""`manage.py seed_scale --referrals 1000000`: national-scale data for the benchmarks."""

from __future__ import annotations

import time
from io import StringIO

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from tqdm import tqdm

from referrals.models import Referral
from tools import scale


class Command(BaseCommand):
    help = (
        "Fill the database with national-scale data: 300,000 patients, 1,000,000 referrals over "
        "10 years, 2,000 open Recovery at Home referrals, 50,000 open caseload entries and 40 "
        "practices with 5 years of MDT meetings (on top of the demo's reference data and users)."
    )

    def add_arguments(self, parser):
        defaults = scale.Scale()
        parser.add_argument("--referrals", type=int, default=defaults.referrals)
        parser.add_argument("--patients", type=int, default=defaults.patients)
        parser.add_argument("--open-rah", type=int, default=defaults.open_rah)
        parser.add_argument("--open-caseload", type=int, default=defaults.open_caseload)

    def handle(self, *args, referrals, patients, open_rah, open_caseload, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Scale data is for PostgreSQL: set DATABASE_URL=postgres://...")
        if Referral.objects.filter(clinical_summary__startswith="Scale data:").exists():
            raise CommandError("This database already holds scale data; use a fresh one.")
        # The reference data and users, without the demo's months of history.
        call_command("seed_demo", patients=40, days=0, stdout=StringIO())
        sizes = scale.Scale(
            patients=patients, referrals=referrals, open_rah=open_rah, open_caseload=open_caseload
        )
        started = time.perf_counter()
        with tqdm(total=10, unit="step", desc="seed_scale") as bar, transaction.atomic():

            def progress(what: str, rows: int) -> None:
                bar.set_postfix_str(f"{what}: {rows:,}" if rows else what)
                bar.update(1)

            try:
                scale.seed(sizes, progress=progress)
            except ValueError as problem:
                raise CommandError(str(problem)) from None
        if not connection.in_atomic_block:  # VACUUM cannot run in a transaction (a test's)
            with connection.cursor() as cursor:
                # As autovacuum would leave a live database: the visibility map lets a count
                # read an index alone (a practice's 25,000 referrals: 126 ms → 1 ms).
                cursor.execute("VACUUM ANALYZE")
        seconds = time.perf_counter() - started
        self.stdout.write(f"Seeded {patients:,} patients and {referrals:,} referrals in {seconds:.0f} s.")
