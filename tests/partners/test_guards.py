"""What keeps a partner referral to its door and its minimum: no way round the person's
relationship and agreement (the API, a redirect), no two at once, nothing of a closed
referral's contact details, partner staff never given an NHS service's referrals, and
bad input answered beside the field."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from core.models import Role
from partners import carers, services
from referrals import services as referral_services
from referrals.models import Referral, Source
from tests.factories import SocialPrescribingFactory, UserFactory
from tests.partners.test_partners import _refer
from tests.referrals.test_api import _payload

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock


def test_the_api_does_not_refer_to_a_partner_nor_redirect_to_one(world, api):
    refused = api("gp_a").post(
        "/api/referrals/",
        _payload(world, service="carers-centre", reason="carers_assessment", source=Source.GP),
        format="json",
    )
    assert refused.status_code == 400 and "service" in refused.json()
    assert not Referral.objects.filter(service=world.carers_centre).exists()
    with pytest.raises(referral_services.TransitionRefused, match="not by redirecting"):
        referral_services.redirect_referral(
            referral=world.referral_b, user=world.users["rah_coordinator"], service=world.carers_centre
        )


def test_a_second_referral_to_the_same_partner_is_told_of_the_first(world, client_for):
    first = _refer(world)
    client = client_for(world.users["cit_member_a"])
    again = client.post(
        reverse("partners:refer_on", args=[world.patient_a.pk]),
        {"service": world.carers_centre.pk, "reason": "carers_assessment", "consent_to_referral": "on"},
    )
    assert again.status_code == 400
    assert (
        f"already has an open referral to Sunderland Carers Centre: {first.reference}"
        in again.content.decode()
    )
    assert Referral.objects.filter(service=world.carers_centre).count() == 1


def test_a_closed_referral_no_longer_shows_how_to_reach_the_person(world, client_for):
    patient = world.patient_a
    patient.phone, patient.address = "0191 514 1234", "12 Roker Terrace"
    patient.save()
    referral = _refer(world)
    client = client_for(world.users["partner_staff"])
    url = reverse("partners:referral", args=[referral.reference])
    assert "0191 514 1234" in client.get(url).content.decode()
    referral_services.act_on_referral(
        referral=referral, user=world.users["partner_staff"], action="decline", reason="Not for us"
    )
    page = client.get(url).content.decode()
    assert "0191 514 1234" not in page and "12 Roker Terrace" not in page
    assert "no longer shown" in page
    assert str(patient.date_of_birth.year) not in page  # the age, never the date of birth


def test_partner_staff_linked_to_an_nhs_service_see_none_of_its_referrals(world, client_for):
    mistaken = UserFactory(roles=[Role.PARTNER_STAFF], partner_services=[world.rah, world.carers_centre])
    client = client_for(mistaken)
    assert world.referral_b.reference not in client.get(reverse("partners:inbox")).content.decode()
    assert client.get(reverse("partners:referral", args=[world.referral_b.reference])).status_code == 404


def test_only_social_prescribing_records_wellbeing(world):
    referral = _refer(world)
    referral_services.act_on_referral(referral=referral, user=world.users["partner_staff"], action="accept")
    with pytest.raises(services.PartnerRefused, match="does not record wellbeing"):
        services.record_wellbeing(
            referral=referral,
            user=world.users["partner_staff"],
            when="before",
            satisfied=5,
            worthwhile=5,
            happy=5,
            anxious=5,
        )
    assert SocialPrescribingFactory().social_prescribing


def test_a_carer_is_added_only_by_someone_who_works_with_the_person(world):
    with pytest.raises(carers.CarerRefused):
        carers.add_carer(
            cared_for=world.patient_a,
            user=world.users["gp_b"],
            given_name="Jean",
            family_name="Bell",
            relationship="wife",
        )


@pytest.mark.parametrize("asked", ["abc", "1.5", "", "99999999999999999999", "-1"])
def test_a_made_up_service_in_the_link_opens_the_form_with_none_chosen(world, client_for, asked):
    page = client_for(world.users["cit_member_a"]).get(
        reverse("partners:refer_on", args=[world.patient_a.pk]), {"service": asked}
    )
    assert page.status_code == 200 and page.context["form"]["service"].value() is None


def test_a_carers_name_too_long_to_record_is_said_beside_the_field(world, client_for):
    page = client_for(world.users["cit_member_a"]).post(
        reverse("partners:add_carer", args=[world.patient_a.pk]),
        {"given_name": "J" * 100, "family_name": "H" * 100, "relationship": "wife"},
    )
    assert page.status_code == 400
    assert page.context["form"].errors["family_name"] == [
        "The carer's whole name is too long to record: shorten it."
    ]


def test_an_empty_post_is_answered_with_the_messages(world, client_for):
    client = client_for(world.users["cit_member_a"])
    for url in (
        reverse("partners:refer_on", args=[world.patient_a.pk]),
        reverse("partners:add_carer", args=[world.patient_a.pk]),
    ):
        page = client.post(url, {})
        assert page.status_code == 400 and page.context["form"].errors
