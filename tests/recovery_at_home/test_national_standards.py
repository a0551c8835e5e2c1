"""The national 2-hour urgent community response (UCR) standard and each category's local
target, never mixed: a table of cases written from the definitions (README, Performance),
each made through the services as staff would, then read back from the referral page's
clock, the flat export and the dashboard.

The 2-hour standard: every referral triaged as needing a response within two hours or
sooner (crisis included) or not triaged yet; met when the first face-to-face contact is
within 120 real minutes of receipt; a later time agreed with the person, and a referral
that ends with nobody there, are reported apart. The local target: reached within the
category's own window (crisis 1 hour, urgent 2 hours, same day 4 hours).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from core.models import AuditAction, AuditEvent, Service
from portal import csds, performance
from recovery_at_home import clock, services
from recovery_at_home.models import Episode, Outcome, TriageCategory
from referrals import services as referral_services
from referrals.models import PARTNER_REASONS, REASONS_BY_SERVICE, Reason, Source
from tests.factories import PatientFactory, ReferralFactory

LONDON = ZoneInfo("Europe/London")
WINTER = dt.datetime(2026, 11, 16, 10, 0, tzinfo=LONDON)  # a Monday, GMT
# 00:30 GMT on the last Sunday of March: at 01:00 the clocks go forward to 02:00 BST.
SPRING_FORWARD = dt.datetime(2026, 3, 29, 0, 30, tzinfo=LONDON)
# 00:30 BST on the last Sunday of October: at 02:00 BST the clocks go back to 01:00 GMT.
FALL_BACK = dt.datetime(2026, 10, 25, 0, 30, tzinfo=LONDON)

MET, NOT_MET = clock.TwoHourResult.MET, clock.TwoHourResult.NOT_MET
AGREED_LATER, ENDED = clock.TwoHourResult.AGREED_LATER, clock.TwoHourResult.ENDED_WITHOUT_CONTACT
RUNNING = clock.TwoHourResult.RUNNING


@dataclass(frozen=True)
class Case:
    name: str
    category: str | None  # None: never triaged
    minutes_to_contact: int | None  # real minutes from receipt to the first face-to-face contact
    two_hour: clock.TwoHourResult | None  # None: not a 2-hour UCR referral
    local_target_met: bool | None  # None: nobody reached the person, or at a time agreed later
    # The CSDS extract's 2-hour UCR clock (type 05) row, written from the definitions:
    # (REFERRAL TO TREATMENT PERIOD STATUS, WAITING TIME (MINUTES), RESPONSE STANDARD MET),
    # or None where the referral has no 2-hour clock. Status 30: reached; 34: ended untreated
    # (redirected, admitted elsewhere); 36: died first; 99: still running.
    csds: tuple[str, str, str] | None
    received: dt.datetime = WINTER
    agreed_later: bool = False
    ends: str = ""  # "redirected", "died", "hospital": how it ended before a contact


CASES = [
    Case("crisis reached in 50 minutes", "crisis", 50, MET, True, ("30", "50", "Y")),
    Case("crisis reached in 100 minutes", "crisis", 100, MET, False, ("30", "100", "Y")),
    Case("crisis reached in 121 minutes", "crisis", 121, NOT_MET, False, ("30", "121", "N")),
    Case("crisis reached at exactly one hour", "crisis", 60, MET, True, ("30", "60", "Y")),
    Case("urgent reached at exactly two hours", "urgent", 120, MET, True, ("30", "120", "Y")),
    Case("urgent reached a minute late", "urgent", 121, NOT_MET, False, ("30", "121", "N")),
    Case("urgent reached in 25 minutes", "urgent", 25, MET, True, ("30", "25", "Y")),
    Case("urgent reached in 90 minutes", "urgent", 90, MET, True, ("30", "90", "Y")),
    Case("same day reached in 3 hours", "same_day", 180, None, True, None),
    Case("same day reached in 90 minutes", "same_day", 90, None, True, None),
    Case("same day reached in 5 hours", "same_day", 300, None, False, None),
    Case(
        "urgent, a later time agreed, reached then",
        "urgent",
        240,
        AGREED_LATER,
        None,
        ("30", "240", ""),
        agreed_later=True,
    ),
    Case(
        "crisis, a later time agreed, reached in 50",
        "crisis",
        50,
        AGREED_LATER,
        None,
        ("30", "50", ""),
        agreed_later=True,
    ),
    # The wall clock reads 03:25 BST, 2 h 55 min after 00:30 GMT; 115 real minutes passed.
    Case(
        "urgent across the spring clock change",
        "urgent",
        115,
        MET,
        True,
        ("30", "115", "Y"),
        received=SPRING_FORWARD,
    ),
    # The wall clock reads 01:40 GMT, 1 h 10 min after 00:30 BST; 130 real minutes passed.
    Case(
        "urgent across the autumn clock change",
        "urgent",
        130,
        NOT_MET,
        False,
        ("30", "130", "N"),
        received=FALL_BACK,
    ),
    Case("never triaged, reached in 110 minutes", None, 110, MET, True, ("30", "110", "Y")),
    Case("never triaged, reached in 130 minutes", None, 130, NOT_MET, False, ("30", "130", "N")),
    Case("redirected before triage or contact", None, None, ENDED, None, ("34", "45", ""), ends="redirected"),
    Case("crisis, died before contact", "crisis", None, ENDED, None, ("36", "45", ""), ends="died"),
    Case(
        "urgent, admitted to hospital before contact",
        "urgent",
        None,
        ENDED,
        None,
        ("34", "45", ""),
        ends="hospital",
    ),
    Case("same day, died before contact", "same_day", None, None, None, None, ends="died"),
    Case("urgent, still waiting", "urgent", None, RUNNING, None, ("99", "", "")),
]


def _make(world, case: Case, n: int):
    coordinator, responder = world.users["rah_coordinator"], world.users["rah_responder"]
    # In UTC: minutes added to a UK wall-clock time would be wall-clock minutes, and across a
    # clock change those are not the real minutes the standard counts.
    received = case.received.astimezone(dt.UTC) + dt.timedelta(minutes=n)  # one a minute
    with time_machine.travel(received, tick=False):
        referral = ReferralFactory(service=world.rah, patient=PatientFactory(practice=world.practice_a))
        if case.category:
            category = TriageCategory.objects.get(code=case.category)
            services.triage_referral(referral=referral, category=category, user=coordinator)
        if case.agreed_later:
            services.agree_later_time(
                referral=referral,
                user=coordinator,
                due_at=received + dt.timedelta(hours=4),
                reason="The person asked for the afternoon",
            )
    if case.minutes_to_contact is not None:
        with time_machine.travel(received + dt.timedelta(minutes=case.minutes_to_contact), tick=False):
            services.record_arrival(referral=referral, user=responder)
    with time_machine.travel(received + dt.timedelta(minutes=45), tick=False):
        if case.ends == "redirected":
            cit = Service.objects.get(code=Service.Code.COMMUNITY_INTEGRATED_TEAMS)
            referral_services.redirect_referral(
                referral=referral, user=coordinator, service=cit, team=world.team_a, note="Not urgent"
            )
        elif case.ends in ("died", "hospital"):
            outcome = Outcome.DIED if case.ends == "died" else Outcome.HOSPITAL
            services.record_outcome(referral=referral, user=coordinator, outcome=outcome)
    return referral


@pytest.fixture
def made(world):
    return [(case, _make(world, case, n)) for n, case in enumerate(CASES)]


def test_each_referral_stands_as_the_definitions_say(made):
    assert len(CASES) >= 20
    for case, referral in made:
        standards = clock.standards_of(
            Episode.objects.select_related("referral", "category").get(referral=referral)
        )
        assert (standards["two_hour"], standards["local_target_met"]) == (
            case.two_hour,
            case.local_target_met,
        ), case.name


def test_the_export_says_the_same_of_each(world, client_for, made):
    manager = client_for(world.users["service_manager"])
    rows = {}
    for day in sorted({referral.received_at.astimezone(LONDON).date() for _, referral in made}):
        response = manager.get(reverse("referral_export"), {"received_from": day, "received_to": day})
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        rows |= {row["Referral identifier"]: row for row in csv.DictReader(io.StringIO(text))}
    yes_no = {True: "Y", False: "N", None: ""}
    for case, referral in made:
        row = rows[referral.reference]
        assert (
            row["2-hour UCR referral (Y/N)"],
            row["2-hour UCR standard met (Y/N; empty when not counted)"],
            row["Local target met (Y/N)"],
        ) == (
            yes_no[case.two_hour is not None],
            {MET: "Y", NOT_MET: "N"}.get(case.two_hour, ""),
            yes_no[case.local_target_met],
        ), case.name


def test_the_dashboard_counts_the_winter_day_as_written_down(made):
    """Of the table's cases received on the winter Monday (all but the two clock changes):
    16 are 2-hour UCR referrals (6 crisis, 7 urgent, 3 never triaged); the 10 reached with
    no later time agreed are in the share and 7 of those met it (70%); 2 agreed later and 3
    ended before a contact are reported apart, and 1 still waits. Local targets, by
    category, of those reached with no later time agreed (the untriaged have none):
    crisis 2 of 4, urgent 3 of 4, same day 2 of 3."""
    winter = performance.Period(start=WINTER.date(), end=WINTER.date())
    figures = performance.two_hour_standard(winter)
    assert {
        key: figures[key] for key in ("in_standard", "total", "met", "agreed_later", "ended_without_contact")
    } == {
        "in_standard": 16,
        "total": 10,
        "met": 7,
        "agreed_later": 2,
        "ended_without_contact": 3,
    }
    assert figures["share"] == 0.7
    assert [
        (row["category"], row["within"], row["reached"]) for row in performance.local_targets(winter)
    ] == [
        ("Crisis (1 hour)", 2, 4),
        ("Urgent community response (2 hours)", 3, 4),
        ("Same day (4 hours)", 2, 3),
    ]


def test_the_clock_change_days_count_real_minutes(made):
    spring = performance.two_hour_standard(
        performance.Period(start=SPRING_FORWARD.date(), end=SPRING_FORWARD.date())
    )
    autumn = performance.two_hour_standard(performance.Period(start=FALL_BACK.date(), end=FALL_BACK.date()))
    assert (spring["met"], spring["total"]) == (1, 1)
    assert (autumn["met"], autumn["total"]) == (0, 1)


def test_the_dashboard_counts_all_ucr_referrals_the_contacts_and_the_rate(world, client_for, made):
    """The national publication's other figures for the winter Monday: its 20 UCR referrals
    (2-hour or not), the 15 first face-to-face contacts made that day, and the rate per
    100,000 residents of the practice's neighbourhood (50,000 people: 40 per 100,000)."""
    neighbourhood = world.practice_a.neighbourhood
    neighbourhood.population = 50_000
    neighbourhood.save()
    winter = performance.Period(start=WINTER.date(), end=WINTER.date())
    ucr = performance.ucr_activity(winter)
    assert (ucr["referrals"], ucr["contacts"]) == (20, 15)
    assert ucr["per_100k"] == [
        {
            "neighbourhood": neighbourhood.name,
            "locality": neighbourhood.pk,
            "population": 50_000,
            "referrals": 20,
            "rate": 40.0,
        }
    ]
    page = client_for(world.users["service_manager"]).get(
        reverse("performance"), {"start": WINTER.date().isoformat(), "end": WINTER.date().isoformat()}
    )
    html = page.content.decode()
    assert '<p class="display-6 mb-0" id="ucr-referrals">20</p>' in html
    assert "15 UCR contacts delivered" in html
    assert '<p class="display-6 mb-0" id="two-hour-share">70%</p>' in html


