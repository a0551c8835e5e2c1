"""Sending a referral never discloses what the portal holds about the person, by any door:
the form, the API and FHIR messages. The sender sees what they sent; the referral still
reaches the person's record (marked "identity to confirm" when the details disagree) for
the receiving service, which settles it."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core import access
from core.models import AuditAction, AuditEvent, Patient, Role
from recovery_at_home import services as rah
from referrals import services
from referrals.models import Reason, Referral, ReferralEvent, Source
from tests.factories import UserFactory, typed_date
from tests.referrals.test_fhir import _message

MADE_UP = {"given_name": "Anne", "family_name": "Nobody"}


@pytest.fixture(autouse=True)
def held_names(world):
    """The record's own names, unlike the made-up ones: the factory's random name could be
    "Anne", which a page then shows because it was sent, not because it was disclosed."""
    Patient.objects.filter(pk=world.patient_a.pk).update(given_name="Winifred", family_name="Holmeside")
    world.patient_a.refresh_from_db()


def _record_details(patient: Patient) -> list[str]:
    """What the portal holds about the person and a stranger must not learn."""
    held = [patient.given_name, patient.family_name, patient.address, patient.phone, patient.postcode]
    held += [patient.date_of_birth.isoformat(), patient.practice.name, patient.practice.ods_code]
    return [value for value in held if value]


def _api_payload(patient: Patient, **person):
    return {
        "patient": {"nhs_number": patient.nhs_number, **person},
        "service": "rah",
        "source": Source.GP,
        "reason": Reason.FALL,
        "consent_to_referral": True,
    }


def test_an_api_referral_with_anyones_nhs_number_shows_only_what_was_sent(world, api, client_for):
    stranger, patient = world.users["gp_b"], world.patient_a  # practice A's patient
    response = api("gp_b").post("/api/referrals/", _api_payload(patient, **MADE_UP), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["patient"]["id"] is None
    assert (body["patient"]["given_name"], body["patient"]["family_name"]) == ("Anne", "Nobody")
    assert body["identity_to_confirm"] is False  # how it compares is the receiver's business
    text = response.content.decode()
    assert not [held for held in _record_details(patient) if held in text]

    referral = Referral.objects.get(reference=body["reference"])
    assert referral.patient == patient and referral.identity_to_confirm  # received, to confirm
    again = api("gp_b").get(f"/api/referrals/{referral.reference}/").content.decode()
    assert not [held for held in _record_details(patient) if held in again]
    # The referral opened nothing: the record stays out of reach, and the refusals are audited.
    assert client_for(stranger).get(reverse("patient_detail", args=[patient.pk])).status_code == 404
    assert api("gp_b").get(f"/fhir/Patient/{patient.pk}").status_code == 404
    assert AuditEvent.objects.filter(user=stranger, patient=patient, action=AuditAction.REFUSED).count() == 2
    created = AuditEvent.objects.get(user=stranger, object_id=str(referral.pk), action=AuditAction.CREATE)
    assert "identity to confirm" in created.detail


def _fhir_message(nhs_number: str, name: list | None):
    message = _message(identifier=[{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs_number}])
    for entry in message["entry"]:
        if entry["resource"]["resourceType"] == "Patient":
            entry["resource"].pop("name")
            entry["resource"].pop("birthDate")
            entry["resource"].pop("address")
            if name:
                entry["resource"]["name"] = name
    return message


def test_a_fhir_message_with_only_an_nhs_number_learns_nothing(world, api):
    """Without a name it is refused, the same way whether the number is on record or not;
    with a made-up name it is received and answers with what was sent."""
    patient, unknown = world.patient_a, "9434765919"
    refusals = [
        api("gp_b").post("/fhir/$process-message", _fhir_message(number, None), format="json")
        for number in (patient.nhs_number, unknown)
    ]
    assert [r.status_code for r in refusals] == [422, 422]
    assert refusals[0].json()["issue"] == refusals[1].json()["issue"]
    assert any("Patient.family_name" in issue["diagnostics"] for issue in refusals[0].json()["issue"])
    assert not Referral.objects.filter(referred_by=world.users["gp_b"], patient=patient).exists()

    message = _fhir_message(patient.nhs_number, [{"family": "Nobody", "given": ["Anne"]}])
    message["entry"][0]["resource"]["id"] = "another-message-id"
    response = api("gp_b").post("/fhir/$process-message", message, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["subject"] == {
        "identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": patient.nhs_number},
        "display": "Anne Nobody",
    }
    text = response.content.decode()
    assert not [held for held in _record_details(patient) if held in text]
    referral = Referral.objects.get(reference=response.json()["id"])
    assert referral.patient == patient and referral.identity_to_confirm


def _form(world, patient, **overrides):
    return {
        "nhs_number": patient.nhs_number_display,
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        **typed_date("date_of_birth", patient.date_of_birth.isoformat()),
        "practice": world.practice_b.pk,
        "service": world.rah.pk,
        "team": "",
        "source": Source.GP,
        "reason": Reason.FALL,
        "consent_to_referral": "on",
        "referrer_phone": "0191 555 0101",
        **overrides,
    }


def test_the_form_is_no_oracle_for_a_date_of_birth(world, client_for):
    """A wrong date of birth used to answer "not the date of birth recorded with that NHS
    number". Now the referral is received, to be confirmed, and nothing stored comes back."""
    patient = world.patient_a
    client = client_for(world.users["gp_b"])
    response = client.post(
        reverse("referrals:create"),
        _form(world, patient, **MADE_UP, **typed_date("date_of_birth", "1950-01-01")),
        follow=True,
    )
    page = response.content.decode()
    assert response.redirect_chain and "date of birth recorded" not in page
    assert "NOBODY, Anne" in page and "1 Jan 1950" in page
    assert escape(patient.family_name).upper() not in page.upper()
    referral = Referral.objects.get(referred_by=world.users["gp_b"], service=world.rah, patient=patient)
    assert referral.identity_to_confirm


