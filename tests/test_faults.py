"""Faults a live service meets: Redis (the Celery broker) stopping, and a PostgreSQL
connection dropped in the middle of a request."""

from __future__ import annotations

import datetime as dt
import importlib
import re
import subprocess
import time

import psycopg
import pytest
import requests
from django.apps import apps as django_apps
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from atb.celery import app
from core import health
from core.models import Heartbeat, Patient, Role
from recovery_at_home.alerts import SWEEP_HEARTBEAT
from recovery_at_home.models import Alert, Episode
from referrals.models import Reason, Referral, Source
from referrals.signals import referral_received
from tests.background import BackgroundProcesses, url_of_the_test_database
from tests.conftest import PASSWORD
from tests.factories import PracticeFactory, RecoveryAtHomeFactory, UserFactory, typed_date
from tools.processes import free_port, port_answers, wait_for_port

BANNER = "Background services are unavailable."


# --- The banner, in-process --------------------------------------------------------


@pytest.fixture
def fresh_health_check():
    health.forget_last_check()
    yield
    health.forget_last_check()


def test_pages_show_a_degraded_banner_while_redis_does_not_answer(
    world, client_for, settings, fresh_health_check
):
    client = client_for(world.users["rah_coordinator"])
    assert BANNER not in client.get(reverse("recovery_at_home:queue")).content.decode()

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    health.forget_last_check()
    page = client.get(reverse("recovery_at_home:queue")).content.decode()

    assert BANNER in page and "Watch the queue" in page


# --- Redis stopped and started again, with real processes ---------------------------


