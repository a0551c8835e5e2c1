"""The rota: who is on shift is who is on duty; nobody off shift is paged (issue 22)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from core.email_delivery import send_unsent_emails
from core.models import Role
from recovery_at_home import rota, services
from recovery_at_home.models import Shift, TriageCategory
from tests.factories import ReferralFactory, UserFactory
from tests.recovery_at_home.test_alerts import LONDON, TEN_AM, _at, _sweep_every_minute


@pytest.fixture
def referral(world):
    """A 2-hour referral received at 10:00 (due at noon), as the alerts' tests have."""
    with time_machine.travel(TEN_AM, tick=False):
        referral = ReferralFactory(service=world.rah, patient=world.patient_b)
        urgent = TriageCategory.objects.get(code="urgent")
        services.triage_referral(referral=referral, category=urgent, user=world.users["rah_coordinator"])
    return referral


def _breach_emails(referral) -> list[str]:
    return [e.to[0] for e in mail.outbox if referral.reference in e.subject and "breached" in e.subject]


@pytest.fixture
def night_and_day(world):
    """Two coordinators: Nina on the night shift that ends at 08:00, Dee on the day shift
    until 20:00, on the day of the alerts' referral (due at noon)."""
    lead = world.users["rah_coordinator"]
    nina = UserFactory(roles=[Role.RAH_COORDINATOR], first_name="Nina", email="nina@example.nhs.uk")
    dee = UserFactory(roles=[Role.RAH_COORDINATOR], first_name="Dee", email="dee@example.nhs.uk")
    rota.add_shift(staff=nina, starts_at=_at(8) - dt.timedelta(hours=12), ends_at=_at(8), user=lead)
    rota.add_shift(staff=dee, starts_at=_at(8), ends_at=_at(20), user=lead, skills=["prescribing"])
    return nina, dee


def test_only_the_coordinator_on_shift_is_paged(world, referral, night_and_day):
    world.users["rah_coordinator"].email = "off.rota@example.nhs.uk"  # no shift today
    world.users["rah_coordinator"].save()
    _sweep_every_minute(_at(12), _at(12, 2))
    send_unsent_emails()
    assert _breach_emails(referral) == ["dee@example.nhs.uk"]


def test_with_nobody_on_shift_every_coordinator_is_paged_rather_than_none(world, referral):
    """No rota kept yet (or a gap in it): an alert must still reach someone."""
    world.users["rah_coordinator"].email = "coordinator@example.nhs.uk"
    world.users["rah_coordinator"].save()
    _sweep_every_minute(_at(12), _at(12, 2))
    send_unsent_emails()
    assert _breach_emails(referral) == ["coordinator@example.nhs.uk"]


def test_on_duty_follows_the_shifts_hour_by_hour(world, night_and_day):
    nina, dee = night_and_day
    assert list(rota.on_duty(role=Role.RAH_COORDINATOR, at=_at(7, 59))) == [nina]
    assert list(rota.on_duty(role=Role.RAH_COORDINATOR, at=_at(8))) == [dee]  # handed over at 08:00
    assert list(rota.on_duty(role=Role.RAH_COORDINATOR, at=_at(19, 59))) == [dee]


@pytest.mark.parametrize(
    ("hours", "field", "message"),
    [
        ((10, 9), "ends_at", "end after it starts"),
        ((6, 21), "ends_at", "at most 14 hours"),
        ((19, 22), "starts_at", "already has a shift from"),
    ],
)
def test_a_shift_that_cannot_be_is_refused_naming_its_field(world, night_and_day, hours, field, message):
    _, dee = night_and_day
    start, end = hours
    with pytest.raises(rota.ShiftRefused, match=message) as refused:
        rota.add_shift(staff=dee, starts_at=_at(start), ends_at=_at(end), user=world.users["rah_coordinator"])
    assert refused.value.field == field
    assert Shift.objects.filter(staff=dee).count() == 1


