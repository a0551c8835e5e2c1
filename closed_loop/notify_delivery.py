"""Sending the person's messages through GOV.UK Notify (`closed_loop.person_messages`
queues them): each claimed once, sent with its key as Notify's reference, then its
delivery status read back from Notify until final."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient
from requests import RequestException

from closed_loop.models import PersonMessage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
# Notify's final statuses, as kept here; any other ("sending", "created") is asked again.
FINAL_STATUS = {
    "delivered": PersonMessage.Status.DELIVERED,
    "permanent-failure": PersonMessage.Status.FAILED,
    "temporary-failure": PersonMessage.Status.FAILED,
    "technical-failure": PersonMessage.Status.FAILED,
}
# Notify keeps a message's status for 7 days; after 3 without a final one we stop asking.
ASK_STATUS_FOR = timedelta(days=3)


def _client() -> NotificationsAPIClient | None:
    if not settings.NOTIFY_API_KEY:
        return None
    return NotificationsAPIClient(settings.NOTIFY_API_KEY, base_url=settings.NOTIFY_BASE_URL)


def _template(message: PersonMessage) -> str:
    return settings.NOTIFY_TEMPLATES.get(f"{message.kind}_{message.channel}", "")


def _claim(message_id: int) -> bool:
    """Take the message for sending (attempts counts the tries); False if taken or done."""
    return bool(
        PersonMessage.objects.filter(
            pk=message_id, status=PersonMessage.Status.QUEUED, attempts__lt=MAX_ATTEMPTS
        ).update(attempts=F("attempts") + 1, status=PersonMessage.Status.SENT, sent_at=timezone.now())
    )


def send(*, message_id: int, client: NotificationsAPIClient) -> str:
    if not _claim(message_id):
        return "not claimable"
    message = PersonMessage.objects.get(pk=message_id)
    template = _template(message)
    try:
        if not template:
            raise ValueError(f"No Notify template is configured for {message.kind} by {message.channel}.")
        if message.channel == "sms":
            answer = client.send_sms_notification(
                phone_number=message.to,
                template_id=template,
                personalisation=message.personalisation,
                reference=message.key,
            )
        else:
            answer = client.send_email_notification(
                email_address=message.to,
                template_id=template,
                personalisation=message.personalisation,
                reference=message.key,
            )
    except (APIError, RequestException, ValueError) as failure:
        # A refusal (a bad number, say) will not change by trying again.
        permanent = isinstance(failure, ValueError) or (
            isinstance(failure, APIError)
            and 400 <= (failure.status_code or 0) < 500
            and failure.status_code != 429
        )
        PersonMessage.objects.filter(pk=message_id).update(
            status=PersonMessage.Status.FAILED
            if permanent or message.attempts >= MAX_ATTEMPTS
            else PersonMessage.Status.QUEUED,
            last_error=f"{failure.__class__.__name__}: {failure}"[:500],
        )
        return "failed"
    PersonMessage.objects.filter(pk=message_id).update(notify_id=answer["id"], last_error="")
    return "sent"


def read_status(*, message: PersonMessage, client: NotificationsAPIClient) -> str:
    """Ask Notify how a sent message fared; keep it once final."""
    try:
        answer = client.get_notification_by_id(message.notify_id)
    except (APIError, RequestException) as failure:
        logger.warning("Notify status of %s not read: %s", message.pk, failure)
        return "unknown"
    status = FINAL_STATUS.get(answer.get("status", ""))
    if status is not None:
        PersonMessage.objects.filter(pk=message.pk).update(status=status)
    return answer.get("status", "unknown")


def send_queued(*, limit: int = 200) -> dict[str, int]:
    """The sweep: send what is queued, then read back the status of what was sent."""
    client = _client()
    if client is None:
        return {"not configured": PersonMessage.objects.filter(status=PersonMessage.Status.QUEUED).count()}
    results: dict[str, int] = {}
    queued = PersonMessage.objects.filter(status=PersonMessage.Status.QUEUED).order_by("created_at")
    for message_id in list(queued.values_list("pk", flat=True)[:limit]):
        outcome = send(message_id=message_id, client=client)
        results[outcome] = results.get(outcome, 0) + 1
    awaiting = PersonMessage.objects.filter(
        status=PersonMessage.Status.SENT, sent_at__gte=timezone.now() - ASK_STATUS_FOR
    ).exclude(notify_id="")
    for message in awaiting[:limit]:
        status = read_status(message=message, client=client)
        results[f"status {status}"] = results.get(f"status {status}", 0) + 1
    return results
