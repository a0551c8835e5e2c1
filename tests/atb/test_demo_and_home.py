from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from core.models import BedUnit, Neighbourhood, OutboundEmail, Patient, Practice, Role, Service, Team, User
from core.nhs_numbers import normalise_nhs_number
from mdt.models import Action, Meeting
from portal.forms import PeriodForm
from portal.performance import two_hour_standard
from recovery_at_home import rota
from recovery_at_home.models import BedStay, CareEpisode, Dispatch, Episode, PlannedVisit, TravelTime
from referrals.models import Referral, ReferralEvent, Status
from teams.models import CarePlanGoal, CaseloadEntry, Contact

# The page each demo user lands on after signing in, and a heading it shows.
LANDING = {
    "gp.a": ("referrals:home", "My referrals"),
    "gp.b": ("referrals:home", "My referrals"),
    "rah.coordinator": ("recovery_at_home:queue", "Recovery at Home queue"),
    "rah.responder": ("recovery_at_home:my_visits", "My visits"),
    "cit.member": ("teams:my_caseload", "My caseload"),
    "mdt.coordinator": ("mdt:home", "MDT meetings"),
    "manager": ("performance", "Performance"),
    # Administrators set up two-factor sign-in first (the demo itself turns it off).
    "admin": ("two_factor_setup", "Set up two-factor sign-in"),
}


def next_wednesday_morning() -> datetime:
    """A working day's mid-morning, when the demo's services are busy (relative to today)."""
    today = timezone.localdate()
    wednesday = today + timedelta(days=(2 - today.weekday()) % 7 or 7)
    return datetime.combine(wednesday, time(10, 30), tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def seeded(db):
    """The demo's reference data, users and today's cases, without its history."""
    with time_machine.travel(next_wednesday_morning(), tick=True):
        out = StringIO()
        call_command("seed_demo", patients=80, days=0, stdout=out)
        yield out.getvalue()


@pytest.fixture
def seeded_history(db):
    """The demo with four weeks of history (the command's default is six months)."""
    with time_machine.travel(next_wednesday_morning(), tick=True):
        call_command("seed_demo", patients=150, days=28, stdout=StringIO())
        yield


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
    # The patients asked for; the carers the demo links to some of them come beside them.
    numbers = list(Patient.objects.filter(cares_for=None).values_list("nhs_number", flat=True))
    assert len(numbers) == 80
    assert all(normalise_nhs_number(number) == number and number.startswith("999") for number in numbers)


def test_seed_demo_makes_referrals_in_every_state_with_their_timelines(seeded):

    assert set(Referral.objects.values_list("status", flat=True)) == set(Status.values)

    assert Episode.objects.filter(category__isnull=False).exists()
    assert Dispatch.objects.exists() and BedStay.objects.filter(discharged_at__isnull=True).exists()
    closed = Referral.objects.get(status=Status.CLOSED, clinical_summary="Demo referral: medication support.")
    assert list(closed.events.values_list("kind", flat=True)) == ["submitted", "accepted", "closed"]


def test_seed_demo_is_idempotent(seeded):

    counts = (
        Patient.objects.count(),
        User.objects.count(),
        Practice.objects.count(),
        Referral.objects.count(),
    )
    call_command("seed_demo", patients=80, stdout=StringIO())
    assert (
        Patient.objects.count(),
        User.objects.count(),
        Practice.objects.count(),
        Referral.objects.count(),
    ) == counts


def test_seed_demo_adds_only_the_extra_patients_when_asked_for_more(seeded):
    first_eighty = set(Patient.objects.values_list("nhs_number", flat=True))
    call_command("seed_demo", patients=100, stdout=StringIO())
    assert Patient.objects.filter(cares_for=None).count() == 100
    assert first_eighty < set(Patient.objects.values_list("nhs_number", flat=True))


def test_the_demo_has_weeks_of_work_behind_it_made_through_the_services(seeded_history):

    today = timezone.localdate()
    received_days = {timezone.localdate(at) for at in Referral.objects.values_list("received_at", flat=True)}
    weekdays = [today - timedelta(days=n) for n in range(1, 29) if (today - timedelta(days=n)).weekday() < 5]
    assert set(weekdays) <= received_days, "referrals on every working day of the history"

    reached = Episode.objects.filter(
        arrived_at__isnull=False, referral__received_at__lt=timezone.now() - timedelta(days=1)
    )
    assert reached.count() >= 20
    within_two_hours = sum(e.arrived_at - e.referral.received_at <= timedelta(hours=2) for e in reached)
    assert 0.5 < within_two_hours / reached.count() < 0.97, "most reached in time, not all"
    assert {kind for kind in ReferralEvent.objects.values_list("kind", flat=True)} >= {
        "submitted",
        "triaged",
        "dispatched",
        "arrived",
        "closed",
    }
    assert Meeting.objects.filter(status=Meeting.Status.CLOSED, starts_at__lt=timezone.now()).exists()
    assert Action.objects.exists() and Contact.objects.count() >= 10
    assert CarePlanGoal.objects.filter(status=CarePlanGoal.Status.ACHIEVED).exists()
    # Short-term care after "remained at home": visits done, one now and then missed; some
    # discharged (the referral closed then), some running with visits still to come.
    assert PlannedVisit.objects.filter(state=PlannedVisit.State.DONE).count() >= 20
    assert CareEpisode.objects.filter(
        discharged_at__isnull=False, episode__referral__status="closed"
    ).exists()
    running = CareEpisode.objects.filter(discharged_at__isnull=True)
    assert running.exists() and not running.exclude(episode__referral__status="in_progress").exists()
    assert PlannedVisit.objects.filter(state="planned", window_start__gt=timezone.now()).exists()
    # Nobody is seen, or referred again, after they died.
    died = Episode.objects.filter(outcome="died").values_list("referral__patient", "outcome_recorded_at")
    for patient, at in died:
        assert not Contact.objects.filter(entry__patient=patient, at__gt=at, attended=True).exists()
        assert not Referral.objects.filter(patient=patient, received_at__gt=at).exists()
    # Past emails were delivered then: only today's wait for the worker.

    waiting = OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING)
    assert not waiting.filter(created_at__lt=timezone.now() - timedelta(hours=1)).exists()


