"""Sending what the outbox holds: each email claimed once, sent, and marked; a worker or
a mail server that fails leaves it for the minute sweep (`send_unsent_emails`)."""

from __future__ import annotations

from datetime import timedelta

from django.core.mail import EmailMessage
from django.db.models import F, Q
from django.utils import timezone

from core.models import OutboundEmail

MAX_ATTEMPTS = 10
# A worker that claimed an email and died leaves it "sending"; after this it is retried.
CLAIM_TIMEOUT = timedelta(minutes=5)


def _claim(email_id: int) -> bool:
    """Take the email for sending; False if another worker has it or it is done."""
    now = timezone.now()
    claimable = Q(status=OutboundEmail.Status.PENDING) | Q(
        status=OutboundEmail.Status.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT
    )
    return bool(
        OutboundEmail.objects.filter(claimable, pk=email_id).update(
            status=OutboundEmail.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    )


def deliver(*, email_id: int) -> str:
    """Send one email if it is still unsent. Returns what happened."""
    if not _claim(email_id):
        return "not claimable"
    email = OutboundEmail.objects.get(pk=email_id)
    try:
        message = EmailMessage(email.subject, email.body, to=[email.to])
        if email.attachment_name:
            message.attach(email.attachment_name, email.attachment, email.attachment_type)
        message.send()
    except Exception as exc:  # the mail server's failure is recorded, never raised to the sweep
        give_up = email.attempts >= MAX_ATTEMPTS
        OutboundEmail.objects.filter(pk=email_id).update(
            status=OutboundEmail.Status.FAILED if give_up else OutboundEmail.Status.PENDING,
            last_error=f"{exc.__class__.__name__}: {exc}"[:500],
        )
        return "failed"
    OutboundEmail.objects.filter(pk=email_id).update(
        status=OutboundEmail.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return "sent"


def send_unsent_emails(*, limit: int = 200) -> dict[str, int]:
    """The retry sweep: every email still unsent (or stuck with a dead worker)."""
    stuck_before = timezone.now() - CLAIM_TIMEOUT
    unsent = (
        OutboundEmail.objects.filter(
            Q(status=OutboundEmail.Status.PENDING)
            | Q(status=OutboundEmail.Status.SENDING, claimed_at__lt=stuck_before)
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    results: dict[str, int] = {}
    for email_id in list(unsent):
        outcome = deliver(email_id=email_id)
        results[outcome] = results.get(outcome, 0) + 1
    return results
