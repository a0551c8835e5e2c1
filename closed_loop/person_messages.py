"""Telling the person, or their named carer, what Recovery at Home is doing for them: that
someone is on the way (with the time they expect to be there) and that a planned visit
is set or has changed. Only with consent recorded (`ContactConsent`); never to someone
who opted out; never a clinical detail, nor the person's name: a time, the service and a
number to call. Sent through GOV.UK Notify with its official client, templates by id."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from closed_loop.models import ContactConsent, PersonMessage
from core.audit import record_event
from core.models import AuditAction, Patient, User
from core.notifications import portal_link
from feedback import services as feedback
from recovery_at_home.models import Episode, PlannedVisit
from referrals.models import OPEN_STATUSES, Referral, ReferralEvent

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


# A responder is expected no sooner than this after being sent, whatever the due time.
SOONEST_ARRIVAL = timedelta(minutes=30)


def queue_for_event(*, event: ReferralEvent) -> PersonMessage | None:
    """The first responder sent, or a care visit moved: a message, if they agreed to them.
    What it says is worked out when it is sent (`wording`), and whether it is still
    wanted is asked again then (`still_wanted`)."""
    if event.kind not in (ReferralEvent.Kind.DISPATCHED, ReferralEvent.Kind.VISIT_PLANNED):
        return None
    referral = Referral.objects.select_related("patient__contact_consent").get(pk=event.referral_id)
    consent = _agreed(referral.patient)
    if consent is None:
        return None
    if event.kind == ReferralEvent.Kind.DISPATCHED:
        episode = Episode.objects.get(referral=referral)
        if episode.dispatches.exclude(state="stood_down").count() > 1:
            return None  # a second responder: the person was told already
        kind = PersonMessage.Kind.ON_THE_WAY
        expected = max(episode.response_due_at, event.at + SOONEST_ARRIVAL)
        moments = {"expected_by": expected.isoformat()}
    else:
        moved = _being_moved(referral)
        if moved is None:
            return None  # a new visit of the plan: the person agreed the plan with the team
        visit = PlannedVisit.objects.filter(care__episode__referral=referral).order_by("-pk").first()
        kind = PersonMessage.Kind.VISIT_CHANGED
        moments = {
            "visit": visit.pk,
            "visit_from": visit.window_start.isoformat(),
            "visit_to": visit.window_end.isoformat(),
        }
    return _queue(event=event, referral=referral, consent=consent, kind=kind, personalisation=moments)


def queue_feedback_link(*, event: ReferralEvent, token: str) -> PersonMessage | None:
    """After a discharge: the link to the feedback question, if they agreed to messages."""
    referral = Referral.objects.select_related("patient__contact_consent", "service").get(
        pk=event.referral_id
    )
    consent = _agreed(referral.patient)
    if consent is None:
        return None
    return _queue(
        event=event,
        referral=referral,
        consent=consent,
        kind=PersonMessage.Kind.FEEDBACK,
        personalisation={"token": token, "service": str(referral.service)},
    )


def _agreed(patient: Patient) -> ContactConsent | None:
    """Their consent to messages, if they gave it, have not opted out, and can be reached."""
    consent = getattr(patient, "contact_consent", None)
    if consent is None or consent.opted_out or not _address(consent, patient):
        return None
    return consent


def _queue(
    *, event: ReferralEvent, referral: Referral, consent: ContactConsent, kind: str, personalisation: dict
) -> PersonMessage:
    """The message, one per timeline line, and a worker asked to send it once committed."""
    message = PersonMessage.objects.create(
        key=f"person-{event.pk}",
        patient=referral.patient,
        referral=referral,
        kind=kind,
        channel=consent.channel,
        to=_address(consent, referral.patient),
        personalisation=personalisation,
    )
    transaction.on_commit(_ask_a_worker)
    return message


def _being_moved(referral: Referral) -> PlannedVisit | None:
    """The visit being moved now: marked so before its replacement is planned."""
    return PlannedVisit.objects.filter(
        care__episode__referral=referral,
        state=PlannedVisit.State.RESCHEDULED,
        rescheduled_as=None,
    ).first()


def still_wanted(message: PersonMessage) -> str:
    """Where to send it now, or "" when it should not go: consent withdrawn or changed
    since, the referral ended, the responder already there, the visit past or moved again."""
    patient = Patient.objects.select_related("contact_consent").get(pk=message.patient_id)
    consent = _agreed(patient)
    if consent is None or consent.channel != message.channel:
        return ""
    now = timezone.now()
    if message.kind == PersonMessage.Kind.FEEDBACK:
        try:
            feedback.open_invitation(token=message.personalisation["token"])
        except feedback.FeedbackRefused:
            return ""  # answered on a tablet meanwhile, or expired
    elif message.kind == PersonMessage.Kind.ON_THE_WAY:
        episode = Episode.objects.select_related("referral").get(referral_id=message.referral_id)
        if episode.arrived_at is not None or episode.referral.status not in OPEN_STATUSES:
            return ""
    else:
        visit = PlannedVisit.objects.filter(pk=message.personalisation.get("visit")).first()
        if visit is None or visit.state != PlannedVisit.State.PLANNED or visit.window_end <= now:
            return ""
    return _address(consent, patient)


def wording(message: PersonMessage) -> dict:
    """The template's personalisation, as the person reads it at the moment it is sent: a
    time, the service and a number to call; no name, nothing clinical."""
    moments = message.personalisation
    if message.kind == PersonMessage.Kind.FEEDBACK:
        link = portal_link(reverse("feedback:answer", args=[moments["token"]]))
        return {"link": link, "service": moments["service"], "phone": settings.RAH_PHONE}
    if message.kind == PersonMessage.Kind.ON_THE_WAY:
        said = {"expected_by": _when(datetime.fromisoformat(moments["expected_by"]))}
    else:
        said = {
            "visit_from": _when(datetime.fromisoformat(moments["visit_from"])),
            "visit_to": f"{timezone.localtime(datetime.fromisoformat(moments['visit_to'])):%H:%M}",
        }
    return {**said, "service": "Recovery at Home", "phone": settings.RAH_PHONE}


def _ask_a_worker() -> None:
    """Only a shortcut: the minute sweep sends whatever this does not. By the task's name,
    as `closed_loop.tasks` imports the sending, which asks this module's rules."""
    try:
        current_app.send_task("closed_loop.tasks.send_person_messages")
    except Exception:
        logger.warning("Broker unavailable; messages wait for the minute sweep.", exc_info=True)
