"""Social prescribing as the information standard records it: coded needs, support and
outcomes, the four wellbeing questions before and after, and the figures by
neighbourhood checked against a table written by hand."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils.html import escape

from core.models import Role
from partners import figures, services
from partners.models import Term, Wellbeing
from referrals.services import act_on_referral
from tests.factories import PatientFactory, ReferralFactory, SocialPrescribingFactory, UserFactory

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock


@pytest.fixture
def prescribing(world):
    service = SocialPrescribingFactory()
    worker = UserFactory(roles=[Role.PARTNER_STAFF], partner_services=[service])
    return service, worker


def _accepted(world, service, worker, patient, **extra):
    referral = ReferralFactory(patient=patient, service=service, reason="social_prescribing", **extra)
    act_on_referral(referral=referral, user=worker, action="accept")
    return referral


def _asked(referral, worker, when, scores):
    return services.record_wellbeing(
        referral=referral,
        user=worker,
        when=when,
        **dict(zip(("satisfied", "worthwhile", "happy", "anxious"), scores, strict=True)),
    )


def _need(label):
    return Term.objects.get(list=Term.List.NEED, label=label)


def test_the_figures_by_neighbourhood_match_a_table_written_by_hand(world, prescribing):
    service, worker = prescribing
    a1 = _accepted(world, service, worker, world.patient_a)
    a2 = _accepted(world, service, worker, PatientFactory(practice=world.practice_a))
    _asked(a1, worker, "before", (5, 5, 5, 7))
    _asked(a1, worker, "after", (7, 6, 8, 4))
    _asked(a2, worker, "before", (3, 4, 3, 8))
    _asked(a2, worker, "after", (5, 4, 6, 6))
    a3 = _accepted(world, service, worker, PatientFactory(practice=world.practice_a))
    _asked(a3, worker, "before", (6, 6, 6, 6))
    _asked(a3, worker, "after", (8, 8, 6, 6))
    services.record_support(
        referral=a1,
        user=worker,
        needs=[_need("Loneliness or isolation"), _need("Housing")],
        support=[],
        offered="Lunch club",
    )
    services.record_support(
        referral=a2,
        user=worker,
        needs=[_need("Loneliness or isolation")],
        support=[],
        offered="Walking group",
    )
    # Practice B: one declined, and one asked only at the start (not counted in the change).
    declined = ReferralFactory(patient=world.patient_b, service=service, reason="social_prescribing")
    act_on_referral(referral=declined, user=worker, action="decline", reason="Moved away")
    b2 = _accepted(world, service, worker, PatientFactory(practice=world.practice_b))
    _asked(b2, worker, "before", (2, 2, 2, 9))
    b3 = _accepted(world, service, worker, PatientFactory(practice=world.practice_b))
    _asked(b3, worker, "before", (2, 2, 2, 9))  # one pair: too few to show
    _asked(b3, worker, "after", (9, 9, 9, 0))
    # A carer with no practice on record, to the Carers Centre; and one from over a year ago.
    ReferralFactory(
        patient=PatientFactory(practice=None), service=world.carers_centre, reason="carers_assessment"
    )
    ReferralFactory(
        patient=world.patient_a,
        service=service,
        reason="social_prescribing",
        received_at=NOW - dt.timedelta(days=400),
    )

    table = figures.partner_figures()
    a, b = world.practice_a.neighbourhood.name, world.practice_b.neighbourhood.name
    assert table.services == sorted(["Social prescribing", "Sunderland Carers Centre"])
    got = {
        row.neighbourhood: (
            row.counts,
            row.referred,
            row.accepted,
            row.declined,
            row.closed,
            row.paired,
            row.change,
        )
        for row in table.rows
    }
    assert got == {
        a: ([3, 0], 3, 3, 0, 0, 3, {"satisfied": 2.0, "worthwhile": 1.0, "happy": 2.0, "anxious": -1.7}),
        b: ([3, 0], 3, 2, 1, 0, 1, {}),  # one person asked twice: their change is not shown
        "Not known": ([0, 1], 1, 0, 0, 0, 0, {}),
    }
    assert [row.neighbourhood for row in table.rows][-1] == "Not known"
    (row_a,) = [row for row in table.rows if row.neighbourhood == a]
    assert row_a.needs == [("Loneliness or isolation", 2), ("Housing", 1)]


def test_wellbeing_answers_are_0_to_10_and_asked_again_the_newer_stands(world, prescribing, client_for):
    service, worker = prescribing
    referral = _accepted(world, service, worker, world.patient_a)
    client = client_for(worker)
    url = reverse("partners:act", args=[referral.reference, "wellbeing"])
    bad = client.post(
        url, {"when": "before", "satisfied": "11", "worthwhile": "٣", "happy": "", "anxious": "4"}
    )
    assert bad.status_code == 400
    errors = bad.context["wellbeing_form"].errors
    assert errors["satisfied"] == ["A whole number from 0 to 10."]
    assert errors["happy"] == ["Give the answer, 0 to 10."]
    assert "worthwhile" not in errors  # another script's 3 is read as the 3 it is
    assert bad.context["wellbeing_form"]["anxious"].value() == "4"
    assert not Wellbeing.objects.exists()
    client.post(url, {"when": "before", "satisfied": "4", "worthwhile": "4", "happy": "4", "anxious": "4"})
    client.post(url, {"when": "before", "satisfied": "6", "worthwhile": "6", "happy": "6", "anxious": "3"})
    (answer,) = Wellbeing.objects.all()
    assert (answer.satisfied, answer.anxious) == (6, 3)


def test_the_figures_page_names_nobody(world, prescribing, client_for):
    service, worker = prescribing
    people = [world.patient_a, *(PatientFactory(practice=world.practice_a) for _ in range(2))]
    referrals = [_accepted(world, service, worker, person) for person in people]
    for referral in referrals:
        _asked(referral, worker, "before", (5, 5, 5, 5))
        _asked(referral, worker, "after", (6, 6, 6, 4))
    page = client_for(world.users["service_manager"]).get(reverse("partners:figures")).content.decode()
    assert "+1.0" in page and "-1.0" in page
    assert escape(world.patient_a.family_name) not in page and referrals[0].reference not in page