# --- The CSDS extract: CYP101 referral rows and CYP104 clock rows ---------------------


def _extract(client, extract: str, days) -> list[dict]:
    rows = []
    for day in sorted(days):
        response = client.get(
            reverse("referral_export"), {"received_from": day, "received_to": day, "extract": extract}
        )
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith(f'attachment; filename="atb-csds-{extract}-')
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        rows += list(csv.DictReader(io.StringIO(text)))
    return rows


def _days(made) -> set[dt.date]:
    return {referral.received_at.astimezone(LONDON).date() for _, referral in made}


CLOCK_TYPE = "WAITING TIME MEASUREMENT TYPE (COMMUNITY CARE)"
STATUS = "REFERRAL TO TREATMENT PERIOD STATUS"
MINUTES = "WAITING TIME (MINUTES)"
MET_YN = "RESPONSE STANDARD MET (Y/N)"
REQUEST = "SERVICE REQUEST IDENTIFIER"


def test_the_csds_clock_rows_say_the_same_of_each(world, client_for, made):
    """Each 2-hour UCR referral has one type 05 clock row, the same-day ones none."""
    rows = _extract(client_for(world.users["service_manager"]), "cyp104", _days(made))
    by_referral = {}
    for row in rows:
        by_referral.setdefault(row[REQUEST], []).append(row)
    for case, referral in made:
        clocks = by_referral.get(referral.reference, [])
        if case.csds is None:
            assert clocks == [], case.name
            continue
        assert [row[CLOCK_TYPE] for row in clocks] == ["05"], case.name
        row = clocks[0]
        assert (row[STATUS], row[MINUTES], row[MET_YN]) == case.csds, case.name
        assert row["LATER TIME AGREED WITH PERSON (Y/N)"] == ("Y" if case.agreed_later else "N"), case.name


