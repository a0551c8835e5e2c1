from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from core.models import AuditAction, AuditEvent, Patient
from referrals import services as referral_services
from referrals.models import Reason, Referral, ReferralEvent, Source, Status
from tests.conftest import PASSWORD
from tests.factories import typed_date


def _referral_form(world, **overrides):
    return {
        "nhs_number": "943 476 5919",
        "given_name": "Doris",
        "family_name": "Bell",
        **typed_date("date_of_birth", "1938-02-11"),
        "practice": world.practice_a.pk,
        "address": "12 Tunstall Road, Sunderland",
        "postcode": "SR2 7HN",
        "service": world.cit.pk,
        "team": "",
        "source": Source.GP,
        "reason": Reason.FRAILTY_REVIEW,
        "clinical_summary": "Increasingly frail, two falls, daughter struggling to cope.",
        "consent_to_referral": "on",
        "consent_to_share": "on",
        "referrer_phone": "0191 555 0101",
        **overrides,
    }


def test_a_gp_refers_a_new_patient_and_the_right_cit_inbox_shows_it(world, client):
    client.post(reverse("login"), {"username": "gp_a", "password": PASSWORD})
    response = client.post(reverse("referrals:create"), _referral_form(world))

    referral = Referral.objects.get(patient__nhs_number="9434765919")
    assert response.status_code == 302 and response["Location"] == referral.get_absolute_url()
    assert referral.team == world.team_a  # routed by the patient's practice's neighbourhood
    assert referral.status == Status.RECEIVED
    assert (referral.referred_by, referral.referring_practice) == (world.users["gp_a"], world.practice_a)
    assert list(referral.events.values_list("kind", "user")) == [
        (ReferralEvent.Kind.SUBMITTED, world.users["gp_a"].pk)
    ]

    client.force_login(world.users["cit_member_a"])
    assert referral.reference in client.get(reverse("referrals:inbox")).content.decode()

    other_team_member = type(world.users["gp_a"]).objects.create_user("cit_b", password=PASSWORD)
    other_team_member.role_grants.create(role="cit_member")
    other_team_member.teams.add(world.team_b)
    client.force_login(other_team_member)
    assert referral.reference not in client.get(reverse("referrals:inbox")).content.decode()


def test_the_timeline_shows_the_submission_with_who_and_when(world, client_for):
    page = client_for(world.users["gp_a"]).get(world.referral_a.get_absolute_url()).content.decode()
    assert "Submitted" in page
    assert escape(str(world.users["gp_a"])) in page


def test_the_form_starts_with_the_gps_own_practice_phone_and_source(world, client_for):
    gp = world.users["gp_a"]
    gp.phone, gp.discipline = "0191 555 0102", "gp"
    gp.save()
    form = client_for(gp).get(reverse("referrals:create")).context["form"]
    assert form["practice"].value() == world.practice_a.pk
    assert form["referrer_phone"].value() == "0191 555 0102"
    assert form["source"].value() == Source.GP


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("nhs_number", "943 476 5918", "check digit does not match"),
        ("reason", "", "Choose the reason for the referral"),
        ("date_of_birth", "2099-01-01", "cannot be in the future"),
        ("clinical_summary", "x" * 20_000, "at most 4000 characters"),
        ("consent_to_referral", "", "needs the person's consent"),
        ("reason", Reason.WOUND_CARE, "Choose a reason that"),  # not a Recovery at Home reason
    ],
)
def test_bad_input_gets_a_message_by_the_field_keeps_what_was_typed_and_saves_nothing(
    world, client_for, field, typed, message
):
    counts = (Referral.objects.count(), Patient.objects.count(), ReferralEvent.objects.count())
    as_typed = typed_date(field, typed) if field == "date_of_birth" else {field: typed}
    form = {**_referral_form(world, service=world.rah.pk, reason=Reason.FALL), **as_typed}
    response = client_for(world.users["gp_a"]).post(reverse("referrals:create"), form)

    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    page = response.content.decode()
    typed_elsewhere = {
        "family_name": "Bell",
        "given_name": "Doris",
        "address": "12 Tunstall Road, Sunderland",
        "clinical_summary": "two falls, daughter struggling",
    }
    for other_field, kept in typed_elsewhere.items():
        if other_field != field:
            assert kept in page
    assert (Referral.objects.count(), Patient.objects.count(), ReferralEvent.objects.count()) == counts


