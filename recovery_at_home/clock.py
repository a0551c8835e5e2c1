"""The response clock: the one place that says when a Recovery at Home response is on
time, due soon, breached or reached, and which responses count towards the national
2-hour standard.

The queue, the alerts, the dashboard, the export, the API and FHIR read it; the queue's
JavaScript reads the same window and labels from the page's data-* attributes. Both
settings it follows are editable by administrators: the due-soon minutes
(`AlertPolicy`) and whether a triage category counts towards the 2-hour standard
(`TriageCategory.two_hour_standard`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.db.models import F, Q

from recovery_at_home.models import AlertPolicy


class ClockState(models.TextChoices):
    ON_TIME = "on_time", "On time"
    DUE_SOON = "due_soon", "Due soon"
    BREACHED = "breached", "Breached"
    ARRIVED = "arrived", "Arrived"


# A clock that runs: the referral is open (Episode.queue_open follows its status) and nobody
# has reached the person yet. Only these are in the queue's counts and raise alerts.
RUNNING = Q(queue_open=True, arrived_at__isnull=True)


def due_soon_window() -> timedelta:
    """How long before its due time a response is "due soon": the alert policy's."""
    return timedelta(minutes=AlertPolicy.current().due_soon_minutes)


def clock_state(*, due_at: datetime, arrived_at: datetime | None, now: datetime, due_soon: timedelta) -> str:
    if arrived_at is not None:
        return ClockState.ARRIVED
    if due_at <= now:
        return ClockState.BREACHED
    if due_at - now <= due_soon:
        return ClockState.DUE_SOON
    return ClockState.ON_TIME


def in_state(state: str, *, now: datetime, due_soon: timedelta) -> Q:
    """The episodes in a state at `now`, as a filter (the same lines as `clock_state`)."""
    not_reached = Q(arrived_at__isnull=True)
    return {
        ClockState.ARRIVED: Q(arrived_at__isnull=False),
        ClockState.BREACHED: not_reached & Q(response_due_at__lte=now),
        ClockState.DUE_SOON: not_reached & Q(response_due_at__gt=now, response_due_at__lte=now + due_soon),
        ClockState.ON_TIME: not_reached & Q(response_due_at__gt=now + due_soon),
    }[state]


def time_left(due_at: datetime, *, now: datetime) -> str:
    """ "1 h 5 min left", "12 min late": as the queue's countdown (static/js/queue.js) says it."""
    seconds = (due_at - now).total_seconds()
    minutes = int(abs(seconds) // 60)
    hours, rest = divmod(minutes, 60)
    text = f"{hours} h {rest} min" if hours else f"{minutes} min"
    return f"{text} left" if seconds >= 0 else f"{text} late"


def reached_within_window(
    *, received_at: datetime, window_minutes: int, arrived_at: datetime | None
) -> bool | None:
    """Reached within the window the episode was given, counted from receipt (None while
    the clock runs). A later time agreed with the person moves the due time shown, not
    the window: such a visit is reported as agreed later, not as a response in time."""
    if arrived_at is None:
        return None
    return arrived_at <= received_at + timedelta(minutes=window_minutes)


# The national 2-hour urgent community response standard counts the responses of the
# categories administrators mark as counting, without a later time agreed with the person
# (reported separately). With no agreed time, the due time is the window's end.
COUNTS_TOWARDS_TWO_HOUR_STANDARD = Q(category__two_hour_standard=True, agreed_later_reason="")
MET_TWO_HOUR_STANDARD = Q(arrived_at__lte=F("response_due_at"))


def two_hour_standard_met(
    *, two_hour_category: bool, agreed_later: bool, due_at: datetime, arrived_at: datetime | None
) -> bool | None:
    """None when the response does not count (another category, an agreed later time, or
    the person not reached yet)."""
    if not two_hour_category or agreed_later or arrived_at is None:
        return None
    return arrived_at <= due_at


def standards_of(episode) -> dict:
    """An episode's clock as the referral page and the export report it."""
    return {
        "reached_within_window": reached_within_window(
            received_at=episode.referral.received_at,
            window_minutes=episode.window_minutes,
            arrived_at=episode.arrived_at,
        ),
        "two_hour_standard_met": two_hour_standard_met(
            two_hour_category=bool(episode.category and episode.category.two_hour_standard),
            agreed_later=episode.agreed_later,
            due_at=episode.response_due_at,
            arrived_at=episode.arrived_at,
        ),
    }