def test_a_clock_across_a_clock_change_is_given_in_uk_time(world, client_for, made):
    """The spring case (the 14th, received at 00:43 GMT) reached 115 minutes later at 03:38
    BST; the autumn case (the 15th, received at 00:44 BST) 130 minutes later at 01:54 GMT."""
    rows = {
        row[REQUEST]: row
        for row in _extract(client_for(world.users["service_manager"]), "cyp104", _days(made))
    }
    spring, autumn = (rows[referral.reference] for case, referral in made if "clock change" in case.name)
    fields = [
        "REFERRAL TO TREATMENT PERIOD START DATE",
        "REFERRAL TO TREATMENT PERIOD START TIME",
        "REFERRAL TO TREATMENT PERIOD END DATE",
        "REFERRAL TO TREATMENT PERIOD END TIME",
        MINUTES,
    ]
    assert [spring[field] for field in fields] == ["2026-03-29", "00:43:00", "2026-03-29", "03:38:00", "115"]
    assert [autumn[field] for field in fields] == ["2026-10-25", "00:44:00", "2026-10-25", "01:54:00", "130"]


def test_the_csds_referral_rows_carry_codes_only(world, client_for, made):
    """A GP's referral for a fall without serious injury: source A1, reason 40, urgent (2);
    the referral it was redirected to (a team's) is routine (1)."""
    rows = {
        row[REQUEST]: row
        for row in _extract(client_for(world.users["service_manager"]), "cyp101", _days(made))
    }
    for n, (case, referral) in enumerate(made):
        row = rows[referral.reference]
        assert (
            row["SOURCE OF REFERRAL FOR COMMUNITY"],
            row["PRIMARY REASON FOR REFERRAL (COMMUNITY CARE)"],
            row["PRIORITY TYPE CODE"],
        ) == ("A1", "40", "2"), case.name
        if case.received == WINTER:
            assert (row["REFERRAL REQUEST RECEIVED DATE"], row["REFERRAL REQUEST RECEIVED TIME"]) == (
                "2026-11-16",
                f"10:{n:02d}:00",
            ), case.name
    redirected = next(referral for case, referral in made if case.ends == "redirected")
    redirected.refresh_from_db()
    assert rows[redirected.redirected_to.reference]["PRIORITY TYPE CODE"] == "1"
    # The national names and nothing else: no NHS number, name, date of birth or free text.
    assert list(rows[redirected.reference]) == [
        "SERVICE REQUEST IDENTIFIER",
        "REFERRAL REQUEST RECEIVED DATE",
        "REFERRAL REQUEST RECEIVED TIME",
        "SOURCE OF REFERRAL FOR COMMUNITY",
        "PRIMARY REASON FOR REFERRAL (COMMUNITY CARE)",
        "PRIORITY TYPE CODE",
    ]


