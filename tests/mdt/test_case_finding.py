"""Finding people before the crisis: a practice's case-finding list, checked against a
table written by hand from the thresholds (not from the code's output)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from core.models import Role
from mdt.case_finding import case_finding
from mdt.models import AgendaItem, CaseFindingSettings, Meeting
from recovery_at_home import services as rah
from recovery_at_home.models import Outcome
from teams.models import CarePlanReview
from tests.factories import (
    PatientFactory,
    PracticeFactory,
    ReferralFactory,
    TeamFactory,
    UserFactory,
    meeting_with_agenda,
    on_caseload,
)

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=LONDON)


def _ago(**delta) -> dt.datetime:
    return NOW - dt.timedelta(**delta)


@pytest.fixture
def practice(world):
    """Practice A's people, each written for one line of the expectation below."""
    coordinator = world.users["mdt_coordinator_a"]
    practice = world.practice_a

    def person(family_name, **fields):
        return PatientFactory(practice=practice, family_name=family_name, given_name="Test", **fields)

    def rah_referral(patient, at, *, hospital=False):
        with time_machine.travel(at, tick=False):
            referral = ReferralFactory(patient=patient, service=world.rah)
            if hospital:
                rah.record_arrival(referral=referral, user=world.users["rah_responder"])
                rah.record_outcome(
                    referral=referral, user=world.users["rah_responder"], outcome=Outcome.HOSPITAL
                )

    people = {}
    people["ashworth"] = person("Ashworth")  # two urgent responses this year
    rah_referral(people["ashworth"], _ago(days=200))
    rah_referral(people["ashworth"], _ago(days=20))
    people["barker"] = person("Barker")  # one response 13 months ago, one this year that ended in hospital
    rah_referral(people["barker"], _ago(days=400))
    rah_referral(people["barker"], dt.datetime(2026, 3, 2, 15, 0, tzinfo=LONDON), hospital=True)
    people["carr"] = person("Carr")  # on two teams' caseloads at once
    second_team = TeamFactory(name="Sunderland West")
    west_member = UserFactory(roles=[Role.CIT_MEMBER], teams=[second_team])
    on_caseload(team=world.team_a, key_worker=world.users["cit_member_a"], patient=people["carr"])
    on_caseload(team=second_team, key_worker=west_member, patient=people["carr"])
    people["dodds"] = person("Dodds", care_home="Fulwell Grange")  # never discussed nor reviewed
    people["elliott"] = person("Elliott", care_home="Fulwell Grange")  # reviewed two months ago
    entry = on_caseload(team=world.team_a, key_worker=world.users["cit_member_a"], patient=people["elliott"])
    CarePlanReview.objects.create(
        entry=entry, reviewed_on=dt.date(2026, 9, 20), reviewed_by=world.users["cit_member_a"]
    )
    people["foster"] = person("Foster", care_home="Hylton Lodge")  # discussed at an MDT 8 months ago
    meeting, (item,) = meeting_with_agenda(
        practice=practice, coordinator=coordinator, patients=[people["foster"]], starts_at=_ago(days=245)
    )
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.CLOSED)
    AgendaItem.objects.filter(pk=item.pk).update(discussion="Settled; review in the spring.")
    people["gray"] = person("Gray")  # one urgent response: below the threshold
    rah_referral(people["gray"], _ago(days=30))
    elsewhere = PatientFactory(practice=PracticeFactory(neighbourhood=world.team_b.neighbourhood))
    for days in (10, 20, 30):
        rah_referral(elsewhere, _ago(days=days))  # another practice's: never on this list
    return people


EXPECTED = [
    ("Ashworth", ["2 Recovery at Home referrals in 12 months (latest 4 Nov 2026)"]),
    ("Barker", ["1 admission in 12 months (hospital 2 Mar 2026)"]),
    ("Carr", ["On 2 teams' caseloads ({team_a}, Sunderland West)"]),  # team A: "Neighbourhood …"
    ("Dodds", ["Lives in Fulwell Grange; not discussed at an MDT or reviewed by a team"]),
    ("Foster", ["Lives in Hylton Lodge; last discussed or reviewed 24 Mar 2026"]),  # 245 days back
]


def _expected(world):
    return [
        (name, [reason.format(team_a=world.team_a.name) for reason in reasons]) for name, reasons in EXPECTED
    ]


def test_the_practice_list_matches_the_hand_written_expectation(world, practice):
    with time_machine.travel(NOW, tick=False):
        found = case_finding(practice=world.practice_a)
    assert [(c.patient.family_name, c.reasons) for c in found] == _expected(world)


def test_the_thresholds_are_the_administrators(world, practice):
    CaseFindingSettings.objects.create(rah_referrals=1, care_home_review_months=12)
    with time_machine.travel(NOW, tick=False):
        names = [c.patient.family_name for c in case_finding(practice=world.practice_a)]
    # One response is now enough (Gray, and Barker's); Foster was discussed within 12 months.
    assert names == ["Ashworth", "Barker", "Carr", "Dodds", "Gray"]


def test_the_coordinator_adds_a_person_to_the_next_agenda_in_one_click(world, practice, client_for):
    coordinator = world.users["mdt_coordinator_a"]
    with time_machine.travel(NOW, tick=False):
        upcoming, _ = meeting_with_agenda(
            practice=world.practice_a, coordinator=coordinator, starts_at=NOW + dt.timedelta(days=6)
        )
        client = client_for(coordinator)
        page = client.get(reverse("mdt:case_finding"))
        assert page.status_code == 200
        assert b"Lives in Fulwell Grange" in page.content
        dodds = practice["dodds"]
        client.post(
            reverse("mdt:add_item", args=[upcoming.pk]),
            {"patient": dodds.pk, "reason": page.context["candidates"][3].reason_summary},
        )
        item = upcoming.items.get(patient=dodds)
        assert item.reason == "Lives in Fulwell Grange; not discussed at an MDT or reviewed by a team"
        again = client.get(reverse("mdt:case_finding"))
        assert again.content.count(b"On the agenda") == 1


def test_the_list_costs_the_same_queries_whatever_the_practice_size(
    world, practice, client_for, django_assert_max_num_queries
):
    client = client_for(world.users["mdt_coordinator_a"])
    with time_machine.travel(NOW, tick=False):
        client.get(reverse("mdt:case_finding"))
        with django_assert_max_num_queries(25) as before:
            client.get(reverse("mdt:case_finding"))
        for n in range(5):
            PatientFactory(practice=world.practice_a, care_home=f"Home {n}")  # five more on the list
        with django_assert_max_num_queries(len(before.captured_queries)):
            client.get(reverse("mdt:case_finding"))
