from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from core.models import BedUnit, Neighbourhood, Patient, Practice, Role, Service, Team, User
from core.nhs_numbers import normalise_nhs_number

# The page each demo user lands on after signing in, and a heading it shows.
LANDING = {
    "gp.a": ("referrals:home", "My referrals"),
    "gp.b": ("referrals:home", "My referrals"),
    "rah.coordinator": ("recovery_at_home:queue", "Recovery at Home queue"),
    "rah.responder": ("recovery_at_home:my_visits", "My visits"),
    "cit.member": ("teams:my_caseload", "My caseload"),
    "mdt.coordinator": ("mdt:home", "MDT meetings"),
    "manager": ("service_overview", "Service overview"),
    # Administrators set up two-factor sign-in first (the demo itself turns it off).
    "admin": ("two_factor_setup", "Set up two-factor sign-in"),
}


@pytest.fixture
def seeded(db):
    out = StringIO()
    call_command("seed_demo", patients=40, stdout=out)
    return out.getvalue()


def test_seed_demo_creates_the_sunderland_reference_data(seeded):
    assert Neighbourhood.objects.count() == 6
    assert Team.objects.count() == 6
    assert set(Team.objects.values_list("base", flat=True)) == {
        "Houghton",
        "Washington",
        "Hendon",
        "Bunny Hill",
        "Grindon",
    }
    assert Practice.objects.filter(neighbourhood__isnull=False).count() == Practice.objects.count()
    rah = Service.objects.get(code=Service.Code.RECOVERY_AT_HOME)
    assert rah.base == "Leechmere"
    assert set(BedUnit.objects.filter(service=rah).values_list("name", flat=True)) == {
        "Houghton",
        "Town End Farm",
    }
    assert {grant for grant in User.objects.values_list("role_grants__role", flat=True)} >= set(Role.values)


def test_seed_demo_patients_have_valid_test_range_nhs_numbers(seeded):
    numbers = list(Patient.objects.values_list("nhs_number", flat=True))
    assert len(numbers) == 40
    assert all(normalise_nhs_number(number) == number and number.startswith("999") for number in numbers)


def test_seed_demo_makes_referrals_in_every_state_with_their_timelines(seeded):
    from referrals.models import Referral, Status

    assert set(Referral.objects.values_list("status", flat=True)) == set(Status.values)
    from recovery_at_home.models import BedStay, Dispatch, Episode

    assert Episode.objects.filter(category__isnull=False).exists()
    assert Dispatch.objects.exists() and BedStay.objects.filter(discharged_at__isnull=True).exists()
    closed = Referral.objects.filter(status=Status.CLOSED, service__code="cit").get()
    assert list(closed.events.values_list("kind", flat=True)) == ["submitted", "accepted", "closed"]


def test_seed_demo_is_idempotent(seeded):
    from referrals.models import Referral

    counts = (
        Patient.objects.count(),
        User.objects.count(),
        Practice.objects.count(),
        Referral.objects.count(),
    )
    call_command("seed_demo", patients=40, stdout=StringIO())
    assert (
        Patient.objects.count(),
        User.objects.count(),
        Practice.objects.count(),
        Referral.objects.count(),
    ) == counts


def test_seed_demo_adds_only_the_extra_patients_when_asked_for_more(seeded):
    first_forty = set(Patient.objects.values_list("nhs_number", flat=True))
    call_command("seed_demo", patients=100, stdout=StringIO())
    assert Patient.objects.count() == 100
    assert first_forty < set(Patient.objects.values_list("nhs_number", flat=True))


@pytest.mark.parametrize("username", sorted(LANDING))
def test_each_demo_user_signs_in_and_reaches_their_role_home(seeded, client, username):
    password = re.search(r"password for all: (\S+)\)", seeded).group(1)
    assert re.search(rf"^\s+{re.escape(username)}\s", seeded, re.MULTILINE), "credentials are printed"

    response = client.post(reverse("login"), {"username": username, "password": password}, follow=True)

    url_name, heading = LANDING[username]
    assert response.redirect_chain[-1][0].split("?")[0] == reverse(url_name)
    assert response.status_code == 200
    assert heading in response.content.decode()


def test_a_user_with_no_role_is_told_why_rather_than_refused(db, client):
    User.objects.create_user("newstarter", password="a-long-enough-password")
    client.post(reverse("login"), {"username": "newstarter", "password": "a-long-enough-password"})
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "no role yet" in response.content.decode()


def test_the_sign_in_page_keeps_the_username_after_a_wrong_password(db, client):
    response = client.post(reverse("login"), {"username": "gp.a", "password": "wrong"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="gp.a"' in page
    assert "enter a correct username and password" in page