# --- The 2-day reablement clock (CSDS type 06) ------------------------------------------
# Started at receipt when the referral asked for reablement, else when the need was found;
# stopped when reablement care begins; met within 48 real hours, and not met once 48 hours
# pass with no care; none for a referral from a hospital ward or bed. The figures are read
# on AFTER, four days on, when the one still waiting is overdue. Each case is urgent and
# reached within two hours, then (unless it ended first) closed with the person at home on
# short-term care, as the service does.
REABLEMENT_DAY = dt.datetime(2026, 11, 18, 9, 0, tzinfo=LONDON)  # a Wednesday
AFTER = REABLEMENT_DAY + dt.timedelta(days=4)


@dataclass(frozen=True)
class ReablementCase:
    name: str
    reached: int  # minutes after receipt
    needed: int  # minutes after receipt that the need was recorded (asked for: before reached)
    care: int | None  # minutes after receipt that reablement care began
    # The type 06 row: (status, waiting minutes, met), or None where there is no such clock.
    csds: tuple[str, str, str] | None
    source: str = "gp"
    # How and when (minutes after receipt) it ended before care; else the person stays at
    # home on short-term care, the clock running until care begins.
    ended: tuple[str, int] | None = None


REABLEMENT_CASES = [
    # Found at the visit (recorded 90 minutes after receipt), care a day after that.
    ReablementCase("found at the visit, care a day later", 60, 90, 90 + 24 * 60, ("30", "1440", "Y")),
    # Asked for in the referral (recorded at triage, before the visit): the clock is receipt's.
    ReablementCase("asked for, care three days after receipt", 30, 10, 3 * 24 * 60, ("30", "4320", "N")),
    ReablementCase("asked for, care at exactly two days", 20, 5, 2 * 24 * 60, ("30", "2880", "Y")),
    ReablementCase(
        "asked for, care two days and a minute later", 20, 5, 2 * 24 * 60 + 1, ("30", "2881", "N")
    ),
    ReablementCase("from a hospital ward: no 2-day clock", 45, 50, None, None, source="hospital_discharge"),
    # Found at the visit 60 minutes in; died two hours after receipt: 60 minutes on the clock.
    ReablementCase(
        "found at the visit, died before care", 30, 60, None, ("36", "60", ""), ended=(Outcome.DIED, 120)
    ),
    # Handed to the Community Integrated Team 3 hours in, before any reablement: the clock
    # ends untreated here (34); the team's referral carries no 2-day clock.
    ReablementCase(
        "found at the visit, handed to the team before care",
        40,
        50,
        None,
        ("34", "130", ""),
        ended=(Outcome.HANDED_TO_CIT, 180),
    ),
    # Nothing ends it; two days on it can no longer be met.
    ReablementCase("asked for, still waiting for care", 30, 15, None, ("99", "", "N")),
]


