"""Sending the person's messages through GOV.UK Notify (`closed_loop.person_messages`
queues them and says whether each is still wanted, and in what words): each claimed by
one worker, sent with its key as Notify's reference, tried again with back-off while
Notify is unavailable, and its delivery status read back from Notify until final."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from closed_loop import person_messages
from closed_loop.models import PersonMessage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
# A claimed message not sent within this is due again (its worker died).
CLAIM_TIMEOUT = timedelta(minutes=5)
# Notify's final statuses, as kept here; any other ("sending", "created") is asked again.
FINAL_STATUS = {
    "delivered": PersonMessage.Status.DELIVERED,
    "permanent-failure": PersonMessage.Status.FAILED,
    "temporary-failure": PersonMessage.Status.FAILED,
    "technical-failure": PersonMessage.Status.FAILED,
}
# Notify keeps a message's status for 7 days; after 3 without a final one we stop asking.
ASK_STATUS_FOR = timedelta(days=3)


def back_off(attempts: int) -> timedelta:
    """1, 2, 4, 8… minutes after each failed try, at most an hour."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=1))


def _client() -> NotificationsAPIClient | None:
    if not settings.NOTIFY_API_KEY:
        return None
    return NotificationsAPIClient(settings.NOTIFY_API_KEY, base_url=settings.NOTIFY_BASE_URL)


def _template(message: PersonMessage) -> str:
    return settings.NOTIFY_TEMPLATES.get(f"{message.kind}_{message.channel}", "")


def _due(now):
    return PersonMessage.objects.filter(
        Q(status=PersonMessage.Status.QUEUED) | Q(status=PersonMessage.Status.SENDING),
        next_attempt_at__lte=now,
    )


def _claim(message_id: int) -> bool:
    """Take the message for one try; False if another worker has it or it is done."""
    now = timezone.now()
    return bool(
        _due(now)
        .filter(pk=message_id)
        .update(
            status=PersonMessage.Status.SENDING,
            next_attempt_at=now + CLAIM_TIMEOUT,
            attempts=F("attempts") + 1,
        )
    )


def send(*, message_id: int, client: NotificationsAPIClient) -> str:
    if not _claim(message_id):
        return "not claimable"
    message = PersonMessage.objects.get(pk=message_id)
    to = person_messages.still_wanted(message)
    if not to:
        PersonMessage.objects.filter(pk=message_id).update(status=PersonMessage.Status.CANCELLED)
        return "cancelled"
    template = _template(message)
    try:
        if not template:
            raise ValueError(f"No Notify template is configured for {message.kind} by {message.channel}.")
        if message.channel == "sms":
            send_it, address = client.send_sms_notification, {"phone_number": to}
        else:
            send_it, address = client.send_email_notification, {"email_address": to}
        answer = send_it(
            **address,
            template_id=template,
            personalisation=person_messages.wording(message),
            reference=message.key,
        )
        notify_id = answer["id"]
    except Exception as failure:  # Notify's answer is recorded, never raised to the sweep
        # Notify refused this message itself (a number it will not text): trying again
        # cannot help. Anything else (Notify down, a key refused, no template yet) may pass.
        refused = isinstance(failure, APIError) and failure.status_code == 400
        give_up = refused or message.attempts >= MAX_ATTEMPTS
        PersonMessage.objects.filter(pk=message_id).update(
            status=PersonMessage.Status.FAILED if give_up else PersonMessage.Status.QUEUED,
            next_attempt_at=timezone.now() + back_off(message.attempts),
            last_error=f"{failure.__class__.__name__}: {failure}"[:500],
        )
        return "failed"
    PersonMessage.objects.filter(pk=message_id).update(
        status=PersonMessage.Status.SENT, notify_id=notify_id, to=to, sent_at=timezone.now(), last_error=""
    )
    return "sent"


def read_status(*, message: PersonMessage, client: NotificationsAPIClient) -> str:
    """Ask Notify how a sent message fared; keep it once final."""
    try:
        answer = client.get_notification_by_id(message.notify_id)
    except Exception as failure:
        logger.warning("Notify status of %s not read: %s", message.pk, failure)
        return "unknown"
    status = FINAL_STATUS.get(answer.get("status", ""))
    if status is not None:
        PersonMessage.objects.filter(pk=message.pk).update(status=status)
    return answer.get("status", "unknown")


def send_queued(*, limit: int = 200) -> dict[str, int]:
    """The sweep: send what is due, then read back the status of what was sent."""
    client = _client()
    if client is None:
        return {"not configured": _due(timezone.now()).count()}
    results: dict[str, int] = {}
    due = _due(timezone.now()).order_by("next_attempt_at", "pk")
    for message_id in list(due.values_list("pk", flat=True)[:limit]):
        outcome = send(message_id=message_id, client=client)
        results[outcome] = results.get(outcome, 0) + 1
    awaiting = PersonMessage.objects.filter(
        status=PersonMessage.Status.SENT, sent_at__gte=timezone.now() - ASK_STATUS_FOR
    ).exclude(notify_id="")
    for message in awaiting[:limit]:
        status = read_status(message=message, client=client)
        results[f"status {status}"] = results.get(f"status {status}", 0) + 1
    return results
