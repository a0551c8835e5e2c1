"""A system that sent a referral as a BaRS message hears back at each status change: a
servicerequest-response posted to its endpoint, in order, at least once, through a
receiver that fails, times out and recovers (a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from closed_loop import response_delivery
from closed_loop.models import SendingSystem, SystemResponse
from core.models import Role
from recovery_at_home import services as rah
from recovery_at_home.models import Outcome, TriageCategory
from referrals import services
from referrals.models import Referral
from tests.closed_loop.receivers import SendingSystemReceiver
from tests.factories import UserFactory
from tests.referrals.test_fhir import _message
from tests.referrals.test_withdraw_and_correct import bars_message

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/London"))
MESSAGE_ID = "3f7b2a52-0b3c-4d0e-9c55-111111111111"


@pytest.fixture
def nhs_111(world):
    return UserFactory(username="nhs111", first_name="NHS 111", last_name="North East", roles=[Role.REFERRER])


def _register(account, receiver) -> SendingSystem:
    return SendingSystem.objects.create(
        name="NHS 111 North East",
        account=account,
        endpoint_url=f"{receiver.url}/bars",
        outbound_token="s3cret",
    )


def _post(account, message):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=account)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client.post("/fhir/$process-message", message, format="json")


def _send_referral(account) -> Referral:
    response = _post(account, _message(MESSAGE_ID))
    assert response.status_code == 201
    return Referral.objects.get(reference=response.json()["id"])


def _through_to_the_outcome(world, referral, clock):
    coordinator, responder = world.users["rah_coordinator"], world.users["rah_responder"]
    rah.triage_referral(
        referral=referral, category=TriageCategory.objects.get(code="urgent"), user=coordinator
    )
    dispatch = rah.dispatch_responder(referral=referral, responder=responder, user=coordinator)
    clock.shift(dt.timedelta(minutes=40))
    rah.record_responder_arrival(dispatch=dispatch, user=responder)
    rah.record_outcome(referral=referral, user=responder, outcome=Outcome.HOSPITAL)


def _sweep_until_delivered(clock, *, sweeps=30):
    """The minute sweep, run as time passes, until nothing is owed."""
    for _ in range(sweeps):
        response_delivery.send_due_responses()
        if not SystemResponse.objects.filter(delivered_at=None).exists():
            return
        clock.shift(dt.timedelta(minutes=10))
    raise AssertionError("responses still owed")


def _statuses(messages):
    return [
        (
            m["bundle"]["entry"][1]["resource"]["status"],
            m["bundle"]["entry"][1]["resource"]["note"][-1]["text"],
        )
        for m in messages
    ]


def test_every_response_arrives_in_order_through_failures_and_timeouts(world, nhs_111, settings):
    settings.SYSTEM_RESPONSE_TIMEOUT_SECONDS = 0.5
    # The first post fails, the next is taken in but answered too late, then a failure again.
    with SendingSystemReceiver(script=["fail", "slow", "ok", "fail"], slow_seconds=1.0) as receiver:
        _register(nhs_111, receiver)
        with time_machine.travel(NOW, tick=True) as clock:
            referral = _send_referral(nhs_111)
            _through_to_the_outcome(world, referral, clock)
            owed = list(SystemResponse.objects.filter(referral=referral).order_by("sequence"))
            assert [r.sequence for r in owed] == [1, 2, 3, 4]

            assert response_delivery.send_due_responses() == {"failed": 1}
            assert receiver.received == []  # the first failed; the second waits for it
            assert response_delivery.send_due_responses() == {}  # backing off: not due yet
            _sweep_until_delivered(clock)

        kept = receiver.kept()
        assert [m["key"] for m in kept] == [str(r.key) for r in owed]  # each once, in order
        assert _statuses(kept) == [
            ("active", "Submitted"),
            ("active", "Accepted"),
            ("active", "Work started"),  # the first face-to-face contact
            ("completed", "Closed: Admitted to hospital"),
        ]
        # The late answer made the sender try again: a repeat, with the same key, dropped.
        assert len(receiver.received) == len(kept) + 1
        assert {m["auth"] for m in receiver.received} == {"Bearer s3cret"}
        header = kept[0]["bundle"]["entry"][0]["resource"]
        assert header["eventCoding"]["code"] == "servicerequest-response"
        assert header["response"] == {"identifier": MESSAGE_ID, "code": "ok"}
        assert kept[0]["bundle"]["id"] == header["id"] == kept[0]["key"]


def test_a_response_that_keeps_failing_is_retried_with_back_off_and_shown(world, nhs_111, client_for):
    with SendingSystemReceiver(then="fail") as receiver:
        _register(nhs_111, receiver)
        with time_machine.travel(NOW, tick=False) as clock:
            referral = _send_referral(nhs_111)
            waits = []
            for _ in range(6):
                response_delivery.send_due_responses()
                due_at = SystemResponse.objects.get(referral=referral).next_attempt_at
                waits.append(round((due_at - dt.datetime.now(dt.UTC)).total_seconds()))
                clock.move_to(due_at)
        assert waits == [30, 60, 120, 240, 480, 960]
        response = SystemResponse.objects.get(referral=referral)
        assert response.delivered_at is None and "503" in response.last_error
        assert list(response_delivery.failing()) == [response]
        listed = client_for(world.users["administrator"]).get(
            reverse("admin:closed_loop_systemresponse_changelist") + "?delivery=failing"
        )
        assert referral.reference.encode() in listed.content and b"503" in listed.content
        # The receiver recovers: the next sweep delivers it, and it is no longer failing.
        receiver.then = "ok"
        with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
            assert response_delivery.send_due_responses() == {"delivered": 1}
        assert list(response_delivery.failing()) == []


def test_a_worker_that_dies_mid_post_leaves_the_response_to_be_sent_again(world, nhs_111):
    with SendingSystemReceiver() as receiver:
        _register(nhs_111, receiver)
        with time_machine.travel(NOW, tick=False) as clock:
            referral = _send_referral(nhs_111)
            response = SystemResponse.objects.get(referral=referral)
            # Claimed (as a worker does before posting), then the worker is gone.
            assert response_delivery._claim(response.pk, now=dt.datetime.now(dt.UTC))
            assert response_delivery.send_due_responses() == {}  # held by its claim
            clock.shift(response_delivery.CLAIM_TIMEOUT + dt.timedelta(seconds=1))
            assert response_delivery.send_due_responses() == {"delivered": 1}
        assert len(receiver.kept()) == 1


def test_a_referral_from_a_browser_or_an_unregistered_system_owes_no_response(world, nhs_111):
    services.accept_referral(referral=world.referral_b, user=world.users["rah_coordinator"])
    _send_referral(nhs_111)  # not registered
    assert SystemResponse.objects.count() == 0


def test_cancel_and_update_messages_are_answered_too(world, nhs_111):
    with SendingSystemReceiver() as receiver:
        _register(nhs_111, receiver)
        with time_machine.travel(NOW, tick=False):
            referral = _send_referral(nhs_111)
            update = bars_message(message_id="m-update", reference=referral.reference, note="Now confused")
            assert _post(nhs_111, update).status_code == 200
            cancel = bars_message(
                message_id="m-cancel", reference=referral.reference, status="revoked", note="Went to A&E"
            )
            assert _post(nhs_111, cancel).status_code == 200
            response_delivery.send_due_responses()
        kept = receiver.kept()
        assert _statuses(kept) == [
            ("active", "Submitted"),
            ("active", "Corrected by the referrer: Changed: clinical summary. Version 1 kept."),
            ("revoked", "Withdrawn by the referrer: Went to A&E"),
        ]
        # Each answers the message that asked for it.
        answered = [m["bundle"]["entry"][0]["resource"]["response"]["identifier"] for m in kept]
        assert answered == [MESSAGE_ID, "m-update", "m-cancel"]


def test_the_response_carries_the_person_as_sent_never_the_record(world, nhs_111):
    with SendingSystemReceiver() as receiver:
        _register(nhs_111, receiver)
        with time_machine.travel(NOW, tick=False):
            _send_referral(nhs_111)
            response_delivery.send_due_responses()
        (message,) = receiver.kept()
        subject = message["bundle"]["entry"][1]["resource"]["subject"]
        assert subject == {"display": "Margaret Ridley"}  # what the sender sent, not a record link


def test_a_redirected_referral_answers_in_one_order_with_the_one_it_replaced(world, nhs_111):
    with SendingSystemReceiver() as receiver:
        _register(nhs_111, receiver)
        with time_machine.travel(NOW, tick=False):
            referral = _send_referral(nhs_111)
            redirected = services.redirect_referral(
                referral=referral, user=world.users["rah_coordinator"], service=world.cit, team=world.team_a
            )
            owed = SystemResponse.objects.order_by("sequence")
            assert [(r.referral_id, r.sequence) for r in owed] == [
                (referral.pk, 1),
                (referral.pk, 2),
                (redirected.pk, 3),
            ]
            # The redirected one's response waits for the redirect's, whichever is tried first.
            SystemResponse.objects.filter(sequence=2).update(next_attempt_at=NOW + dt.timedelta(hours=1))
            response_delivery.send_due_responses()
            assert len(receiver.kept()) == 1
        with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):
            response_delivery.send_due_responses()
        assert [m["bundle"]["entry"][1]["resource"]["id"] for m in receiver.kept()] == [
            referral.reference,
            referral.reference,
            redirected.reference,
        ]
        # A cancel naming the redirected referral (the reference our response gave) finds it.
        cancel = bars_message(
            message_id="m-c", reference=redirected.reference, status="revoked", note="Not needed"
        )
        assert _post(nhs_111, cancel).status_code == 200
        redirected.refresh_from_db()
        assert redirected.status == "withdrawn"


def test_an_endpoint_that_does_not_answer_holds_up_no_other_system(world, nhs_111, settings):
    settings.SYSTEM_RESPONSE_TIMEOUT_SECONDS = 0.3
    ambulance = UserFactory(username="nemas", roles=[Role.REFERRER])
    with (
        SendingSystemReceiver(then="slow", slow_seconds=0.6) as dead,
        SendingSystemReceiver() as alive,
    ):
        _register(nhs_111, dead)
        SendingSystem.objects.create(name="NEAS", account=ambulance, endpoint_url=f"{alive.url}/bars")
        with time_machine.travel(NOW, tick=False):
            for number in range(3):
                _post(nhs_111, _message(f"111-{number}"))
                _post(ambulance, _message(f"neas-{number}"))
            results = response_delivery.send_due_responses()
        assert results == {"failed": 1, "delivered": 3}  # one try at the dead one, then on
        assert len(alive.kept()) == 3
