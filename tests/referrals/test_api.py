from __future__ import annotations

from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.models import AuditAction, AuditEvent, Role
from referrals.models import Reason, Referral, ReferralEvent, Source
from tests.factories import ReferralFactory, UserFactory
from tests.urls import walk


def _payload(world, **overrides):
    return {
        "patient": {
            "nhs_number": "943 476 5919",
            "given_name": "Doris",
            "family_name": "Bell",
            "date_of_birth": "1938-02-11",
            "practice": world.practice_a.ods_code,
        },
        "service": "cit",
        "source": Source.HOSPITAL_DISCHARGE,
        "reason": Reason.DISCHARGE_FOLLOW_UP,
        "clinical_summary": "Discharged today after a chest infection; lives alone.",
        "consent_to_referral": True,
        "referrer_name": "Ward 6 discharge team",
        "referrer_phone": "0191 565 6256",
        **overrides,
    }


def test_a_system_with_a_token_sends_a_referral_that_lands_in_the_right_inbox(world, api, client_for):
    response = api("gp_a").post("/api/referrals/", _payload(world), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["patient"]["nhs_number"] == "9434765919"
    assert body["team"] == str(world.team_a)
    assert [event["kind"] for event in body["timeline"]] == ["submitted"]
    page = client_for(world.users["cit_member_a"]).get(reverse("referrals:inbox")).content.decode()
    assert body["reference"] in page


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        (
            {"patient": {"given_name": "Doris", "family_name": "Bell", "nhs_number": "943 476 5918"}},
            {"patient": {"nhs_number": ["check digit does not match"]}},
        ),
        ({"reason": ""}, {"reason": ['"" is not a valid choice.']}),
        ({"clinical_summary": "x" * 20_000}, {"clinical_summary": ["no more than 4000 characters"]}),
        (
            {"patient": {"given_name": "Doris", "family_name": "Bell", "date_of_birth": "2099-01-01"}},
            {"patient": {"date_of_birth": ["cannot be in the future"]}},
        ),
        ({"consent_to_referral": False}, {"consent_to_referral": ["needs the person's consent"]}),
    ],
)
def test_bad_input_comes_back_as_json_naming_the_field_and_nothing_is_saved(world, api, change, errors):
    before = (Referral.objects.count(), ReferralEvent.objects.count())
    response = api("gp_a").post("/api/referrals/", _payload(world, **change), format="json")
    assert response.status_code == 400
    body = response.json()
    for field, expected in errors.items():
        if isinstance(expected, dict):
            for inner, messages in expected.items():
                assert messages[0] in body[field][inner][0]
        else:
            assert expected[0] in body[field][0]
    assert (Referral.objects.count(), ReferralEvent.objects.count()) == before


def test_the_duplicate_guard_names_the_open_referral(world, api):
    patient = world.patient_a
    payload = _payload(
        world,
        reason=Reason.FRAILTY_REVIEW,
        patient={
            "nhs_number": patient.nhs_number,
            "given_name": patient.given_name,
            "family_name": patient.family_name,
            "practice": world.practice_a.ods_code,
        },
    )
    refused = api("gp_a").post("/api/referrals/", payload, format="json")
    assert refused.status_code == 400
    assert world.referral_a.reference in refused.json()["confirm_duplicate"][0]
    assert (
        api("gp_a").post("/api/referrals/", {**payload, "confirm_duplicate": True}, format="json").status_code
        == 201
    )


def test_a_gp_of_practice_a_gets_404_for_practice_bs_referral(world, api):
    assert api("gp_a").get(f"/api/referrals/{world.referral_b.reference}/").status_code == 404
    assert api("gp_b").get(f"/api/referrals/{world.referral_b.reference}/").status_code == 200


def test_without_a_token_the_api_answers_401(world):
    assert APIClient().get("/api/referrals/").status_code == 401


def test_the_list_shows_only_what_the_caller_may_see_and_is_audited(world, api):
    references = [r["reference"] for r in api("gp_a").get("/api/referrals/").json()["results"]]
    assert references == [world.referral_a.reference]
    listed = AuditEvent.objects.filter(action=AuditAction.LIST)
    assert list(listed.values_list("patient", flat=True)) == [world.patient_a.pk]