def _make_reablement(world, case: ReablementCase, n: int):
    coordinator, responder = world.users["rah_coordinator"], world.users["rah_responder"]
    received = REABLEMENT_DAY.astimezone(dt.UTC) + dt.timedelta(minutes=n)

    def at(minutes: int):
        return time_machine.travel(received + dt.timedelta(minutes=minutes), tick=False)

    with at(0):
        referral = ReferralFactory(
            service=world.rah, source=case.source, patient=PatientFactory(practice=world.practice_a)
        )
        services.triage_referral(
            referral=referral, category=TriageCategory.objects.get(code="urgent"), user=coordinator
        )
    steps = [(case.reached, "reached"), (case.needed, "needed")]
    for minutes, step in sorted(steps):
        with at(minutes):
            if step == "reached":
                services.record_arrival(referral=referral, user=responder)
            elif case.source == "hospital_discharge":
                with pytest.raises(services.ClockRefused, match="not on the 2-day clock"):
                    services.record_reablement_need(referral=referral, user=responder)
            else:
                asked = case.name.startswith("asked for")
                services.record_reablement_need(referral=referral, user=responder, in_referral=asked)
    if case.ended is None:
        with at(max(case.reached, case.needed) + 1):
            services.record_outcome(
                referral=referral,
                user=coordinator,
                outcome=Outcome.REMAINED_AT_HOME,
                planned_end_date=REABLEMENT_DAY.date() + dt.timedelta(weeks=6),
            )
    else:
        outcome, minutes = case.ended
        with at(minutes):
            services.record_outcome(referral=referral, user=coordinator, outcome=outcome)
    if case.care is not None:
        with at(case.care):
            services.record_reablement_start(referral=referral, user=responder)
    return referral


@pytest.fixture
def reablement_made(world):
    return [(case, _make_reablement(world, case, n)) for n, case in enumerate(REABLEMENT_CASES)]


def test_the_reablement_clock_rows_say_what_the_definitions_do(world, client_for, reablement_made):
    with time_machine.travel(AFTER, tick=False):
        rows = _extract(client_for(world.users["service_manager"]), "cyp104", {REABLEMENT_DAY.date()})
    reablement_rows = {row[REQUEST]: row for row in rows if row[CLOCK_TYPE] == "06"}
    ucr_rows = {row[REQUEST]: row for row in rows if row[CLOCK_TYPE] == "05"}
    for case, referral in reablement_made:
        # Each was reached within two hours: its 2-hour clock is met whatever came after.
        assert (ucr_rows[referral.reference][STATUS], ucr_rows[referral.reference][MET_YN]) == ("30", "Y")
        row = reablement_rows.get(referral.reference)
        if case.csds is None:
            assert row is None, case.name
        else:
            assert (row[STATUS], row[MINUTES], row[MET_YN]) == case.csds, case.name
            assert row["LATER TIME AGREED WITH PERSON (Y/N)"] == "", case.name


def test_the_reablement_clock_starts_when_the_definitions_say(world, client_for, reablement_made):
    """Asked for: from receipt (09:01 for the second case); found at the visit: from when it
    was recorded (09:00 + 90 minutes for the first)."""
    rows = {
        row[REQUEST]: row
        for row in _extract(client_for(world.users["service_manager"]), "cyp104", {REABLEMENT_DAY.date()})
        if row[CLOCK_TYPE] == "06"
    }
    found, asked = reablement_made[0][1], reablement_made[1][1]
    start = ("REFERRAL TO TREATMENT PERIOD START DATE", "REFERRAL TO TREATMENT PERIOD START TIME")
    end = ("REFERRAL TO TREATMENT PERIOD END DATE", "REFERRAL TO TREATMENT PERIOD END TIME")
    assert [rows[found.reference][field] for field in (*start, *end)] == [
        "2026-11-18",
        "10:30:00",
        "2026-11-19",
        "10:30:00",
    ]
    assert [rows[asked.reference][field] for field in (*start, *end)] == [
        "2026-11-18",
        "09:01:00",
        "2026-11-21",
        "09:01:00",
    ]