class RedisServer:
    """A throw-away redis-server of the test's own, so the test can stop the broker."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert wait_for_port(self.port, seconds=10), "redis-server did not start"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        assert not port_answers(self.port)


SWEEP_SECONDS = 6


@pytest.mark.django_db(transaction=True)
def test_with_redis_stopped_referrals_are_accepted_and_alerts_catch_up_when_it_returns(tmp_path):
    sweep_schedule = importlib.import_module("recovery_at_home.migrations.0004_alert_sweep_schedule")
    sweep_schedule.create_schedule(django_apps, None)
    # The migration's schedule every few seconds instead of every minute: the catch-up is
    # the same, without a minute's wait for it.
    every_few_seconds, _ = IntervalSchedule.objects.get_or_create(every=SWEEP_SECONDS, period="seconds")
    PeriodicTask.objects.filter(task="recovery_at_home.tasks.sweep_alerts").update(interval=every_few_seconds)
    rah = RecoveryAtHomeFactory()
    practice = PracticeFactory()
    gp = UserFactory(username="gp", roles=[Role.REFERRER], practices=[practice])
    # The web process checks passwords with the production hashers, not the suite's fast one.
    gp.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    gp.save()
    UserFactory(username="coordinator", roles=[Role.RAH_COORDINATOR], email="coordinator@example.nhs.uk")

    redis_server = RedisServer(free_port())
    redis_server.start()
    background = BackgroundProcesses(tmp_path, redis_url=f"redis://127.0.0.1:{redis_server.port}/0")
    web_port = free_port()
    try:
        background.start_web(web_port)
        background.start_worker("worker")
        background.start_beat()
        base = f"http://127.0.0.1:{web_port}"
        background.wait_for(
            lambda: _get(f"{base}/healthz") is not None, seconds=30, what="gunicorn to answer"
        )
        PeriodicTask.objects.filter(task="recovery_at_home.tasks.sweep_alerts").update(
            last_run_at=timezone.now() - dt.timedelta(seconds=SWEEP_SECONDS)
        )
        started = timezone.now()
        background.wait_for(
            lambda: Heartbeat.objects.filter(name=SWEEP_HEARTBEAT, seen_at__gte=started).exists(),
            seconds=90,
            what="the first sweep while Redis runs",
        )

        redis_server.stop()
        gp = _signed_in(base, "gp")
        form_page = gp.get(f"{base}{reverse('referrals:create')}")
        assert form_page.status_code == 200 and BANNER in form_page.text
        submitted = gp.post(
            f"{base}{reverse('referrals:create')}",
            data={"csrfmiddlewaretoken": _csrf(form_page.text), **_referral_form(practice, rah)},
            allow_redirects=False,
            timeout=30,
        )
        assert submitted.status_code == 302, submitted.text[:2000]
        referral = Referral.objects.get(patient__family_name="Bell-Hardy")
        Episode.objects.filter(referral=referral).update(response_due_at=timezone.now())

        time.sleep(SWEEP_SECONDS + 1)  # long enough for a sweep had one been possible
        assert not Alert.objects.exists()
        redis_server.start()
        back = timezone.now()
        background.wait_for(
            lambda: Alert.objects.filter(episode__referral=referral, notified_at__isnull=False).exists(),
            seconds=180,
            what="the alert once Redis is back",
        )
        assert Alert.objects.get().raised_at >= back
        time.sleep(1.5)  # the web process's next look at Redis (every second here)
        assert BANNER not in gp.get(f"{base}{reverse('referrals:home')}").text
    finally:
        background.stop_all()
        if redis_server.process and redis_server.process.poll() is None:
            redis_server.stop()
        app.control.purge()


def _referral_form(practice, rah) -> dict:
    return {
        "given_name": "Doris",
        "family_name": "Bell-Hardy",
        **typed_date("date_of_birth", "1938-02-11"),
        "practice": practice.pk,
        "service": rah.pk,
        "source": Source.GP,
        "reason": Reason.FALL,
        "clinical_summary": "Fell twice this week; on the floor for an hour.",
        "consent_to_referral": "on",
        "referrer_phone": "0191 565 6256",
    }


def _get(url: str):
    try:
        return requests.get(url, timeout=2)
    except requests.RequestException:
        return None


def _csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def _signed_in(base: str, username: str) -> requests.Session:
    session = requests.Session()
    login = session.get(f"{base}{reverse('login')}", timeout=10)
    response = session.post(
        f"{base}{reverse('login')}",
        data={"csrfmiddlewaretoken": _csrf(login.text), "username": username, "password": PASSWORD},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:1000]
    return session


# --- A PostgreSQL connection dropped mid-request -------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_connection_dropped_mid_referral_gives_an_error_page_and_saves_nothing(monkeypatch, caplog):
    """The server ends the web process's connection after the patient and the referral
    rows were written but before the transaction committed: the person gets the error
    page, nothing of the referral remains, and the next request works on a new connection."""
    rah = RecoveryAtHomeFactory()
    practice = PracticeFactory()
    gp = UserFactory(username="gp", roles=[Role.REFERRER], practices=[practice])
    dropped = []

    def connection_dropped_first(sender, referral, **kwargs):
        """The connection ends as the referral is received, before the clock starts."""
        backend = connection.connection.info.backend_pid
        with psycopg.connect(url_of_the_test_database(), autocommit=True) as admin:
            dropped.append(admin.execute("SELECT pg_terminate_backend(%s)", [backend]).fetchone()[0])

    browser = Client(raise_request_exception=False)
    browser.force_login(gp)
    form = _referral_form(practice, rah)

    referral_received.connect(connection_dropped_first, sender=Referral, weak=False)
    try:
        response = browser.post(reverse("referrals:create"), form)
    finally:
        referral_received.disconnect(connection_dropped_first, sender=Referral)

    assert dropped == [True]  # the server really ended the request's connection
    (failure,) = [r for r in caplog.records if r.name == "django.request" and r.exc_info]
    assert failure.exc_info[0].__name__ in ("OperationalError", "InterfaceError")  # the lost connection
    assert response.status_code == 500
    assert "nothing was saved" in response.content.decode()
    assert not Referral.objects.exists()
    assert not Patient.objects.filter(family_name="Bell-Hardy").exists()
    again = browser.post(reverse("referrals:create"), form)
    assert again.status_code == 302  # a fresh connection: the same referral now goes through
    assert Referral.objects.filter(patient__family_name="Bell-Hardy").count() == 1
