"""Capacity against demand, live (issue 22, point 2): for each of the next hours, who is
due against who is on shift to reach them, and a warning when they fall short."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from core.models import Role
from recovery_at_home import capacity, rota, services
from tests.factories import PatientFactory, UserFactory
from tests.recovery_at_home.test_alerts import TEN_AM, _at
from tests.recovery_at_home.test_who_can_go import _rah_referral


@pytest.fixture
def busy_morning(world):
    """At 10:00 tomorrow: Fay and Nat on shift all day; the world's referral of patient B,
    made today and never reached, overdue; seven referred at 10:00 (due at noon); nobody
    sent to any of them yet."""
    lead = world.users["rah_coordinator"]
    people = []
    for name in ("Fay", "Nat"):
        person = UserFactory(roles=[Role.RAH_RESPONDER], first_name=name)
        rota.add_shift(staff=person, starts_at=_at(8), ends_at=_at(20), user=lead)
        people.append(person)
    overdue = world.referral_b
    at_ten = [_rah_referral(world, PatientFactory(practice=world.practice_b)) for _ in range(7)]
    return people, overdue, at_ten


def _ahead():
    with time_machine.travel(TEN_AM, tick=False):
        return capacity.capacity_ahead(now=TEN_AM)


def test_the_hours_ahead_set_who_is_due_against_who_can_reach_them(busy_morning):
    ahead = _ahead()
    table = [(h.due, h.nobody_sent, h.on_shift, h.can_reach, h.short) for h in ahead.hours]
    # Each of the two reaches a first person 20 minutes out, then one more every hour and
    # twenty minutes: 2, 4, 6 and 6 people by each hour's end. The seven due at noon and
    # the one overdue are more than the six they can reach by 13:00.
    assert table == [
        (1, 1, 2, 2, False),  # 10:00 to 11:00, with the one overdue
        (0, 0, 2, 4, False),
        (7, 7, 2, 6, True),  # 12:00 to 13:00
        (0, 0, 2, 6, True),
    ]
    assert ahead.short_from.starts_at == _at(12)


def test_a_visit_in_hand_takes_from_who_can_be_reached(world, busy_morning):
    (fay, _), overdue, _ = busy_morning
    with time_machine.travel(TEN_AM, tick=False):
        services.dispatch_responder(referral=overdue, responder=fay, user=world.users["rah_coordinator"])
    ahead = _ahead()
    assert ahead.in_hand == 1
    first = ahead.hours[0]
    assert (first.due, first.nobody_sent, first.can_reach, first.short) == (1, 0, 1, False)
    assert [h.can_reach for h in ahead.hours] == [1, 3, 5, 5]


def test_a_shift_ending_leaves_the_later_hours_short(world, busy_morning):
    lead = world.users["rah_coordinator"]
    rota.add_shift(
        staff=UserFactory(roles=[Role.RAH_RESPONDER]), starts_at=_at(9), ends_at=_at(10, 30), user=lead
    )
    assert [h.on_shift for h in _ahead().hours] == [3, 2, 2, 2]


def test_the_queue_shows_the_panel_and_warns(world, busy_morning, client_for, django_assert_max_num_queries):
    with time_machine.travel(TEN_AM, tick=False):
        client = client_for(world.users["rah_coordinator"])
        page = client.get(reverse("recovery_at_home:queue")).content.decode()
        assert reverse("recovery_at_home:queue_capacity") in page  # fetched beside the rows
        with django_assert_max_num_queries(10):
            panel = client.get(reverse("recovery_at_home:queue_capacity"))
    html = panel.content.decode()
    assert panel.status_code == 200
    assert "Not enough cover by 13:00" in html
    assert "12:00 to 13:00" in html


def test_the_api_gives_the_same_hours(world, busy_morning, api):
    with time_machine.travel(TEN_AM, tick=False):
        answer = api("rah_responder").get("/api/rah/capacity/")
    assert answer.status_code == 200
    assert [(h["due"], h["can_reach"], h["short"]) for h in answer.json()["hours"]] == [
        (1, 2, False),
        (0, 4, False),
        (7, 6, True),
        (0, 6, True),
    ]


def test_one_responders_visits_in_hand_do_not_take_from_anothers_reach(world, busy_morning):
    (fay, nat), _, at_ten = busy_morning
    with time_machine.travel(TEN_AM, tick=False):
        for n, referral in enumerate(at_ten[:3]):
            services.dispatch_responder(
                referral=referral, responder=fay, user=world.users["rah_coordinator"], visits_in_hand=n
            )
    ahead = _ahead()
    assert ahead.in_hand == 3
    # Fay reaches 1, 2, 3, 3 by each hour's end, less her three; Nat 1, 2, 3, 3 as ever.
    assert [h.can_reach for h in ahead.hours] == [1, 2, 3, 3]