def test_only_a_coordinator_keeps_the_rota_and_only_for_recovery_at_home_staff(world):
    with pytest.raises(rota.ShiftRefused, match="Only a Recovery at Home coordinator"):
        rota.add_shift(
            staff=world.users["rah_responder"], starts_at=_at(8), ends_at=_at(20), user=world.users["gp_a"]
        )
    with pytest.raises(rota.ShiftRefused, match="not Recovery at Home staff"):
        rota.add_shift(
            staff=world.users["gp_a"], starts_at=_at(8), ends_at=_at(20), user=world.users["rah_coordinator"]
        )
    with pytest.raises(rota.ShiftRefused, match="Not a skill"):
        rota.add_shift(
            staff=world.users["rah_responder"],
            starts_at=_at(8),
            ends_at=_at(20),
            user=world.users["rah_coordinator"],
            skills=["juggling"],
        )


@pytest.mark.django_db(transaction=True)
def test_two_coordinators_adding_overlapping_shifts_at_once_one_wins(world):
    """Each in its own connection: the person's row is locked while their shifts are
    compared, so exactly one of the two overlapping shifts is kept and the other told."""
    responder = world.users["rah_responder"]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def add(start_hour: int) -> None:
        try:
            barrier.wait()
            rota.add_shift(
                staff=responder,
                starts_at=_at(start_hour),
                ends_at=_at(start_hour + 8),
                user=world.users["rah_coordinator"],
            )
            outcomes.append("added")
        except rota.ShiftRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(hour,)) for hour in (8, 10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["added", "refused"]
    assert Shift.objects.filter(staff=responder).count() == 1


# --- The rota page ------------------------------------------------------------------


def _typed(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def test_a_coordinator_puts_a_responder_on_tomorrows_rota_from_the_page(world, client_for):
    responder = world.users["rah_responder"]
    client = client_for(world.users["rah_coordinator"])
    response = client.post(
        reverse("recovery_at_home:rota"),
        {
            "staff": responder.pk,
            "starts_at": _typed(_at(8)),
            "ends_at": _typed(_at(20)),
            "base": "Leechmere",
            "skills": ["catheter_care", "falls_assessment"],
        },
        follow=True,
    )
    page = response.content.decode()
    assert "On the rota:" in page
    assert escape(str(responder)) in page and "Catheter care, Falls assessment" in page  # O'Brien too
    assert response.redirect_chain[-1][0].endswith(f"?day={_at(8).date().isoformat()}")


def test_a_shift_ending_before_it_starts_is_refused_beside_the_end_keeping_what_was_typed(world, client_for):
    response = client_for(world.users["rah_coordinator"]).post(
        reverse("recovery_at_home:rota"),
        {"staff": world.users["rah_responder"].pk, "starts_at": _typed(_at(20)), "ends_at": _typed(_at(8))},
    )
    assert response.status_code == 400
    assert response.context["shift_form"].errors["ends_at"] == ["The shift must end after it starts."]
    assert f'value="{_typed(_at(20))}"' in response.content.decode()
    assert not Shift.objects.exists()


def test_a_responder_reads_the_rota_but_does_not_keep_it(world, client_for, night_and_day):
    client = client_for(world.users["rah_responder"])
    page = client.get(reverse("recovery_at_home:rota"), {"day": _at(8).date().isoformat()})
    assert page.status_code == 200 and "Dee" in page.content.decode()
    assert page.context["shift_form"] is None
    refused = client.post(reverse("recovery_at_home:rota"), {"staff": world.users["rah_responder"].pk})
    assert refused.status_code == 403


def test_the_rota_flags_the_hours_nobody_is_on_shift(world, client_for, night_and_day):
    """Tomorrow's coordinators cover 20:00 the evening before to 20:00; no responder is on
    shift at all: both gaps are named on the page."""
    with time_machine.travel(_at(6), tick=False):
        gaps = rota.cover_gaps(since=_at(6), until=_at(23), role=Role.RAH_COORDINATOR)
        assert gaps == [(_at(20), _at(23))]
        page = (
            client_for(world.users["rah_coordinator"]).get(reverse("recovery_at_home:rota")).content.decode()
        )
    assert "No coordinator on shift" in page and "No responder on shift" in page


def test_the_rota_page_runs_the_same_queries_for_a_busy_week(
    world, client_for, django_assert_max_num_queries
):
    lead = world.users["rah_coordinator"]
    client = client_for(lead)
    client.get(reverse("recovery_at_home:rota"))  # the session's first page
    people = [UserFactory(roles=[Role.RAH_RESPONDER]) for _ in range(12)]
    for day in range(5):
        for person in people:
            start = _at(8) + dt.timedelta(days=day)
            rota.add_shift(staff=person, starts_at=start, ends_at=start + dt.timedelta(hours=8), user=lead)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("recovery_at_home:rota"), {"day": _at(8).date().isoformat()})
    shown = sum(len(rota_day.shown) for rota_day in response.context["week"])
    assert shown >= 12 and response.content.decode().count("<tr>") >= shown


def test_a_crowded_day_shows_its_first_shifts_and_leads_to_the_day_for_the_rest(world, client_for):
    """Forty responders on one day: the week lists the first thirty (what a week's table
    can show) and says how many more the day view has; the day view lists all forty."""
    lead = world.users["rah_coordinator"]
    for n in range(40):
        rota.add_shift(
            staff=UserFactory(roles=[Role.RAH_RESPONDER]),
            starts_at=_at(8) + dt.timedelta(minutes=n),
            ends_at=_at(20),
            user=lead,
        )
    client = client_for(lead)
    week = client.get(reverse("recovery_at_home:rota"), {"day": _at(8).date().isoformat()})
    (crowded,) = [d for d in week.context["week"] if d.day == _at(8).date()]
    assert (crowded.responders, len(crowded.shown), crowded.more) == (40, 30, 10)
    assert "10 more shifts on" in week.content.decode()
    day = client.get(reverse("recovery_at_home:rota"), {"day": _at(8).date().isoformat(), "view": "day"})
    assert len(day.context["shifts"]) == 40
    noon = next(h for h in day.context["hours"] if timezone.localtime(h.starts_at).hour == 12)
    assert noon.responders == 40 and len(noon.responder_names) == 8 and "and 32 more" in day.content.decode()


# --- Repeating patterns, changes, the day ------------------------------------------------


def _next_clock_change() -> dt.date:
    """The next day on which UK clocks change, at 01:00 UTC (relative to today, whatever
    today is)."""
    day = timezone.localdate()
    while True:
        before = dt.datetime.combine(day, dt.time(0), tzinfo=LONDON).utcoffset()
        after = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=LONDON).utcoffset()
        if before != after:
            return day
        day += dt.timedelta(days=1)


