"""The soak: the portal as deployed (two web, two worker and two beat processes, a Redis of
its own, the test database), bounded traffic on 127.0.0.1, and faults at random moments
(SIGKILL a beat, a worker and a web process; Redis down for a while; every PostgreSQL
connection terminated). At the end it counts what a user would notice: referrals
accepted but not stored, alerts due but not raised, raised twice or undelivered, work
left claimed, and the worst lateness of an alert.

`make soak` runs it for ten minutes; `tests/test_soak.py` for a short while in `make test`.
"""

from __future__ import annotations

import itertools
import random
import re
import shutil
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psycopg
import requests
from django.conf import settings
from django.db import connection
from django.db.models import F, Max
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from rest_framework.authtoken.models import Token

from core.models import OutboundEmail, Role
from recovery_at_home import rota
from recovery_at_home.models import Alert, Episode, TriageCategory
from referrals.models import Referral
from tests.background import BackgroundProcesses
from tests.factories import (
    CommunityTeamsServiceFactory,
    PatientFactory,
    PracticeFactory,
    RecoveryAtHomeFactory,
    ReferralFactory,
    UserFactory,
)
from tools.processes import free_port, wait_for_port

SWEEP_TASKS = (
    "recovery_at_home.tasks.sweep_alerts",
    "core.tasks.send_unsent_emails",
    "core.tasks.record_heartbeat",
)


@dataclass
class Report:
    seconds: float
    faults: list[str] = field(default_factory=list)
    requests: Counter = field(default_factory=Counter)
    referrals_accepted: int = 0
    referrals_lost: list[str] = field(default_factory=list)
    alerts_due: int = 0
    alerts_missed: int = 0
    alerts_doubled: int = 0
    alerts_undelivered: int = 0
    emails_queued: int = 0
    emails_delivered: int = 0
    emails_doubled_past_key: int = 0
    emails_repeated_within_key: int = 0
    left_claimed: int = 0
    worst_lateness: float = 0.0

    def lines(self) -> list[str]:
        return [
            f"soak: {self.seconds:.0f} s; faults: {', '.join(self.faults)}",
            "requests: " + ", ".join(f"{k} {v}" for k, v in sorted(self.requests.items())),
            f"referrals accepted (201) {self.referrals_accepted}, lost {len(self.referrals_lost)}",
            f"alerts due {self.alerts_due}: missed {self.alerts_missed}, doubled {self.alerts_doubled}, "
            f"undelivered {self.alerts_undelivered}",
            f"alert emails queued {self.emails_queued}, delivered {self.emails_delivered}, "
            f"doubled past their key {self.emails_doubled_past_key}, "
            f"repeated within their key (at least once) {self.emails_repeated_within_key}",
            f"left claimed {self.left_claimed}; worst alert lateness {self.worst_lateness:.0f} s",
        ]


