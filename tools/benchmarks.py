"""`make bench`: the portal's busiest pages at national scale, each beside its references.

On a database filled by `manage.py seed_scale`, gunicorn serves the portal with production
settings on 127.0.0.1, and each page is measured three ways:

- the page itself, over HTTP (median and p95 of sequential requests, requests per second
  with several clients at once, and the queries it ran, from X-Query-Count);
- the Django admin changelist of referrals filtered the same way: what a team would ship
  without this product (registered for the benchmark only, see referrals/admin.py);
- the page's main query (its slowest read, captured from a request in this process) run as
  bare SQL through psycopg, the floor; "plus a trivial view" adds a request to a view that
  returns "ok" behind the same middleware, as the same person, requested after each of the
  page's own requests (so that both are measured at the same moments).
"""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlencode

import psycopg
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from core.auth import signed_in_session
from core.models import Service, User
from mdt.selectors import meetings_visible_to
from referrals.models import OPEN_STATUSES, Reason, Source
from tools.processes import database_url

CSRF_SECRET = "benchmarkcsrfsecret0123456789abc"  # 32 characters: cookie and form field alike
OPEN = ",".join(OPEN_STATUSES)


@dataclass
class Target:
    name: str
    path: str
    username: str
    admin_path: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    form: Callable[[int], dict[str, str]] | None = None  # POST body for request n


@dataclass
class Timing:
    requests: int
    median_ms: float
    p95_ms: float
    requests_per_second: float | None = None
    queries_per_request: float | None = None
    errors: int = 0
    # The trivial view, requested after each of this page's sequential requests: the floor
    # measured in the same moments as the page (this machine's speed drifts by a third).
    trivial_view_median_ms: float | None = None


@dataclass
class PageResult:
    name: str
    path: str
    page: Timing
    admin: Timing | None
    raw_sql: Timing | None
    main_query: str
    page_vs_admin: float | None
    page_vs_raw_sql: float | None
    page_vs_raw_sql_plus_trivial_view: float | None


def referral_form(*, practice_id: int, service_id: int, family_name: str) -> dict[str, str]:
    """A GP's referral of a new person to Recovery at Home, as the form posts it."""
    return {
        "given_name": "Ada",
        "family_name": family_name,
        # The date boxes as a person types them (core.forms.MemorableDateField).
        "date_of_birth_day": "2",
        "date_of_birth_month": "5",
        "date_of_birth_year": "1937",
        "practice": str(practice_id),
        "service": str(service_id),
        "source": Source.GP,
        "reason": Reason.FALL,
        "clinical_summary": "Fell at home twice this week (benchmark).",
        "consent_to_referral": "on",
        "referrer_phone": "0191 555 0100",
        "confirm_duplicate": "on",
    }


def targets(marker: str) -> list[Target]:
    """The busiest pages, each as the member of staff who uses it most (tools.scale)."""
    rah = Service.objects.get(code=Service.Code.RECOVERY_AT_HOME)
    gp = User.objects.get(username="scale.gp0")
    practice_id = gp.practice_ids[0]
    cit = User.objects.filter(username__startswith="scale.cit").order_by("pk").first()
    team_id = cit.team_ids[0]
    coordinator = User.objects.get(username="scale.mdt0")
    meeting = meetings_visible_to(user=coordinator).filter(status="planned").order_by("starts_at").first()
    referrals = "/admin/referrals/referral/?"
    queue_admin = referrals + urlencode({"service__id__exact": rah.pk, "status__in": OPEN})
    return [
        Target("RaH queue page", "/recovery-at-home/queue/", "scale.rah0", queue_admin),
        Target(
            "RaH queue partial (htmx)",
            "/recovery-at-home/queue/rows/",
            "scale.rah0",
            queue_admin,
            headers={"HX-Request": "true"},
        ),
        Target(
            "RaH queue capacity panel (htmx)",
            "/recovery-at-home/queue/capacity/",
            "scale.rah0",
            queue_admin,
            headers={"HX-Request": "true"},
        ),
        Target("Rota week view", "/recovery-at-home/rota/", "scale.rah0"),
        Target(
            "CIT caseload page",
            f"/teams/{team_id}/caseload/",
            cit.username,
            referrals + urlencode({"team__id__exact": team_id, "status__exact": "in_progress"}),
        ),
        Target(
            "MDT agenda builder",
            f"/mdt/meetings/{meeting.pk}/",
            coordinator.username,
            referrals + urlencode({"referring_practice__id__exact": meeting.practice_id, "status__in": OPEN}),
        ),
        Target(  # the practice's referrals: exactly what the admin's practice filter lists
            "Referral list API, practice",
            "/api/referrals/?list=practice",
            gp.username,
            referrals + urlencode({"referring_practice__id__exact": practice_id}),
        ),
        Target(  # all the GP may see: their own referrals or their practice's (the admin cannot
            # say "or"; its practice filter is the nearest)
            "Referral list API, all",
            "/api/referrals/",
            gp.username,
            referrals + urlencode({"referring_practice__id__exact": practice_id}),
        ),
        Target(
            "Referral submission",
            "/referrals/new/",
            gp.username,
            form=lambda n: referral_form(
                practice_id=practice_id, service_id=rah.pk, family_name=f"{marker}-{n}"
            ),
        ),
    ]


