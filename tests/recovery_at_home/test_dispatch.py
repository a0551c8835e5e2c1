from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils.html import escape

from core.models import Role
from recovery_at_home import clock, services
from recovery_at_home.models import Dispatch, TriageCategory
from referrals.models import ReferralEvent, Status
from tests.factories import ReferralFactory, UserFactory

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock


@pytest.fixture
def physio(db):
    return UserFactory(
        roles=[Role.RAH_RESPONDER], discipline="physiotherapist", first_name="Priya", last_name="Physio"
    )


def _dispatch(world, responder):
    return services.dispatch_responder(
        referral=world.referral_b, responder=responder, user=world.users["rah_coordinator"]
    )


def test_triage_accepts_the_referral_for_the_service(world):
    services.triage_referral(
        referral=world.referral_b,
        category=TriageCategory.objects.get(code="urgent"),
        user=world.users["rah_coordinator"],
    )
    world.referral_b.refresh_from_db()
    assert world.referral_b.status == Status.ACCEPTED


def test_a_coordinator_dispatches_two_responders_and_the_queue_shows_them(world, client_for, physio):
    _dispatch(world, world.users["rah_responder"])
    _dispatch(world, physio)
    rows = client_for(world.users["rah_coordinator"]).get(reverse("recovery_at_home:queue")).context["rows"]
    (row,) = [row for row in rows if row.reference == world.referral_b.reference]
    assert set(row.visits) == {(str(world.users["rah_responder"]), "dispatched"), (str(physio), "dispatched")}
    assert world.referral_b.events.filter(kind=ReferralEvent.Kind.DISPATCHED).count() == 2


def test_only_responders_can_be_dispatched_and_only_once(world, physio):
    with pytest.raises(services.ClockRefused, match="not a Recovery at Home responder"):
        _dispatch(world, world.users["gp_a"])
    _dispatch(world, physio)
    with pytest.raises(services.ClockRefused, match="already dispatched"):
        _dispatch(world, physio)


def test_the_unassigned_filter_shows_only_referrals_nobody_is_going_to(world, client_for, physio):
    client = client_for(world.users["rah_coordinator"])
    unassigned = client.get(reverse("recovery_at_home:queue"), {"unassigned": "1"}).context["rows"]
    assert world.referral_b.reference in [row.reference for row in unassigned]
    _dispatch(world, physio)
    unassigned = client.get(reverse("recovery_at_home:queue"), {"unassigned": "1"}).context["rows"]
    assert world.referral_b.reference not in [row.reference for row in unassigned]


def test_a_responder_goes_on_the_way_arrives_and_the_clock_stops(world, client_for, frozen_clock):
    responder = world.users["rah_responder"]
    visit = _dispatch(world, responder)
    client = client_for(responder)
    page = client.get(reverse("recovery_at_home:my_visits")).content.decode()
    assert "On my way" in page

    on_the_way = client.post(reverse("recovery_at_home:on_the_way", args=[visit.pk]), follow=True)
    patient = world.referral_b.patient
    assert (
        f"On your way to {escape(patient.full_name)}" in on_the_way.content.decode()
    )  # told it was recorded
    frozen_clock.shift(dt.timedelta(minutes=25))  # within the 30-minute idle limit
    arrived = client.post(
        reverse("recovery_at_home:visit_arrival", args=[visit.pk]),
        {"arrived_at": "", "late_reason": ""},
        follow=True,
    ).content.decode()
    # The visit card goes on to the outcome, on the referral page's outcome form.
    assert f'href="{world.referral_b.get_absolute_url()}#outcome">Record the outcome</a>' in arrived
    outcome_page = client.get(world.referral_b.get_absolute_url()).content.decode()
    assert 'id="outcome"' in outcome_page

    visit.refresh_from_db()
    episode = visit.episode
    episode.refresh_from_db()
    assert visit.state == Dispatch.State.ARRIVED
    assert (
        episode.arrived_at == NOW + dt.timedelta(minutes=25)
        and clock.standards_of(episode)["local_target_met"]
    )
    world.referral_b.refresh_from_db()
    assert world.referral_b.status == Status.IN_PROGRESS