def test_an_open_referral_to_the_same_service_is_shown_before_a_second_is_made(world, client_for):
    client = client_for(world.users["gp_a"])
    form = _referral_form(
        world,
        nhs_number=world.patient_a.nhs_number,
        given_name=world.patient_a.given_name,
        family_name=world.patient_a.family_name,
        **typed_date("date_of_birth", world.patient_a.date_of_birth.isoformat()),
    )
    warned = client.post(reverse("referrals:create"), form)
    assert warned.status_code == 200
    assert "already has an open referral" in warned.content.decode()
    assert world.referral_a.get_absolute_url() in warned.content.decode()
    assert Referral.objects.filter(patient=world.patient_a).count() == 1

    proceeded = client.post(reverse("referrals:create"), {**form, "confirm_duplicate": "on"})
    assert proceeded.status_code == 302
    assert Referral.objects.filter(patient=world.patient_a).count() == 2


def test_a_known_patient_is_referred_again_not_registered_twice(world, client_for):
    patient = world.patient_b
    form = _referral_form(
        world,
        nhs_number=patient.nhs_number_display,
        given_name=patient.given_name,
        family_name=patient.family_name,
        service=world.cit.pk,
        **typed_date("date_of_birth", patient.date_of_birth.isoformat()),
        practice=world.practice_b.pk,
    )
    client_for(world.users["gp_a"]).post(reverse("referrals:create"), form)
    assert Patient.objects.filter(nhs_number=patient.nhs_number).count() == 1
    referral = Referral.objects.get(patient=patient, referred_by=world.users["gp_a"])
    assert referral.team == world.team_b  # the practice named decides the team
    assert not referral.identity_to_confirm


# 14:20 on a winter afternoon in London (GMT): a coordinator saves a call that began at 14:05.
SAVED = dt.datetime(2026, 11, 18, 14, 20, tzinfo=ZoneInfo("Europe/London"))


def _phone_in(world, call_started_at: str, **overrides):
    """A coordinator's phone-in form: Susan Bell rings about her mother."""
    call = {
        "nhs_number": "",
        "practice": "",
        **typed_date("date_of_birth", ""),
        "service": world.rah.pk,
        "source": Source.FAMILY_CARER,
        "reason": Reason.FALL,
        "caller_name": "Susan Bell",
        "caller_relationship": "Daughter",
        "caller_phone": "0191 498 0123",
        "call_started_at": call_started_at,
    }
    return _referral_form(world, **{**call, **overrides})


def test_a_coordinator_takes_a_phone_call_from_a_daughter(world, client_for):
    coordinator = world.users["rah_coordinator"]
    form = _phone_in(world, "2026-11-18T14:05", reason=Reason.CARER_BREAKDOWN)
    with time_machine.travel(SAVED, tick=False):  # a fixed clock: no hour is ambiguous
        response = client_for(coordinator).post(reverse("referrals:phone_in"), form)

    referral = Referral.objects.get(patient__family_name="Bell")
    assert response.status_code == 302
    assert (referral.referrer_name, referral.referrer_role, referral.referrer_phone) == (
        "Susan Bell",
        "Daughter",
        "0191 498 0123",
    )
    assert referral.referred_by is None and referral.source == Source.FAMILY_CARER
    assert referral.patient.nhs_number is None  # may be added later
    page = client_for(coordinator).get(referral.get_absolute_url()).content.decode()
    assert "Susan Bell" in page and "Daughter" in page
    # The timeline names the caller whole, brackets and all, and who took the call.
    submitted = referral.events.get(kind="submitted")
    assert (submitted.actor, submitted.user) == ("Susan Bell (Daughter)", coordinator)
    assert f"Susan Bell (Daughter), recorded by {coordinator}" in page
    # The audit trail says who typed in the new record and its referral.
    created = AuditEvent.objects.filter(action=AuditAction.CREATE, patient=referral.patient)
    assert [(event.detail, event.user) for event in created.order_by("pk")] == [
        ("registered with a referral", coordinator),
        ("referral", coordinator),
    ]


@pytest.mark.parametrize(
    ("name", "role", "actor"),
    [
        ("Jane Lowes", "daughter", "Jane Lowes (daughter)"),
        ("Jane Lowes", "", "Jane Lowes"),
        ("", "Neighbour", "Neighbour"),
    ],
)
def test_a_caller_is_named_with_their_relationship(name, role, actor):
    assert referral_services.Referrer(name=name, role=role).as_actor() == actor


def test_a_phone_in_needs_the_callers_details(world, client_for):
    form = _referral_form(world, service=world.rah.pk, reason=Reason.FALL)
    response = client_for(world.users["rah_coordinator"]).post(reverse("referrals:phone_in"), form)
    assert set(response.context["form"].errors) == {
        "caller_name",
        "caller_relationship",
        "caller_phone",
        "call_started_at",
    }