def test_the_dashboard_counts_the_reablement_clocks(reablement_made):
    """Seven clocks started (the hospital ward's has none). Four days on: care began for
    four, two within two days, and the one still waiting is past its two days, so five count
    and two met them: 40%. The two that ended first (died, handed to the team) are apart."""
    day = performance.Period(start=REABLEMENT_DAY.date(), end=REABLEMENT_DAY.date())
    with time_machine.travel(AFTER, tick=False):
        figures = performance.reablement(day)
    assert figures == {
        "started": 7,
        "total": 5,
        "met": 2,
        "overdue": 1,
        "waiting": 0,
        "ended": 2,
        "share": 0.4,
    }


def test_within_its_two_days_a_waiting_clock_is_apart_and_not_yet_met(world, client_for, reablement_made):
    """The next morning the clock still waiting (from 09:07) has a day left: it is not in the
    share and its row says neither met nor not met."""
    day = performance.Period(start=REABLEMENT_DAY.date(), end=REABLEMENT_DAY.date())
    with time_machine.travel(REABLEMENT_DAY + dt.timedelta(days=1), tick=False):
        figures = performance.reablement(day)
        rows = _extract(client_for(world.users["service_manager"]), "cyp104", {REABLEMENT_DAY.date()})
    assert (figures["total"], figures["waiting"], figures["overdue"]) == (4, 1, 0)
    waiting = reablement_made[-1][1]
    row = next(row for row in rows if row[REQUEST] == waiting.reference and row[CLOCK_TYPE] == "06")
    assert (row[STATUS], row[MINUTES], row[MET_YN]) == ("99", "", "")


def test_the_referral_page_shows_the_reablement_clock(world, client_for, reablement_made):
    case, referral = reablement_made[-1]  # still waiting for care
    responder = client_for(world.users["rah_responder"])
    # The later visit first: each request moves the session's idle expiry to its own time.
    with time_machine.travel(AFTER, tick=False):
        html = responder.get(referral.get_absolute_url()).content.decode()
    assert "still waiting, more than 2 days: not met (due 20 Nov 2026 09:07)" in html
    with time_machine.travel(REABLEMENT_DAY + dt.timedelta(days=1), tick=False):
        html = responder.get(referral.get_absolute_url()).content.decode()
    assert "2-day reablement" in html
    assert "care due to begin by 20 Nov 2026 09:07" in html
    assert "Record when reablement care began" in html


def test_reablement_recorded_twice_is_refused_and_says_when(world, reablement_made):
    case, referral = reablement_made[0]
    with pytest.raises(services.ClockRefused, match="was recorded at 18 Nov 2026 10:30"):
        services.record_reablement_need(referral=referral, user=world.users["rah_coordinator"])
    with pytest.raises(services.ClockRefused, match="recorded as beginning at 19 Nov 2026 10:30"):
        services.record_reablement_start(referral=referral, user=world.users["rah_coordinator"])


def test_reablement_care_cannot_begin_before_its_clock_or_without_one(world):
    coordinator = world.users["rah_coordinator"]
    with time_machine.travel(REABLEMENT_DAY, tick=False):
        referral = ReferralFactory(service=world.rah, patient=PatientFactory(practice=world.practice_a))
        with pytest.raises(services.ClockRefused, match="Record first that the person needs reablement"):
            services.record_reablement_start(referral=referral, user=coordinator)
    with time_machine.travel(REABLEMENT_DAY + dt.timedelta(hours=1), tick=False):
        services.record_arrival(referral=referral, user=coordinator)
        services.record_reablement_need(referral=referral, user=coordinator)
        with pytest.raises(services.ClockRefused, match="cannot begin before the 2-day clock started"):
            services.record_reablement_start(
                referral=referral,
                user=coordinator,
                started_at=REABLEMENT_DAY + dt.timedelta(minutes=30),
                late_reason="Entered back at the base",
            )
    episode = Episode.objects.get(referral=referral)
    assert episode.reablement_care_started_at is None


# --- Each national figure links to the referrals behind it --------------------------------


def _listed(client, name: str, day: dt.date, **more) -> tuple[set[str], str]:
    response = client.get(
        reverse("performance_figure", args=[name]), {"start": day.isoformat(), "end": day.isoformat(), **more}
    )
    assert response.status_code == 200
    html = response.content.decode()
    return {reference for reference in REFERENCE.findall(html)}, html


REFERENCE = re.compile(r'<a href="/referrals/[^"]+/">([^<]+)</a>')


