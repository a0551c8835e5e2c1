"""`make bench-load`: a bounded load of mixed traffic against gunicorn on 127.0.0.1, on a
throw-away copy of the database, and whether every referral sent was stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from atb.celery import app
from core.auth import signed_in_session
from core.models import Role, RoleGrant, Service, Team, User
from referrals.models import Referral
from tools.benchmarks import referral_form
from tools.processes import database_url, free_port, start_gunicorn, wait_for_port

MARKER = "Loadtest"
# 200 staff at once: the alliance's coordinators, GPs and team members at a busy hour.
COUNTS = {"coordinator": 60, "gp": 80, "cit": 60}


class Command(BaseCommand):
    help = "Load-test the portal for a bounded time and print throughput, latency percentiles and errors."

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=int, default=60)
        parser.add_argument("--patients", type=int, default=2000)
        parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
        parser.add_argument("--keep", action="store_true", help="Keep the benchmark database afterwards.")

    def handle(self, *args, seconds, patients, workers, keep, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The load test is for PostgreSQL: set DATABASE_URL=postgres://...")
        real_name = connection.settings_dict["NAME"]
        bench_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            ok = self._run(bench_name, seconds=seconds, patients=patients, workers=workers)
        finally:
            app.control.purge()  # the emails the referrals queued are not to be sent
            if not keep:
                connection.creation.destroy_test_db(real_name, verbosity=0)
        if not ok:
            raise CommandError("The load test saw errors or lost referrals.")

    def _run(self, bench_name: str, *, seconds: int, patients: int, workers: int) -> bool:
        self.stdout.write(f"Seeding {bench_name}: demo data with {patients:,} patients…")
        call_command("seed_demo", patients=patients, stdout=open(os.devnull, "w"))  # noqa: SIM115
        accounts = self._accounts()
        out_dir = settings.VAR_DIR / "bench-load"
        out_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        web = start_gunicorn(
            port=port,
            workers=workers,
            log_path=out_dir / "gunicorn.log",
            environment={"DATABASE_URL": database_url(connection.settings_dict, name=bench_name)},
        )
        try:
            if not wait_for_port(port):
                raise CommandError("gunicorn did not start; see var/bench-load/gunicorn.log")
            _warm_up(port, accounts, rounds=workers * 3)
            before = Referral.objects.count()
            self.stdout.write(
                f"Load for {seconds} s against gunicorn ({workers} workers) on 127.0.0.1:{port}: "
                f"{COUNTS['coordinator']} coordinators polling the queue, {COUNTS['gp']} GPs referring, "
                f"{COUNTS['cit']} CIT members opening caseloads…"
            )
            self._locust(port, seconds, accounts, out_dir)
            stored = Referral.objects.filter(patient__family_name__startswith=f"{MARKER}-").count()
            assert Referral.objects.count() - before == stored
        finally:
            web.terminate()
            web.wait(timeout=30)
        return self._report(out_dir / "locust.json", stored)

    def _accounts(self) -> dict[str, list[str]]:
        """Extra staff for the load, each already signed in: their session keys."""
        template = User.objects.get(username="gp.a")
        practice = template.practices.first()
        team = Team.objects.order_by("pk").first()
        accounts: dict[str, list[str]] = {}
        roles = {"coordinator": Role.RAH_COORDINATOR, "gp": Role.REFERRER, "cit": Role.CIT_MEMBER}
        for kind, role in roles.items():
            names = [f"load.{kind}{n}" for n in range(COUNTS[kind])]
            users = User.objects.bulk_create(
                [User(username=name, password="!", first_name="Load", last_name=name) for name in names]
            )
            RoleGrant.objects.bulk_create([RoleGrant(user=user, role=role) for user in users])
            for user in users:
                if kind == "gp":
                    user.practices.add(practice)
                if kind == "cit":
                    user.teams.add(team)
            accounts[kind] = [signed_in_session(user) for user in users]
        self.referral = referral_form(  # each locust user names its own patients
            practice_id=practice.pk,
            service_id=Service.objects.get(code=Service.Code.RECOVERY_AT_HOME).pk,
            family_name="",
        )
        return accounts

    def _locust(self, port: int, seconds: int, accounts, out_dir: Path) -> None:
        users = sum(COUNTS.values())
        env = {
            **os.environ,
            "LOAD_SESSIONS": json.dumps(accounts),
            "LOAD_REFERRAL": json.dumps(self.referral),
            "LOAD_MARKER": MARKER,
        }
        locust = Path(sys.executable).with_name("locust")
        subprocess.run(
            [
                str(locust),
                "-f",
                str(settings.BASE_DIR / "bench" / "locustfile.py"),
                "--headless",
                f"--users={users}",
                f"--spawn-rate={users}",
                f"--run-time={seconds}s",
                # Let a referral in flight at the end finish and be counted, or the count of
                # accepted referrals would miss one the database already holds.
                "--stop-timeout=30",
                f"--host=http://127.0.0.1:{port}",
                f"--json-file={out_dir / 'locust'}",  # written once every user has stopped
                "--only-summary",
                "--loglevel=WARNING",
                "--exit-code-on-error=0",
            ],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def _report(self, stats_json: Path, stored: int) -> bool:
        """From locust's final statistics (its CSV is written before users in flight finish)."""
        entries = json.loads(stats_json.read_text())
        seconds = max(e["last_request_timestamp"] for e in entries) - min(e["start_time"] for e in entries)
        everything = {"name": "All requests", "num_requests": 0, "num_failures": 0, "response_times": {}}
        for entry in entries:
            everything["num_requests"] += entry["num_requests"]
            everything["num_failures"] += entry["num_failures"]
            for ms, count in entry["response_times"].items():
                everything["response_times"][ms] = everything["response_times"].get(ms, 0) + count
        self.stdout.write(
            f"\n{'Request':<22}{'count':>8}{'errors':>8}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
        )
        for entry in [*sorted(entries, key=lambda e: e["name"]), everything]:
            percentiles = "".join(f"{_percentile(entry['response_times'], p):>8}" for p in (50, 95, 99))
            self.stdout.write(
                f"{entry['name']:<22}{entry['num_requests']:>8}{entry['num_failures']:>8}"
                f"{entry['num_requests'] / seconds:>8.1f}{percentiles}"
            )
        errors = everything["num_failures"]
        submit = next((e for e in entries if e["name"] == "submit referral"), None)
        submitted = submit["num_requests"] - submit["num_failures"] if submit else 0
        self.stdout.write(f"\nReferrals submitted (accepted by the portal): {submitted}; stored: {stored}.")
        ok = errors == 0 and submitted == stored and submitted > 0
        self.stdout.write(
            ("PASS" if ok else "FAIL") + f": {errors} errors; none lost: {submitted == stored}."
        )
        return ok


def _percentile(response_times: dict[str, int], percent: int) -> int:
    """The response time (ms, as locust rounds it) below which `percent` of requests fell."""
    total = sum(response_times.values())
    seen = 0
    for ms, count in sorted(response_times.items(), key=lambda item: float(item[0])):
        seen += count
        if seen * 100 >= total * percent:
            return round(float(ms))
    return 0


WARM_UP_PAGES = {
    "coordinator": ["/recovery-at-home/queue/", "/recovery-at-home/queue/rows/"],
    "gp": ["/referrals/new/", "/referrals/"],
    "cit": ["/teams/mine/"],
}


def _warm_up(port: int, sessions: dict[str, list[str]], *, rounds: int) -> None:
    """Each gunicorn worker loads its code and templates on first use; not measured."""
    for _ in range(rounds):
        for kind, pages in WARM_UP_PAGES.items():
            for page in pages:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}{page}", headers={"Cookie": f"sessionid={sessions[kind][0]}"}
                )
                with urllib.request.urlopen(request, timeout=30) as response:
                    response.read()
