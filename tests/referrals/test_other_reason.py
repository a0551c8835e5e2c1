"""The urgent community response conditions are "not meant to be exhaustive or used to
exclude patients": Recovery at Home takes "Other", with the referrer's words, at every
door (the form, the API, a BaRS message), and every page shows those words."""

from __future__ import annotations

import copy

from django.urls import reverse

from referrals.models import Reason, Referral
from tests.referrals.test_api import _payload
from tests.referrals.test_fhir import _message, nhs_111  # noqa: F401 (a fixture)
from tests.referrals.test_submission import _referral_form


def _to_rah(world, **overrides):
    return _referral_form(world, service=world.rah.pk, reason=Reason.OTHER, **overrides)


def test_the_form_asks_what_the_other_reason_is_and_keeps_what_was_typed(world, client_for):
    client = client_for(world.users["gp_a"])
    form_page = client.get(reverse("referrals:create")).content.decode()
    assert 'value="other"' in form_page and "Other (say what)" in form_page

    refused = client.post(reverse("referrals:create"), _to_rah(world, reason_other="  "))
    assert refused.status_code == 200
    assert refused.context["form"].errors["reason_other"] == ["Say what the other reason is."]
    assert "Increasingly frail, two falls" in refused.content.decode()  # what was typed stays
    assert not Referral.objects.filter(patient__nhs_number="9434765919").exists()

    sent = client.post(
        reverse("referrals:create"), _to_rah(world, reason_other="Sudden breathlessness at rest")
    )
    referral = Referral.objects.get(patient__nhs_number="9434765919")
    assert sent.status_code == 302
    assert (referral.reason, referral.reason_other) == (Reason.OTHER, "Sudden breathlessness at rest")
    assert "Other: Sudden breathlessness at rest" in client.get(referral.get_absolute_url()).content.decode()
    coordinator = client_for(world.users["rah_coordinator"])
    queue = coordinator.get(reverse("recovery_at_home:queue")).content.decode()
    assert "Other: Sudden breathlessness at rest" in queue


def test_a_reason_the_service_does_not_take_is_refused_beside_the_field(world, client_for):
    refused = client_for(world.users["gp_a"]).post(
        reverse("referrals:create"), _referral_form(world, service=world.rah.pk, reason=Reason.WOUND_CARE)
    )
    assert refused.context["form"].errors["reason"] == ["Choose a reason that Recovery at Home responds to."]


def test_the_api_names_the_missing_words_as_a_field(world, api):
    payload = _payload(world, service="rah", reason=Reason.OTHER)
    refused = api("gp_a").post("/api/referrals/", payload, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"reason_other": ["Say what the other reason is."]}
    sent = api("gp_a").post(
        "/api/referrals/", {**payload, "reason_other": "Chest pain, not cardiac"}, format="json"
    )
    assert sent.status_code == 201
    assert sent.json()["reason_other"] == "Chest pain, not cardiac"
    assert Referral.objects.get(reference=sent.json()["reference"]).reason_other == "Chest pain, not cardiac"


def test_a_message_naming_no_condition_is_other_in_the_senders_words(world, api, nhs_111):  # noqa: F811
    message = copy.deepcopy(_message())
    request = next(
        e["resource"] for e in message["entry"] if e["resource"]["resourceType"] == "ServiceRequest"
    )
    request["reasonCode"] = [{"text": "Wound care"}, {"text": "Leg ulcer bleeding through dressings"}]
    world.users[nhs_111.username] = nhs_111
    response = api(nhs_111.username).post("/fhir/$process-message", message, format="json")
    assert response.status_code == 201, response.json()
    referral = Referral.objects.get(reference=response.json()["id"])
    # "Wound care" is a team's reason, not Recovery at Home's: the sender's words are kept.
    assert (referral.reason, referral.reason_other) == (
        Reason.OTHER,
        "Wound care; Leg ulcer bleeding through dressings",
    )


def test_a_message_saying_only_other_is_received_in_its_words(world, api, nhs_111):  # noqa: F811
    """ "Other" alone names no reason: the referral is received, not refused, and the words
    sent are kept for the coordinator to read."""
    message = copy.deepcopy(_message())
    request = next(
        e["resource"] for e in message["entry"] if e["resource"]["resourceType"] == "ServiceRequest"
    )
    request["reasonCode"] = [{"text": "Other"}]
    world.users[nhs_111.username] = nhs_111
    response = api(nhs_111.username).post("/fhir/$process-message", message, format="json")
    assert response.status_code == 201, response.json()
    referral = Referral.objects.get(reference=response.json()["id"])
    assert (referral.reason, referral.reason_other) == (Reason.OTHER, "Other")