def test_each_figure_lists_the_referrals_it_counts(world, client_for, made):
    """On the winter Monday, as the coordinator follows the dashboard's links: the 7 that met
    the 2-hour standard are the 7 cases the table says met it, and so on for each figure."""
    coordinator = client_for(world.users["rah_coordinator"])
    day = WINTER.date()
    winter = [(case, referral) for case, referral in made if case.received == WINTER]
    expected = {
        "two_hour_met": {r.reference for c, r in winter if c.two_hour == MET},
        "two_hour_counted": {r.reference for c, r in winter if c.two_hour in (MET, NOT_MET)},
        "two_hour_agreed_later": {r.reference for c, r in winter if c.two_hour == AGREED_LATER},
        "two_hour_ended": {r.reference for c, r in winter if c.two_hour == ENDED},
        "two_hour_referrals": {r.reference for c, r in winter if c.two_hour is not None},
        "ucr_referrals": {r.reference for c, r in winter},
    }
    assert [len(expected[name]) for name in expected] == [7, 10, 2, 3, 16, 20]
    dashboard = coordinator.get(reverse("performance"), {"start": day.isoformat(), "end": day.isoformat()})
    html = dashboard.content.decode()
    for name, references in expected.items():
        query = f"start={day.isoformat()}&amp;end={day.isoformat()}"
        assert f'<a href="{reverse("performance_figure", args=[name])}?{query}">{len(references)}</a>' in html
        assert _listed(coordinator, name, day)[0] == references, name


def test_a_manager_reads_the_figures_without_links_to_people(world, client_for, made):
    manager = client_for(world.users["service_manager"])
    day = WINTER.date().isoformat()
    html = manager.get(reverse("performance"), {"start": day, "end": day}).content.decode()
    assert '<p class="display-6 mb-0" id="ucr-referrals">20</p>' in html
    assert reverse("performance_figure", args=["ucr_referrals"]) not in html
    assert manager.get(reverse("performance_figure", args=["ucr_referrals"])).status_code == 403


def test_opening_a_figure_list_is_audited_for_each_person(world, client_for, made):
    coordinator = world.users["rah_coordinator"]
    _listed(client_for(coordinator), "two_hour_met", WINTER.date())
    listed = AuditEvent.objects.filter(
        user=coordinator, action=AuditAction.LIST, detail__startswith="Performance"
    )
    met = {r.patient_id for c, r in made if c.two_hour == MET and c.received == WINTER}
    assert set(listed.values_list("patient_id", flat=True)) == met


def test_a_figure_list_reads_a_constant_number_of_queries(world, client_for, django_assert_max_num_queries):
    coordinator = client_for(world.users["rah_coordinator"])
    with time_machine.travel(WINTER, tick=False):
        for _ in range(3):
            ReferralFactory(service=world.rah, patient=PatientFactory(practice=world.practice_a))
    with django_assert_max_num_queries(11):
        assert len(_listed(coordinator, "ucr_referrals", WINTER.date())[0]) == 3
    with time_machine.travel(WINTER, tick=False):
        for _ in range(30):
            ReferralFactory(service=world.rah, patient=PatientFactory(practice=world.practice_a))
    with django_assert_max_num_queries(11):
        assert len(_listed(coordinator, "ucr_referrals", WINTER.date())[0]) == 33


@pytest.mark.parametrize(
    "query",
    [
        {"start": "2026-11-16\x00", "end": "2026-11-16"},
        {"start": "٢٠٢٦-١١-١٦", "end": "2026-11-16"},
        {"start": "2026-11-17", "end": "2026-11-16"},
    ],
)
def test_a_figure_list_with_a_bad_period_says_so_and_lists_nobody(world, client_for, made, query):
    coordinator = world.users["rah_coordinator"]
    response = client_for(coordinator).get(reverse("performance_figure", args=["ucr_referrals"]), query)
    assert response.status_code == 400
    if "\x00" not in query["start"]:  # a NUL byte is refused before the page (core.input)
        assert 'role="alert"' in response.content.decode()
    assert not REFERENCE.findall(response.content.decode())
    assert not AuditEvent.objects.filter(user=coordinator, detail__startswith="Performance").exists()


def test_a_figure_list_answers_any_page_number(world, client_for, made):
    response = client_for(world.users["rah_coordinator"]).get(
        reverse("performance_figure", args=["two_hour_met"]),
        {"start": WINTER.date().isoformat(), "end": WINTER.date().isoformat(), "page": "x" * 5000},
    )
    assert response.status_code == 200 and len(REFERENCE.findall(response.content.decode())) == 7


def test_an_unknown_figure_is_not_found(world, client_for):
    response = client_for(world.users["rah_coordinator"]).get(
        reverse("performance_figure", args=["nhs_numbers"])
    )
    assert response.status_code == 404


