from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils.html import escape

from core.email_delivery import send_unsent_emails
from referrals import services
from referrals.models import Referral, ReferralEvent, Status
from tests.factories import ReferralFactory, UserFactory

# 14:05 in London in summer time is 13:05 UTC.
SUMMER_AFTERNOON = dt.datetime(2026, 7, 14, 13, 5, tzinfo=dt.UTC)


def _kinds(referral):
    return list(referral.events.order_by("at", "id").values_list("kind", flat=True))


def test_a_referral_goes_from_received_to_closed(world):
    member = world.users["cit_member_a"]
    referral = world.referral_a
    services.accept_referral(referral=referral, user=member)
    services.start_referral(referral=referral, user=member)
    services.close_referral(referral=referral, user=member, outcome="Care plan agreed; discharged to GP")
    referral.refresh_from_db()
    assert referral.status == Status.CLOSED
    assert referral.outcome == "Care plan agreed; discharged to GP"
    assert _kinds(referral) == ["submitted", "accepted", "started", "closed"]


@pytest.mark.parametrize(
    ("prepare", "act", "message"),
    [
        ([], lambda r, u: services.start_referral(referral=r, user=u), "received cannot be started"),
        (
            [],
            lambda r, u: services.close_referral(referral=r, user=u, outcome="x"),
            "received cannot be closed",
        ),
        (
            ["decline"],
            lambda r, u: services.accept_referral(referral=r, user=u),
            "declined cannot be accepted",
        ),
        (
            ["accept", "start"],
            lambda r, u: services.decline_referral(referral=r, user=u, reason="x"),
            "in progress cannot be declined",
        ),
        ([], lambda r, u: services.decline_referral(referral=r, user=u, reason="  "), "Say why"),
        (
            ["accept"],
            lambda r, u: services.close_referral(referral=r, user=u, outcome=""),
            "Record the outcome",
        ),
    ],
)
def test_a_transition_that_is_not_allowed_is_refused_with_a_message(world, prepare, act, message):
    member, referral = world.users["cit_member_a"], world.referral_a
    for step in prepare:
        if step == "decline":
            services.decline_referral(referral=referral, user=member, reason="Not frail enough for CIT")
        else:
            getattr(services, f"{step}_referral")(referral=referral, user=member)
    before = (Referral.objects.get(pk=referral.pk).status, ReferralEvent.objects.count())
    with pytest.raises(services.TransitionRefused, match=message):
        act(referral, member)
    assert (Referral.objects.get(pk=referral.pk).status, ReferralEvent.objects.count()) == before


def test_a_second_accept_is_told_who_accepted_it_and_when(world):
    first = world.users["cit_member_a"]
    second = UserFactory(roles=["cit_member"], teams=[world.team_a])
    with time_machine.travel(SUMMER_AFTERNOON, tick=False):
        services.accept_referral(referral=world.referral_a, user=first)
        with pytest.raises(services.TransitionRefused) as refused:
            services.accept_referral(referral=world.referral_a, user=second)
    assert str(refused.value) == f"This referral was already accepted by {first} at 14:05."


@pytest.mark.django_db(transaction=True)
def test_two_coordinators_accepting_at_once_exactly_one_wins(django_db_blocker):
    referral = ReferralFactory()
    coordinators = UserFactory.create_batch(2, roles=["rah_coordinator"])
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def accept(user):
        try:
            start.wait()
            services.accept_referral(referral=Referral.objects.get(pk=referral.pk), user=user)
            outcomes[user.username] = "accepted"
        except services.TransitionRefused as refused:
            outcomes[user.username] = str(refused)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(user,)) for user in coordinators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    results = list(outcomes.values())
    assert len(results) == 2 and results.count("accepted") == 1
    (refusal,) = [result for result in results if result != "accepted"]
    assert refusal.startswith("This referral was already accepted by")
    assert ReferralEvent.objects.filter(referral=referral, kind=ReferralEvent.Kind.ACCEPTED).count() == 1
    winner = next(user for user in coordinators if outcomes[user.username] == "accepted")
    assert Referral.objects.get(pk=referral.pk).status_changed_by == winner


