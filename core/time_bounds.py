"""How far back and how far ahead each time a person gives may be: one place, so that a
form (for the message beside its field) and the service behind every door ask the same
question and give the same answer. Each function returns what is wrong, or "". (The
first care plan review and a review's own date are bounded in teams.forms: a review may
be seeded or recorded late by the service.)

Why these bounds: a later visit is agreed for the coming days, not for 2099; short-term
care at home lasts weeks (up to about six of intermediate care); a contact is recorded
soon after it happens, so a year back is the most a late note needs; plans (goals, MDT
actions, reviews) look ahead, not into the past; a meeting is held once it has started.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.formats import date_format

from core.uk_time import uk_day_start

AGREED_LATER_AHEAD = timedelta(days=7)
SHORT_TERM_CARE_AHEAD = timedelta(weeks=12)
CONTACT_BACK = timedelta(days=366)
PLAN_AHEAD = timedelta(days=2 * 366)
# A clock a little fast on a tablet is not "the future".
CLOCK_SLACK = timedelta(minutes=5)
MEETING_EARLY = timedelta(minutes=30)


def _when(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "j M Y H:i")


def agreed_later_problem(due_at: datetime, *, now: datetime, received_at: datetime | None = None) -> str:
    """A later visit agreed with the person: after the referral, within the coming week,
    counted in UK days (so "same time next week" holds across a clock change)."""
    if received_at is not None and due_at <= received_at:
        return "The agreed time must be after the referral was received."
    last_day = timezone.localtime(now).date() + AGREED_LATER_AHEAD
    if due_at >= uk_day_start(last_day + timedelta(days=1)):
        return f"Agree a time within the next 7 days (by the end of {date_format(last_day, 'j M Y')})."
    return ""


def planned_end_problem(day: date, *, today: date) -> str:
    """When short-term care at home is planned to end: from today, within 12 weeks."""
    if day < today:
        return "The planned end cannot be in the past."
    if day > today + SHORT_TERM_CARE_AHEAD:
        return "Short-term care is planned for up to 12 weeks: choose an end date within them."
    return ""


def contact_time_problem(at: datetime, *, now: datetime) -> str:
    """When a contact happened: not in the future, and not more than a year ago."""
    if at > now + CLOCK_SLACK:
        return "A contact cannot be in the future."
    if at < now - CONTACT_BACK:
        return "A contact is recorded within a year of it: check the date."
    return ""


def plan_date_problem(day: date, *, today: date, what: str) -> str:
    """A date a plan looks ahead to (a goal's target, an action's due date, a review)."""
    if day < today:
        return f"The {what} cannot be in the past."
    if day > today + PLAN_AHEAD:
        return f"Choose a {what} within two years."
    return ""


def meeting_started_problem(starts_at: datetime, *, now: datetime, step: str) -> str:
    """A meeting is held, and its minutes closed, only once it has started (or nearly:
    people gather early)."""
    if now < starts_at - MEETING_EARLY:
        return f"The meeting starts at {_when(starts_at)}: it can be {step} once it has started."
    return ""


def visit_arrival_problem(arrived_at: datetime, *, dispatched_at: datetime) -> str:
    """A responder arrives after they were sent, to the minute (a typed time has none)."""
    if arrived_at < dispatched_at.replace(second=0, microsecond=0):
        return f"The arrival cannot be before the responder was sent ({_when(dispatched_at)})."
    return ""