def test_a_second_responder_arriving_later_does_not_move_the_clock(world, physio, frozen_clock):
    first = _dispatch(world, world.users["rah_responder"])
    second = _dispatch(world, physio)
    frozen_clock.shift(dt.timedelta(minutes=30))
    services.record_responder_arrival(dispatch=first, user=world.users["rah_responder"])
    frozen_clock.shift(dt.timedelta(minutes=30))
    services.record_responder_arrival(dispatch=second, user=physio)
    first.episode.refresh_from_db()
    assert first.episode.arrived_at == NOW + dt.timedelta(minutes=30)
    assert Dispatch.objects.get(pk=second.pk).state == Dispatch.State.ARRIVED


def test_a_responder_sees_only_their_own_visits(world, client_for, physio):
    _dispatch(world, physio)
    page = client_for(world.users["rah_responder"]).get(reverse("recovery_at_home:my_visits"))
    assert page.context["day"] == []
    mine = Dispatch.objects.get(responder=physio)
    response = client_for(world.users["rah_responder"]).post(
        reverse("recovery_at_home:on_the_way", args=[mine.pk])
    )
    assert response.status_code == 404
    assert Dispatch.objects.get(pk=mine.pk).state == Dispatch.State.DISPATCHED


def test_a_visit_shows_the_safety_information_for_the_visitor(world, client_for):
    world.patient_b.key_safety_information = "Dog in the house; ask for it to be shut away."
    world.patient_b.save()
    _dispatch(world, world.users["rah_responder"])
    page = (
        client_for(world.users["rah_responder"]).get(reverse("recovery_at_home:my_visits")).content.decode()
    )
    assert "Dog in the house" in page


@pytest.mark.parametrize("count", [3, 60])
def test_my_visits_runs_a_constant_number_of_queries(world, client_for, django_assert_max_num_queries, count):
    responder = world.users["rah_responder"]
    for n in range(count):  # sent one after another, each knowing the visits before it
        referral = ReferralFactory(service=world.rah, patient=world.patient_b)
        services.dispatch_responder(
            referral=referral, responder=responder, user=world.users["rah_coordinator"], visits_in_hand=n
        )
    client = client_for(responder)
    # session, user, role grants, visits with patients, recent audit, audit insert,
    # savepoint, session renewal, release
    with django_assert_max_num_queries(10):
        response = client.get(reverse("recovery_at_home:my_visits"))
    assert len(response.context["day"]) == count


def test_the_referral_page_gives_each_visit_the_time_of_its_state(world, client_for, frozen_clock):
    """Sent at 10:00 and there at 10:40: "(arrived, 10:40)", not the time it was sent; the
    next day, with the date."""
    visit = _dispatch(world, world.users["rah_responder"])
    frozen_clock.shift(dt.timedelta(minutes=40))
    services.record_responder_arrival(dispatch=visit, user=world.users["rah_responder"])
    url = world.referral_b.get_absolute_url()
    assert "(arrived, 10:40)" in client_for(world.users["rah_coordinator"]).get(url).content.decode()
    frozen_clock.shift(dt.timedelta(days=1))
    assert "(arrived, 24 Nov 10:40)" in client_for(world.users["rah_coordinator"]).get(url).content.decode()


def test_the_queue_gives_a_due_time_not_today_with_its_date(world, client_for):
    services.agree_later_time(
        referral=world.referral_b,
        user=world.users["rah_coordinator"],
        due_at=NOW + dt.timedelta(days=1, hours=-1),
        reason="Her son can be there tomorrow morning",
    )
    today = ReferralFactory(service=world.rah)  # received now, due within two hours
    rows = client_for(world.users["rah_coordinator"]).get(reverse("recovery_at_home:queue")).context["rows"]
    due = {row.reference: row.due_time for row in rows}
    assert (due[world.referral_b.reference], due[today.reference]) == ("25 Nov 09:00", "12:00")


def test_a_visit_stood_down_gives_no_time_it_does_not_know(world):
    visit = Dispatch(state=Dispatch.State.STOOD_DOWN, dispatched_at=NOW)
    assert visit.state_since is None
    assert Dispatch(state=Dispatch.State.DISPATCHED, dispatched_at=NOW).state_since == NOW