def test_the_right_date_of_birth_with_a_made_up_name_shows_the_made_up_name(world, client_for):
    patient = world.patient_a
    response = client_for(world.users["gp_b"]).post(
        reverse("referrals:create"), _form(world, patient, **MADE_UP), follow=True
    )
    page = response.content.decode()
    assert "NOBODY, Anne" in page
    assert escape(patient.family_name).upper() not in page.upper()
    assert reverse("patient_detail", args=[patient.pk]) not in page


def test_the_duplicate_guard_lists_only_referrals_the_sender_may_see(world, client_for):
    """Practice A's open team referral of patient A is not practice B's to know of."""
    patient = world.patient_a
    response = client_for(world.users["gp_b"]).post(
        reverse("referrals:create"), _form(world, patient, service=world.cit.pk, reason=Reason.FRAILTY_REVIEW)
    )
    assert response.status_code == 302
    assert world.referral_a.reference not in response.content.decode()
    assert Referral.objects.filter(patient=patient, service=world.cit).count() == 2


def test_the_receiving_service_sees_the_difference_and_settles_it(world, client_for):
    patient, coordinator = world.patient_a, world.users["rah_coordinator"]
    client_for(world.users["gp_b"]).post(reverse("referrals:create"), _form(world, patient, **MADE_UP))
    referral = Referral.objects.get(referred_by=world.users["gp_b"], patient=patient)
    client = client_for(coordinator)
    page = client.get(referral.get_absolute_url()).content.decode()
    assert "Identity to confirm" in page and "NOBODY, Anne" in page
    assert escape(patient.family_name).upper() in page.upper()  # the record, for the receiver
    inbox = client.get(reverse("referrals:inbox")).content.decode()
    assert "Identity to confirm" in inbox

    client.post(reverse("referrals:identity", args=[referral.reference, "separate"]))
    referral.refresh_from_db()
    assert not referral.identity_to_confirm
    assert referral.patient != patient
    assert (referral.patient.family_name, referral.patient.nhs_number) == ("Nobody", None)
    assert list(referral.events.values_list("kind", flat=True))[-1] == ReferralEvent.Kind.IDENTITY_SEPARATED
    again = client.post(reverse("referrals:identity", args=[referral.reference, "confirm"]), follow=True)
    assert "already settled" in again.content.decode()


def test_only_the_receiver_settles_an_identity(world, client_for):
    patient = world.patient_a
    client = client_for(world.users["gp_b"])
    client.post(reverse("referrals:create"), _form(world, patient, **MADE_UP))
    referral = Referral.objects.get(referred_by=world.users["gp_b"], patient=patient)
    assert client.post(reverse("referrals:identity", args=[referral.reference, "confirm"])).status_code == 403
    referral.refresh_from_db()
    assert referral.identity_to_confirm


