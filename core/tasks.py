from __future__ import annotations

from celery import shared_task

from core import email_delivery, heartbeats


@shared_task
def record_heartbeat() -> str:
    """Idempotent (it only moves a timestamp), so safe to run twice after a redelivery."""
    return heartbeats.record_heartbeat().isoformat()


@shared_task(bind=True, max_retries=5)
def deliver_emails(self, email_ids: list[int]) -> dict[str, int]:
    """Idempotent: an email already sent or being sent is not claimed again. The ones that
    failed are retried with backoff (30 s, 1, 2, 4, 8 minutes); the minute sweep covers
    the rest."""
    outcomes = {email_id: email_delivery.deliver(email_id=email_id) for email_id in email_ids}
    failed = [email_id for email_id, outcome in outcomes.items() if outcome == "failed"]
    if failed and self.request.retries < self.max_retries:
        raise self.retry(args=[failed], countdown=30 * 2**self.request.retries)
    return {outcome: list(outcomes.values()).count(outcome) for outcome in set(outcomes.values())}


@shared_task
def send_unsent_emails() -> dict[str, int]:
    return email_delivery.send_unsent_emails()
