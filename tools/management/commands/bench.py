"""`make bench`: the busiest pages at national scale against the admin and bare SQL (tools.benchmarks)."""

from __future__ import annotations

import json
import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from threading import Barrier

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from psycopg import sql

from atb.celery import app
from core.models import User
from referrals import services as referral_services
from referrals.models import OPEN_STATUSES, Referral
from tools import benchmarks
from tools.processes import free_port, start_gunicorn, wait_for_port

TRIVIAL_VIEW = "/bench/floor/"  # tools.bench.views.floor

# The referrals a run sends are named after it, so that a second run counts its own.
MARKER_PREFIX = "Benchmark"
MARKER = f"{MARKER_PREFIX}{int(time.time())}"


class Command(BaseCommand):
    help = (
        "Measure the queue, caseload, agenda builder, referral list API and referral submission "
        "on scale data, beside the admin changelist and bare SQL; write the figures to bench/."
    )

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=200, help="per page and per reference")
        parser.add_argument("--clients", type=int, default=4, help="clients at once for requests per second")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
        parser.add_argument("--concurrent-submissions", type=int, default=50)
        parser.add_argument("--seed", action="store_true", help="Seed scale data first if there is none.")
        parser.add_argument("--output", default=str(settings.BASE_DIR / "bench" / "results.json"))

    def handle(self, *args, requests, clients, workers, concurrent_submissions, seed, output, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark is for PostgreSQL: set DATABASE_URL=postgres://...")
        if "tools.bench" not in settings.INSTALLED_APPS:
            raise CommandError(
                "Run with DJANGO_SETTINGS_MODULE=tools.bench.settings (make bench does): "
                "it adds the admin changelist and the floor the pages are compared with."
            )
        if seed:
            _create_database_if_missing()
            call_command("migrate", verbosity=0)
        if not Referral.objects.filter(clinical_summary__startswith="Scale data:").exists():
            if not seed:
                raise CommandError("No scale data here: run manage.py seed_scale first (or pass --seed).")
            call_command("seed_scale")
        out_dir = settings.VAR_DIR / "bench"
        out_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        web = start_gunicorn(
            port=port,
            workers=workers,
            log_path=out_dir / "gunicorn.log",
            environment={
                "DJANGO_SETTINGS_MODULE": "tools.bench.settings",
                "ADMIN_TWO_FACTOR": "false",
                "ALLOWED_HOSTS": "127.0.0.1",
            },
        )
        try:
            if not wait_for_port(port):
                raise CommandError("gunicorn did not start; see var/bench/gunicorn.log")
            report = self._measure(
                port, requests=requests, clients=clients, submissions=concurrent_submissions
            )
            report["gunicorn"] = {"workers": workers, "peak_worker_memory_mb": _peak_worker_memory(web.pid)}
        finally:
            web.terminate()
            web.wait(timeout=30)
            retired = _retire_own_referrals()
            app.control.purge()  # the emails the benchmark's referrals queued are not to be sent
        report["retired_own_referrals"] = retired
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(json.dumps(report, indent=2) + "\n")
        self._print(report)
        self.stdout.write(f"Written to {output}.")
        # Figures of pages that answered with errors, or a lost referral, are no result.
        failing = [
            page["name"]
            for page in report["pages"]
            if page["page"]["errors"] or (page["admin"] and page["admin"]["errors"])
        ]
        if failing or report["trivial_view"]["errors"] or report["concurrent_submissions"]["lost"]:
            raise CommandError(f"Errors or lost referrals: {failing or report['concurrent_submissions']}")

    def _measure(self, port: int, *, requests: int, clients: int, submissions: int) -> dict:
        volumes = _volumes()  # as the pages are measured: before the run's own referrals
        admin_session = benchmarks.session_for("admin")
        sessions: dict[str, str] = {}

        def http_as(username: str):
            if username not in sessions:  # one signed-in session per person
                sessions[username] = benchmarks.session_for(username)
            key = sessions[username]
            return lambda: benchmarks.Http(port, key)

        trivial = benchmarks.measure_http(
            http_as("scale.rah0"), TRIVIAL_VIEW, requests=requests, clients=clients
        )
        self.stdout.write(f"trivial view: median {trivial.median_ms} ms")
        results = []
        targets = benchmarks.targets(MARKER)
        for target in targets:
            self.stdout.write(f"{target.name}…")
            http_for = http_as(target.username)
            page = benchmarks.measure_http(
                http_for,
                target.path,
                requests=requests,
                clients=clients,
                headers=target.headers,
                form=target.form,
                trivial_path=TRIVIAL_VIEW,
            )
            admin = None
            if target.admin_path:
                admin = benchmarks.measure_http(
                    lambda: benchmarks.Http(port, admin_session),
                    target.admin_path,
                    requests=requests,
                    clients=clients,
                )
            sql = benchmarks.main_query(target, sessions[target.username])
            raw = benchmarks.measure_sql(sql, requests=requests)
            results.append(
                benchmarks.PageResult(
                    name=target.name,
                    path=target.path,
                    page=page,
                    admin=admin,
                    raw_sql=raw,
                    main_query=sql,
                    page_vs_admin=benchmarks.ratio(page, admin),
                    page_vs_raw_sql=benchmarks.ratio(page, raw),
                    page_vs_raw_sql_plus_trivial_view=benchmarks.ratio(page, raw, trivial),
                )
            )
        submission = next(target for target in targets if target.form)
        concurrent = self._concurrent_submissions(http_as(submission.username), submission, submissions)
        return {
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "data": volumes,
            "trivial_view": asdict(trivial),
            "pages": [asdict(result) for result in results],
            "concurrent_submissions": concurrent,
        }

    def _concurrent_submissions(self, http_for, target: benchmarks.Target, count: int) -> dict:
        """`count` GPs press "Send" at the same moment: every referral must be stored once."""
        start = Barrier(count)
        clients = [http_for() for _ in range(count)]

        def submit(n: int) -> int:
            start.wait()
            _, status, _ = clients[n].request(target.path, form=target.form(100_000 + n))
            return status

        with ThreadPoolExecutor(count) as pool:
            statuses = list(pool.map(submit, range(count)))
        names = [f"{MARKER}-{100_000 + n}" for n in range(count)]
        stored = Referral.objects.filter(patient__family_name__in=names).count()
        return {"sent": count, "accepted": statuses.count(302), "stored": stored, "lost": count - stored}

    def _print(self, report: dict) -> None:
        self.stdout.write("")
        header = (
            f"{'page':28} {'median':>8} {'p95':>8} {'req/s':>7} {'queries':>7} "
            f"{'admin':>8} {'SQL':>7} {'view':>6} {'÷admin':>7} {'÷SQL+view':>9}"
        )
        self.stdout.write(header)
        for page in report["pages"]:
            admin = page["admin"]["median_ms"] if page["admin"] else None
            self.stdout.write(
                f"{page['name']:28} {page['page']['median_ms']:>8} {page['page']['p95_ms']:>8} "
                f"{page['page']['requests_per_second']:>7} {page['page']['queries_per_request']:>7} "
                f"{admin if admin is not None else '-':>8} {page['raw_sql']['median_ms']:>7} "
                f"{page['page']['trivial_view_median_ms']:>6} "
                f"{page['page_vs_admin'] if page['page_vs_admin'] is not None else '-':>7} "
                f"{page['page_vs_raw_sql_plus_trivial_view']:>9}"
            )
        self.stdout.write(f"trivial view: {report['trivial_view']['median_ms']} ms median")
        self.stdout.write(f"concurrent submissions: {report['concurrent_submissions']}")
        self.stdout.write(f"gunicorn: {report['gunicorn']}")


def _retire_own_referrals() -> int:
    """Decline the referrals benchmark runs sent (this one's and any left by an interrupted
    run), so that each run measures the same queue: 2,000 open, not 450 more a run."""
    coordinator = User.objects.get(username="scale.rah0")
    own = Referral.objects.filter(
        patient__family_name__startswith=MARKER_PREFIX, status__in=OPEN_STATUSES
    ).select_related("patient")
    retired = 0
    for referral in own.iterator():
        referral_services.decline_referral(
            referral=referral, user=coordinator, reason="Sent by make bench, not by a GP."
        )
        retired += 1
    return retired


def _volumes() -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM referrals_referral), (SELECT count(*) FROM atb_patient), "
            "(SELECT count(*) FROM recovery_at_home_episode WHERE queue_open), "
            "(SELECT count(*) FROM teams_caseloadentry WHERE closed_at IS NULL)"
        )
        referrals, patients, open_rah, caseload = cursor.fetchone()
    return {"referrals": referrals, "patients": patients, "open_rah": open_rah, "open_caseload": caseload}


def _peak_worker_memory(master_pid: int) -> float:
    """The largest peak resident memory (VmHWM) of gunicorn's workers, in MB."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    peaks = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return round(max(peaks), 1) if peaks else 0.0


def _create_database_if_missing() -> None:
    """`make bench` on a fresh machine: the scale database is made on first use."""
    name = connection.settings_dict["NAME"]
    with psycopg.connect(benchmarks.dsn(database="postgres"), autocommit=True) as server:
        if not server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
