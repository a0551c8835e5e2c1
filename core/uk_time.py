"""UK days as the portal counts them: a day starts at midnight in the UK (GMT or BST)."""

from __future__ import annotations

from datetime import date, datetime, time

from django.utils import timezone


def uk_day_start(day: date) -> datetime:
    """Midnight at the start of a UK day, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min))