def test_a_repeating_pattern_puts_the_shift_on_each_chosen_day_at_the_same_uk_time(world):
    """Days 08:00 to 20:00 on Mondays, Wednesdays and Fridays for two weeks, across the
    next clock change: six shifts, each from 08:00 UK time."""
    change = _next_clock_change()
    monday = change - dt.timedelta(days=change.weekday())  # the Monday of the week it changes
    first = dt.datetime.combine(monday, dt.time(8), tzinfo=LONDON)
    shifts = rota.add_repeating_shifts(
        staff=world.users["rah_responder"],
        starts_at=first,
        ends_at=first + dt.timedelta(hours=12),
        user=world.users["rah_coordinator"],
        weekdays=[2, 4],
        weeks=2,
    )
    local = [timezone.localtime(s.starts_at) for s in shifts]
    assert [d.date() for d in local] == [monday + dt.timedelta(days=n) for n in (0, 2, 4, 7, 9, 11)]
    assert {(d.hour, d.minute) for d in local} == {(8, 0)}
    assert {(timezone.localtime(s.ends_at).hour) for s in shifts} == {20}


def test_a_pattern_with_one_clash_adds_nothing_and_names_the_day(world):
    responder, lead = world.users["rah_responder"], world.users["rah_coordinator"]
    rota.add_shift(
        staff=responder,
        starts_at=_at(8) + dt.timedelta(days=7),
        ends_at=_at(12) + dt.timedelta(days=7),
        user=lead,
    )
    with pytest.raises(rota.ShiftRefused, match=r"already has a shift") as refused:
        rota.add_repeating_shifts(
            staff=responder, starts_at=_at(8), ends_at=_at(20), user=lead, weekdays=[], weeks=2
        )
    assert f"{(_at(8) + dt.timedelta(days=7)):%a %-d %b}:" in str(refused.value)
    assert Shift.objects.filter(staff=responder).count() == 1


