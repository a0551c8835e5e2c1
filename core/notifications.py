"""Sending email through the outbox.

`queue_email` writes the row in the caller's transaction and asks a worker to send it once
that transaction commits; `core.email_delivery` sends it, and its minute sweep retries
whatever a worker could not send, so an email survives a mail server or a worker being down.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from core.models import OutboundEmail
from core.tasks import deliver_emails

logger = logging.getLogger(__name__)

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
    for start in range(0, len(email_ids), DISPATCH_CHUNK):
        try:
            deliver_emails.delay(list(email_ids[start : start + DISPATCH_CHUNK]))
        except Exception:
            logger.warning(
                "Broker unavailable; %d email(s) wait for the retry sweep.", len(email_ids), exc_info=True
            )
            return
