"""Responses to the systems that send referrals as BaRS messages: at each status change of a
referral that came in as a message, a `servicerequest-response` message (a FHIR message
Bundle: a MessageHeader whose `response` names the message it answers, and the
ServiceRequest as it now stands, as the sender may see it) posted to the endpoint the
administrator registered for that system.

The promise: every response, in order for each referral, at least once. Each is a row
first, written in the transaction of the change; a worker posts the oldest undelivered
one of each referral, and the next only once that one is delivered; a failure (an error,
a refusal, a timeout) is tried again with back-off for as long as it takes, and shows in
the administration pages once it has failed a few times. Each message's id is its
idempotency key (also sent as the `Idempotency-Key` header), so a receiver that got a
response whose acknowledgement we never saw can drop the repeat.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import Max

from closed_loop.fhir_letters import document_reference
from closed_loop.models import SendingSystem, SystemResponse
from closed_loop.outcome_letters import letter_for_referral
from closed_loop.referrer_updates import UPDATE_FOR_EVENT, status_change_of
from closed_loop.tasks import send_system_responses
from referrals.fhir import service_request_resource
from referrals.models import InboundMessage, Referral, ReferralEvent
from referrals.selectors import redirect_chain

logger = logging.getLogger(__name__)

BARS_EVENTS = "https://fhir.nhs.uk/CodeSystem/message-events-bars"


def _request_message(
    referral: Referral, *, before: datetime
) -> tuple[InboundMessage | None, SendingSystem | None]:
    """The latest message that made or changed this referral (or the referral it was
    redirected from) before the event, and the registered system that sent it."""
    chain = redirect_chain(referral)
    message = (
        InboundMessage.objects.filter(referral__in=chain, received_at__lte=before)
        .order_by("-received_at", "-id")
        .first()
    )
    if message is None:
        return None, None
    system = SendingSystem.objects.filter(account_id=message.sender_id, active=True).first()
    return message, system


def queue_response(*, event: ReferralEvent) -> SystemResponse | None:
    """Owe the sending system a response for this status change, if the referral came in
    as a message from a registered system. A change the system's own message made (the
    referral itself, a cancellation, an update) is answered as that message is recorded
    (`answer_message`), naming it. Call inside the change's transaction."""
    if status_change_of(event=event) is None:
        return None
    referral = Referral.objects.select_related("service", "team", "referred_by").get(pk=event.referral_id)
    message, system = _request_message(referral, before=event.at)
    if system is None or event.user_id == system.account_id:
        return None
    return _queue(system=system, referral=referral, event=event, answering=message.message_id)


def answer_message(*, message: InboundMessage) -> list[SystemResponse]:
    """The answer to a message just recorded: a response for each status change it made."""
    system = SendingSystem.objects.filter(account_id=message.sender_id, active=True).first()
    if system is None:
        return []
    referral = Referral.objects.select_related("service", "team", "referred_by").get(pk=message.referral_id)
    answered = SystemResponse.objects.filter(system=system, referral=referral).values("event_id")
    made = ReferralEvent.objects.filter(
        referral=referral, user_id=message.sender_id, kind__in=list(UPDATE_FOR_EVENT)
    ).exclude(pk__in=answered)
    return [
        _queue(system=system, referral=referral, event=event, answering=message.message_id)
        for event in made.order_by("at", "id")
        if status_change_of(event=event) is not None
    ]


def _queue(
    *, system: SendingSystem, referral: Referral, event: ReferralEvent, answering: str
) -> SystemResponse:
    # The first referral's row lock orders the thread's responses (a redirected referral's
    # with its own): two changes committing at once get consecutive numbers, in the order
    # they commit.
    thread = redirect_chain(referral)[-1]
    Referral.objects.select_for_update(no_key=True).filter(pk=thread.pk).exists()
    owed = SystemResponse.objects.filter(system=system, thread=thread)
    last = owed.aggregate(last=Max("sequence"))["last"] or 0
    response = SystemResponse(system=system, referral=referral, thread=thread, event=event, sequence=last + 1)
    response.bundle = response_bundle(referral=referral, event=event, answering=answering, key=response.key)
    response.save()
    transaction.on_commit(_ask_a_worker)
    return response


def response_bundle(*, referral: Referral, event: ReferralEvent, answering: str, key) -> dict:
    """The servicerequest-response message: what the sender sees of its referral now
    (never the record it matched), with the status change and any reason given."""
    request = service_request_resource(referral)
    what = event.get_kind_display()
    note = event.note if event.kind in ReferralEvent.NOTES_FOR_REFERRER else ""
    request.setdefault("note", []).append(
        {"time": _instant(event.at), "text": f"{what}: {note}" if note else what}
    )
    return {
        "resourceType": "Bundle",
        "id": str(key),
        "type": "message",
        "timestamp": _instant(event.at),
        "entry": [
            {
                "fullUrl": f"urn:uuid:{key}",
                "resource": {
                    "resourceType": "MessageHeader",
                    "id": str(key),
                    "eventCoding": {"system": BARS_EVENTS, "code": "servicerequest-response"},
                    "source": {"name": "ATB Portal", "endpoint": "https://atb-portal.nhs.uk/fhir"},
                    "response": {"identifier": answering, "code": "ok"},
                    "focus": [{"reference": f"ServiceRequest/{referral.reference}"}],
                },
            },
            {
                "fullUrl": f"ServiceRequest/{referral.reference}",
                "resource": request,
            },
            *(
                [
                    {
                        "fullUrl": f"DocumentReference/{letter.pk}",
                        "resource": document_reference(letter, as_sent=True),
                    }
                ]
                if event.kind == ReferralEvent.Kind.CLOSED
                and (letter := letter_for_referral(referral=referral)) is not None
                else []
            ),
        ],
    }


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _ask_a_worker() -> None:
    """Only a shortcut: the minute sweep sends whatever this does not."""
    try:
        send_system_responses.delay()
    except Exception:
        logger.warning("Broker unavailable; responses wait for the minute sweep.", exc_info=True)