class Soak:
    def __init__(
        self, *, seconds: float, log_dir: Path, sweep_seconds: int, redis_down: float, seed: int = 25
    ):
        self.seconds, self.sweep_seconds, self.redis_down = seconds, sweep_seconds, redis_down
        self.log_dir, self.rng = log_dir, random.Random(seed)
        self.mail_dir = log_dir / "mail"
        self.mail_dir.mkdir()
        self.redis_port = free_port()
        self.redis: subprocess.Popen | None = None
        self.processes = BackgroundProcesses(
            log_dir,
            redis_url=f"redis://127.0.0.1:{self.redis_port}/0",
            email_url=f"filemail:///{self.mail_dir}",  # django-environ drops one slash
        )
        self.web_ports = {f"web-{n}": free_port() for n in (1, 2)}
        self.report = Report(seconds=seconds)
        self.accepted: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()

    # --- the world the traffic works in -------------------------------------------------
    def prepare(self) -> None:
        rah, _ = RecoveryAtHomeFactory(), CommunityTeamsServiceFactory()
        self.practice = PracticeFactory()
        self.gp = UserFactory(username="soak-gp", roles=[Role.REFERRER], practices=[self.practice])
        self.coordinator = UserFactory(username="soak-coordinator", roles=[Role.RAH_COORDINATOR])
        now = timezone.now()
        rota.add_shift(
            staff=self.coordinator,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=12),
            user=self.coordinator,
        )
        self.tokens = {
            user.username: Token.objects.get_or_create(user=user)[0].key
            for user in (self.gp, self.coordinator)
        }
        # Referrals falling due through the run (and a few already due): each owes a breach
        # alert at its due time, and was due soon from the start.
        for n in range(24):
            referral = ReferralFactory(service=rah, patient=PatientFactory(practice=self.practice))
            due = now + timedelta(seconds=self.seconds * (n - 2) / 24)
            Episode.objects.filter(referral=referral).update(response_due_at=due)
        # The minute sweeps (alerts, the outbox, the heartbeat) every few seconds instead.
        interval, _ = IntervalSchedule.objects.get_or_create(every=self.sweep_seconds, period="seconds")
        PeriodicTask.objects.update(enabled=False)
        for task in SWEEP_TASKS:
            PeriodicTask.objects.update_or_create(
                name=f"soak: {task}",
                defaults={
                    "task": task,
                    "interval": interval,
                    "crontab": None,
                    "enabled": True,
                    "last_run_at": now - timedelta(seconds=self.sweep_seconds),
                },
            )
        self.category = self._category()

    def _category(self):
        return TriageCategory.objects.order_by("pk").first()

    # --- processes ----------------------------------------------------------------------
    def start_redis(self) -> None:
        self.redis = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--port",
                str(self.redis_port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert wait_for_port(self.redis_port, seconds=10), "redis-server did not start"

    def start(self, name: str) -> None:
        if name.startswith("web"):
            self.processes.start_web(self.web_ports[name], name=name)
            assert wait_for_port(self.web_ports[name], seconds=30), self.processes.logs()
        elif name.startswith("worker"):
            self.processes.start_worker(name)
        else:
            self.processes.start_beat(name)

    # --- traffic ------------------------------------------------------------------------
    def _live_ports(self) -> list[int]:
        return [port for name, port in self.web_ports.items() if name in self.processes.running]

    def _call(self, kind: str, method: str, path: str, *, token: str, **kwargs) -> requests.Response | None:
        for port in self.rng.sample(self._live_ports(), k=len(self._live_ports())):
            try:
                response = requests.request(
                    method,
                    f"http://127.0.0.1:{port}{path}",
                    timeout=10,
                    headers={"Authorization": f"Token {token}"},
                    **kwargs,
                )
            except requests.RequestException:
                with self.lock:
                    self.report.requests[f"{kind}: no answer (retried on the other)"] += 1
                continue
            with self.lock:
                self.report.requests[f"{kind} {response.status_code}"] += 1
            return response
        return None

    def _gp(self, serial) -> None:
        while not self.stop.is_set():
            n = next(serial)
            response = self._call(
                "refer",
                "post",
                "/api/referrals/",
                token=self.tokens["soak-gp"],
                json={
                    "patient": {
                        "given_name": "Soak",
                        "family_name": f"Load-{n}",
                        "date_of_birth": "1940-01-01",
                        "practice": self.practice.ods_code,
                    },
                    "service": "rah",
                    "source": "gp",
                    "reason": "fall",
                    "consent_to_referral": True,
                    "clinical_summary": "Soak test referral.",
                },
            )
            if response is not None and response.status_code == 201:
                with self.lock:
                    self.accepted.append(response.json()["reference"])
            self.stop.wait(self.rng.uniform(0.3, 1.0))

    def _coordinator(self) -> None:
        token = self.tokens["soak-coordinator"]
        while not self.stop.is_set():
            queue = self._call("poll queue", "get", "/api/rah/queue/", token=token)
            rows = queue.json().get("results", []) if queue is not None and queue.ok else []
            # The load's own referrals: the ones seeded to fall due are left to the alerts.
            with self.lock:
                ours = set(self.accepted)
            untriaged = [row for row in rows if not row.get("category") and row["reference"] in ours]
            if untriaged and self.category is not None:
                reference = self.rng.choice(untriaged)["reference"]
                action = self.rng.choice(["triage", "arrival"])
                body = (
                    {"category": self.category.pk}
                    if action == "triage"
                    else {"arrived_at": "", "late_reason": ""}
                )
                self._call(
                    action, "post", f"/api/rah/referrals/{reference}/{action}/", token=token, json=body
                )
            self.stop.wait(self.rng.uniform(0.5, 1.5))

    # --- faults -------------------------------------------------------------------------
    def _fault_plan(self) -> list[tuple[float, str]]:
        span = self.seconds
        moments = sorted(self.rng.uniform(0.15 * span, 0.75 * span) for _ in range(5))
        kinds = ["kill beat", "kill worker", "kill web", "stop redis", "terminate connections"]
        self.rng.shuffle(kinds)
        return list(zip(moments, kinds, strict=True))

    def _fault(self, kind: str) -> None:
        from core import leases

        if kind == "kill beat":
            holder = leases.holder_of(name=leases.BEAT) or ""
            name = next(
                (
                    n
                    for n, p in self.processes.running.items()
                    if n.startswith("beat") and holder.endswith(f":{p.pid}")
                ),
                "beat-1",
            )
        elif kind in ("kill worker", "kill web"):
            name = self.rng.choice([n for n in self.processes.running if n.startswith(kind.split()[1])])
        if kind.startswith("kill"):
            self.processes.kill(name)
            self.report.faults.append(f"SIGKILL {name} at {self._at():.0f} s")
            time.sleep(5)  # the supervisor's restart delay
            self.start(name)
        elif kind == "stop redis":
            self.redis.kill()
            self.redis.wait()
            self.report.faults.append(f"Redis down at {self._at():.0f} s for {self.redis_down:.0f} s")
            time.sleep(self.redis_down)
            self.start_redis()
        else:
            # As an administrator would (a superuser: the portal's roles may not).
            database = connection.settings_dict["NAME"]
            with psycopg.connect(settings.DATABASE_ADMIN_URL, autocommit=True) as admin:
                (terminated,) = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    [database],
                ).fetchone()
            connection.close()  # this process's own was among them
            self.report.faults.append(f"{terminated} PostgreSQL connections terminated at {self._at():.0f} s")

    def _at(self) -> float:
        return time.monotonic() - self.started

    # --- the run ------------------------------------------------------------------------
    def run(self) -> Report:
        self.prepare()
        self.start_redis()
        for name in ("web-1", "web-2", "worker-1", "worker-2", "beat-1", "beat-2"):
            self.start(name)
        self.started, self.started_at = time.monotonic(), timezone.now()
        serial = itertools.count(1)
        traffic = [threading.Thread(target=self._gp, args=(serial,)) for _ in range(3)]
        traffic += [threading.Thread(target=self._coordinator) for _ in range(2)]
        for thread in traffic:
            thread.start()
        try:
            for moment, kind in self._fault_plan():
                time.sleep(max(0.0, moment - self._at()))
                self._fault(kind)
            time.sleep(max(0.0, self.seconds - self._at()))
        finally:
            self.stop.set()
            for thread in traffic:
                thread.join(timeout=30)
        # Let the last due alerts be raised and sent: two sweeps and the lease.
        self._settle(seconds=2 * self.sweep_seconds + 45)
        self.processes.stop_all()
        self.redis.kill()
        return self._count()

    def _settle(self, *, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            unsent = OutboundEmail.objects.exclude(status=OutboundEmail.Status.SENT).exists()
            unnotified = Alert.objects.filter(notified_at__isnull=True).exists()
            due = (
                Episode.objects.filter(
                    response_due_at__lte=timezone.now() - timedelta(seconds=self.sweep_seconds + 5),
                    arrived_at__isnull=True,
                )
                .exclude(alerts__kind=Alert.Kind.BREACHED)
                .exists()
            )
            if not (unsent or unnotified or due):
                return
            time.sleep(2)

    def _count(self) -> Report:
        report = self.report
        report.referrals_accepted = len(self.accepted)
        stored = set(Referral.objects.filter(reference__in=self.accepted).values_list("reference", flat=True))
        report.referrals_lost = sorted(set(self.accepted) - stored)
        ended = timezone.now() - timedelta(seconds=self.sweep_seconds + 5)
        # Every breach due by the end, for a person not reached by then: raised once. (The
        # clock stops at arrival, and alerts with it: a person reached within a sweep of
        # the due time may rightly have none.)
        grace = timedelta(seconds=2 * self.sweep_seconds)
        owed = Episode.objects.filter(response_due_at__lte=ended).exclude(
            arrived_at__lte=F("response_due_at") + grace
        )
        report.alerts_due = owed.count()
        breaches = Counter(
            Alert.objects.filter(kind=Alert.Kind.BREACHED, episode__in=owed).values_list("episode", flat=True)
        )
        report.alerts_missed = report.alerts_due - len(breaches)
        report.alerts_doubled = sum(count - 1 for count in breaches.values())
        raised = Alert.objects.all()
        report.alerts_undelivered = raised.filter(notified_at__isnull=True).count()
        # Lateness of the alerts that fell due during the run (one seeded close to its due
        # time was already late for "due soon" when it was made).
        late = raised.filter(due_at__gte=self.started_at).aggregate(worst=Max(F("raised_at") - F("due_at")))[
            "worst"
        ]
        report.worst_lateness = late.total_seconds() if late else 0.0
        emails = OutboundEmail.objects.filter(subject__startswith="Recovery at Home ")
        report.emails_queued = emails.count()
        keys = Counter(emails.values_list("to", "subject"))
        report.emails_doubled_past_key = sum(count - 1 for count in keys.values())
        delivered = Counter(_delivered(self.mail_dir))
        report.emails_delivered = sum(1 for pair in keys if delivered[pair])
        report.emails_repeated_within_key = sum(max(0, delivered[pair] - 1) for pair in keys)
        report.left_claimed = OutboundEmail.objects.filter(status=OutboundEmail.Status.SENDING).count()
        return report


def _delivered(mail_dir: Path):
    """(to, subject) of every message the file backend wrote."""
    for path in mail_dir.glob("*"):
        for message in path.read_text(errors="replace").split("-" * 79):
            message = re.sub(r"\n[ \t]+", " ", message)  # long headers are folded
            to = re.search(r"^To: (.+)$", message, re.M)
            subject = re.search(r"^Subject: (.+)$", message, re.M)
            if to and subject:
                yield to.group(1).strip(), subject.group(1).strip()
