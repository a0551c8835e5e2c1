"""Sending email through the outbox.

`queue_email` writes the row in the caller's transaction and asks a worker to send it once
that transaction commits; `send_unsent_emails` (every minute, from beat) retries whatever
a worker could not send, so an email survives a mail server or a worker being down.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from atb.models import OutboundEmail

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
# A worker that claimed an email and died leaves it "sending"; after this it is retried.
CLAIM_TIMEOUT = timedelta(minutes=5)
# Emails per delivery task: an alert sweep may queue thousands, and each task is a
# message through the broker.
DISPATCH_CHUNK = 50


def portal_link(path: str) -> str:
    """An absolute link for an email: workers have no request to build one from."""
    return f"{settings.PORTAL_URL}{path}"


def queue_email(
    *, key: str, to: str, subject: str, body: str, attachment: tuple[str, str, str] | None = None
) -> OutboundEmail:
    """Queue one email; `attachment` is (file name, MIME type, text), e.g. an invitation."""
    name, mime_type, content = attachment or ("", "", "")
    email, created = OutboundEmail.objects.get_or_create(
        key=key,
        defaults={
            "to": to,
            "subject": subject,
            "body": body,
            "attachment_name": name,
            "attachment_type": mime_type,
            "attachment": content,
        },
    )
    if created:
        transaction.on_commit(lambda: _dispatch(email.pk))
    return email


def queue_emails(emails: list[OutboundEmail]) -> None:
    """Many at once, in one insert (an alert sweep may queue a thousand). A key already
    queued keeps its first email."""
    if not emails:
        return
    OutboundEmail.objects.bulk_create(emails, ignore_conflicts=True)
    queued = list(
        OutboundEmail.objects.filter(
            key__in=[email.key for email in emails], status=OutboundEmail.Status.PENDING
        ).values_list("pk", flat=True)
    )
    transaction.on_commit(lambda: _dispatch(*queued))


def _dispatch(*email_ids: int) -> None:
    """Ask workers to send them now, a few dozen to a task. Only a shortcut: if the broker
    is down, the change the email reports has already been saved, and the sweep sends the
    email later."""
    from atb.tasks import deliver_emails

    for start in range(0, len(email_ids), DISPATCH_CHUNK):
        try:
            deliver_emails.delay(list(email_ids[start : start + DISPATCH_CHUNK]))
        except Exception:
            logger.warning(
                "Broker unavailable; %d email(s) wait for the retry sweep.", len(email_ids), exc_info=True
            )
            return


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
