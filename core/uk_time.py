"""UK days and times as the portal counts and shows them: a day starts at midnight in the
UK (GMT or BST), and a time is shown with its date whenever it is not today."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone


def uk_day_start(day: date) -> datetime:
    """Midnight at the start of a UK day, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min))


def uk_when(moment: datetime | None, *, now: datetime | None = None) -> str:
    """ "14:05" today, "2 Dec 14:05" another day this year, "2 Dec 2025 14:05" before: UK
    time, so that a time never reads as today's when it is not."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    today = timezone.localtime(now or timezone.now()).date()
    if local.date() == today:
        return f"{local:%H:%M}"
    if local.year == today.year:
        return f"{local.day} {local:%b %H:%M}"
    return f"{local.day} {local:%b %Y %H:%M}"


def spoken_duration(length: timedelta) -> str:
    """ "30 minutes", "1 hour", "1 hour 15 minutes": a length of time as a person says it."""
    minutes = round(length.total_seconds() / 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if minutes or not hours:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)
