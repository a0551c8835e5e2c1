"""The response clock: the one place that says when a Recovery at Home response is on
time, due soon, breached or reached, whether it met its category's local target, and how
it stands against the national 2-hour urgent community response standard.

The queue, the alerts, the dashboard, the export, the API and FHIR read it; the queue's
JavaScript reads the same window and labels from the page's data-* attributes. Both
settings it follows are editable by administrators: the due-soon minutes
(`AlertPolicy`) and whether a triage category counts towards the 2-hour standard
(`TriageCategory.two_hour_standard`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from recovery_at_home.models import AlertPolicy, Outcome
from referrals.models import OPEN_STATUSES, Source, Status


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


def local_target_met(
    *, received_at: datetime, window_minutes: int, arrived_at: datetime | None, agreed_later: bool
) -> bool | None:
    """The category's own (local) target: reached within the window the episode was given,
    counted from receipt. None while the clock runs, and for a visit at a later time agreed
    with the person: that is reported as agreed later, not as a response in time or late."""
    if arrived_at is None or agreed_later:
        return None
    return arrived_at <= received_at + timedelta(minutes=window_minutes)


# Over Episode: reached within the local target (the same lines as `local_target_met`).
# With no later time agreed, the due time is receipt plus the episode's window.
COUNTS_TOWARDS_LOCAL_TARGET = Q(arrived_at__isnull=False, agreed_later_reason="")
MET_LOCAL_TARGET = COUNTS_TOWARDS_LOCAL_TARGET & Q(arrived_at__lte=F("response_due_at"))


# --- The national 2-hour urgent community response (UCR) standard -----------------------
# Reported nationally through the Community Services Data Set (waiting time measurement
# type 05), whatever each category's local target. A referral is in it when triaged as
# needing a response within two hours or sooner: the categories administrators mark
# `two_hour_standard` (crisis and urgent by default). Its clock starts when the service
# receives the referral (a phoned-in referral: the call) and stops at the first
# face-to-face contact; it is met when that contact is within 120 minutes of the start.
# A response at a later time agreed with the person is reported apart, outside the share,
# and so is a clock that ended without a contact (the person died or went to hospital,
# or the referral was redirected). The README's Performance section gives the sources.
TWO_HOURS = timedelta(minutes=120)
UCR_AMBITION = 0.70  # at least 70% of 2-hour UCR referrals reached in time


class TwoHourResult(models.TextChoices):
    MET = "met", "Met"
    NOT_MET = "not_met", "Not met"
    AGREED_LATER = "agreed_later", "Later time agreed with the person (reported apart)"
    ENDED_WITHOUT_CONTACT = "ended_without_contact", "Ended before a face-to-face contact"
    RUNNING = "running", "Clock running"


# Over Episode: the 2-hour UCR referrals, those counted in the share, and those met. A
# referral nobody triaged runs on the provisional 2-hour window, and counts so: leaving
# triage undone must not take a late response out of the figure.
IN_TWO_HOUR_STANDARD = Q(category__two_hour_standard=True) | Q(category__isnull=True)
# Counted: the same responses the local target counts (reached, no later time agreed).
COUNTS_TOWARDS_TWO_HOUR_STANDARD = IN_TWO_HOUR_STANDARD & COUNTS_TOWARDS_LOCAL_TARGET
MET_TWO_HOUR_STANDARD = COUNTS_TOWARDS_TWO_HOUR_STANDARD & Q(
    arrived_at__lte=F("referral__received_at") + TWO_HOURS
)
# Reported apart (the same lines as `two_hour_result`): a later time agreed, or the
# referral closed, declined or redirected with nobody there.
AGREED_LATER = ~Q(agreed_later_reason="")
ENDED_WITHOUT_CONTACT = Q(agreed_later_reason="", arrived_at__isnull=True) & ~Q(
    referral__status__in=OPEN_STATUSES
)


def in_two_hour_standard(category_flag: bool | None) -> bool:
    """Whether an episode is a 2-hour UCR referral, from its category's `two_hour_standard`
    (None: not triaged yet): the same lines as `IN_TWO_HOUR_STANDARD`."""
    return category_flag is None or category_flag


def two_hour_result(
    *, in_standard: bool, agreed_later: bool, received_at: datetime, arrived_at: datetime | None, ended: bool
) -> TwoHourResult | None:
    """How a referral stands against the 2-hour standard; None when it is not in it.
    `ended`: the referral is no longer open (`ended_referral`)."""
    if not in_standard:
        return None
    if agreed_later:
        return TwoHourResult.AGREED_LATER
    if arrived_at is None:
        return TwoHourResult.ENDED_WITHOUT_CONTACT if ended else TwoHourResult.RUNNING
    return TwoHourResult.MET if arrived_at <= received_at + TWO_HOURS else TwoHourResult.NOT_MET


def ended_referral(status: str) -> bool:
    """Closed, declined or redirected: the same line as `ENDED_WITHOUT_CONTACT`'s."""
    return status not in OPEN_STATUSES


