"""The Community Services Data Set (CSDS) extract: referral rows shaped as table CYP101 and
clock rows shaped as table CYP104, linked by SERVICE REQUEST IDENTIFIER (the referral's
reference), with the national field names and coded values only: no patient identifier
and no free text, so one audit event records the extract (as the flat export).

What a clock is (start, stop, met) is `recovery_at_home.clock`'s; this module only says it
in the data set's codes. The README (Exports) lists the columns and which codes are
national and which are this portal's mapping onto them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from core.uk_time import uk_day_start
from portal.exports import csv_stream
from recovery_at_home import clock
from recovery_at_home.models import Episode
from referrals.models import Reason, Referral, Source, to_nhs_services

CHUNK = 2000
LONDON = ZoneInfo("Europe/London")

CYP101_COLUMNS = [
    "SERVICE REQUEST IDENTIFIER",
    "REFERRAL REQUEST RECEIVED DATE",
    "REFERRAL REQUEST RECEIVED TIME",
    "SOURCE OF REFERRAL FOR COMMUNITY",
    "PRIMARY REASON FOR REFERRAL (COMMUNITY CARE)",
    "PRIORITY TYPE CODE",
]
CYP104_COLUMNS = [
    "SERVICE REQUEST IDENTIFIER",
    "WAITING TIME MEASUREMENT TYPE (COMMUNITY CARE)",
    "REFERRAL TO TREATMENT PERIOD START DATE",
    "REFERRAL TO TREATMENT PERIOD START TIME",
    "REFERRAL TO TREATMENT PERIOD END DATE",
    "REFERRAL TO TREATMENT PERIOD END TIME",
    "REFERRAL TO TREATMENT PERIOD STATUS",
    "WAITING TIME (MINUTES)",
    "RESPONSE STANDARD MET (Y/N)",
    # Not a CSDS field: the 2-hour standard reports a later time agreed with the person apart.
    "LATER TIME AGREED WITH PERSON (Y/N)",
]

# WAITING TIME MEASUREMENT TYPE (COMMUNITY CARE).
MEASUREMENT_TYPE = {clock.ClockKind.TWO_HOUR_UCR: "05", clock.ClockKind.TWO_DAY_REABLEMENT: "06"}

# SOURCE OF REFERRAL FOR COMMUNITY: the portal's sources mapped onto the national code
# list's families (A primary care, B self or carer, C social care, H hospital, P internal).
# To check against the CSDS v1.6 Technical Output Specification before a first submission:
# the README (Exports) says which codes are confirmed and which are this mapping's guess.
SOURCE_CODES = {
    Source.GP: "A1",  # General Medical Practitioner Practice
    Source.COMMUNITY_NURSING: "A3",  # Other primary health care
    Source.SOCIAL_CARE: "C1",  # Social services
    Source.HOSPITAL_DISCHARGE: "H2",  # Hospital-based (ward or bed)
    Source.NHS_111: "N3",  # NHS 111
    Source.AMBULANCE: "N5",  # Ambulance service
    Source.CARE_HOME: "E1",  # Care home
    Source.SELF: "B1",  # Self
    Source.FAMILY_CARER: "B2",  # Carer or relative
    Source.OTHER_PROFESSIONAL: "M9",  # Other service or agency
    Source.RECOVERY_AT_HOME: "P1",  # Internal referral
}

# PRIMARY REASON FOR REFERRAL (COMMUNITY CARE): the nine urgent community response
# conditions and the Community Integrated Teams' reasons; "other" is its own code (the
# referrer's words are free text and stay in the portal). These numbers are the portal's
# until the national list's are mapped onto them (README, Exports): one table to change.
REASON_CODES = {
    Reason.FALL: "40",
    Reason.FRAILTY: "41",
    Reason.REDUCED_FUNCTION: "42",
    Reason.PALLIATIVE: "43",
    Reason.EQUIPMENT: "44",
    Reason.DELIRIUM: "45",
    Reason.CATHETER: "46",
    Reason.DIABETES: "47",
    Reason.CARER_BREAKDOWN: "48",
    Reason.LONG_TERM_CONDITION: "10",
    Reason.FRAILTY_REVIEW: "11",
    Reason.WOUND_CARE: "12",
    Reason.MEDICATION: "13",
    Reason.SOCIAL_ISOLATION: "14",
    Reason.CARER_SUPPORT: "15",
    Reason.DISCHARGE_FOLLOW_UP: "16",
    Reason.OTHER: "99",
}

# PRIORITY TYPE CODE (NHS Data Dictionary): 1 routine, 2 urgent. Every Recovery at Home
# referral is urgent (its clock is hours); a team's referral is routine.
ROUTINE, URGENT = "1", "2"

# REFERRAL TO TREATMENT PERIOD STATUS (NHS Data Dictionary's national codes), for how a
# clock ended: 30 the clock stopped at the first contact or treatment, 34 a decision not to
# treat, 35 the person declined, 36 the person died first, 99 not yet known.
PERIOD_STATUS = {
    clock.ClockEnd.CONTACT: "30",  # first face-to-face contact (UCR) or reablement care began
    clock.ClockEnd.NOT_TREATED: "34",  # redirected, declined or admitted elsewhere first
    clock.ClockEnd.PERSON_DECLINED: "35",
    clock.ClockEnd.DIED: "36",
    clock.ClockEnd.RUNNING: "99",  # not yet known
}
YES_NO = {True: "Y", False: "N", None: ""}


def _date_time(moment: datetime | None) -> tuple[str, str]:
    """(date, time) in UK time, as the data set gives local date and time; or empty."""
    if moment is None:
        return "", ""
    local = moment.astimezone(LONDON)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")


def _between(start: date, end: date) -> tuple[datetime, datetime]:
    return uk_day_start(start), uk_day_start(end + timedelta(days=1))


# --- CYP101: the referrals received in the period ------------------------------------

REFERRAL_FIELDS = ("reference", "received_at", "source", "reason", "episode__pk")


def referral_rows(*, start: date, end: date) -> Iterator[list[str]]:
    since, until = _between(start, end)
    referrals = Referral.objects.filter(
        to_nhs_services(), received_at__gte=since, received_at__lt=until
    ).order_by("received_at", "pk")
    for reference, received, source, reason, episode in referrals.values_list(*REFERRAL_FIELDS).iterator(
        chunk_size=CHUNK
    ):
        day, time_of_day = _date_time(received)
        yield [
            reference,
            day,
            time_of_day,
            # Every choice is mapped (tested); a value stored before a choice was retired
            # is left empty rather than cutting the streamed file short.
            SOURCE_CODES.get(source, ""),
            REASON_CODES.get(reason, ""),
            ROUTINE if episode is None else URGENT,
        ]


def cyp101_lines(*, start: date, end: date) -> Iterator[str]:
    return csv_stream(CYP101_COLUMNS, referral_rows(start=start, end=end))


# --- CYP104: the clocks that started in the period, each once ------------------------

CLOCK_FIELDS = (
    "referral__reference",
    "referral__received_at",
    "referral__status",
    "referral__status_changed_at",
    "agreed_later_reason",
    "arrived_at",
    "outcome",
    "reablement_clock_start",
    "reablement_care_started_at",
)


def _two_hour_clock(values: dict, *, now: datetime) -> clock.Clock:
    return clock.two_hour_clock(
        received_at=values["referral__received_at"],
        arrived_at=values["arrived_at"],
        agreed_later=bool(values["agreed_later_reason"]),
        status=values["referral__status"],
        status_changed_at=values["referral__status_changed_at"],
        outcome=values["outcome"],
    )


def _reablement_clock(values: dict, *, now: datetime) -> clock.Clock:
    return clock.reablement_clock(
        start=values["reablement_clock_start"],
        care_started_at=values["reablement_care_started_at"],
        status=values["referral__status"],
        status_changed_at=values["referral__status_changed_at"],
        outcome=values["outcome"],
        now=now,
    )


def _clock_row(reference: str, found: clock.Clock) -> list[str]:
    start_day, start_time = _date_time(found.start)
    end_day, end_time = _date_time(found.end)
    return [
        reference,
        MEASUREMENT_TYPE[found.kind],
        start_day,
        start_time,
        end_day,
        end_time,
        PERIOD_STATUS[found.ended],
        "" if found.minutes is None else str(found.minutes),
        YES_NO[found.met],
        YES_NO[found.agreed_later] if found.kind == clock.ClockKind.TWO_HOUR_UCR else "",
    ]


def clock_rows(*, start: date, end: date) -> Iterator[list[str]]:
    """The 2-hour UCR clocks of referrals received in the period, then the 2-day reablement
    clocks that started in it: analysts count a clock in the month it started."""
    since, until = _between(start, end)
    ucr = Episode.objects.filter(
        clock.IN_TWO_HOUR_STANDARD, referral__received_at__gte=since, referral__received_at__lt=until
    ).order_by("referral__received_at", "pk")
    reablement = Episode.objects.filter(
        reablement_clock_start__gte=since, reablement_clock_start__lt=until
    ).order_by("reablement_clock_start", "pk")
    now = timezone.now()  # a clock still waiting two days after its start is not met
    for episodes, read in ((ucr, _two_hour_clock), (reablement, _reablement_clock)):
        for values in episodes.values(*CLOCK_FIELDS).iterator(chunk_size=CHUNK):
            yield _clock_row(values["referral__reference"], read(values, now=now))


def cyp104_lines(*, start: date, end: date) -> Iterator[str]:
    return csv_stream(CYP104_COLUMNS, clock_rows(start=start, end=end))