def test_care_recorded_later_needs_a_reason_and_may_precede_the_end(world, reablement_made):
    """Care that began before the person died may be recorded afterwards, with a reason;
    care "after" the death may not."""
    case, referral = next(made for made in reablement_made if made[0].ended == (Outcome.DIED, 120))
    received = referral.received_at
    with time_machine.travel(received + dt.timedelta(hours=5), tick=False):
        with pytest.raises(services.ClockRefused, match="after the event needs a reason"):
            services.record_reablement_start(
                referral=referral,
                user=world.users["rah_responder"],
                started_at=received + dt.timedelta(minutes=90),
            )
        with pytest.raises(services.ClockRefused, match="The referral is closed"):
            services.record_reablement_start(
                referral=referral,
                user=world.users["rah_responder"],
                started_at=received + dt.timedelta(minutes=150),
                late_reason="Paper notes typed up",
            )
        services.record_reablement_start(
            referral=referral,
            user=world.users["rah_responder"],
            started_at=received + dt.timedelta(minutes=90),
            late_reason="Paper notes typed up",
        )
    episode = Episode.objects.get(referral=referral)
    assert episode.reablement_care_started_at == received + dt.timedelta(minutes=90)
    assert referral.events.filter(note__endswith="(recorded later: Paper notes typed up)").exists()


def test_the_need_is_refused_once_the_referral_ended_otherwise(world):
    coordinator = world.users["rah_coordinator"]
    with time_machine.travel(REABLEMENT_DAY, tick=False):
        referral = ReferralFactory(service=world.rah, patient=PatientFactory(practice=world.practice_a))
        services.record_outcome(referral=referral, user=coordinator, outcome=Outcome.HOSPITAL)
        with pytest.raises(services.ClockRefused, match="The referral is closed"):
            services.record_reablement_need(referral=referral, user=coordinator)
    assert Episode.objects.get(referral=referral).reablement_clock_start is None


def test_a_need_is_either_asked_for_or_found(world):
    coordinator = world.users["rah_coordinator"]
    with time_machine.travel(REABLEMENT_DAY, tick=False):
        referral = ReferralFactory(service=world.rah, patient=PatientFactory(practice=world.practice_a))
        with pytest.raises(services.ClockRefused, match="Either the referral asked for reablement"):
            services.record_reablement_need(
                referral=referral, user=coordinator, in_referral=True, found_at=REABLEMENT_DAY
            )
        with pytest.raises(services.ClockRefused, match="before the referral was received"):
            services.record_reablement_need(
                referral=referral,
                user=coordinator,
                found_at=REABLEMENT_DAY - dt.timedelta(minutes=10),
                late_reason="Said on the phone",
            )
        with pytest.raises(services.ClockRefused, match="cannot be in the future"):
            services.record_reablement_need(
                referral=referral, user=coordinator, found_at=REABLEMENT_DAY + dt.timedelta(minutes=10)
            )
    assert Episode.objects.get(referral=referral).reablement_clock_start is None


def test_every_source_and_reason_has_a_csds_code():
    """Every reason an NHS service takes; a partner service's own are never in the data
    set (its referrals are not community services' activity)."""
    nhs_reasons = {reason for reasons in REASONS_BY_SERVICE.values() for reason in reasons}
    partner_only = set(PARTNER_REASONS) - nhs_reasons
    assert set(csds.SOURCE_CODES) == set(Source.values)
    assert set(csds.REASON_CODES) == set(Reason.values) - partner_only
    assert partner_only == {"carers_assessment", "living_well", "discharge_support", "social_prescribing"}


def test_each_figure_list_holds_what_its_figure_counts(world, client_for, made, reablement_made):
    """Every figure's list, on the day it counts, has as many referrals as the figure."""
    coordinator = client_for(world.users["rah_coordinator"])
    winter = performance.Period(start=WINTER.date(), end=WINTER.date())
    day = performance.Period(start=REABLEMENT_DAY.date(), end=REABLEMENT_DAY.date())
    with time_machine.travel(AFTER, tick=False):
        counts = {
            "ucr_contacts": (winter, performance.ucr_activity(winter)["contacts"]),
            **{
                f"reablement_{key}": (day, performance.reablement(day)[figure])
                for key, figure in [
                    ("clocks", "started"),
                    ("counted", "total"),
                    ("met", "met"),
                    ("overdue", "overdue"),
                    ("waiting", "waiting"),
                    ("ended", "ended"),
                ]
            },
        }
        for name, (period, count) in counts.items():
            assert len(_listed(coordinator, name, period.start)[0]) == count, name
    assert [count for _, count in counts.values()] == [15, 7, 5, 2, 1, 0, 2]