def standards_of(episode, *, now: datetime | None = None) -> dict:
    """An episode's clocks as the referral page reports them: the local target, the national
    2-hour standard and the 2-day reablement clock, never mixed."""
    referral = episode.referral
    return {
        "reablement": reablement_clock_of(episode, now=now or timezone.now()),
        # Whether the need for reablement can be recorded now.
        "reablement_open": episode.reablement_clock_start is None
        and on_reablement_clock(referral.source)
        and reablement_clock_runs(status=referral.status, outcome=episode.outcome),
        "local_target_met": local_target_met(
            received_at=referral.received_at,
            window_minutes=episode.window_minutes,
            arrived_at=episode.arrived_at,
            agreed_later=episode.agreed_later,
        ),
        "two_hour": two_hour_result(
            in_standard=in_two_hour_standard(
                episode.category.two_hour_standard if episode.category else None
            ),
            agreed_later=episode.agreed_later,
            received_at=referral.received_at,
            arrived_at=episode.arrived_at,
            ended=ended_referral(referral.status),
        ),
    }


# --- The 2-day reablement clock -----------------------------------------------------------
# Reported through the Community Services Data Set as waiting time measurement type 06:
# reablement care within two days of referral for those who need it, from any source except
# a hospital ward or bed (people leaving hospital are counted by discharge, not here). A
# coordinator or responder records that the person needs reablement and where the need
# came from. Local choice: a referral that asked for reablement starts the clock at receipt;
# a need found at a visit starts it when it was found (the time they give). It stops when
# reablement care begins; met within 48 real hours of the start. A clock still running 48
# hours after its start can no longer be met and counts as not met from then on, so that a
# clock whose care never began (the urgent episode closed with the person at home) does not
# drop out of the share. The README's Performance section gives the sources.
TWO_DAYS = timedelta(days=2)
NOT_ON_REABLEMENT_CLOCK = {Source.HOSPITAL_DISCHARGE}


def on_reablement_clock(source: str) -> bool:
    """Whether a referral from this source has a 2-day reablement clock when it needs one."""
    return source not in NOT_ON_REABLEMENT_CLOCK


def reablement_clock_start(*, received_at: datetime, in_referral: bool, found_at: datetime) -> datetime:
    """When the 2-day clock starts: at receipt when the referral asked for reablement, else
    when the need was found."""
    return received_at if in_referral else found_at


def reablement_clock_runs(*, status: str, outcome: str) -> bool:
    """Whether reablement care can still begin: the referral is open, or closed with the
    person at home with short-term care (reablement often begins after the urgent visit)."""
    return status in OPEN_STATUSES or (status == Status.CLOSED and outcome == Outcome.REMAINED_AT_HOME)


def may_record_reablement_start(
    *, status: str, outcome: str, status_changed_at: datetime, started_at: datetime
) -> bool:
    """Whether care can be recorded as beginning at `started_at`: while the clock runs, or
    before the referral ended (care began, then the person died or went to hospital)."""
    return reablement_clock_runs(status=status, outcome=outcome) or started_at <= status_changed_at


# Over Episode: the 2-day clocks (the same lines as `reablement_clock`). Counted in the share:
# those whose care began, and those still waiting two days after the start.
ON_REABLEMENT_CLOCK = Q(reablement_clock_start__isnull=False)
REABLEMENT_CARE_BEGAN = ON_REABLEMENT_CLOCK & Q(reablement_care_started_at__isnull=False)
MET_REABLEMENT = REABLEMENT_CARE_BEGAN & Q(
    reablement_care_started_at__lte=F("reablement_clock_start") + TWO_DAYS
)
_REABLEMENT_MAY_BEGIN = Q(referral__status__in=OPEN_STATUSES) | Q(
    referral__status=Status.CLOSED, outcome=Outcome.REMAINED_AT_HOME
)
_NO_CARE_YET = ON_REABLEMENT_CLOCK & Q(reablement_care_started_at__isnull=True)
# Ended with no reablement to come (died, declined, admitted elsewhere, redirected).
REABLEMENT_ENDED_FIRST = _NO_CARE_YET & ~_REABLEMENT_MAY_BEGIN


def reablement_overdue(*, now: datetime) -> Q:
    """Still waiting for care two days after the start: not met, whatever comes."""
    return _NO_CARE_YET & _REABLEMENT_MAY_BEGIN & Q(reablement_clock_start__lt=now - TWO_DAYS)