def test_the_page_adds_a_pattern(world, client_for):
    response = client_for(world.users["rah_coordinator"]).post(
        reverse("recovery_at_home:rota"),
        {
            "staff": world.users["rah_responder"].pk,
            "starts_at": _typed(_at(20)),
            "ends_at": _typed(_at(8) + dt.timedelta(days=1)),
            "repeat_weeks": "3",
            "repeat_days": [str((_at(20).weekday() + 1) % 7)],
        },
        follow=True,
    )
    assert "and 5 more like it" in response.content.decode()
    assert Shift.objects.count() == 6


def test_a_coordinator_changes_a_shift_and_takes_another_off_the_rota(world, client_for):
    lead, responder = world.users["rah_coordinator"], world.users["rah_responder"]
    today = rota.add_shift(staff=responder, starts_at=_at(8), ends_at=_at(20), user=lead)
    tomorrow = rota.add_shift(
        staff=responder,
        starts_at=_at(8) + dt.timedelta(days=1),
        ends_at=_at(20) + dt.timedelta(days=1),
        user=lead,
    )
    client = client_for(lead)
    page = client.get(reverse("recovery_at_home:shift_change", args=[today.pk]))
    assert f'value="{_typed(_at(8))}"' in page.content.decode()  # what it is, to change
    clash = client.post(
        reverse("recovery_at_home:shift_change", args=[today.pk]),
        {"starts_at": _typed(_at(20)), "ends_at": _typed(_at(9) + dt.timedelta(days=1))},  # into tomorrow's
    )
    assert clash.status_code == 400 and "already has a shift" in clash.context["form"].errors["starts_at"][0]
    client.post(
        reverse("recovery_at_home:shift_change", args=[today.pk]),
        {"starts_at": _typed(_at(8)), "ends_at": _typed(_at(16)), "skills": ["prescribing"]},
    )
    today.refresh_from_db()
    assert today.ends_at == _at(16) and today.skills == ["prescribing"]
    client.post(reverse("recovery_at_home:shift_remove", args=[tomorrow.pk]))
    assert not Shift.objects.filter(pk=tomorrow.pk).exists()


def test_a_shift_under_way_is_not_removed_and_one_over_is_not_changed(world):
    lead, responder = world.users["rah_coordinator"], world.users["rah_responder"]
    shift = rota.add_shift(staff=responder, starts_at=_at(8), ends_at=_at(20), user=lead)
    with time_machine.travel(_at(9), tick=False):
        with pytest.raises(rota.ShiftRefused, match="has begun"):
            rota.remove_shift(shift=shift, user=lead)
        rota.change_shift(shift=shift, user=lead, starts_at=_at(8), ends_at=_at(12))  # ended early
    with time_machine.travel(_at(13), tick=False), pytest.raises(rota.ShiftRefused, match="is over"):
        rota.change_shift(shift=shift, user=lead, starts_at=_at(8), ends_at=_at(14))


