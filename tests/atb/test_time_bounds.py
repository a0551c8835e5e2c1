"""Each time a person gives has bounds that make sense for it (core.time_bounds), with the
message beside the field on the page, and the same refusal from the service behind the API."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from mdt.forms import ActionForm
from recovery_at_home import services
from recovery_at_home.forms import AgreedLaterForm, OutcomeForm
from recovery_at_home.models import Episode, Outcome
from teams.forms import ContactForm, GoalForm

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock


@pytest.mark.parametrize(
    ("form", "fields", "field", "message"),
    [
        (
            AgreedLaterForm,
            {"due_at": "2099-11-24T10:00", "reason": "Asked"},
            "due_at",
            "within the next 7 days",
        ),
        (
            AgreedLaterForm,
            {"due_at": "2026-12-02T00:00", "reason": "Asked"},  # the 8th UK day
            "due_at",
            "by the end of 1 Dec 2026",
        ),
        (
            OutcomeForm,
            {"outcome": "remained_at_home", "planned_end_date": "2026-11-23"},
            "planned_end_date",
            "cannot be in the past",
        ),
        (
            OutcomeForm,
            {"outcome": "remained_at_home", "planned_end_date": "2027-06-01"},
            "planned_end_date",
            "up to 12 weeks",
        ),
        (
            GoalForm,
            {"description": "Walk to the shop", "target_date": "2026-11-01"},
            "target_date",
            "cannot be in the past",
        ),
        (
            GoalForm,
            {"description": "Walk to the shop", "target_date": "2030-01-01"},
            "target_date",
            "within two years",
        ),
        (ActionForm, {"description": "Refer", "due_date": "2026-11-20"}, "due_date", "cannot be in the past"),
    ],
)
def test_a_time_out_of_bounds_is_refused_beside_its_field(db, form, fields, field, message):
    bound = form(data=fields)
    assert not bound.is_valid()
    assert message in " ".join(bound.errors[field])


@pytest.mark.parametrize("typed", ["1990-06-01T10:00", "2026-11-24T11:00"])
def test_a_contact_from_1990_or_the_future_is_refused_beside_its_field(world, typed):
    form = ContactForm(
        data={
            "kind": "visit",
            "staff": world.users["cit_member_a"].pk,
            "at": typed,
            "duration_minutes": 30,
        },
        team=world.team_a,
        user=world.users["cit_member_a"],
    )
    assert not form.is_valid() and set(form.errors) == {"at"}


@pytest.mark.parametrize(
    ("form", "fields"),
    [
        (AgreedLaterForm, {"due_at": "2026-11-30T10:00", "reason": "Asked"}),
        (OutcomeForm, {"outcome": "remained_at_home", "planned_end_date": "2027-01-05"}),
        (GoalForm, {"description": "Walk to the shop", "target_date": "2026-11-24"}),
    ],
)
def test_a_time_within_its_bounds_is_taken(db, form, fields):
    assert form(data=fields).is_valid()


def test_the_api_refuses_an_agreed_time_of_2099_naming_the_field(world):
    api = APIClient()
    coordinator = world.users["rah_coordinator"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=coordinator)[0].key}")
    reference = world.referral_b.reference
    response = api.post(
        f"/api/rah/referrals/{reference}/agree-later/",
        {"due_at": "2099-11-24T10:00:00Z", "reason": "Asked"},
        format="json",
    )
    assert response.status_code == 400 and "due_at" in response.json()
    assert not Episode.objects.get(referral=world.referral_b).agreed_later


def test_the_service_refuses_an_agreed_time_of_2099_whatever_the_door(world):
    with pytest.raises(services.ClockRefused, match="within the next 7 days"):
        services.agree_later_time(
            referral=world.referral_b,
            user=world.users["rah_coordinator"],
            due_at=NOW.replace(year=2099),
            reason="Asked",
        )


def test_a_responder_cannot_arrive_before_they_were_sent(world, frozen_clock):
    visit = services.dispatch_responder(
        referral=world.referral_b, responder=world.users["rah_responder"], user=world.users["rah_coordinator"]
    )
    frozen_clock.shift(dt.timedelta(minutes=30))
    with pytest.raises(services.ClockRefused, match="before the responder was sent"):
        services.record_responder_arrival(
            dispatch=visit,
            user=world.users["rah_responder"],
            arrived_at=NOW - dt.timedelta(minutes=10),
            late_reason="Typed up later",
        )
    assert Episode.objects.get(referral=world.referral_b).arrived_at is None


def test_same_time_next_week_holds_across_the_autumn_clock_change(db, frozen_clock):
    frozen_clock.move_to(dt.datetime(2026, 10, 20, 10, 0, tzinfo=ZoneInfo("Europe/London")))  # BST
    next_week = AgreedLaterForm(data={"due_at": "2026-10-27T10:00", "reason": "Asked"})  # GMT then
    assert next_week.is_valid(), next_week.errors


def test_an_arrival_typed_to_the_minute_of_the_dispatch_is_taken(world, frozen_clock):
    frozen_clock.move_to(NOW + dt.timedelta(seconds=40))  # sent at 10:00:40
    visit = services.dispatch_responder(
        referral=world.referral_b, responder=world.users["rah_responder"], user=world.users["rah_coordinator"]
    )
    frozen_clock.shift(dt.timedelta(minutes=2))
    services.record_responder_arrival(dispatch=visit, user=world.users["rah_responder"], arrived_at=NOW)
    assert Episode.objects.get(referral=world.referral_b).arrived_at == NOW


# --- On the referral page: a refusal comes back beside its field, with what was typed --


def _clock_post(client, referral, action, fields):
    return client.post(reverse("referral_clock_action", args=[referral.reference, action]), fields)


def test_the_referral_page_refuses_an_agreed_time_of_2099_beside_it_keeping_the_reason(world, client_for):
    response = _clock_post(
        client_for(world.users["rah_coordinator"]),
        world.referral_b,
        "agree-later",
        {"due_at": "2099-11-24T10:00", "reason": "Her daughter asked for the afternoon"},
    )

    assert response.status_code == 400
    form = response.context["agreed_later_form"]
    assert "within the next 7 days" in " ".join(form.errors["due_at"])
    page = response.content.decode()
    assert 'value="Her daughter asked for the afternoon"' in page  # kept, not typed again
    assert 'id="later_due_at"' in page and "is-invalid" in page
    assert '<details class="mb-2" open>' in page  # the form is open, not folded away
    assert not Episode.objects.get(referral=world.referral_b).agreed_later


def test_an_arrival_before_the_referral_came_is_refused_beside_the_time(world, client_for, frozen_clock):
    """The service's own refusal (the form alone cannot know when the referral came) is
    put beside the field it is about."""
    frozen_clock.shift(dt.timedelta(hours=1))
    response = _clock_post(
        client_for(world.users["rah_responder"]),
        world.referral_b,
        "arrival",
        {"arrived_at": "2026-11-24T06:00", "late_reason": "Typed up after the visit"},
    )

    assert response.status_code == 400
    form = response.context["arrival_form"]
    assert form.errors["arrived_at"] == ["The arrival time cannot be before the referral was received."]
    assert 'value="Typed up after the visit"' in response.content.decode()
    assert Episode.objects.get(referral=world.referral_b).arrived_at is None


def test_of_two_recording_the_outcome_the_second_is_told_on_the_page_as_it_now_is(world, client_for):
    """A refusal about no field (someone else acted first) is not a typing mistake: the
    page comes back as it now is, saying what happened."""
    first, second = client_for(world.users["rah_coordinator"]), client_for(world.users["rah_responder"])
    services.dispatch_responder(
        referral=world.referral_b, responder=world.users["rah_responder"], user=world.users["rah_coordinator"]
    )
    hospital = {"outcome": Outcome.HOSPITAL, "planned_end_date": "", "bed_unit": "", "note": ""}
    assert _clock_post(first, world.referral_b, "outcome", hospital).status_code == 302

    response = second.post(
        f"/recovery-at-home/referrals/{world.referral_b.reference}/outcome/",
        {**hospital, "outcome": Outcome.DECLINED},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == world.referral_b.get_absolute_url()
    assert "The outcome was already recorded: admitted to hospital." in response.content.decode()
    assert Episode.objects.get(referral=world.referral_b).outcome == Outcome.HOSPITAL


def test_the_api_names_the_field_of_the_services_refusal_too(world, frozen_clock):
    api = APIClient()
    responder = world.users["rah_responder"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=responder)[0].key}")
    frozen_clock.shift(dt.timedelta(hours=1))
    response = api.post(
        f"/api/rah/referrals/{world.referral_b.reference}/arrival/",
        {"arrived_at": "2026-11-24T06:00:00Z", "late_reason": "Typed up after the visit"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"arrived_at": ["The arrival time cannot be before the referral was received."]}
