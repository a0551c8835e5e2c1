"""Every door, one rule: each action the pages offer is also an API operation, both call
the same service, and the outcome is the same whichever door it came through (refusals
included, and audited once in the change's transaction)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.models import AuditAction, AuditEvent, Role
from recovery_at_home import services as rah
from recovery_at_home.models import Alert, Episode, TriageCategory
from referrals.models import Referral, Status
from teams.models import Contact
from tests.factories import UserFactory, on_caseload

DOORS = ["page", "api"]


@pytest.fixture
def door(world, client_for):
    """`door(kind, username)` -> a function posting (page path, api path, fields) through it."""

    def through(kind: str, username: str):
        user = world.users[username]
        if kind == "page":
            client = client_for(user)
            return lambda page, api, fields: client.post(page, fields)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        return lambda page, api, fields: client.post(api, fields, format="json")

    return through


def _updates(referral_or_entry) -> int:
    return AuditEvent.objects.filter(action=AuditAction.UPDATE, object_id=str(referral_or_entry.pk)).count()


@pytest.mark.parametrize("kind", DOORS)
def test_a_referral_whose_work_is_on_the_caseload_is_not_closed_at_any_door(world, door, kind):
    """The page refused it; the API closed the referral and left the caseload entry open."""
    member = world.users["cit_member_a"]
    entry = on_caseload(team=world.team_a, key_worker=member, referral=world.referral_a)
    reference = world.referral_a.reference
    post = door(kind, "cit_member_a")
    post(
        reverse("referrals:act", args=[reference, "close"]),
        f"/api/referrals/{reference}/close/",
        {"outcome": "Done"},
    )
    world.referral_a.refresh_from_db()
    entry.refresh_from_db()
    assert world.referral_a.status == Status.ACCEPTED and entry.is_open


@pytest.mark.parametrize("kind", DOORS)
def test_a_referral_is_closed_alike_at_every_door(world, door, kind):
    coordinator = world.users["rah_coordinator"]
    referral = world.referral_b
    door(kind, "rah_coordinator")(
        reverse("referrals:act", args=[referral.reference, "accept"]),
        f"/api/referrals/{referral.reference}/accept/",
        {},
    )
    referral.refresh_from_db()
    assert (referral.status, referral.status_changed_by) == (Status.ACCEPTED, coordinator)
    assert _updates(referral) == 1


@pytest.mark.parametrize("kind", DOORS)
def test_only_the_receiving_side_declines_at_every_door(world, door, kind):
    reference = world.referral_a.reference
    response = door(kind, "gp_a")(
        reverse("referrals:act", args=[reference, "decline"]),
        f"/api/referrals/{reference}/decline/",
        {"reason": "Not for us"},
    )
    assert response.status_code == 403
    world.referral_a.refresh_from_db()
    assert world.referral_a.status == Status.RECEIVED and _updates(world.referral_a) == 0


def _clock(reference: str, action: str) -> tuple[str, str]:
    page = reverse("referral_clock_action", args=[reference, action])
    return page, f"/api/rah/referrals/{reference}/{action}/"


@pytest.mark.parametrize("kind", DOORS)
def test_triage_dispatch_and_arrival_alike_at_every_door(world, door, kind):
    referral = world.referral_b
    post = door(kind, "rah_coordinator")
    urgent = TriageCategory.objects.get(code="crisis")
    post(*_clock(referral.reference, "triage"), {"category": urgent.pk})
    post(*_clock(referral.reference, "dispatch"), {"responder": world.users["rah_responder"].pk})
    post(*_clock(referral.reference, "arrival"), {})
    episode = Episode.objects.get(referral=referral)
    assert episode.category == urgent and episode.dispatches.count() == 1 and episode.arrived_at is not None
    assert _updates(referral) == 3


@pytest.mark.parametrize("kind", DOORS)
def test_the_reablement_clock_alike_at_every_door(world, door, kind):
    """A responder at the visit finds the person needs reablement; its care begins later
    (typed as the page's field sends it); a second need is refused. Minutes apart, within
    the session's idle timeout, so the page's session is still signed in."""
    referral = world.referral_b
    post = door(kind, "rah_responder")
    visit = referral.received_at + dt.timedelta(minutes=5)
    with time_machine.travel(visit, tick=False):
        post(*_clock(referral.reference, "arrival"), {})
        post(*_clock(referral.reference, "reablement-needed"), {})
    with time_machine.travel(visit + dt.timedelta(minutes=10), tick=False):
        began = timezone.localtime().replace(second=0, microsecond=0)
        fields = {"started_at": began.strftime("%Y-%m-%dT%H:%M")}
        started = post(*_clock(referral.reference, "reablement-started"), fields)
        again = post(*_clock(referral.reference, "reablement-needed"), {})
    episode = Episode.objects.get(referral=referral)
    assert episode.reablement_clock_start == visit  # found at the visit, recorded there
    assert episode.reablement_care_started_at == began
    assert _updates(referral) == 3  # arrival, need, start: the second need changed nothing
    if kind == "api":
        assert dt.datetime.fromisoformat(started.json()["reablement_care_started_at"]) == began
        assert again.status_code == 409 and "was recorded at" in again.json()["detail"]


@pytest.mark.parametrize("kind", DOORS)
def test_a_responder_may_not_triage_or_record_an_outcome_unsent_at_any_door(world, door, kind):
    referral = world.referral_b
    post = door(kind, "rah_responder")
    triaged = post(*_clock(referral.reference, "triage"), {"category": TriageCategory.objects.first().pk})
    ended = post(*_clock(referral.reference, "outcome"), {"outcome": "died"})
    assert (triaged.status_code, ended.status_code) == (403, 403)
    episode = Episode.objects.get(referral=referral)
    assert episode.triaged_at is None and not episode.outcome


@pytest.mark.parametrize("kind", DOORS)
def test_bad_input_to_a_clock_action_names_the_field_and_changes_nothing(world, door, kind):
    referral = world.referral_b
    response = door(kind, "rah_coordinator")(
        *_clock(referral.reference, "agree-later"), {"due_at": "tomorrow"}
    )
    episode = Episode.objects.get(referral=referral)
    assert not episode.agreed_later
    if kind == "api":
        assert response.status_code == 400 and set(response.json()) == {"due_at", "reason"}


@pytest.mark.parametrize("kind", DOORS)
def test_contacts_and_reviews_alike_at_every_door(world, door, kind):
    member = world.users["cit_member_a"]
    entry = on_caseload(team=world.team_a, key_worker=member, referral=world.referral_a)
    post = door(kind, "cit_member_a")
    yesterday = timezone.localtime() - dt.timedelta(days=1)
    post(
        reverse("teams:record_contact", args=[entry.pk]),
        f"/api/teams/entries/{entry.pk}/contacts/",
        {
            "kind": Contact.Kind.VISIT,
            "staff": member.pk,
            "at": yesterday.strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 30,
            "attended": True,
            "notes": "Seen at home",
        },
    )
    post(
        reverse("teams:review", args=[entry.pk]),
        f"/api/teams/entries/{entry.pk}/reviews/",
        {
            "reviewed_on": yesterday.date().isoformat(),
            "next_review_due": (yesterday.date() + dt.timedelta(weeks=6)).isoformat(),
        },
    )
    entry.refresh_from_db()
    world.referral_a.refresh_from_db()
    assert entry.contacts.get().notes == "Seen at home"
    assert entry.review_due == yesterday.date() + dt.timedelta(weeks=6)
    assert world.referral_a.status == Status.IN_PROGRESS  # the first contact started the work
    assert _updates(entry) == 2


@pytest.mark.parametrize("kind", DOORS)
def test_another_teams_entry_is_not_found_at_any_door(world, door, kind):
    entry = on_caseload(team=world.team_a, key_worker=world.users["cit_member_a"], referral=world.referral_a)
    outsider = UserFactory(username="cit_member_b", roles=[Role.CIT_MEMBER], teams=[world.team_b])
    world.users["cit_member_b"] = outsider
    response = door(kind, "cit_member_b")(
        reverse("teams:review", args=[entry.pk]),
        f"/api/teams/entries/{entry.pk}/reviews/",
        {"reviewed_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 404
    assert not entry.reviews.exists()
    assert (
        AuditEvent.objects.filter(user=outsider, action=AuditAction.REFUSED, patient=entry.patient).count()
        == 1
    )


@pytest.mark.parametrize("kind", DOORS)
def test_an_identity_is_confirmed_alike_at_every_door(world, door, kind):
    referral = world.referral_b
    Referral.objects.filter(pk=referral.pk).update(identity_to_confirm=True)
    door(kind, "rah_coordinator")(
        reverse("referrals:identity", args=[referral.reference, "confirm"]),
        f"/api/referrals/{referral.reference}/confirm-identity/",
        {},
    )
    referral.refresh_from_db()
    assert not referral.identity_to_confirm and referral.patient == world.patient_b
    assert _updates(referral) == 1


@pytest.mark.parametrize("kind", DOORS)
def test_a_goal_a_new_key_worker_and_the_discharge_alike_at_every_door(world, door, kind):
    member = world.users["cit_member_a"]
    matron = UserFactory(roles=[Role.CIT_MEMBER], teams=[world.team_a], discipline="community_matron")
    entry = on_caseload(team=world.team_a, key_worker=member, referral=world.referral_a)
    post = door(kind, "cit_member_a")
    page, api = reverse("teams:add_goal", args=[entry.pk]), f"/api/teams/entries/{entry.pk}/goals/"
    post(page, api, {"description": "Walk to the shop"})
    page, api = (
        reverse("teams:change_key_worker", args=[entry.pk]),
        f"/api/teams/entries/{entry.pk}/key-worker/",
    )
    post(page, api, {"key_worker": matron.pk})
    page, api = reverse("teams:discharge", args=[entry.pk]), f"/api/teams/entries/{entry.pk}/discharge/"
    post(page, api, {"reason": "goals_met"})
    again = post(page, api, {"reason": "goals_met"})
    entry.refresh_from_db()
    world.referral_a.refresh_from_db()
    assert entry.goals.get().description == "Walk to the shop"
    assert (entry.key_worker, entry.discharge_reason, world.referral_a.status) == (
        matron,
        "goals_met",
        Status.CLOSED,
    )
    assert again.status_code == (409 if kind == "api" else 400)  # discharged once only
    assert _updates(entry) == 3


@pytest.mark.parametrize("kind", DOORS)
def test_a_responders_visit_alike_at_every_door(world, door, kind):
    referral, responder = world.referral_b, world.users["rah_responder"]
    visit = rah.dispatch_responder(
        referral=referral, responder=responder, user=world.users["rah_coordinator"]
    )
    post = door(kind, "rah_responder")
    post(
        reverse("recovery_at_home:on_the_way", args=[visit.pk]), f"/api/rah/visits/{visit.pk}/on-the-way/", {}
    )
    post(
        reverse("recovery_at_home:visit_arrival", args=[visit.pk]), f"/api/rah/visits/{visit.pk}/arrived/", {}
    )
    visit.refresh_from_db()
    assert visit.state == "arrived" and Episode.objects.get(referral=referral).arrived_at is not None
    assert _updates(referral) == 2  # on the way, arrived


@pytest.mark.parametrize("kind", DOORS)
def test_an_alert_is_acknowledged_by_a_coordinator_only_at_every_door(world, door, kind):
    referral = world.referral_b
    episode = Episode.objects.get(referral=referral)
    alert = Alert.objects.create(
        episode=episode,
        kind=Alert.Kind.BREACHED,
        for_due_at=episode.response_due_at,
        due_at=episode.response_due_at,
        raised_at=timezone.now(),
    )
    paths = (
        reverse("recovery_at_home:acknowledge", args=[alert.pk]),
        f"/api/rah/alerts/{alert.pk}/acknowledge/",
    )
    assert door(kind, "rah_responder")(*paths, {}).status_code == 403
    door(kind, "rah_coordinator")(*paths, {})
    alert.refresh_from_db()
    assert alert.acknowledged_by == world.users["rah_coordinator"] and _updates(referral) == 1


@pytest.mark.parametrize("kind", DOORS)
def test_a_former_responder_records_no_visit_at_any_door(world, door, kind):
    referral, responder = world.referral_b, world.users["rah_responder"]
    visit = rah.dispatch_responder(
        referral=referral, responder=responder, user=world.users["rah_coordinator"]
    )
    responder.role_grants.all().delete()
    responder.__dict__.pop("role_codes", None)
    response = door(kind, "rah_responder")(
        reverse("recovery_at_home:visit_arrival", args=[visit.pk]), f"/api/rah/visits/{visit.pk}/arrived/", {}
    )
    assert response.status_code in (403, 404)
    assert Episode.objects.get(referral=referral).arrived_at is None