def test_a_responder_reads_the_rota_but_changes_nothing(world, client_for):
    shift = rota.add_shift(
        staff=world.users["rah_responder"],
        starts_at=_at(8),
        ends_at=_at(20),
        user=world.users["rah_coordinator"],
    )
    client = client_for(world.users["rah_responder"])
    assert (
        "Change"
        not in client.get(reverse("recovery_at_home:rota") + f"?day={_at(8).date()}").content.decode()
    )
    assert client.get(reverse("recovery_at_home:shift_change", args=[shift.pk])).status_code == 403
    assert client.post(reverse("recovery_at_home:shift_remove", args=[shift.pk])).status_code == 403
    assert Shift.objects.filter(pk=shift.pk).exists()


def test_the_day_view_shows_who_is_on_shift_hour_by_hour(world, night_and_day, client_for):
    """Nina's night ends at 08:00, Dee's day runs to 20:00: each hour names its coordinator;
    after 20:00 nobody coordinates, and the hour says so."""
    shifts, hours = rota.day_of(day=_at(8).date())
    assert len(hours) in (23, 24, 25)
    by_hour = {
        timezone.localtime(h.starts_at).hour: [name.split()[0] for name in h.coordinators] for h in hours
    }
    assert by_hour[7] == ["Nina"] and by_hour[8] == ["Dee"] and by_hour[19] == ["Dee"] and by_hour[21] == []
    page = client_for(world.users["rah_coordinator"]).get(
        reverse("recovery_at_home:rota") + f"?view=day&day={_at(8).date()}"
    )
    html = page.content.decode()
    assert page.status_code == 200 and "Hour by hour" in html and "Nobody" in html


def test_an_hour_without_a_needed_discipline_is_flagged(world, client_for):
    """A nurse from 08:00 to 20:00 and a physiotherapist from 08:00 to 14:00: no nurse or
    paramedic from 20:00, and no therapist from 14:00 until the day ends at 20:00 (by day
    only: a night with no therapist is no gap)."""
    lead = world.users["rah_coordinator"]
    nurse = UserFactory(roles=[Role.RAH_RESPONDER], discipline="nurse")
    physio = UserFactory(roles=[Role.RAH_RESPONDER], discipline="physiotherapist")
    rota.add_shift(staff=nurse, starts_at=_at(8), ends_at=_at(20), user=lead)
    rota.add_shift(staff=physio, starts_at=_at(8), ends_at=_at(14), user=lead)
    gaps = rota.discipline_gaps(since=_at(8), until=_at(8) + dt.timedelta(days=1))
    assert gaps["nurse or paramedic"] == [(_at(20), _at(8) + dt.timedelta(days=1))]
    assert gaps["therapist (by day)"] == [(_at(14), _at(20))]
    with time_machine.travel(_at(7), tick=False):
        page = client_for(lead).get(reverse("recovery_at_home:rota"), {"day": _at(8).date().isoformat()})
    assert "No therapist (by day) on shift" in page.content.decode()