def reablement_waiting(*, now: datetime) -> Q:
    """Waiting for care, within the two days."""
    return _NO_CARE_YET & _REABLEMENT_MAY_BEGIN & Q(reablement_clock_start__gte=now - TWO_DAYS)


def counts_towards_reablement(*, now: datetime) -> Q:
    return REABLEMENT_CARE_BEGAN | reablement_overdue(now=now)


# --- Each clock as a row, as the CSDS extract reports it (table CYP104) ------------------


class ClockKind(models.TextChoices):
    TWO_HOUR_UCR = "two_hour_ucr", "2-hour urgent community response"
    TWO_DAY_REABLEMENT = "two_day_reablement", "2-day reablement"


class ClockEnd(models.TextChoices):
    CONTACT = "contact", "Reached (first contact, or reablement care began)"
    NOT_TREATED = "not_treated", "Ended first: redirected, declined by the service, or admitted elsewhere"
    PERSON_DECLINED = "person_declined", "The person declined"
    DIED = "died", "The person died first"
    RUNNING = "running", "Clock running"


@dataclass(frozen=True)
class Clock:
    kind: ClockKind
    start: datetime
    end: datetime | None  # None while it runs
    ended: ClockEnd
    minutes: int | None  # real minutes from start to end
    met: bool | None  # None when not counted (running, ended first, a later time agreed)
    agreed_later: bool = False

    @property
    def due(self) -> datetime:
        """When the standard's time runs out."""
        return self.start + (TWO_HOURS if self.kind == ClockKind.TWO_HOUR_UCR else TWO_DAYS)


def _ended_without_contact(outcome: str) -> ClockEnd:
    return {Outcome.DIED: ClockEnd.DIED, Outcome.DECLINED: ClockEnd.PERSON_DECLINED}.get(
        outcome, ClockEnd.NOT_TREATED
    )


def _minutes(start: datetime, end: datetime) -> int:
    """Whole minutes, rounded up: 120 minutes and 30 seconds is 121, so that the minutes and
    "met" never disagree (met within 120 minutes exactly when the minutes are 120 or fewer)."""
    return math.ceil((end - start) / timedelta(minutes=1))


def two_hour_clock(
    *,
    received_at: datetime,
    arrived_at: datetime | None,
    agreed_later: bool,
    status: str,
    status_changed_at: datetime,
    outcome: str,
) -> Clock:
    """A 2-hour UCR referral's clock (type 05): from receipt to the first face-to-face
    contact, or to the referral's end when it ended first (`two_hour_result`'s lines)."""
    kind = ClockKind.TWO_HOUR_UCR
    if arrived_at is not None:
        result = two_hour_result(
            in_standard=True,
            agreed_later=agreed_later,
            received_at=received_at,
            arrived_at=arrived_at,
            ended=False,
        )
        met = {TwoHourResult.MET: True, TwoHourResult.NOT_MET: False}.get(result)
        return Clock(
            kind,
            received_at,
            arrived_at,
            ClockEnd.CONTACT,
            _minutes(received_at, arrived_at),
            met,
            agreed_later,
        )
    if ended_referral(status):
        ended = _ended_without_contact(outcome)
        return Clock(
            kind,
            received_at,
            status_changed_at,
            ended,
            _minutes(received_at, status_changed_at),
            None,
            agreed_later,
        )
    return Clock(kind, received_at, None, ClockEnd.RUNNING, None, None, agreed_later)


def reablement_clock(
    *,
    start: datetime,
    care_started_at: datetime | None,
    status: str,
    status_changed_at: datetime,
    outcome: str,
    now: datetime,
) -> Clock:
    """A 2-day reablement clock (type 06): from its start to the start of reablement care,
    or to the referral's end when it ended with no reablement to come. Still running two
    days after its start, it is not met."""
    kind = ClockKind.TWO_DAY_REABLEMENT
    if care_started_at is not None:
        minutes = _minutes(start, care_started_at)
        return Clock(
            kind, start, care_started_at, ClockEnd.CONTACT, minutes, care_started_at <= start + TWO_DAYS
        )
    if not reablement_clock_runs(status=status, outcome=outcome):
        end = max(status_changed_at, start)
        return Clock(kind, start, end, _ended_without_contact(outcome), _minutes(start, end), None)
    return Clock(kind, start, None, ClockEnd.RUNNING, None, False if now > start + TWO_DAYS else None)


def reablement_clock_of(episode, *, now: datetime) -> Clock | None:
    """An episode's 2-day clock (its referral fetched with it), or None when it has none."""
    if episode.reablement_clock_start is None:
        return None
    return reablement_clock(
        start=episode.reablement_clock_start,
        care_started_at=episode.reablement_care_started_at,
        status=episode.referral.status,
        status_changed_at=episode.referral.status_changed_at,
        outcome=episode.outcome,
        now=now,
    )