def test_a_sender_sees_where_their_referral_is_not_the_work_on_it(world, client_for):
    """The timeline's events meant for the referrer: not the dispatches, notes or triage."""
    patient, coordinator = world.patient_a, world.users["rah_coordinator"]
    client_for(world.users["gp_b"]).post(reverse("referrals:create"), _form(world, patient))
    referral = Referral.objects.get(referred_by=world.users["gp_b"], patient=patient)
    responder = world.users["rah_responder"]
    rah.dispatch_responder(referral=referral, responder=responder, user=coordinator)
    services.add_note(referral=referral, user=coordinator, note="Daughter has the key; dog in the kitchen")
    rah.record_arrival(referral=referral, user=responder)

    page = client_for(world.users["gp_b"]).get(referral.get_absolute_url()).content.decode()
    assert "Accepted" in page
    assert "dog in the kitchen" not in page and str(responder) not in page
    assert "Response clock" not in page


def test_a_colleague_at_the_referring_practice_sees_the_referral_as_sent(world, client_for):
    """They got 200 on a referral page naming the patient, and 404 on the patient's page:
    one rule now decides both."""
    colleague = UserFactory(roles=[Role.REFERRER], practices=[world.practice_b])
    patient = world.patient_a
    client_for(world.users["gp_b"]).post(reverse("referrals:create"), _form(world, patient, **MADE_UP))
    referral = Referral.objects.get(referred_by=world.users["gp_b"], patient=patient)
    client = client_for(colleague)
    page = client.get(referral.get_absolute_url())
    assert page.status_code == 200 and "NOBODY, Anne" in page.content.decode()
    assert escape(patient.family_name).upper() not in page.content.decode().upper()
    assert client.get(reverse("patient_detail", args=[patient.pk])).status_code == 404
    listed = client.get(reverse("referrals:practice")).content.decode()
    assert referral.reference in listed and escape(patient.family_name).upper() not in listed.upper()


def test_a_referral_seen_whole_is_always_about_a_person_one_may_open(world):
    """The rule behind both: `referral_record_scope` is `patient_scope` seen from the
    referral, for every role."""
    for user in world.users.values():
        whole = Referral.objects.filter(access.referral_record_scope(user=user)).values_list(
            "patient", flat=True
        )
        openable = set(Patient.objects.filter(access.patient_scope(user=user)).values_list("pk", flat=True))
        assert set(whole) <= openable, user.username


def test_the_senders_list_shows_the_last_event_meant_for_them(world, client_for):
    """The identity note written on a mismatch would say "that number is on file"."""
    client = client_for(world.users["gp_b"])
    client.post(reverse("referrals:create"), _form(world, world.patient_a, **MADE_UP))
    referral = Referral.objects.get(referred_by=world.users["gp_b"], patient=world.patient_a)
    assert referral.events.order_by("-at", "-id").first().kind == ReferralEvent.Kind.NOTE
    listed = client.get(reverse("referrals:home"))
    (row,) = [r for r in listed.context["page"].object_list if r.pk == referral.pk]
    assert row.last_event_kind == ReferralEvent.Kind.SUBMITTED


def test_another_senders_message_id_reads_nothing_back(world, api):
    nhs_111 = UserFactory(roles=[Role.REFERRER])
    first = APIClient()
    first.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=nhs_111).key}")
    assert first.post("/fhir/$process-message", _message(), format="json").status_code == 201
    again = api("gp_b").post("/fhir/$process-message", _message(), format="json")
    assert again.status_code == 409
    assert "Ridley" not in again.content.decode()


def test_the_apis_sent_lists_hold_what_was_sent_and_only_as_sent(world, client_for, api):
    """`list=mine` and `list=practice` are the referrals the user and their practice sent,
    read from the sender's relationship alone: whole where the record is theirs to open,
    as sent otherwise. Staff who send no referrals have none there."""
    client_for(world.users["gp_b"]).post(
        reverse("referrals:create"), _form(world, world.patient_a, **MADE_UP)
    )
    sent = Referral.objects.get(referred_by=world.users["gp_b"], patient=world.patient_a)
    colleague = UserFactory(username="colleague_b", roles=[Role.REFERRER], practices=[world.practice_b])
    world.users["colleague_b"] = colleague

    def listed(username: str, which: str) -> tuple[set[str], str]:
        response = api(username).get("/api/referrals/", {"list": which})
        assert response.status_code == 200
        return {row["reference"] for row in response.json()["results"]}, response.content.decode()

    practice, content = listed("colleague_b", "practice")
    assert sent.reference in practice and world.referral_a.reference not in practice
    assert "Holmeside" not in content  # the record's name: the colleague sees the referral as sent
    assert sent.reference not in listed("colleague_b", "mine")[0]
    assert sent.reference in listed("gp_b", "mine")[0]
    # The MDT coordinator of the person's practice sees the referral whole in everything
    # they may see, and sends none themselves.
    assert sent.reference in listed("mdt_coordinator_a", "all")[0]
    assert listed("mdt_coordinator_a", "practice")[0] == set()
