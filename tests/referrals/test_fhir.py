"""FHIR out (Patient, ServiceRequest) and BaRS referral messages in."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.servicerequest import ServiceRequest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.models import AuditAction, AuditEvent, Patient, Role
from referrals.models import Referral, Source
from tests.factories import UserFactory

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"


@pytest.fixture
def api(world):
    def client_for(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        return client

    return client_for


@pytest.fixture
def nhs_111(world):
    return UserFactory(
        username="nhs111-system", first_name="NHS 111", last_name="North East", roles=[Role.REFERRER]
    )


def _message(message_id="3f7b2a52-0b3c-4d0e-9c55-111111111111", **patient_overrides):
    patient = {
        "resourceType": "Patient",
        "name": [{"family": "Ridley", "given": ["Margaret"]}],
        "birthDate": "1938-02-11",
        "address": [{"line": ["12 Fulwell Road"], "postalCode": "SR6 9AB"}],
        **patient_overrides,
    }
    return {
        "resourceType": "Bundle",
        "id": "bundle-1",
        "type": "message",
        "entry": [
            {
                "fullUrl": "urn:uuid:header",
                "resource": {
                    "resourceType": "MessageHeader",
                    "id": message_id,
                    "eventCoding": {
                        "system": "https://fhir.nhs.uk/CodeSystem/message-events-bars",
                        "code": "servicerequest-request",
                    },
                    "source": {"name": "NHS 111 North East", "endpoint": "https://111.example.nhs.uk"},
                    "destination": [{"name": "Recovery at Home", "endpoint": "https://atb.example.nhs.uk"}],
                    "focus": [{"reference": "urn:uuid:request"}],
                },
            },
            {
                "fullUrl": "urn:uuid:request",
                "resource": {
                    "resourceType": "ServiceRequest",
                    "status": "active",
                    "intent": "order",
                    "priority": "urgent",
                    "subject": {"reference": "urn:uuid:patient"},
                    "reasonCode": [{"text": "Fall without serious injury"}],
                    "requester": {"display": "NHS 111 clinician K. Shah"},
                    "note": [{"text": "Fell at 14:00, unable to get up alone; no head injury."}],
                },
            },
            {"fullUrl": "urn:uuid:patient", "resource": patient},
            {
                "fullUrl": "urn:uuid:flag",
                "resource": {
                    "resourceType": "Flag",
                    "status": "active",
                    "code": {"text": "Key safe at the property: code given to crews"},
                    "subject": {"reference": "urn:uuid:patient"},
                },
            },
            {
                "fullUrl": "urn:uuid:consent",
                "resource": {
                    "resourceType": "Consent",
                    "status": "active",
                    "scope": {"text": "patient-privacy"},
                    "category": [{"text": "Consent to share with the receiving service"}],
                },
            },
        ],
    }


def test_a_patient_reads_as_a_valid_uk_core_resource_and_is_audited(world, api):
    response = api(world.users["gp_a"]).get(f"/fhir/Patient/{world.patient_a.pk}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    body = response.json()
    FhirPatient.model_validate(body)
    assert body["identifier"] == [{"system": NHS_NUMBER_SYSTEM, "value": world.patient_a.nhs_number}]
    assert body["name"][0]["family"] == world.patient_a.family_name
    assert body["generalPractitioner"][0]["identifier"]["value"] == world.practice_a.ods_code
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient=world.patient_a, detail="FHIR Patient"
    ).exists()


def test_a_patient_outside_the_relationship_is_a_404_operation_outcome(world, api):
    response = api(world.users["gp_b"]).get(f"/fhir/Patient/{world.patient_a.pk}")
    assert response.status_code == 404
    OperationOutcome.model_validate(response.json())
    assert AuditEvent.objects.filter(action=AuditAction.REFUSED, patient=world.patient_a).exists()


def test_a_recovery_at_home_referral_reads_as_a_service_request_with_its_response_window(world, api):
    referral = world.referral_b
    response = api(world.users["rah_coordinator"]).get(f"/fhir/ServiceRequest/{referral.reference}")
    body = response.json()
    ServiceRequest.model_validate(body)
    assert (body["status"], body["intent"], body["priority"]) == ("active", "order", "urgent")
    assert body["subject"] == {"reference": f"Patient/{referral.patient_id}"}
    start = dt.datetime.fromisoformat(body["occurrencePeriod"]["start"])
    end = dt.datetime.fromisoformat(body["occurrencePeriod"]["end"])
    assert (start, end) == (referral.received_at, referral.episode.response_due_at)
    assert api(world.users["gp_a"]).get(f"/fhir/ServiceRequest/{referral.reference}").status_code == 404


def test_a_bars_message_creates_a_referral_in_the_recovery_at_home_inbox(world, api, nhs_111):
    response = api(nhs_111).post("/fhir/$process-message", _message(), format="json")
    assert response.status_code == 201, response.json()
    ServiceRequest.model_validate(response.json())
    referral = Referral.objects.get(reference=response.json()["id"])
    assert response["Location"] == f"/fhir/ServiceRequest/{referral.reference}"
    assert (referral.service, referral.source, referral.reason) == (world.rah, Source.NHS_111, "fall")
    assert referral.patient.nhs_number is None  # unknown to the portal and without an NHS number
    assert (referral.patient.family_name, str(referral.patient.date_of_birth)) == ("Ridley", "1938-02-11")
    assert referral.key_safe and referral.consent_to_share
    assert "unable to get up alone" in referral.clinical_summary
    assert referral.episode.response_due_at == referral.received_at + dt.timedelta(hours=2)
    assert referral.referrer_name == "NHS 111 clinician K. Shah"
    inbox = APIClient()
    inbox.force_authenticate(world.users["rah_coordinator"])
    assert referral.reference in {r["reference"] for r in inbox.get("/api/referrals/").json()["results"]}


def test_the_same_message_id_twice_makes_one_referral(world, api, nhs_111):
    client = api(nhs_111)
    first = client.post("/fhir/$process-message", _message(), format="json")
    again = client.post("/fhir/$process-message", _message(), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Referral.objects.filter(source=Source.NHS_111).count() == 1


def test_a_known_patient_is_found_by_nhs_number_and_a_team_referral_is_routed(world, api, nhs_111):
    message = _message(
        identifier=[{"system": NHS_NUMBER_SYSTEM, "value": world.patient_a.nhs_number}],
        name=[{"family": world.patient_a.family_name, "given": [world.patient_a.given_name]}],
        birthDate=world.patient_a.date_of_birth.isoformat(),
        generalPractitioner=[
            {
                "identifier": {
                    "system": "https://fhir.nhs.uk/Id/ods-organization-code",
                    "value": world.practice_a.ods_code,
                }
            }
        ],
    )
    message["entry"][0]["resource"]["destination"] = [{"name": "Community Integrated Team", "endpoint": "x"}]
    message["entry"][1]["resource"]["reasonCode"] = [{"text": "Wound care"}]
    response = api(nhs_111).post("/fhir/$process-message", message, format="json")
    assert response.status_code == 201, response.json()
    referral = Referral.objects.get(reference=response.json()["id"])
    assert (referral.patient, referral.team, referral.reason) == (world.patient_a, world.team_a, "wound_care")


@pytest.mark.parametrize(
    ("break_it", "diagnostic"),
    [
        (lambda m: m["entry"].pop(1), "The bundle has no ServiceRequest."),
        (lambda m: m["entry"][2]["resource"].update(birthDate="11/02/1938"), "birthDate"),
        (lambda m: m.update(type="collection"), "The bundle's type must be message."),
        (
            lambda m: m["entry"][2]["resource"].update(
                identifier=[{"system": NHS_NUMBER_SYSTEM, "value": "1234567890"}]
            ),
            "not a valid NHS number",
        ),
    ],
)
def test_a_malformed_bundle_gets_an_operation_outcome_and_saves_nothing(
    world, api, nhs_111, break_it, diagnostic
):
    message = copy.deepcopy(_message())
    break_it(message)
    patients, referrals = Patient.objects.count(), Referral.objects.count()
    response = api(nhs_111).post("/fhir/$process-message", message, format="json")
    assert 400 <= response.status_code < 500
    outcome = OperationOutcome.model_validate(response.json())
    assert any(diagnostic in (issue.diagnostics or "") for issue in outcome.issue)
    assert (Patient.objects.count(), Referral.objects.count()) == (patients, referrals)


def test_an_account_that_does_not_refer_cannot_send_messages(world, api):
    response = api(world.users["service_manager"]).post("/fhir/$process-message", _message(), format="json")
    assert response.status_code == 403
    OperationOutcome.model_validate(response.json())
    assert APIClient().get(f"/fhir/Patient/{world.patient_a.pk}").status_code == 401
