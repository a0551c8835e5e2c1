from __future__ import annotations

from celery import shared_task

from closed_loop import notify_delivery, response_delivery


@shared_task
def send_system_responses() -> dict[str, int]:
    """Idempotent: a response delivered or being tried is not claimed again; the minute
    sweep runs this too."""
    return response_delivery.send_due_responses()


@shared_task
def send_person_messages() -> dict[str, int]:
    """Idempotent in the same way (each message is claimed once); the minute sweep too."""
    return notify_delivery.send_queued()