def test_a_phoned_in_referrals_clock_starts_with_the_call(world, client_for):
    with time_machine.travel(SAVED, tick=False):
        client = client_for(world.users["rah_coordinator"])
        form = client.get(reverse("referrals:phone_in")).context["form"]
        assert form["call_started_at"].value().strftime("%H:%M") == "14:20"  # the form opened now
        client.post(reverse("referrals:phone_in"), _phone_in(world, "2026-11-18T14:05"))
    referral = Referral.objects.get(patient__family_name="Bell")
    assert timezone.localtime(referral.received_at).strftime("%d %b %H:%M") == "18 Nov 14:05"
    # The provisional 2-hour window runs from the call: due at 16:05, not 16:20.
    assert timezone.localtime(referral.episode.response_due_at).strftime("%H:%M") == "16:05"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("2026-11-18T14:30", "The call cannot have started in the future."),
        ("2026-11-17T23:00", "Record a phone-in within 12 hours of the call: give the time it started."),
    ],
)
def test_a_call_time_that_cannot_be_is_refused_beside_the_field(world, client_for, typed, message):
    with time_machine.travel(SAVED, tick=False):
        response = client_for(world.users["rah_coordinator"]).post(
            reverse("referrals:phone_in"), _phone_in(world, typed)
        )
    assert response.status_code == 200
    assert response.context["form"].errors["call_started_at"] == [message]
    assert f'value="{typed}"' in response.content.decode()  # what was typed stays
    assert not Referral.objects.filter(patient__family_name="Bell").exists()


def test_submitting_is_audited_against_the_patient(world, client_for):
    client_for(world.users["gp_a"]).post(reverse("referrals:create"), _referral_form(world))
    patient = Patient.objects.get(nhs_number="9434765919")
    created = AuditEvent.objects.filter(patient=patient, action=AuditAction.CREATE)
    assert sorted(created.values_list("object_type", flat=True)) == ["atb.Patient", "referrals.Referral"]


def test_typing_an_nhs_number_says_whether_it_is_valid(world, client_for):
    response = client_for(world.users["gp_a"]).get(
        reverse("referrals:patient_lookup"), {"nhs_number": "943 476 5918"}
    )
    assert "check digit does not match" in response.content.decode()


def test_typing_the_nhs_number_of_ones_own_patient_names_them_and_is_audited(world, client_for):
    patient = world.patient_a
    response = client_for(world.users["gp_a"]).get(
        reverse("referrals:patient_lookup"), {"nhs_number": patient.nhs_number_display}
    )
    assert escape(patient.family_name.upper()) in response.content.decode()
    assert AuditEvent.objects.filter(patient=patient, action=AuditAction.LIST).count() == 1


def test_the_lookup_never_reveals_a_patient_outside_the_users_relationship(world, client_for):
    patient = world.patient_b  # practice B's patient
    response = client_for(world.users["gp_a"]).get(
        reverse("referrals:patient_lookup"), {"nhs_number": patient.nhs_number}
    )
    page = response.content.decode()
    assert escape(patient.family_name).upper() not in page.upper()
    assert "Not one of your patients" in page
    assert not AuditEvent.objects.filter(patient=patient, user=world.users["gp_a"]).exists()


def test_the_nhs_number_field_asks_for_the_live_check(world, client_for):
    page = client_for(world.users["gp_a"]).get(reverse("referrals:create")).content.decode()
    assert f'hx-get="{reverse("referrals:patient_lookup")}"' in page


def test_a_phone_in_for_a_team_goes_on_to_the_next_call_saying_where_it_went(world, client_for):
    """The team's referral is the team's to open (the caller, not the coordinator, referred):
    no page that answers 404, and the message that it was sent is shown."""
    form = _phone_in(
        world, "2026-11-18T14:05", service=world.cit.pk, team=world.team_a.pk, reason=Reason.SOCIAL_ISOLATION
    )
    with time_machine.travel(SAVED, tick=False):
        response = client_for(world.users["rah_coordinator"]).post(
            reverse("referrals:phone_in"), form, follow=True
        )
    referral = Referral.objects.get(patient__family_name="Bell")
    assert response.redirect_chain == [(reverse("referrals:phone_in"), 302)]
    assert response.status_code == 200
    assert f"Referral {referral.reference} is sent to {world.team_a}." in response.content.decode()
