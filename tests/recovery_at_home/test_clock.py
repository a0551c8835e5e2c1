"""The response clock, on a frozen clock. Times are written in London time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from recovery_at_home import clock, services
from recovery_at_home.models import Episode, TriageCategory
from referrals.models import Referral, ReferralEvent
from tests.factories import ReferralFactory

LONDON = ZoneInfo("Europe/London")
# A winter morning, 10:00 in London (GMT, so also 10:00 UTC).
TEN_AM = dt.datetime(2026, 11, 24, 10, 0, tzinfo=LONDON)
# 00:30 on the last Sunday of March: the clocks go forward at 01:00 GMT.
SPRING_FORWARD = dt.datetime(2026, 3, 29, 0, 30, tzinfo=LONDON)
# 00:30 on the last Sunday of October (still BST): the clocks go back at 02:00 BST.
FALL_BACK = dt.datetime(2026, 10, 25, 0, 30, tzinfo=LONDON)


def _category(code: str) -> TriageCategory:
    return TriageCategory.objects.get(code=code)


def _rah_referral(world, received_at):
    with time_machine.travel(received_at, tick=False):
        return ReferralFactory(service=world.rah, patient=world.patient_b)


def _triaged(world, received_at, code="urgent", triaged_at=None):
    referral = _rah_referral(world, received_at)
    with time_machine.travel(triaged_at or received_at, tick=False):
        services.triage_referral(
            referral=referral, category=_category(code), user=world.users["rah_coordinator"]
        )
    return Referral.objects.get(pk=referral.pk)  # as stored, not the episode cached at creation


def _local(moment):
    return timezone.localtime(moment).strftime("%d %b %H:%M %Z")


def test_the_default_categories_are_one_two_and_four_hours(db):
    assert list(TriageCategory.objects.values_list("code", "response_minutes", "two_hour_standard")) == [
        ("crisis", 60, True),
        ("urgent", 120, True),
        ("same_day", 240, False),
    ]


def test_a_two_hour_referral_received_at_ten_is_due_at_noon(world):
    referral = _triaged(world, TEN_AM)
    assert _local(referral.episode.response_due_at) == "24 Nov 12:00 GMT"


@pytest.mark.parametrize(("arrival", "met"), [(dt.time(11, 59), True), (dt.time(12, 1), False)])
def test_arriving_at_11_59_meets_the_standard_and_at_12_01_does_not(world, arrival, met):
    referral = _triaged(world, TEN_AM)
    arrived_at = dt.datetime.combine(TEN_AM.date(), arrival, tzinfo=LONDON)
    with time_machine.travel(arrived_at, tick=False):
        episode = services.record_arrival(referral=referral, user=world.users["rah_responder"])
    assert clock.standards_of(episode)["local_target_met"] is met


def test_a_window_across_the_spring_clock_change_is_two_real_hours(world):
    referral = _triaged(world, SPRING_FORWARD)
    due = referral.episode.response_due_at
    assert _local(due) == "29 Mar 03:30 BST"
    assert due - referral.received_at == dt.timedelta(hours=2)


def test_a_window_across_the_autumn_clock_change_is_two_real_hours(world):
    referral = _triaged(world, FALL_BACK)
    due = referral.episode.response_due_at
    assert _local(due) == "25 Oct 01:30 GMT"  # the second 01:30 of the night
    assert due - referral.received_at == dt.timedelta(hours=2)


def test_triage_after_receipt_does_not_move_the_clock_start(world):
    referral = _triaged(world, TEN_AM, triaged_at=TEN_AM + dt.timedelta(minutes=45))
    assert _local(referral.episode.response_due_at) == "24 Nov 12:00 GMT"


def test_an_untriaged_referral_is_already_due_within_two_hours(world):
    referral = _rah_referral(world, TEN_AM)
    assert not referral.episode.is_triaged
    assert _local(referral.episode.response_due_at) == "24 Nov 12:00 GMT"


def test_a_crisis_is_due_within_the_hour_and_same_day_within_four(world):
    assert _local(_triaged(world, TEN_AM, "crisis").episode.response_due_at) == "24 Nov 11:00 GMT"
    assert _local(_triaged(world, TEN_AM, "same_day").episode.response_due_at) == "24 Nov 14:00 GMT"


def test_a_changed_window_applies_only_to_referrals_triaged_afterwards(world):
    before = _triaged(world, TEN_AM)
    TriageCategory.objects.filter(code="urgent").update(response_minutes=90)
    after = _triaged(world, TEN_AM)
    assert _local(Episode.objects.get(pk=before.episode.pk).response_due_at) == "24 Nov 12:00 GMT"
    assert _local(after.episode.response_due_at) == "24 Nov 11:30 GMT"


def test_only_recovery_at_home_referrals_have_a_clock(world):
    assert not Episode.objects.filter(referral=world.referral_a).exists()  # to the CIT
    assert Episode.objects.filter(referral=world.referral_b).exists()


def test_a_referral_redirected_to_recovery_at_home_starts_its_clock_on_arrival_there(world):
    from referrals.services import redirect_referral

    with time_machine.travel(TEN_AM, tick=False):
        moved = redirect_referral(
            referral=world.referral_a, user=world.users["cit_member_a"], service=world.rah
        )
    assert _local(moved.episode.response_due_at) == "24 Nov 12:00 GMT"


def test_an_agreed_later_time_moves_the_due_time_and_is_reported_apart(world):
    referral = _triaged(world, TEN_AM)
    later = TEN_AM.replace(hour=15)
    with time_machine.travel(TEN_AM + dt.timedelta(minutes=20), tick=False):
        services.agree_later_time(
            referral=referral,
            user=world.users["rah_coordinator"],
            due_at=later,
            reason="Daughter asked for a visit after her shift",
        )
    with time_machine.travel(later - dt.timedelta(minutes=5), tick=False):
        episode = services.record_arrival(referral=referral, user=world.users["rah_responder"])
    assert _local(episode.response_due_at) == "24 Nov 15:00 GMT"
    assert episode.agreed_later
    standards = clock.standards_of(episode)
    assert standards["local_target_met"] is None  # reported as agreed later, not in time or late
    assert standards["two_hour"] == clock.TwoHourResult.AGREED_LATER
    assert "after her shift" in referral.events.get(kind=ReferralEvent.Kind.AGREED_LATER).note


def test_an_agreed_later_time_needs_a_reason(world):
    referral = _triaged(world, TEN_AM)
    with pytest.raises(services.ClockRefused, match="Say why"):
        services.agree_later_time(
            referral=referral, user=world.users["rah_coordinator"], due_at=TEN_AM.replace(hour=15), reason=" "
        )


def test_arrival_stops_the_clock_once_and_a_second_recording_is_told_who_recorded_it(world):
    referral = _triaged(world, TEN_AM)
    responder = world.users["rah_responder"]
    with time_machine.travel(TEN_AM + dt.timedelta(minutes=70), tick=False):
        services.record_arrival(referral=referral, user=responder)
        with pytest.raises(
            services.ClockRefused, match=rf"already recorded by {responder} at 24 Nov 2026 11:10"
        ):
            services.record_arrival(referral=referral, user=world.users["rah_coordinator"])
        with pytest.raises(services.ClockRefused, match="clock stopped"):
            services.triage_referral(referral=referral, category=_category("crisis"), user=responder)
    assert referral.events.filter(kind=ReferralEvent.Kind.ARRIVED).count() == 1


def test_an_arrival_recorded_late_needs_a_reason_and_keeps_the_real_time(world):
    referral = _triaged(world, TEN_AM)
    arrived = TEN_AM + dt.timedelta(minutes=100)
    with time_machine.travel(TEN_AM + dt.timedelta(hours=3), tick=False):
        with pytest.raises(services.ClockRefused, match="needs a reason"):
            services.record_arrival(referral=referral, user=world.users["rah_responder"], arrived_at=arrived)
        episode = services.record_arrival(
            referral=referral,
            user=world.users["rah_responder"],
            arrived_at=arrived,
            late_reason="No signal at the address",
        )
    assert episode.arrived_at == arrived and clock.standards_of(episode)["local_target_met"] is True
    assert episode.arrival_recorded_at == TEN_AM + dt.timedelta(hours=3)


@pytest.mark.parametrize(
    ("offset", "message"),
    [(dt.timedelta(minutes=5), "cannot be in the future"), (-dt.timedelta(hours=1), "before the referral")],
)
def test_an_impossible_arrival_time_is_refused(world, offset, message):
    referral = _triaged(world, TEN_AM)
    with time_machine.travel(TEN_AM + dt.timedelta(minutes=30), tick=False):
        with pytest.raises(services.ClockRefused, match=message):
            services.record_arrival(
                referral=referral,
                user=world.users["rah_responder"],
                arrived_at=TEN_AM + dt.timedelta(minutes=30) + offset,
                late_reason="x",
            )


@pytest.mark.parametrize(
    ("after", "minutes", "met"),
    [
        (dt.timedelta(minutes=120), 120, True),
        (dt.timedelta(minutes=120, seconds=30), 121, False),  # not "120, not met"
        (dt.timedelta(minutes=119, seconds=30), 120, True),
    ],
)
def test_a_clock_row_gives_whole_minutes_that_agree_with_met(after, minutes, met):
    received = dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC)
    row = clock.two_hour_clock(
        received_at=received,
        arrived_at=received + after,
        agreed_later=False,
        status="in_progress",
        status_changed_at=received,
        outcome="",
    )
    assert (row.minutes, row.met) == (minutes, met)