def test_the_api_reads_the_rota_and_adds_a_pattern_as_the_page_does(world, api):
    lead_api, responder = api("rah_coordinator"), world.users["rah_responder"]
    pattern = {
        "staff": responder.pk,
        "starts_at": _typed(_at(8)),
        "ends_at": _typed(_at(20)),
        "skills": "falls_assessment",
        "repeat_weeks": 1,
        "repeat_days": (_at(8).weekday() + 2) % 7,
    }
    added = lead_api.post("/api/rah/shifts/", pattern, format="json")
    assert added.status_code == 201 and len(added.json()) == 2
    days_alone = lead_api.post("/api/rah/shifts/", {**pattern, "repeat_weeks": None}, format="json")
    assert days_alone.status_code == 400 and "how many weeks" in days_alone.json()["repeat_weeks"][0]
    clash = lead_api.post(
        "/api/rah/shifts/", {**pattern, "repeat_weeks": None, "repeat_days": None}, format="json"
    )
    assert clash.status_code == 400 and "already has a shift" in clash.json()["starts_at"][0]
    form_encoded = lead_api.post(  # several choices as a form sends them: each kept
        "/api/rah/shifts/",
        {
            **pattern,
            "starts_at": _typed(_at(8) + dt.timedelta(days=14)),
            "ends_at": _typed(_at(20) + dt.timedelta(days=14)),
            "repeat_weeks": "",
            "repeat_days": [],
            "skills": ["prescribing", "end_of_life"],
        },
    )
    assert form_encoded.status_code == 201 and form_encoded.json()[0]["skills"] == [
        "end_of_life",
        "prescribing",
    ]
    refused = api("rah_responder").post("/api/rah/shifts/", pattern, format="json")
    assert refused.status_code == 403
    listed = api("rah_responder").get(
        "/api/rah/shifts/",
        {"since": _at(0).isoformat(), "until": (_at(0) + dt.timedelta(days=7)).isoformat()},
    )
    shifts = listed.json()["results"]
    assert [(s["staff"]["id"], s["skills"]) for s in shifts] == [
        (responder.pk, ["falls_assessment"])
    ] * 2  # not 14 days on


def test_the_day_of_a_clock_change_has_23_or_25_hours_each_named_once(world):
    change = _next_clock_change()  # the clocks change at 01:00 UTC that day
    _, hours = rota.day_of(day=change)
    names = [timezone.localtime(h.starts_at).strftime("%H:%M") for h in hours]
    spring = dt.datetime.combine(change, dt.time(12), tzinfo=LONDON).utcoffset() == dt.timedelta(hours=1)
    assert len(hours) == (23 if spring else 25)
    assert len({h.starts_at for h in hours}) == len(hours)  # no instant twice
    assert names.count("01:00") == (0 if spring else 2)


def test_a_night_pattern_keeps_its_clock_times_when_the_first_night_crosses_a_change(world):
    """The first night 20:00 to 08:00 spans the clock change (11 or 13 real hours); the
    next night still runs 20:00 to 08:00 UK time."""
    change_eve = _next_clock_change() - dt.timedelta(days=1)
    first = dt.datetime.combine(change_eve, dt.time(20), tzinfo=LONDON)
    ends = dt.datetime.combine(change_eve + dt.timedelta(days=1), dt.time(8), tzinfo=LONDON)
    shifts = rota.add_repeating_shifts(
        staff=world.users["rah_responder"],
        starts_at=first,
        ends_at=ends,
        user=world.users["rah_coordinator"],
        weekdays=[(change_eve.weekday() + 1) % 7],
        weeks=1,
    )
    local = [
        (timezone.localtime(s.starts_at).strftime("%H:%M"), timezone.localtime(s.ends_at).strftime("%H:%M"))
        for s in shifts
    ]
    assert local == [("20:00", "08:00"), ("20:00", "08:00")]


def test_a_shift_under_way_keeps_its_start_and_ends_from_now_on(world):
    lead = world.users["rah_coordinator"]
    shift = rota.add_shift(staff=world.users["rah_responder"], starts_at=_at(8), ends_at=_at(20), user=lead)
    with time_machine.travel(_at(10), tick=False):
        with pytest.raises(rota.ShiftRefused, match="its start stays") as refused:
            rota.change_shift(shift=shift, user=lead, starts_at=_at(9), ends_at=_at(20))
        assert refused.value.field == "starts_at"
        with pytest.raises(rota.ShiftRefused, match="end still to come") as refused:
            rota.change_shift(shift=shift, user=lead, starts_at=_at(8), ends_at=_at(9))
        assert refused.value.field == "ends_at"
        Shift.objects.filter(pk=shift.pk).delete()  # another coordinator took it off meanwhile
        with pytest.raises(rota.ShiftRefused, match="taken off the rota"):
            rota.change_shift(shift=shift, user=lead, starts_at=_at(8), ends_at=_at(18))
