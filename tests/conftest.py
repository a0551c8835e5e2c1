"""Shared fixtures: a small world of two neighbourhoods (A and B) and one named user per
role, for permission and access tests."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import pytest
import time_machine
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.models import Patient, Practice, Role, Service, Team, User
from core.two_factor import second_factor_required
from referrals.models import Referral
from tests.factories import (
    CarersCentreFactory,
    CommunityTeamsServiceFactory,
    PatientFactory,
    PracticeFactory,
    RecoveryAtHomeFactory,
    ReferralFactory,
    TeamFactory,
    UserFactory,
)

PASSWORD = "correct-horse-battery-staple"


def pytest_configure(config):
    """TEST_CLOCK_SHIFT_DAYS=N runs the whole suite with Python's clock N days away from
    today, still ticking, to prove no test depends on the date it runs on. It starts
    before the test modules are imported, so their times relative to now shift too;
    a test's own frozen clock (time_machine.travel) still wins inside it."""
    days = int(os.environ.get("TEST_CLOCK_SHIFT_DAYS") or 0)
    if days:
        shifted = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
        config._clock_shift = time_machine.travel(shifted, tick=True)
        config._clock_shift.start()


def pytest_unconfigure(config):
    shift = getattr(config, "_clock_shift", None)
    if shift is not None:
        shift.stop()


def pytest_report_header(config):
    shift = getattr(config, "_clock_shift", None)
    if shift is not None:
        return f"clock shifted: today is {dt.datetime.now(dt.UTC).date().isoformat()} (TEST_CLOCK_SHIFT_DAYS)"
    return None


WALK_COUNTS = pytest.StashKey[dict]()


@pytest.fixture
def record_walk(request):
    """How many requests a walk of every door sent (printed at the end of the run)."""

    def record(kind: str, role: str, count: int) -> None:
        request.config.stash.setdefault(WALK_COUNTS, {})[(kind, role)] = count

    return record


def pytest_terminal_summary(terminalreporter, config):
    counts = config.stash.get(WALK_COUNTS, {})
    for kind in sorted({kind for kind, _ in counts}):
        total = sum(count for (k, _), count in counts.items() if k == kind)
        terminalreporter.write_line(f"bad-input walk of the {kind}: {total} requests sent")


@pytest.fixture(scope="session", autouse=True)
def collected_static_files():
    """Pages are rendered with hashed (manifest) static names, as in production, from a
    collection of the suite's own. Production's storage also compresses every file (a
    minute's work); the names it gives are the same, so the suite skips that."""
    from django.conf import settings
    from django.contrib.staticfiles import storage
    from django.utils.functional import empty

    settings.STATIC_ROOT = settings.VAR_DIR / "test-staticfiles"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    storage.staticfiles_storage._wrapped = empty
    # Each test client builds its own middleware; WhiteNoise would index every static file
    # each time (a fifth of a second). Looking files up on request serves the same files.
    settings.WHITENOISE_AUTOREFRESH = True
    call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(scope="session", autouse=True)
def empty_broker_queue():
    """Messages left in the test broker by an earlier run must not reach this run's worker."""
    from atb.celery import app

    app.control.purge()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2's deliberate slowness would dominate the suite; the check is the same."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    team_a: Team
    team_b: Team
    practice_a: Practice
    practice_b: Practice
    patient_a: Patient
    patient_b: Patient
    users: dict[str, User]
    rah: Service
    cit: Service
    carers_centre: Service  # a partner service; partner_staff works for it
    referral_a: Referral  # gp_a's referral of patient_a to team A (the CIT)
    referral_b: Referral  # gp_b's referral of patient_b to Recovery at Home


@pytest.fixture
def world(db) -> World:
    team_a, team_b = TeamFactory(), TeamFactory()
    practice_a = PracticeFactory(neighbourhood=team_a.neighbourhood)
    practice_b = PracticeFactory(neighbourhood=team_b.neighbourhood)
    users = {
        "gp_a": UserFactory(username="gp_a", roles=[Role.REFERRER], practices=[practice_a]),
        "gp_b": UserFactory(username="gp_b", roles=[Role.REFERRER], practices=[practice_b]),
        "rah_coordinator": UserFactory(username="rah_coordinator", roles=[Role.RAH_COORDINATOR]),
        "rah_responder": UserFactory(username="rah_responder", roles=[Role.RAH_RESPONDER]),
        "cit_member_a": UserFactory(username="cit_member_a", roles=[Role.CIT_MEMBER], teams=[team_a]),
        "mdt_coordinator_a": UserFactory(
            username="mdt_coordinator_a", roles=[Role.MDT_COORDINATOR], practices=[practice_a]
        ),
        "service_manager": UserFactory(username="service_manager", roles=[Role.SERVICE_MANAGER]),
        "administrator": UserFactory(
            username="administrator", roles=[Role.ADMINISTRATOR], is_staff=True, is_superuser=True
        ),
    }
    rah, cit = RecoveryAtHomeFactory(), CommunityTeamsServiceFactory()
    carers_centre = CarersCentreFactory()
    users["partner_staff"] = UserFactory(
        username="partner_staff", roles=[Role.PARTNER_STAFF], partner_services=[carers_centre]
    )
    patient_a, patient_b = PatientFactory(practice=practice_a), PatientFactory(practice=practice_b)
    return World(
        rah=rah,
        cit=cit,
        carers_centre=carers_centre,
        referral_a=ReferralFactory(
            patient=patient_a,
            service=cit,
            team=team_a,
            referred_by=users["gp_a"],
            referring_practice=practice_a,
        ),
        referral_b=ReferralFactory(
            patient=patient_b, service=rah, referred_by=users["gp_b"], referring_practice=practice_b
        ),
        team_a=team_a,
        team_b=team_b,
        practice_a=practice_a,
        practice_b=practice_b,
        patient_a=patient_a,
        patient_b=patient_b,
        users=users,
    )


def give_second_factor(client, user: User) -> None:
    """What the two-factor page does after a right code: the session is verified."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="test phone", confirmed=True
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture
def client_for(client):
    """Sign the test client in as one of the world's users."""

    def sign_in(user: User):
        client.force_login(user)
        if second_factor_required(user):
            give_second_factor(client, user)
        return client

    return sign_in


@pytest.fixture
def api(world):
    """An API client for a world user (by username), authenticated by token as another
    system would be."""

    def client_for(username: str) -> APIClient:
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=world.users[username])
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return client_for
