from __future__ import annotations

from celery import shared_task

from recovery_at_home import alerts


@shared_task
def sweep_alerts() -> dict[str, int]:
    """Idempotent: the unique constraint and the delivery claim make a repeated sweep harmless."""
    return alerts.sweep()