def test_the_losing_coordinator_sees_what_happened_on_the_page(world, client_for):
    referral = world.referral_b
    services.accept_referral(referral=referral, user=world.users["rah_coordinator"])
    late = UserFactory(roles=["rah_coordinator"], first_name="Lara", last_name="Late")
    response = client_for(late).post(
        reverse("referrals:act", args=[referral.reference, "accept"]), follow=True
    )
    assert escape(f"already accepted by {world.users['rah_coordinator']}") in response.content.decode()


def test_redirecting_opens_a_linked_referral_to_the_other_service_keeping_the_history(world):
    coordinator = world.users["rah_coordinator"]
    new = services.redirect_referral(
        referral=world.referral_b, user=coordinator, service=world.cit, note="Not urgent: needs ongoing care"
    )
    old = Referral.objects.get(pk=world.referral_b.pk)
    assert old.status == Status.REDIRECTED
    assert (new.service, new.team, new.redirected_from) == (world.cit, world.team_b, old)
    assert new.status == Status.RECEIVED and new.patient == old.patient
    assert _kinds(old) == ["submitted", "redirected"]
    assert _kinds(new) == ["redirected_in"]
    assert old.reference in new.events.get().note


def test_the_receiving_team_opening_a_new_referral_goes_on_the_timeline_once(world, client_for):
    client = client_for(world.users["cit_member_a"])
    client.get(world.referral_a.get_absolute_url())
    client.get(world.referral_a.get_absolute_url())
    client_for(world.users["gp_a"]).get(world.referral_a.get_absolute_url())  # not the receiving side
    assert _kinds(world.referral_a) == ["submitted", "viewed"]


def test_only_the_receiving_side_may_move_a_referral(world, client_for):
    response = client_for(world.users["gp_a"]).post(
        reverse("referrals:act", args=[world.referral_a.reference, "accept"])
    )
    assert response.status_code == 403
    assert Referral.objects.get(pk=world.referral_a.pk).status == Status.RECEIVED


@pytest.mark.parametrize(
    ("action", "fields", "subject"),
    [
        ("accept", {"key_worker": "cit_member_a"}, "accepted by"),
        ("decline", {"reason": "Already under the district nurses"}, "declined by"),
        ("redirect", {"service": "rah", "note": "Needs a 2-hour response"}, "redirected by"),
    ],
)
def test_the_referrer_is_emailed_when_the_referral_is_accepted_declined_or_redirected(
    world, client_for, django_capture_on_commit_callbacks, settings, action, fields, subject
):
    settings.PORTAL_URL = "http://portal.test"
    if fields.get("service") == "rah":
        fields = {**fields, "service": world.rah.pk}
    url = reverse("referrals:act", args=[world.referral_a.reference, action])
    if action == "accept":  # a team's referral is accepted onto its caseload, with a key worker
        fields = {"key_worker": world.users["cit_member_a"].pk}
        url = reverse("teams:accept", args=[world.referral_a.reference])
    client = client_for(world.users["cit_member_a"])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(url, fields)
    assert len(queued) == 1  # the worker is asked to send once the change has committed

    assert send_unsent_emails() == {"sent": 1}
    (email,) = mail.outbox
    assert email.to == [world.users["gp_a"].email]
    assert email.subject == f"Referral {world.referral_a.reference} {subject} {world.team_a}"
    assert f"http://portal.test/referrals/{world.referral_a.reference}/" in email.body
    # The reference and a link: nothing of the person, nor the reason given.
    patient = world.patient_a
    for private in (patient.family_name, patient.nhs_number, "district nurses", "2-hour response"):
        assert private not in email.body and private not in email.subject
    assert send_unsent_emails() == {}  # sent once, never again
