"""Carers as people of their own: linked to whom they care for, offered the Carers Centre
at once when a referral says the carer is breaking down, their referrals and outcomes
beside the person's own (when the carer agrees)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils.html import escape

from core.models import AuditAction, AuditEvent, CaringRelationship, Patient
from partners import carers, services
from partners.models import Term
from referrals.models import Referral, Status

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock


CARER = {
    "given_name": "Jean",
    "family_name": "Hallworth",
    "relationship": "wife",
    "phone": "0191 514 0000",
    "main_carer": "on",
}


def test_a_carer_is_added_as_a_person_linked_to_whom_they_care_for(world, client_for):
    client = client_for(world.users["cit_member_a"])
    done = client.post(
        reverse("partners:add_carer", args=[world.patient_a.pk]),
        {**CARER, "consent_to_share": "on"},
        follow=True,
    )
    assert "Jean Hallworth is recorded as" in done.content.decode()
    link = CaringRelationship.objects.get(cared_for=world.patient_a)
    carer = link.carer
    assert (carer.full_name, carer.phone, link.relationship, link.main_carer) == (
        "Jean Hallworth",
        "0191 514 0000",
        "wife",
        True,
    )
    assert carer.address == world.patient_a.address  # a wife at the same address
    world.patient_a.refresh_from_db()
    assert (world.patient_a.carer_name, world.patient_a.carer_relationship) == ("Jean Hallworth", "wife")
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, patient=carer).exists()


def test_a_carer_form_with_mistakes_keeps_what_was_typed_and_saves_nothing(world, client_for):
    client = client_for(world.users["cit_member_a"])
    page = client.post(
        reverse("partners:add_carer", args=[world.patient_a.pk]),
        {**CARER, "family_name": "", "phone": "not a phone"},
    )
    assert page.status_code == 400
    form = page.context["form"]
    assert "family_name" in form.errors and "phone" in form.errors
    assert form["given_name"].value() == "Jean"
    assert not CaringRelationship.objects.exists()
    assert not Patient.objects.filter(given_name="Jean").exists()


def test_a_carer_breakdown_offers_the_carers_centre_for_the_carer_at_once(world, client_for):
    referral = world.referral_b  # to Recovery at Home: the coordinator's
    referral.reason = "carer_breakdown"
    referral.save()
    client = client_for(world.users["rah_coordinator"])
    page = client.get(referral.get_absolute_url()).content.decode()
    assert "The carer is struggling: offer Sunderland Carers Centre" in page
    assert reverse("partners:add_carer", args=[world.patient_b.pk]) in page  # no carer as a person yet

    client.post(reverse("partners:add_carer", args=[world.patient_b.pk]), CARER)
    carer = CaringRelationship.objects.get(cared_for=world.patient_b).carer
    page = client.get(referral.get_absolute_url()).content.decode()
    link = reverse("partners:refer_on", args=[carer.pk]) + f"?service={world.carers_centre.pk}"
    assert escape(link) in page
    sent = client.post(
        link,
        {"service": world.carers_centre.pk, "reason": "carers_assessment", "consent_to_referral": "on"},
    )
    assert sent.status_code == 302
    carers_referral = Referral.objects.get(service=world.carers_centre)
    assert carers_referral.patient == carer  # the carer is the one referred
    # No carer breakdown: no offer.
    referral.reason = "fall"
    referral.save()
    assert "The carer is struggling" not in client.get(referral.get_absolute_url()).content.decode()


@pytest.mark.parametrize("shared", [True, False])
def test_the_carers_referrals_and_outcomes_show_with_the_persons_when_the_carer_agrees(
    world, client_for, shared
):
    member = world.users["cit_member_a"]
    link = carers.add_carer(
        cared_for=world.patient_a,
        user=member,
        given_name="Jean",
        family_name="Hallworth",
        relationship="daughter",
        consent_to_share=shared,
    )
    referral = services.refer_to_partner(
        person=link.carer,
        service=world.carers_centre,
        user=member,
        reason="carers_assessment",
        consent_to_referral=True,
    )
    services.referral_services.act_on_referral(
        referral=referral, user=world.users["partner_staff"], action="accept"
    )
    services.record_outcome(
        referral=referral,
        user=world.users["partner_staff"],
        outcomes=[Term.objects.get(label="Break for the carer arranged")],
        outcome="",
    )
    referral.refresh_from_db()
    assert referral.status == Status.CLOSED
    page = client_for(member).get(world.patient_a.get_absolute_url()).content.decode()
    assert "Jean Hallworth" in page
    assert ("Break for the carer arranged" in page) is shared
    assert ("has not agreed to share" in page) is not shared
    # The partner sees the carer as a carer, not whom they care for.
    partner_page = (
        client_for(world.users["partner_staff"])
        .get(reverse("partners:referral", args=[referral.reference]))
        .content.decode()
    )
    assert "Yes: the daughter of the person they care for" in partner_page
    assert escape(world.patient_a.family_name) not in partner_page


def test_only_those_who_know_the_person_may_add_their_carer(world, client_for):
    url = reverse("partners:add_carer", args=[world.patient_a.pk])
    assert client_for(world.users["gp_b"]).get(url).status_code == 404
    assert client_for(world.users["partner_staff"]).get(url).status_code == 403
