from __future__ import annotations

from celery import shared_task

from atb import heartbeats, notifications


@shared_task
def record_heartbeat() -> str:
    """Idempotent (it only moves a timestamp), so safe to run twice after a redelivery."""
    return heartbeats.record_heartbeat().isoformat()


@shared_task(bind=True, max_retries=5)
def deliver_email(self, email_id: int) -> str:
    """Idempotent: an email already sent or being sent is not claimed again. A failed send
    is retried with backoff (30 s, 1, 2, 4, 8 minutes); the minute sweep covers the rest."""
    outcome = notifications.deliver(email_id=email_id)
    if outcome == "failed" and self.request.retries < self.max_retries:
        raise self.retry(countdown=30 * 2**self.request.retries)
    return outcome


@shared_task
def send_unsent_emails() -> dict[str, int]:
    return notifications.send_unsent_emails()
