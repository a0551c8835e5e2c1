"""Telling the person, or their named carer, what Recovery at Home is doing for them: that
someone is on the way (with the time they expect to be there) and that a planned visit
is set or has changed. Only with consent recorded (`ContactConsent`); never to someone
who opted out; never a clinical detail, nor the person's name: a time, the service and a
number to call. Sent through GOV.UK Notify with its official client, templates by id."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from closed_loop.models import ContactConsent, PersonMessage
from closed_loop.tasks import send_person_messages
from core.audit import record_event
from core.models import AuditAction, Patient, User
from recovery_at_home.models import Episode, PlannedVisit
from referrals.models import Referral, ReferralEvent

logger = logging.getLogger(__name__)


def _when(moment: datetime) -> str:
    """ "15:40 today" or "10:00 on Tuesday 8 December": a person reads it, not a coordinator."""
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return f"{local:%H:%M} today"
    return f"{local:%H:%M} on {date_format(local, 'l j F')}"


@transaction.atomic
def record_consent(
    *, patient: Patient, user: User, recipient: str, channel: str, email: str = "", opted_out: bool = False
) -> ContactConsent:
    """What the person (or their representative) agreed to, recorded by staff."""
    if not opted_out:
        if channel == ContactConsent.Channel.EMAIL and not email:
            raise ValueError("Give the email address to send to.")
        if channel == ContactConsent.Channel.SMS:
            number = patient.carer_phone if recipient == ContactConsent.Recipient.CARER else patient.phone
            if not number:
                raise ValueError(
                    "There is no phone number on the record for them: add it to the person's details first."
                )
    consent, created = ContactConsent.objects.update_or_create(
        patient=patient,
        defaults={
            "recipient": recipient,
            "channel": channel,
            "email": email if channel == ContactConsent.Channel.EMAIL else "",
            "opted_out": opted_out,
            "recorded_at": timezone.now(),
            "recorded_by": user,
        },
    )
    record_event(
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        user=user,
        patient=patient,
        detail="consent to messages recorded" + (" (opted out)" if opted_out else ""),
    )
    return consent


def _address(consent: ContactConsent, patient: Patient) -> str:
    if consent.channel == ContactConsent.Channel.EMAIL:
        return consent.email
    return patient.carer_phone if consent.recipient == ContactConsent.Recipient.CARER else patient.phone


def queue_for_event(*, event: ReferralEvent) -> PersonMessage | None:
    """A responder sent, or a visit planned or moved: a message, if they agreed to them."""
    if event.kind not in (ReferralEvent.Kind.DISPATCHED, ReferralEvent.Kind.VISIT_PLANNED):
        return None
    referral = Referral.objects.select_related("patient__contact_consent").get(pk=event.referral_id)
    patient = referral.patient
    consent = getattr(patient, "contact_consent", None)
    if consent is None or consent.opted_out:
        return None
    to = _address(consent, patient)
    if not to:
        return None
    if event.kind == ReferralEvent.Kind.DISPATCHED:
        episode = Episode.objects.get(referral=referral)
        if episode.dispatches.exclude(state="stood_down").count() > 1:
            return None  # a second responder: the person was told already
        kind = PersonMessage.Kind.ON_THE_WAY
        personalisation = {"expected_by": _when(episode.response_due_at)}
    else:
        visit = PlannedVisit.objects.filter(care__episode__referral=referral).order_by("-pk").first()
        kind = PersonMessage.Kind.VISIT_CHANGED
        personalisation = {
            "visit_from": _when(visit.window_start),
            "visit_to": f"{timezone.localtime(visit.window_end):%H:%M}",
            # A visit being moved is marked so before its replacement is planned.
            "changed": "yes" if _being_moved(referral) else "no",
        }
    personalisation |= {"service": "Recovery at Home", "phone": settings.RAH_PHONE}
    message = PersonMessage.objects.create(
        key=f"person-{event.pk}",
        patient=patient,
        referral=referral,
        kind=kind,
        channel=consent.channel,
        to=to,
        personalisation=personalisation,
    )
    transaction.on_commit(_ask_a_worker)
    return message


def _being_moved(referral: Referral) -> bool:
    return PlannedVisit.objects.filter(
        care__episode__referral=referral,
        state=PlannedVisit.State.RESCHEDULED,
        rescheduled_as=None,
    ).exists()


def _ask_a_worker() -> None:
    """Only a shortcut: the minute sweep sends whatever this does not."""
    try:
        send_person_messages.delay()
    except Exception:
        logger.warning("Broker unavailable; messages wait for the minute sweep.", exc_info=True)
