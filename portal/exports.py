"""The referrals export: one row per referral with the Community Services Data Set
referral and response-clock fields, streamed so a million rows need no more memory than
ten. Rows carry no patient identifiers (it is for performance reporting), so one audit
event records the export rather than one per person: no free text either (a decline
reason or an outcome note may name the person), only coded values. Every cell that a
spreadsheet would read as a formula is neutralised (OWASP CSV injection).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from core.uk_time import uk_day_start
from recovery_at_home import clock
from referrals.models import Reason, Referral, Source, Status, to_nhs_services

CHUNK = 2000
LONDON = ZoneInfo("Europe/London")  # the portal shows UK time; the export too

COLUMNS = [
    ("referral_id", "Referral identifier"),
    ("referral_received_date", "Referral received date"),
    ("referral_received_time", "Referral received time"),
    ("source_of_referral", "Source of referral"),
    ("primary_reason", "Primary reason for referral"),
    ("priority", "Referral priority"),
    ("service", "Service"),
    ("team", "Team"),
    ("clock_start", "Response clock start"),
    ("clock_stop", "Response clock stop"),
    ("response_due", "Response due"),
    ("local_target_met", "Local target met (Y/N)"),
    ("in_two_hour_standard", "2-hour UCR referral (Y/N)"),
    ("two_hour_standard_met", "2-hour UCR standard met (Y/N; empty when not counted)"),
    ("referral_status", "Referral status"),
    ("discharge_date", "Discharge date"),
    ("discharge_reason", "Discharge reason (code)"),
]

FIELDS = (
    "reference",
    "received_at",
    "source",
    "reason",
    "episode__category__code",
    "service__name",
    "team__name",
    "episode__arrived_at",
    "episode__response_due_at",
    "episode__agreed_later_reason",
    "episode__window_minutes",
    "episode__category__two_hour_standard",
    "status",
    "status_changed_at",
    # How the referral ended, as the service that ended it coded it (the outcome's free
    # text is not exported).
    "episode__outcome",
    "caseload_entry__discharge_reason",
)
PRIORITY = {"crisis": "Crisis (1 hour)", "urgent": "Urgent (2 hours)", "same_day": "Same day (4 hours)"}
# Looked up once, not per row: a million rows make every call count.
SOURCES, REASONS, STATUSES = dict(Source.choices), dict(Reason.choices), dict(Status.choices)
YES_NO = {True: "Y", False: "N"}
# Counted in the 2-hour share: met or not; agreed later, running or ended before a contact
# are not counted (the CSDS extract says which).
TWO_HOUR_MET = {clock.TwoHourResult.MET: "Y", clock.TwoHourResult.NOT_MET: "N"}


def referrals_received_between(start: date, end: date) -> QuerySet[Referral]:
    """Referrals received from the start of `start` to the end of `end`, UK days."""
    since, until = uk_day_start(start), uk_day_start(end + timedelta(days=1))
    return Referral.objects.filter(to_nhs_services(), received_at__gte=since, received_at__lt=until).order_by(
        "received_at", "pk"
    )


def _local(moment: datetime | None) -> tuple[str, str]:
    """(date, time) in UK time, or empty."""
    if moment is None:
        return "", ""
    local = moment.astimezone(LONDON)
    return (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d}",
        f"{local.hour:02d}:{local.minute:02d}",
    )


def _stamp(moment: datetime | None) -> str:
    day, time_of_day = _local(moment)
    return f"{day} {time_of_day}" if moment else ""


def _row(values: tuple) -> list[str]:
    (reference, received, source, reason, category, service, team, arrived, due, agreed_later, window,
     two_hour_category, status, changed, episode_outcome, discharge_reason) = values  # fmt: skip
    ended = clock.ended_referral(status)
    # Two columns read it: once a row, a million rows make every call count.
    in_two_hour = window is not None and clock.in_two_hour_standard(two_hour_category)
    # Empty for a referral with no clock (a team's), or while the clock runs.
    local = None if window is None else clock.local_target_met(
        received_at=received, window_minutes=window, arrived_at=arrived, agreed_later=bool(agreed_later)
    )  # fmt: skip
    two_hour = None if window is None else clock.two_hour_result(
        in_standard=in_two_hour,
        agreed_later=bool(agreed_later),
        received_at=received,
        arrived_at=arrived,
        ended=ended,
    )  # fmt: skip
    received_day, received_time = _local(received)
    priority = PRIORITY.get(category, "Routine" if due is None else "Not triaged")
    return [
        reference,
        received_day,
        received_time,
        SOURCES.get(source, source),
        REASONS.get(reason, reason),
        priority + (" (agreed later)" if agreed_later else ""),
        service,
        team or "",
        f"{received_day} {received_time}" if due else "",
        _stamp(arrived),
        _stamp(due),
        YES_NO.get(local, ""),
        "" if window is None else YES_NO[in_two_hour],
        TWO_HOUR_MET.get(two_hour, ""),
        STATUSES.get(status, status),
        _local(changed)[0] if ended else "",
        (episode_outcome or discharge_reason or status) if ended else "",
    ]


# A cell starting with one of these is a formula to Excel, LibreOffice and Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(cell: str) -> str:
    """A cell a spreadsheet shows as text: a leading apostrophe stops a formula."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


class _Echo:
    """csv.writer writes into this and gets the line back: nothing accumulates."""

    def write(self, value: str) -> str:
        return value


# A byte-order mark first: without it Excel reads UTF-8 as the local code page, and names
# like "Zoë" or "Ó Briain" come out garbled.
BYTE_ORDER_MARK = "\ufeff"


def csv_stream(header: list[str], rows: Iterator[list[str]]) -> Iterator[str]:
    """CSV lines, one at a time (the header first), every cell neutralised."""
    writer = csv.writer(_Echo())
    yield BYTE_ORDER_MARK + writer.writerow(header)
    for row in rows:
        yield writer.writerow([neutralised(cell) for cell in row])


def csv_lines(referrals: QuerySet[Referral]) -> Iterator[str]:
    """The header, then a line per referral, read through a server-side cursor in chunks."""
    rows = (_row(values) for values in referrals.values_list(*FIELDS).iterator(chunk_size=CHUNK))
    return csv_stream([label for _, label in COLUMNS], rows)


def referral_lines(*, start: date, end: date) -> Iterator[str]:
    """The flat export of the referrals received from `start` to `end` (UK days)."""
    return csv_lines(referrals_received_between(start, end))
