"""The person or their carer is told that Recovery at Home is on its way, and when a visit
is set or moved: only with consent, never after opting out, never a clinical detail; sent
through GOV.UK Notify's own client to a fake Notify on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from closed_loop import notify_delivery, person_messages
from closed_loop.models import ContactConsent, PersonMessage
from core.models import AuditAction, AuditEvent, Role
from recovery_at_home import care
from recovery_at_home import services as rah
from recovery_at_home.models import Outcome
from tests.closed_loop.receivers import FakeNotify
from tests.factories import UserFactory

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/London"))
TEMPLATES = {
    "on_the_way_sms": str(uuid.UUID(int=1)),
    "on_the_way_email": str(uuid.UUID(int=2)),
    "visit_changed_sms": str(uuid.UUID(int=3)),
    "visit_changed_email": str(uuid.UUID(int=4)),
    "feedback_sms": str(uuid.UUID(int=5)),
    "feedback_email": str(uuid.UUID(int=6)),
}


@pytest.fixture
def notify(settings):
    with FakeNotify() as fake:
        settings.NOTIFY_API_KEY = f"atb_test-{uuid.uuid4()}-{uuid.uuid4()}"
        settings.NOTIFY_BASE_URL = fake.url
        settings.NOTIFY_TEMPLATES = TEMPLATES
        settings.RAH_PHONE = "0191 555 0100"
        yield fake


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock


def _consent(world, **choice):
    patient = world.patient_b
    patient.phone, patient.carer_phone = "07700 900123", "07700 900456"
    patient.save()
    return person_messages.record_consent(patient=patient, user=world.users["rah_coordinator"], **choice)


def _dispatch(world, responder=None):
    coordinator = world.users["rah_coordinator"]
    return rah.dispatch_responder(
        referral=world.referral_b, responder=responder or world.users["rah_responder"], user=coordinator
    )


def test_the_person_is_texted_that_someone_is_on_the_way_and_its_delivery_is_kept(world, notify):
    _consent(world, recipient="person", channel="sms")
    _dispatch(world)
    assert notify_delivery.send_queued() == {"sent": 1, "status delivered": 1}
    (sms,) = notify.sent
    assert sms["channel"] == "sms" and sms["phone_number"].replace(" ", "") in (
        "07700900123",
        "+447700900123",
    )
    assert sms["template_id"] == TEMPLATES["on_the_way_sms"]
    # Urgent: two hours from receipt, as the person reads a time.
    assert sms["personalisation"] == {
        "expected_by": "12:00 today",  # the response due time (urgent: two hours)
        "service": "Recovery at Home",
        "phone": "0191 555 0100",
    }
    message = PersonMessage.objects.get()
    assert (message.status, message.notify_id) == (PersonMessage.Status.DELIVERED, sms["id"])
    assert sms["reference"] == message.key


def test_nothing_clinical_nor_the_persons_name_is_in_any_message(world, notify):
    _consent(world, recipient="carer", channel="email", email="daughter@example.com")
    _dispatch(world)
    notify_delivery.send_queued()
    (email,) = notify.sent
    assert email["email_address"] == "daughter@example.com"
    said = str(email)
    patient, referral = world.patient_b, world.referral_b
    for private in (
        patient.given_name,
        patient.family_name,
        patient.nhs_number,
        referral.clinical_summary,
        "Fall",
    ):
        assert private not in said


def test_the_carer_is_told_when_a_visit_moves_not_of_each_visit_planned(world, notify, frozen_clock):
    _consent(world, recipient="carer", channel="sms")
    responder, coordinator = world.users["rah_responder"], world.users["rah_coordinator"]
    rah.record_arrival(referral=world.referral_b, user=responder)
    rah.record_outcome(
        referral=world.referral_b,
        user=responder,
        outcome=Outcome.REMAINED_AT_HOME,
        planned_end_date=(NOW + dt.timedelta(days=5)).date(),
    )
    tomorrow = NOW + dt.timedelta(days=1)
    visits = [
        care.plan_visit(
            referral=world.referral_b,
            user=coordinator,
            responder=responder,
            window_start=tomorrow + dt.timedelta(days=day),
            window_end=tomorrow + dt.timedelta(days=day, hours=1),
            tasks="Help with washing",
        )
        for day in range(3)
    ]
    assert notify_delivery.send_queued() == {}  # the plan was agreed with them: no texts
    frozen_clock.shift(dt.timedelta(days=1, minutes=30))
    care.record_visit(
        referral=world.referral_b,
        visit=visits[0],
        user=responder,
        outcome=care.VisitOutcome.RESCHEDULED,
        note="Person out at a hospital appointment",
        new_start=tomorrow + dt.timedelta(hours=4),
        new_end=tomorrow + dt.timedelta(hours=5),
    )
    notify_delivery.send_queued()
    (moved,) = notify.sent
    assert moved["personalisation"] == {
        "visit_from": "14:00 today",  # worded when sent: the move was made on the day
        "visit_to": "15:00",
        "service": "Recovery at Home",
        "phone": "0191 555 0100",
    }
    assert moved["template_id"] == TEMPLATES["visit_changed_sms"]
    assert moved["phone_number"].replace(" ", "").endswith("900456")  # the carer's


def test_a_message_no_longer_wanted_when_its_turn_comes_is_not_sent(world, notify, settings):
    _consent(world, recipient="person", channel="sms")
    _dispatch(world)
    rah.record_arrival(referral=world.referral_b, user=world.users["rah_responder"])
    assert notify_delivery.send_queued() == {"cancelled": 1}  # already there: nothing to say
    _dispatch(world, UserFactory(roles=[Role.RAH_RESPONDER]))
    world.referral_b.refresh_from_db()
    other = PersonMessage.objects.create(
        key="later",
        patient=world.patient_b,
        referral=world.referral_b,
        kind="on_the_way",
        channel="sms",
        to="x",
        personalisation={"expected_by": NOW.isoformat()},
    )
    _consent(world, recipient="person", channel="sms", opted_out=True)  # changed their mind
    notify_delivery.send_queued()
    other.refresh_from_db()
    assert other.status == PersonMessage.Status.CANCELLED and notify.sent == []


def test_a_worker_that_dies_while_sending_leaves_the_message_to_go_later(world, notify, frozen_clock):
    _consent(world, recipient="person", channel="sms")
    _dispatch(world)
    message = PersonMessage.objects.get()
    assert notify_delivery._claim(message.pk)  # claimed, then the worker is gone
    assert notify_delivery.send_queued() == {}
    frozen_clock.shift(notify_delivery.CLAIM_TIMEOUT + dt.timedelta(seconds=1))
    assert notify_delivery.send_queued() == {"sent": 1, "status delivered": 1}
    assert len(notify.sent) == 1


@pytest.mark.parametrize("choice", [None, {"recipient": "person", "channel": "sms", "opted_out": True}])
def test_without_consent_or_after_opting_out_nobody_is_messaged(world, notify, choice):
    if choice:
        _consent(world, **choice)
    _dispatch(world)
    notify_delivery.send_queued()
    assert notify.sent == [] and PersonMessage.objects.count() == 0


def test_a_second_responder_does_not_send_a_second_message(world, notify):
    _consent(world, recipient="person", channel="sms")
    _dispatch(world)
    _dispatch(world, UserFactory(roles=[Role.RAH_RESPONDER]))
    notify_delivery.send_queued()
    assert len(notify.sent) == 1


def test_notify_down_keeps_the_message_queued_and_a_refusal_is_shown(world, notify, frozen_clock):
    _consent(world, recipient="person", channel="sms")
    _dispatch(world)
    notify.answer_with.extend([500, 403])  # Notify down; then our key refused (being rotated)
    assert notify_delivery.send_queued() == {"failed": 1}
    assert PersonMessage.objects.get().status == PersonMessage.Status.QUEUED  # tried again…
    assert notify_delivery.send_queued() == {}  # …after a minute, not at once
    frozen_clock.shift(dt.timedelta(minutes=1))
    assert notify_delivery.send_queued() == {"failed": 1}
    frozen_clock.shift(dt.timedelta(minutes=2))
    assert notify_delivery.send_queued() == {"sent": 1, "status delivered": 1}
    assert len(notify.sent) == 1
    # A bad number is refused for good, with Notify's reason kept for the coordinator.
    PersonMessage.objects.all().delete()
    _dispatch(world, UserFactory(roles=[Role.RAH_RESPONDER]))  # (a second responder: no message)
    message = PersonMessage.objects.create(
        key="k",
        patient=world.patient_b,
        referral=world.referral_b,
        kind="on_the_way",
        channel="sms",
        to="0",
        personalisation={"expected_by": NOW.isoformat()},
    )
    notify.answer_with.extend([400])
    notify_delivery.send_queued()
    message.refresh_from_db()
    assert message.status == PersonMessage.Status.FAILED and "refused 400" in message.last_error


def test_without_a_notify_key_messages_wait(world, settings):
    settings.NOTIFY_API_KEY = ""
    _consent(world, recipient="person", channel="sms")
    _dispatch(world)
    assert notify_delivery.send_queued() == {"not configured": 1}
    assert PersonMessage.objects.get().status == PersonMessage.Status.QUEUED


def test_consent_is_recorded_from_the_referral_page_and_audited(world, client_for):
    world.patient_b.phone = "07700 900123"
    world.patient_b.save()
    client = client_for(world.users["rah_coordinator"])
    url = reverse("contact_consent", args=[world.referral_b.reference])
    client.post(url, {"recipient": "person", "channel": "sms"})
    consent = ContactConsent.objects.get(patient=world.patient_b)
    assert (consent.channel, consent.opted_out) == ("sms", False)
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE,
        user=world.users["rah_coordinator"],
        patient=world.patient_b,
        detail="consent to messages recorded",
    ).exists()
    page = client.get(world.referral_b.get_absolute_url())
    assert b"The person by text message" in page.content
    # Email with no address: said, and nothing changed.
    refused = client.post(url, {"recipient": "carer", "channel": "email", "email": ""}, follow=True)
    assert b"Give the email address" in refused.content
    assert ContactConsent.objects.get(patient=world.patient_b).channel == "sms"
    # Only Recovery at Home's staff record it.
    assert (
        client_for(world.users["gp_b"]).post(url, {"recipient": "person", "channel": "sms"}).status_code
        == 403
    )


def test_after_the_discharge_they_are_sent_the_feedback_link_which_works_once(
    world, notify, client, settings
):
    settings.PORTAL_URL = "https://atb.example.nhs.uk"
    _consent(world, recipient="person", channel="sms")
    responder = world.users["rah_responder"]
    rah.record_arrival(referral=world.referral_b, user=responder)
    rah.record_outcome(referral=world.referral_b, user=responder, outcome=Outcome.HOSPITAL)
    notify_delivery.send_queued()
    (sms,) = notify.sent
    assert sms["template_id"] == TEMPLATES["feedback_sms"]
    link = sms["personalisation"]["link"]
    assert link.startswith("https://atb.example.nhs.uk/feedback/f/")
    path = link.removeprefix("https://atb.example.nhs.uk")
    assert client.get(path).status_code == 200
    client.post(path, {"answer": "good"})
    assert client.get(path).status_code == 404  # answered: the link is spent