@pytest.mark.parametrize("count", [5, 500])
def test_the_list_runs_a_constant_number_of_queries(world, api, django_assert_max_num_queries, count):
    for _ in range(count):
        ReferralFactory(
            service=world.cit,
            team=world.team_a,
            referred_by=world.users["gp_a"],
            referring_practice=world.practice_a,
            patient__practice=world.practice_a,
        )
    client = api("gp_a")
    # token and user, role grants, count, page with patients and last events, savepoint,
    # audit insert, release
    with django_assert_max_num_queries(8):
        response = client.get("/api/referrals/")
    assert response.status_code == 200
    assert response.json()["count"] == count + 1
    assert len(response.json()["results"]) == min(count + 1, 50)


def test_transitions_through_the_api_and_the_loser_gets_409(world, api):
    second = UserFactory(roles=[Role.CIT_MEMBER], teams=[world.team_a])
    token = Token.objects.create(user=second)
    url = f"/api/teams/referrals/{world.referral_a.reference}/accept/"

    key_worker = {"key_worker": world.users["cit_member_a"].pk}
    assert api("cit_member_a").post(url, key_worker, format="json").json()["status"] == "accepted"
    late = APIClient()
    late.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    refused = late.post(url, {"key_worker": second.pk}, format="json")
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith(
        f"This referral was already accepted by {world.users['cit_member_a']}"
    )


def test_accepting_a_team_referral_by_api_needs_a_key_worker_of_the_team(world, api):
    url = f"/api/teams/referrals/{world.referral_a.reference}/accept/"
    missing = api("cit_member_a").post(url, {}, format="json")
    assert missing.status_code == 400
    assert list(missing.json()) == ["key_worker"]
    outsider = api("cit_member_a").post(url, {"key_worker": world.users["gp_a"].pk}, format="json")
    assert outsider.status_code == 400
    assert "valid choice" in outsider.json()["key_worker"][0]
    # The referral's own accept says where a team's referral is accepted.
    plain = api("cit_member_a").post(
        f"/api/referrals/{world.referral_a.reference}/accept/", {}, format="json"
    )
    assert plain.status_code == 409
    assert f"/api/teams/referrals/{world.referral_a.reference}/accept/" in plain.json()["detail"]
    world.referral_a.refresh_from_db()
    assert world.referral_a.status == "received"  # nothing half-done


def test_a_decline_without_a_reason_is_a_field_error(world, api):
    response = api("cit_member_a").post(
        f"/api/referrals/{world.referral_a.reference}/decline/", {}, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()


def test_only_the_receiving_side_may_transition_by_api(world, api):
    response = api("gp_a").post(f"/api/referrals/{world.referral_a.reference}/accept/")
    assert response.status_code == 403
    world.referral_a.refresh_from_db()
    assert world.referral_a.status == "received"


def test_the_openapi_schema_validates_and_has_every_endpoint(db):
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    documented = set(schema["paths"])
    api_paths = {
        path
        for name, path in walk()
        if name.startswith(("api:", "fhir:")) and name not in ("api:schema", "api:docs")
    }
    as_templates = {
        path.replace("ATB-2026-000001", "{reference}")
        .replace("/rah/referrals/x/", "/rah/referrals/{reference}/")
        .replace("/teams/referrals/x/", "/teams/referrals/{reference}/")
        .replace("/entries/1/", "/entries/{entry_id}/")
        .replace("/visits/1/", "/visits/{id}/")
        .replace("/stays/1/", "/stays/{id}/")
        .replace("/alerts/1/", "/alerts/{id}/")
        .replace("/teams/1/", "/teams/{team_id}/")
        .replace("/meetings/1/", "/meetings/{meeting_id}/")
        .replace("/Patient/1", "/Patient/{id}")
        .replace("/DocumentReference/1", "/DocumentReference/{id}")
        .replace("/Binary/1", "/Binary/{id}")
        .replace("/ServiceRequest/x", "/ServiceRequest/{reference}")
        for path in api_paths
    }
    assert as_templates == documented


def test_the_browsable_docs_are_served_without_a_cdn(world, client_for):
    page = client_for(world.users["gp_a"]).get(reverse("api:docs")).content.decode()
    assert "swagger-ui" in page
    assert "cdn" not in page.lower() and "//unpkg" not in page


def test_a_team_referral_without_a_practice_or_team_is_refused_naming_the_team(world, api):
    """The team comes from the practice the sender names, never from the record the NHS
    number matched (the destination would tell the sender where the person is registered)."""
    payload = _payload(
        world, patient={"nhs_number": world.patient_b.nhs_number, "given_name": "A", "family_name": "B"}
    )
    refused = api("gp_a").post("/api/referrals/", payload, format="json")
    assert refused.status_code == 400 and "team" in refused.json()
    assert str(world.team_b) not in refused.content.decode()
