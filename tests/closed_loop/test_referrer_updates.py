"""Every status change reaches the referrer: in the portal always, by email as they chose,
the email carrying the reference and a link, never the person."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils.html import escape

from closed_loop import referrer_updates
from closed_loop.models import ReferrerUpdate, UpdateKind
from core.email_delivery import send_unsent_emails
from core.models import AuditAction, AuditEvent
from recovery_at_home import care
from recovery_at_home import services as rah
from recovery_at_home.models import CareDischarge, Outcome, TriageCategory
from referrals import services
from teams import services as teams
from teams.models import Contact, DischargeReason
from tests.factories import ReferralFactory

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock


def _updates(user):
    return list(ReferrerUpdate.objects.filter(user=user).order_by("at", "id").values_list("kind", flat=True))


def _emails(referral):
    send_unsent_emails()
    return [m.subject for m in mail.outbox if referral.reference in m.subject]


def test_a_team_referral_from_acceptance_to_discharge(world, frozen_clock):
    gp, member, referral = world.users["gp_a"], world.users["cit_member_a"], world.referral_a
    entry = teams.accept_onto_caseload(referral=referral, key_worker=member, user=member)
    frozen_clock.shift(dt.timedelta(days=2))
    teams.record_contact(
        entry=entry,
        user=member,
        staff=member,
        kind=Contact.Kind.VISIT,
        at=NOW + dt.timedelta(days=1),
        duration_minutes=45,
    )
    frozen_clock.shift(dt.timedelta(days=20))
    teams.discharge_from_caseload(entry=entry, user=member, reason=DischargeReason.GOALS_MET)
    assert _updates(gp) == [UpdateKind.ACCEPTED, UpdateKind.FIRST_CONTACT, UpdateKind.CLOSED]
    team = world.team_a
    # Emailed by default when it is decided and when it ends; the first contact in-app only.
    assert _emails(referral) == [
        f"Referral {referral.reference} accepted by {team}",
        f"Referral {referral.reference} closed by {team}",
    ]


def test_a_recovery_at_home_referral_reaches_the_referrer_at_each_step(world, frozen_clock):
    gp, coordinator, responder = (
        world.users["gp_b"],
        world.users["rah_coordinator"],
        world.users["rah_responder"],
    )
    referral = world.referral_b
    rah.triage_referral(
        referral=referral, category=TriageCategory.objects.get(code="urgent"), user=coordinator
    )
    dispatch = rah.dispatch_responder(referral=referral, responder=responder, user=coordinator)
    frozen_clock.shift(dt.timedelta(minutes=50))
    rah.record_responder_arrival(dispatch=dispatch, user=responder)
    rah.record_outcome(referral=referral, user=responder, outcome=Outcome.HOSPITAL)
    assert _updates(gp) == [UpdateKind.ACCEPTED, UpdateKind.FIRST_CONTACT, UpdateKind.CLOSED]
    page = referrer_updates.described(referrer_updates.updates_for(user=gp))
    assert [u.said for u in page] == [
        "closed by Recovery at Home",
        "first contact made by Recovery at Home",
        "accepted by Recovery at Home",
    ]
    assert page[0].note == "Admitted to hospital"  # how it ended, in the portal


@pytest.mark.parametrize(
    ("emailed", "expected"),
    [
        (None, ["declined"]),  # the default: a decision is emailed
        (set(), []),  # in-app only
        ({UpdateKind.DECLINED, UpdateKind.RECEIVED}, ["declined"]),
    ],
)
def test_the_referrer_chooses_which_updates_are_emailed(world, emailed, expected):
    gp, referral = world.users["gp_b"], world.referral_b
    if emailed is not None:
        referrer_updates.choose_emails(user=gp, emailed=emailed)
    services.decline_referral(referral=referral, user=world.users["rah_coordinator"], reason="Known to DN")
    assert _updates(gp) == [UpdateKind.DECLINED]  # in the portal whatever was chosen
    assert _emails(referral) == [
        f"Referral {referral.reference} {kind} by Recovery at Home" for kind in expected
    ]


def test_a_redirect_tells_the_referrer_where_it_went_and_that_it_arrived(world):
    gp = world.users["gp_a"]
    services.redirect_referral(
        referral=world.referral_a, user=world.users["cit_member_a"], service=world.rah, note="Needs today"
    )
    assert _updates(gp) == [UpdateKind.REDIRECTED, UpdateKind.RECEIVED]
    redirected, received = referrer_updates.described(
        referrer_updates.updates_for(user=gp).order_by("at", "id")
    )
    assert redirected.note == "To Recovery at Home. Needs today"
    assert received.said == "received by Recovery at Home"


def test_what_the_referrer_does_is_not_reported_back_to_them(world):
    gp = world.users["gp_b"]
    services.correct_referral(referral=world.referral_b, user=gp, key_safe=True)
    services.withdraw_referral(referral=world.referral_b, user=gp, reason="Admitted overnight")
    assert _updates(gp) == []
    assert _emails(world.referral_b) == []


def test_the_email_says_nothing_of_the_person(world, settings):
    settings.PORTAL_URL = "https://atb.example.nhs.uk"
    services.decline_referral(
        referral=world.referral_b, user=world.users["rah_coordinator"], reason="Lives out of area"
    )
    send_unsent_emails()
    (email,) = mail.outbox
    patient = world.patient_b
    for private in (patient.given_name, patient.family_name, patient.nhs_number, "out of area", "falls"):
        assert private not in email.body and private not in email.subject
    assert f"https://atb.example.nhs.uk/referrals/{world.referral_b.reference}/" in email.body


def test_the_list_marks_new_updates_and_reading_it_clears_the_count(world, client_for):
    gp = world.users["gp_b"]
    services.accept_referral(referral=world.referral_b, user=world.users["rah_coordinator"])
    client = client_for(gp)
    home = client.get(reverse("referrals:home"))
    assert b'Updates <span class="badge' in home.content and b"1<span" in home.content
    page = client.get(reverse("closed_loop:updates"))
    assert page.content.count(b">New<") == 1
    assert b"Accepted by Recovery at Home" in page.content
    assert referrer_updates.unread_count(user=gp) == 0
    again = client.get(reverse("closed_loop:updates"))
    assert again.content.count(b">New<") == 0
    # One that arrives while the list is open is not marked read by it.
    shown = referrer_updates.described(referrer_updates.updates_for(user=gp))
    rah.record_arrival(referral=world.referral_b, user=world.users["rah_responder"])
    assert referrer_updates.mark_read(user=gp, shown=shown) == 0
    assert referrer_updates.unread_count(user=gp) == 1
    # It appears in the polled rows, marked new, without reloading the page.
    rows = client.get(reverse("closed_loop:updates_rows"))
    assert rows.content.count(b">New<") == 1 and b"First contact made" in rows.content


def test_an_update_for_a_person_sent_shows_them_as_sent_and_is_audited(world, client_for):
    services.accept_referral(referral=world.referral_b, user=world.users["rah_coordinator"])
    page = client_for(world.users["gp_b"]).get(reverse("closed_loop:updates"))
    assert escape(world.patient_b.family_name).encode() in page.content
    assert AuditEvent.objects.filter(
        action=AuditAction.LIST, patient=world.patient_b, detail="referral updates"
    ).exists()


def test_the_settings_page_keeps_the_choice(world, client_for):
    gp = world.users["gp_b"]
    client = client_for(gp)
    assert client.get(reverse("closed_loop:update_settings")).status_code == 200
    client.post(reverse("closed_loop:update_settings"), {"emailed": ["withdrawn", "closed"]})
    assert referrer_updates.emailed_kinds(user=gp) == {"withdrawn", "closed"}
    bad = client.post(reverse("closed_loop:update_settings"), {"emailed": ["nonsense"]})
    assert bad.status_code == 400 and b"nonsense" in bad.content


def test_the_list_costs_the_same_queries_whatever_its_length(
    world, client_for, django_assert_max_num_queries
):
    gp = world.users["gp_b"]
    client = client_for(gp)
    services.accept_referral(referral=world.referral_b, user=world.users["rah_coordinator"])
    client.get(reverse("closed_loop:updates"))
    with django_assert_max_num_queries(14) as few:
        client.get(reverse("closed_loop:updates"))
    for _ in range(8):
        referral = ReferralFactory(
            patient=world.patient_b, service=world.rah, referred_by=gp, referring_practice=world.practice_b
        )
        services.decline_referral(referral=referral, user=world.users["rah_coordinator"], reason="x")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("closed_loop:updates"))


def test_an_outcome_with_care_to_follow_then_the_discharge_each_reach_the_referrer(world, frozen_clock):
    gp, coordinator, responder = (
        world.users["gp_b"],
        world.users["rah_coordinator"],
        world.users["rah_responder"],
    )
    referral = world.referral_b
    rah.record_arrival(referral=referral, user=responder)
    rah.record_outcome(
        referral=referral,
        user=responder,
        outcome=Outcome.REMAINED_AT_HOME,
        planned_end_date=(NOW + dt.timedelta(days=7)).date(),
    )
    frozen_clock.shift(dt.timedelta(days=7))
    care.discharge_from_care(
        referral=referral, user=coordinator, discharged_to=CareDischarge.NO_FURTHER_SERVICE
    )
    assert _updates(gp) == [
        UpdateKind.ACCEPTED,
        UpdateKind.FIRST_CONTACT,
        UpdateKind.OUTCOME,
        UpdateKind.CLOSED,
    ]
    outcome, closed = referrer_updates.described(
        referrer_updates.updates_for(user=gp)
        .filter(kind__in=[UpdateKind.OUTCOME, UpdateKind.CLOSED])
        .order_by("at")
    )
    assert outcome.said == "outcome recorded by Recovery at Home"
    # Counted in days of care, the first and the last included.
    assert closed.note == "Remained at home with short-term care (8 days), then no further service"
    assert _emails(referral) == [
        f"Referral {referral.reference} accepted by Recovery at Home",
        f"Referral {referral.reference} outcome recorded by Recovery at Home",
        f"Referral {referral.reference} closed by Recovery at Home",
    ]
