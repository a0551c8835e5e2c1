"""Partner services: referred on to from the person's page, seen by the partner's staff at
the minimum the referral needs, accepted or declined, what was offered and the outcome
recorded, and the referring team (and the person's GP) seeing it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils.html import escape

from closed_loop.models import ReferrerUpdate
from core.models import AuditAction, AuditEvent, Role
from partners import services
from partners.models import PartnerWork, Term
from referrals.models import Referral, ReferralEvent, Status
from teams.services import accept_onto_caseload
from tests.factories import ReferralFactory, SocialPrescribingFactory, UserFactory

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock


def _refer(world, *, person=None, service=None, note="Would like help getting to a lunch club.") -> Referral:
    return services.refer_to_partner(
        person=person or world.patient_a,
        service=service or world.carers_centre,
        user=world.users["cit_member_a"],
        reason="carers_assessment",
        note=note,
        consent_to_referral=True,
    )


def _term(kind: str, label: str) -> Term:
    return Term.objects.get(list=kind, label=label)


def test_refer_on_in_two_clicks_from_the_persons_page(world, client_for):
    client = client_for(world.users["cit_member_a"])
    page = client.get(world.patient_a.get_absolute_url()).content.decode()
    # Click one: the partner, on the person's page.
    link = reverse("partners:refer_on", args=[world.patient_a.pk]) + f"?service={world.carers_centre.pk}"
    assert link in page
    form = client.get(link)
    assert form.context["form"]["reason"].value() == "carers_assessment"  # ready
    # Click two: send (with the person's agreement ticked).
    sent = client.post(
        link,
        {
            "service": world.carers_centre.pk,
            "reason": "carers_assessment",
            "note": "Husband is finding nights hard.",
            "consent_to_referral": "on",
        },
        follow=True,
    )
    referral = Referral.objects.get(service=world.carers_centre)
    assert f"Referral {referral.reference} is sent to Sunderland Carers Centre" in sent.content.decode()
    assert (referral.patient, referral.referred_by, referral.status) == (
        world.patient_a,
        world.users["cit_member_a"],
        Status.RECEIVED,
    )


def test_a_refer_on_without_agreement_keeps_what_was_typed_and_sends_nothing(world, client_for):
    client = client_for(world.users["cit_member_a"])
    url = reverse("partners:refer_on", args=[world.patient_a.pk])
    page = client.post(
        url, {"service": world.carers_centre.pk, "reason": "carers_assessment", "note": "Nights"}
    )
    assert page.status_code == 400
    assert "Ask first: a partner referral needs the person&#x27;s agreement." in page.content.decode()
    assert page.context["form"]["note"].value() == "Nights"
    assert not Referral.objects.filter(service=world.carers_centre).exists()


def test_nobody_refers_on_a_stranger_or_from_a_partner(world, client_for):
    stranger = world.patient_b  # another practice's, never referred to team A
    url = reverse("partners:refer_on", args=[stranger.pk])
    assert client_for(world.users["cit_member_a"]).get(url).status_code == 404
    with pytest.raises(services.PartnerRefused):
        services.refer_to_partner(
            person=world.patient_a,
            service=world.carers_centre,
            user=world.users["partner_staff"],
            reason="carers_assessment",
            consent_to_referral=True,
        )


def test_partner_staff_see_only_their_referrals_at_the_minimum(world, client_for):
    patient = world.patient_a
    patient.key_safety_information = "Dog in the back garden."
    patient.save()
    ours = _refer(world)
    other_partner = SocialPrescribingFactory()
    theirs = _refer(world, person=world.patient_a, service=other_partner)
    client = client_for(world.users["partner_staff"])

    inbox = client.get(reverse("partners:inbox"))
    references = [row.reference for row in inbox.context["page"]]
    assert references == [ours.reference]  # not the other partner's, not the NHS referrals
    page = client.get(reverse("partners:referral", args=[ours.reference])).content.decode()
    for shown in (
        patient.given_name,
        patient.family_name,
        patient.address,
        "Dog in the back garden.",
        "Would like help getting to a lunch club.",
        str(world.users["cit_member_a"]),
    ):
        assert escape(shown) in page
    # Not the record: no NHS number, nor the team referral's reason and summary, nor the practice.
    for private in (
        patient.nhs_number,
        patient.nhs_number_display,
        world.referral_a.reference,
        world.referral_a.clinical_summary,
        world.practice_a.name,
        theirs.reference,
    ):
        assert escape(private) not in page
    # The record's doors stay shut: the person, the referral whole, the other partner's.
    assert client.get(patient.get_absolute_url()).status_code == 404
    assert client.get(ours.get_absolute_url()).status_code == 404
    assert client.get(reverse("partners:referral", args=[theirs.reference])).status_code == 404
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient=patient, detail="partner referral"
    ).exists()
    assert AuditEvent.objects.filter(
        action=AuditAction.LIST, patient=patient, detail="partner inbox"
    ).exists()
    assert AuditEvent.objects.filter(action=AuditAction.REFUSED, patient=patient).exists()


def test_the_inbox_costs_the_same_queries_whatever_its_length(
    world, client_for, django_assert_max_num_queries
):
    client = client_for(world.users["partner_staff"])
    _refer(world)
    client.get(reverse("partners:inbox"))  # warm the session
    with django_assert_max_num_queries(14) as few:
        client.get(reverse("partners:inbox"))
    for _ in range(12):
        ReferralFactory(service=world.carers_centre, reason="carers_assessment")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("partners:inbox"))
    assert len(page.context["page"]) == 13


def test_accept_offer_and_outcome_reach_the_referring_team_and_the_gp(world, client_for):
    referral = _refer(world)
    partner = client_for(world.users["partner_staff"])
    act = lambda action, data=None: partner.post(  # noqa: E731
        reverse("partners:act", args=[referral.reference, action]), data or {}, follow=True
    )
    assert "Accepted: the referrer is told." in act("accept").content.decode()
    support = [_term("support", "Carer's assessment").pk, _term("support", "A break for the carer").pk]
    act(
        "support",
        {"needs": [_term("need", "Caring for someone").pk], "support": support, "offered": "Sitting service"},
    )
    done = act(
        "outcome",
        {"outcomes": [_term("outcome", "Carer's assessment completed").pk], "outcome": "Respite booked"},
    )
    assert "referral closed" in done.content.decode()

    referral.refresh_from_db()
    assert referral.status == Status.CLOSED
    assert referral.outcome == "Carer's assessment completed. Respite booked"
    kinds = list(referral.events.values_list("kind", flat=True))
    for kind in ("accepted", "started", "support_offered", "closed"):
        assert kind in kinds
    work = PartnerWork.objects.get(referral=referral)
    assert {t.label for t in work.support.all()} == {"Carer's assessment", "A break for the carer"}
    # The referrer hears (closed loop), and the person's team and GP see it on the person's page.
    assert set(ReferrerUpdate.objects.filter(referral=referral).values_list("kind", flat=True)) >= {
        "accepted",
        "closed",
    }
    for who in ("cit_member_a", "gp_a"):
        page = client_for(world.users[who]).get(world.patient_a.get_absolute_url()).content.decode()
        assert referral.reference in page and "Respite booked" in page
    # Not a stranger's business: the other practice's GP sees nothing of it.
    assert client_for(world.users["gp_b"]).get(referral.get_absolute_url()).status_code == 404


def test_a_decline_needs_a_reason_and_two_acting_at_once_one_wins(world, client_for):
    referral = _refer(world)
    colleague = UserFactory(roles=[Role.PARTNER_STAFF], partner_services=[world.carers_centre])
    partner = client_for(world.users["partner_staff"])
    url = reverse("partners:act", args=[referral.reference, "decline"])
    empty = partner.post(url, {"reason": ""})
    assert empty.status_code == 400 and "Say why, for the referrer." in empty.content.decode()
    services.referral_services.act_on_referral(referral=referral, user=colleague, action="accept")
    late = partner.post(url, {"reason": "Out of our area"}, follow=True)
    assert "A referral that is accepted cannot be declined." in late.content.decode()
    referral.refresh_from_db()
    assert referral.status == Status.ACCEPTED and referral.decline_reason == ""


def test_nothing_is_recorded_before_acceptance_nor_by_another_partner(world):
    referral = _refer(world)
    with pytest.raises(services.PartnerRefused, match="accept it first"):
        services.record_support(
            referral=referral, user=world.users["partner_staff"], needs=[], support=[], offered="Calls"
        )
    stranger = UserFactory(roles=[Role.PARTNER_STAFF], partner_services=[SocialPrescribingFactory()])
    with pytest.raises(services.referral_services.NotTheReceiver):
        services.referral_services.act_on_referral(referral=referral, user=stranger, action="accept")
    assert not PartnerWork.objects.exists()


def test_the_referrals_timeline_tells_the_referrer_what_was_offered(world):
    referral = _refer(world)
    services.referral_services.accept_referral(referral=referral, user=world.users["partner_staff"])
    services.record_support(
        referral=referral,
        user=world.users["partner_staff"],
        needs=[],
        support=[_term("support", "Befriending")],
        offered="",
    )
    event = referral.events.get(kind=ReferralEvent.Kind.SUPPORT_OFFERED)
    assert event.note == "Support offered: Befriending"


def test_the_nhs_figures_and_exports_count_only_the_nhs_services(world):
    """A partner referral is the partner's figure (Partners page), not a community
    service's: not on the dashboard, in the export or in the CSDS extract."""
    from portal import csds, exports, performance

    partner = _refer(world)
    today = NOW.date()
    period = performance.Period(start=today, end=today)
    counted = sum(row["count"] for row in performance.referrals_by(period)["source"])
    assert counted == 2  # referral_a and referral_b
    assert partner not in exports.referrals_received_between(today, today)
    assert list(exports.referrals_received_between(today, today)) != []
    references = [row[0] for row in csds.referral_rows(start=today, end=today)]
    assert partner.reference not in references and world.referral_a.reference in references


@pytest.mark.parametrize("who", ["cit_member_a", "rah_coordinator", "rah_responder"])
def test_refer_on_is_offered_on_the_caseload_entry_and_the_referral(world, client_for, who):
    member = world.users["cit_member_a"]
    entry = accept_onto_caseload(referral=world.referral_a, key_worker=member, user=member)
    user = world.users[who]
    page_of = entry.get_absolute_url() if who == "cit_member_a" else world.referral_b.get_absolute_url()
    person = world.patient_a if who == "cit_member_a" else world.patient_b
    page = client_for(user).get(page_of).content.decode()
    link = reverse("partners:refer_on", args=[person.pk]) + f"?service={world.carers_centre.pk}&amp;next="
    assert link in page
