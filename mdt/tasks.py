from __future__ import annotations

from celery import shared_task

from mdt import services


@shared_task
def send_overdue_action_notices() -> int:
    """Hourly, so a worker that was down catches up; the notice table keeps it to once a day."""
    return services.send_overdue_notices()


@shared_task
def generate_upcoming_meetings() -> int:
    """Daily: keep twelve weeks of each schedule's meetings planned (idempotent)."""
    return services.generate_upcoming_meetings()
