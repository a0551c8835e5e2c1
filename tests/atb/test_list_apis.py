"""Every list a person sees in the portal has an API with the same scope, paging and audit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.models import AuditAction, AuditEvent, Patient
from mdt import services as mdt_services
from tests.factories import PatientFactory, meeting_with_agenda, on_caseload


@pytest.fixture
def api():
    def client_for(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        return client

    return client_for


def test_the_patient_search_api_is_scoped_searched_paged_and_audited(
    world, api, django_assert_max_num_queries
):
    Patient.objects.bulk_create(
        Patient(given_name="Page", family_name=f"Filler-{n}", practice=world.practice_a) for n in range(60)
    )
    gp_a = api(world.users["gp_a"])
    with django_assert_max_num_queries(8):
        first = gp_a.get("/api/patients/").json()
    assert first["count"] == 61 and len(first["results"]) == 50 and first["next"]
    found = gp_a.get("/api/patients/", {"q": world.patient_a.nhs_number}).json()
    assert [p["id"] for p in found["results"]] == [world.patient_a.pk]
    assert (
        api(world.users["gp_b"]).get("/api/patients/", {"q": world.patient_a.nhs_number}).json()["count"] == 0
    )
    listed = AuditEvent.objects.filter(action=AuditAction.LIST)
    assert listed.count() == 50 + 1  # the first page, then the search; gp_b was shown nobody
    assert listed.filter(patient=world.patient_a, detail__startswith="API search: 9").count() == 1
    assert api(world.users["service_manager"]).get("/api/patients/").status_code == 403


def test_my_caseload_api_lists_the_members_own_people(world, api):
    member = world.users["cit_member_a"]
    mine = on_caseload(team=world.team_a, key_worker=member, referral=world.referral_a)
    body = api(member).get("/api/caseload/mine/").json()
    assert [row["id"] for row in body["results"]] == [mine.pk]
    assert body["results"][0]["patient"]["nhs_number"] == world.patient_a.nhs_number
    assert api(world.users["gp_a"]).get("/api/caseload/mine/").status_code == 404


def test_mdt_meeting_agenda_and_actions_apis(world, api):
    coordinator = world.users["mdt_coordinator_a"]
    meeting, (item,) = meeting_with_agenda(
        practice=world.practice_a, coordinator=coordinator, patients=[world.patient_a]
    )
    mdt_services.add_action(
        item=item,
        user=coordinator,
        description="Review medicines",
        due_date=timezone.localdate() + dt.timedelta(days=30),
        owner=world.users["gp_a"],
    )
    client = api(coordinator)
    assert [m["id"] for m in client.get("/api/mdt/meetings/").json()["results"]] == [meeting.pk]
    agenda = client.get(f"/api/mdt/meetings/{meeting.pk}/agenda/").json()["results"]
    assert agenda[0]["patient"]["id"] == world.patient_a.pk
    assert agenda[0]["actions"][0]["description"] == "Review medicines"
    actions = api(world.users["gp_a"]).get("/api/mdt/actions/").json()["results"]
    assert [(a["description"], a["meeting"]) for a in actions] == [("Review medicines", meeting.pk)]
    other = PatientFactory(practice=world.practice_b)
    other_meeting, _ = meeting_with_agenda(
        practice=world.practice_b, coordinator=coordinator, patients=[other]
    )
    assert client.get(f"/api/mdt/meetings/{other_meeting.pk}/agenda/").status_code == 404


def test_the_referral_api_offers_the_pages_lists(world, api):
    from tests.factories import ReferralFactory

    gp_a = api(world.users["gp_a"])
    colleague_made = ReferralFactory(
        patient=world.patient_a, service=world.cit, team=world.team_a, referring_practice=world.practice_a
    )
    mine = gp_a.get("/api/referrals/", {"list": "mine"}).json()["results"]
    practice = gp_a.get("/api/referrals/", {"list": "practice"}).json()["results"]
    assert [r["reference"] for r in mine] == [world.referral_a.reference]
    assert {r["reference"] for r in practice} == {world.referral_a.reference, colleague_made.reference}
    inbox = api(world.users["cit_member_a"]).get("/api/referrals/", {"list": "inbox"}).json()["results"]
    assert {r["reference"] for r in inbox} == {world.referral_a.reference, colleague_made.reference}
    rah_inbox = (
        api(world.users["rah_coordinator"]).get("/api/referrals/", {"list": "inbox"}).json()["results"]
    )
    assert [r["reference"] for r in rah_inbox] == [world.referral_b.reference]
    assert gp_a.get("/api/referrals/", {"list": "everything"}).status_code == 400


def test_the_responders_visits_and_the_bed_board_apis(world, api):
    from django.db import transaction

    from core.models import BedUnit
    from recovery_at_home import services as rah

    coordinator, responder = world.users["rah_coordinator"], world.users["rah_responder"]
    rah.dispatch_responder(referral=world.referral_b, responder=responder, user=coordinator)
    visits = api(responder).get("/api/rah/visits/").json()["results"]
    assert [(v["reference"], v["state"]) for v in visits] == [(world.referral_b.reference, "dispatched")]
    assert visits[0]["patient"]["nhs_number"] == world.patient_b.nhs_number

    houghton = BedUnit.objects.create(service=world.rah, name="Houghton", beds=2)
    with transaction.atomic():
        rah.admit_to_bed(episode=world.referral_b.episode, bed_unit=houghton, user=coordinator)
    beds = api(coordinator).get("/api/rah/beds/").json()["results"]
    assert [(b["unit"], b["patient"]["id"]) for b in beds] == [("Houghton", world.patient_b.pk)]
    assert api(world.users["gp_b"]).get("/api/rah/beds/").status_code == 404
    assert (
        api(coordinator).get("/api/rah/visits/").status_code == 404
    )  # a coordinator has no visits of their own
