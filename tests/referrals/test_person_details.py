"""What those caring for a person need to reach and talk with them: gender, communication
and interpreter needs, next of kin, a real postcode and phone numbers, checked the same at
the form, the API and the patient's record, shown in the national format and dialled from
the tablet; and the portal's own way of writing a name found by the search."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import Patient, StatedGender
from referrals.models import Reason, Referral, Source
from tests.factories import typed_date

PHONE_MESSAGE = "Enter a phone number, like 0191 498 0123"
POSTCODE_MESSAGE = "Enter a UK postcode, like SR1 3AB."


def _form(world, **overrides):
    return {
        "nhs_number": "943 476 5919",
        "given_name": "Doris",
        "family_name": "Bell",
        **typed_date("date_of_birth", "1938-02-11"),
        "practice": world.practice_a.pk,
        "address": "12 Tunstall Road, Sunderland",
        "postcode": "sr2 7hn",
        "phone": "01915550123",
        "gender": StatedGender.FEMALE,
        "communication_needs": "Hard of hearing: face her and speak slowly.",
        "interpreter_needed": "on",
        "preferred_language": "Polish",
        "next_of_kin_name": "Anna Bell",
        "next_of_kin_relationship": "Daughter",
        "next_of_kin_phone": "+44 191 498 0456",
        "service": world.cit.pk,
        "team": "",
        "source": Source.GP,
        "reason": Reason.FRAILTY_REVIEW,
        "consent_to_referral": "on",
        "referrer_phone": "0191 555 0101",
        **overrides,
    }


def test_a_referral_carries_gender_language_and_next_of_kin_onto_the_new_record(world, client_for):
    client = client_for(world.users["gp_a"])
    response = client.post(reverse("referrals:create"), _form(world))

    assert response.status_code == 302
    patient = Patient.objects.get(nhs_number="9434765919")
    assert (patient.postcode, patient.phone, patient.next_of_kin_phone) == (
        "SR2 7HN",
        "0191 555 0123",
        "0191 498 0456",
    )
    assert (patient.gender, patient.interpreter_needed, patient.preferred_language) == ("2", True, "Polish")
    assert (patient.next_of_kin_name, patient.next_of_kin_relationship) == ("Anna Bell", "Daughter")
    page = client.get(patient.get_absolute_url()).content.decode()
    assert "Female" in page and "Needs an interpreter</strong>: Polish" in page
    assert '<a href="tel:+441915550123">0191 555 0123</a>' in page
    assert '<a href="tel:+441914980456">0191 498 0456</a>' in page  # the next of kin's


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("postcode", "!!!", POSTCODE_MESSAGE),
        ("postcode", "ZZ99 9ZZZ", POSTCODE_MESSAGE),
        ("phone", "call daughter", PHONE_MESSAGE),
        ("phone", "999", PHONE_MESSAGE),
        ("next_of_kin_phone", "ring the home", PHONE_MESSAGE),
        ("referrer_phone", "bleep 4412", PHONE_MESSAGE),
        ("preferred_language", "", "Say which language the interpreter is for."),
    ],
)
def test_a_bad_detail_is_refused_beside_its_field_keeping_what_was_typed(
    world, client_for, field, typed, message
):
    response = client_for(world.users["gp_a"]).post(
        reverse("referrals:create"), _form(world, **{field: typed})
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == [field]
    assert message in form.errors[field][0]
    assert form[field].value() == typed
    assert not Referral.objects.filter(patient__family_name="Bell").exists()


def test_a_phone_in_callers_number_is_checked_too(world, client_for):
    form = _form(
        world,
        service=world.rah.pk,
        reason=Reason.FALL,
        source=Source.FAMILY_CARER,
        caller_name="Anna Bell",
        caller_relationship="Daughter",
        caller_phone="my mobile",
        call_started_at="",
    )
    response = client_for(world.users["rah_coordinator"]).post(reverse("referrals:phone_in"), form)
    assert PHONE_MESSAGE in response.context["form"].errors["caller_phone"][0]


def test_the_api_checks_and_keeps_them_as_the_form_does(world, api):
    payload = {
        "patient": {
            "given_name": "Doris",
            "family_name": "Bell",
            "date_of_birth": "1938-02-11",
            "practice": world.practice_a.ods_code,
            "postcode": "ZZ99 9ZZZ",
            "phone": "call daughter",
            "interpreter_needed": True,
        },
        "service": "cit",
        "source": Source.GP,
        "reason": Reason.FRAILTY_REVIEW,
        "consent_to_referral": True,
        "referrer_phone": "extension 12",
    }
    refused = api("gp_a").post("/api/referrals/", payload, format="json")
    assert refused.status_code == 400
    assert set(refused.json()["patient"]) == {"postcode", "phone"}
    assert POSTCODE_MESSAGE in refused.json()["patient"]["postcode"][0]
    assert PHONE_MESSAGE in refused.json()["referrer_phone"][0]

    payload["patient"].update(postcode="sr2 7hn", phone="0191 555 0123")
    payload["referrer_phone"] = "01915656256"
    refused = api("gp_a").post("/api/referrals/", payload, format="json")
    assert refused.json() == {
        "patient": {"preferred_language": ["Say which language the interpreter is for."]}
    }

    payload["patient"].update(preferred_language="British Sign Language", gender="1")
    accepted = api("gp_a").post("/api/referrals/", payload, format="json")
    assert accepted.status_code == 201, accepted.json()
    referral = Referral.objects.get(reference=accepted.json()["reference"])
    assert (referral.patient.postcode, referral.patient.phone, referral.referrer_phone) == (
        "SR2 7HN",
        "0191 555 0123",
        "0191 565 6256",
    )
    assert (referral.patient.gender, referral.patient.preferred_language) == ("1", "British Sign Language")


def test_the_record_form_checks_the_same_details(world, client_for):
    patient = world.patient_a
    client = client_for(world.users["gp_a"])
    form = client.get(reverse("patient_update", args=[patient.pk])).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None and name in form.fields}
    data.update(
        practice=world.practice_a.pk,
        postcode="!!!",
        carer_phone="call daughter",
        **typed_date("date_of_birth", "1940-01-01"),
    )

    response = client.post(reverse("patient_update", args=[patient.pk]), data)

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"postcode", "carer_phone"}
    patient.refresh_from_db()
    assert patient.postcode != "!!!"


@pytest.mark.parametrize("query", ["SMITH, Marc", "smith,marc", "Marc Smith"])
def test_the_search_finds_a_name_written_as_the_portal_writes_it(world, client_for, query):
    Patient.objects.filter(pk=world.patient_a.pk).update(given_name="Marc", family_name="Smith")

    page = client_for(world.users["gp_a"]).get(reverse("patient_list"), {"q": query}).content.decode()

    assert world.patient_a.get_absolute_url() in page