class Http:
    """Requests to gunicorn as a signed-in person (a new connection each: gunicorn's sync
    workers close it after each response, as they do behind the proxy)."""

    def __init__(self, port: int, session_key: str):
        self.port = port
        self.cookie = (
            f"{settings.SESSION_COOKIE_NAME}={session_key}; {settings.CSRF_COOKIE_NAME}={CSRF_SECRET}"
        )

    def request(self, path: str, *, headers=None, form=None) -> tuple[float, int, int]:
        """(seconds, status, queries)."""
        body = urlencode({**form, "csrfmiddlewaretoken": CSRF_SECRET}) if form is not None else None
        sent = {"Cookie": self.cookie, "Host": "127.0.0.1", **(headers or {})}
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("POST" if body is not None else "GET", path, body=body, headers=sent)
            response = conn.getresponse()
            response.read()
        finally:
            conn.close()
        seconds = time.perf_counter() - started
        return seconds, response.status, int(response.getheader("X-Query-Count") or 0)


def _ok(status: int, posting: bool) -> bool:
    return status == 302 if posting else status == 200


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _timing(seconds: list[float], *, errors: int = 0, queries=None, rps=None) -> Timing:
    return Timing(
        requests=len(seconds),
        median_ms=round(statistics.median(seconds) * 1000, 1),
        p95_ms=round(_percentile(seconds, 0.95) * 1000, 1),
        requests_per_second=round(rps, 1) if rps is not None else None,
        queries_per_request=statistics.median(queries) if queries else None,
        errors=errors,
    )


def measure_http(
    http_for: Callable[[], Http],
    path: str,
    *,
    requests: int,
    clients: int,
    headers=None,
    form=None,
    trivial_path: str | None = None,
) -> Timing:
    """Sequential requests for latency (each followed by one to `trivial_path`, if given),
    then `clients` at once for throughput."""
    client = http_for()
    posting = form is not None
    for n in range(3):  # each worker loads its templates on first use
        client.request(path, headers=headers, form=form(-1 - n) if posting else None)
    seconds, queries, errors, trivial = [], [], 0, []
    for n in range(requests):
        took, status, ran = client.request(path, headers=headers, form=form(n) if posting else None)
        seconds.append(took)
        queries.append(ran)
        errors += not _ok(status, posting)
        if trivial_path:
            took, status, _ = client.request(trivial_path)
            trivial.append(took)
            errors += status != 200
    counter = iter(range(requests, 2 * requests))
    lock = threading.Lock()

    def one_client() -> int:
        mine, failed = http_for(), 0
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return failed
            _, status, _ = mine.request(path, headers=headers, form=form(n) if posting else None)
            failed += not _ok(status, posting)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        errors += sum(pool.map(lambda _: one_client(), range(clients)))
    rps = requests / (time.perf_counter() - started)
    timing = _timing(seconds, errors=errors, queries=queries, rps=rps)
    if trivial:
        timing.trivial_view_median_ms = round(statistics.median(trivial) * 1000, 1)
    return timing


def main_query(target: Target, session_key: str) -> str:
    """The page's slowest read, as PostgreSQL received it, from a request in this process.
    Reads only: a write replayed would collide with the row it made (a referral's reference)."""
    client = Client(**{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in target.headers.items()})
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_SECRET
    for n in range(3):  # the last of three, warm
        with CaptureQueriesContext(connection) as queries, override_settings(ALLOWED_HOSTS=["testserver"]):
            # secure: as behind the TLS proxy, whatever this process's SECURE_SSL_REDIRECT
            if target.form:
                form = {**target.form(-100 - n), "csrfmiddlewaretoken": CSRF_SECRET}
                referer = f"https://testserver{target.path}"  # CSRF checks it over HTTPS
                response = client.post(target.path, form, secure=True, HTTP_REFERER=referer)
            else:
                response = client.get(target.path, secure=True)
        if not _ok(response.status_code, posting=target.form is not None):
            raise RuntimeError(f"{target.path} answered {response.status_code} in this process")
    reads = [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    return max(reads, key=lambda q: float(q["time"]))["sql"]


def measure_sql(sql: str, *, requests: int) -> Timing:
    """The floor: the same SQL through a plain psycopg connection, rows fetched, with the
    portal's own session settings (the planner's random_page_cost: without it PostgreSQL
    plans the same query differently, and the floor is not the page's query any more).
    A read (main_query picks one), so it runs alone, as the page runs it: no transaction
    around it to begin and roll back inside the timing."""
    session_options = connection.settings_dict["OPTIONS"].get("options")
    with psycopg.connect(
        dsn(), autocommit=True, **({"options": session_options} if session_options else {})
    ) as raw:
        seconds = []
        for n in range(requests + 6):  # warm, and prepared after five runs as the portal's are
            started = time.perf_counter()
            with raw.cursor() as cursor:
                cursor.execute(sql.encode())
                if cursor.description:
                    cursor.fetchall()
            if n >= 6:
                seconds.append(time.perf_counter() - started)
    return _timing(seconds)


def dsn(*, database: str | None = None) -> str:
    """A psycopg connection string for this database (or another on the same server)."""
    return database_url(connection.settings_dict, name=database).replace("postgres://", "postgresql://", 1)


def ratio(page: Timing, reference: Timing | None, extra: Timing | None = None) -> float | None:
    """page ÷ reference, or ÷ (reference + the trivial view measured beside the page, else
    `extra`)."""
    if reference is None:
        return None
    if extra is not None:
        extra_ms = page.trivial_view_median_ms if page.trivial_view_median_ms is not None else extra.median_ms
    else:
        extra_ms = 0
    floor = reference.median_ms + extra_ms
    return round(page.median_ms / floor, 2) if floor else None


def session_for(username: str) -> str:
    return signed_in_session(User.objects.get(username=username))