def test_every_team_has_several_members_and_recovery_at_home_several_responders(seeded):
    assert all(team.members.count() >= 2 for team in Team.objects.all())
    assert User.objects.filter(role_grants__role=Role.RAH_RESPONDER).count() >= 4
    assert User.objects.filter(role_grants__role=Role.RAH_COORDINATOR).count() >= 2
    practices_with_a_gp = Practice.objects.filter(staff__role_grants__role=Role.REFERRER).distinct()
    assert practices_with_a_gp.count() == Practice.objects.count()


def test_the_demo_rota_has_people_on_shift_now_and_one_gap_ahead(seeded):

    assert rota.on_shift(role=Role.RAH_COORDINATOR).count() == 1
    assert rota.on_shift(role=Role.RAH_RESPONDER).count() >= 3
    now = timezone.now()
    gaps = rota.cover_gaps(since=now, until=now + timedelta(days=7), role=Role.RAH_RESPONDER)
    gap_night = timezone.localdate() + timedelta(days=3)
    assert [(timezone.localtime(start), timezone.localtime(end)) for start, end in gaps] == [
        (
            datetime.combine(gap_night, time(20), tzinfo=ZoneInfo("Europe/London")),
            datetime.combine(gap_night + timedelta(days=1), time(8), tzinfo=ZoneInfo("Europe/London")),
        )
    ]
    assert not rota.cover_gaps(since=now, until=now + timedelta(days=7), role=Role.RAH_COORDINATOR)


def test_the_demo_travel_matrix_covers_every_journey(seeded):
    """Each neighbourhood to each other, within each, and from the base: 6 × 6 + 6."""
    assert TravelTime.objects.count() == 42
    assert not TravelTime.objects.filter(origin=None, destination__code="east", minutes__gt=10).exists()


def _the_work_of(username: str) -> list[str]:
    """What each demo user's first screen must show: their own work, as the page names it."""

    user = User.objects.get(username=username)
    if username.startswith("gp."):
        return [r.reference for r in Referral.objects.filter(referred_by=user).order_by("-received_at")[:5]]
    if username == "rah.coordinator":  # the queue: those waiting for a response (not those in care)
        waiting = Episode.objects.filter(queue_open=True).select_related("referral__patient")
        return [episode.referral.patient.family_name.upper() for episode in waiting]
    if username == "rah.responder":
        return [
            d.episode.referral.patient.family_name.upper() for d in user.dispatches.filter(state="dispatched")
        ]
    if username == "cit.member":
        entries = CaseloadEntry.objects.filter(key_worker=user, closed_at__isnull=True).select_related(
            "patient"
        )
        return [entry.patient.family_name.upper() for entry in entries]
    if username == "mdt.coordinator":
        recent = Meeting.objects.filter(
            starts_at__gt=timezone.now() - timedelta(weeks=8), items__isnull=False
        )
        return [f"{timezone.localtime(m.starts_at):%a %-d %b %Y %H:%M}" for m in recent.distinct()]
    if username == "manager":  # the weeks the 2-hour figure counts someone in
        weeks = two_hour_standard(PeriodForm.default_period())["weeks"]
        return [week["label"] for week in weeks if week["total"]]
    return []


def test_every_roles_first_screen_shows_real_work(seeded_history, client):
    for username in sorted(set(LANDING) - {"admin"}):
        client.force_login(User.objects.get(username=username))
        page = client.get(reverse("home"), follow=True).content.decode()
        work = _the_work_of(username)
        assert len(work) >= (1 if username.startswith("rah.") else 2), f"{username} has work to show"
        missing = [item for item in work if item not in page]
        assert not missing, f"{username}'s first screen does not show {missing}"


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


def test_the_demo_shows_the_partners_at_work(seeded):
    """Every partner screen has something real: inbox, a carer's outcome, the figures."""
    from partners import figures
    from partners.models import Wellbeing

    partner_staff = User.objects.filter(role_grants__role=Role.PARTNER_STAFF)
    assert {user.username for user in partner_staff} == {"carers.centre", "age.uk", "link.worker"}
    for user in partner_staff:
        assert Referral.objects.filter(service__partner_staff=user).exists(), user
    carers_centre = Referral.objects.filter(service__code="carers-centre")
    assert set(carers_centre.values_list("status", flat=True)) == {Status.RECEIVED, Status.CLOSED}
    assert all(referral.patient.cares_for.exists() for referral in carers_centre)
    pairs = Wellbeing.objects.filter(when="after").count()
    assert pairs >= 4 and Wellbeing.objects.filter(when="before").count() > pairs
    table = figures.partner_figures()
    assert sum(row.paired for row in table.rows) == pairs
