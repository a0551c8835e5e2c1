"""Two records of one person become one, keeping everything and the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from closed_loop.models import ContactConsent
from closed_loop.person_messages import record_consent
from core.models import AuditAction, AuditEvent, Patient
from mdt.services import flag_for_mdt
from portal import merging
from referrals.models import Referral
from teams import services as team_services
from tests.factories import PatientFactory, ReferralFactory, on_caseload


@pytest.fixture
def twin(world):
    """patient_a again, registered later without an NHS number (the usual way a duplicate appears)."""
    return PatientFactory(
        given_name=world.patient_a.given_name,
        family_name=world.patient_a.family_name.upper(),
        date_of_birth=world.patient_a.date_of_birth,
        nhs_number=None,
        practice=world.practice_a,
        phone="0191 555 1234",
    )


def test_the_duplicates_page_pairs_records_with_the_same_name_and_birth_date(world, client_for, twin):
    PatientFactory(
        given_name=twin.given_name, family_name=twin.family_name, date_of_birth=dt.date(1950, 1, 1)
    )
    page = client_for(world.users["administrator"]).get(reverse("duplicate_patients"))
    assert page.context["groups"] == [[world.patient_a, twin]]
    assert reverse("merge_patients", args=[world.patient_a.pk, twin.pk]) in page.content.decode()
    listed = AuditEvent.objects.filter(action=AuditAction.LIST, detail="possible duplicates")
    assert set(listed.values_list("patient", flat=True)) == {world.patient_a.pk, twin.pk}


def test_merging_keeps_every_record_and_leaves_one_patient(world, client_for, twin):
    member = world.users["cit_member_a"]
    entry = on_caseload(team=world.team_a, key_worker=member, referral=world.referral_a)
    team_services.record_contact(
        entry=entry,
        user=member,
        staff=member,
        kind="visit",
        at=entry.opened_at,
        duration_minutes=30,
    )
    twins_referral = ReferralFactory(patient=twin, service=world.rah, referred_by=world.users["gp_a"])
    flag_for_mdt(patient=twin, user=world.users["gp_a"], reason="Falls")
    client_for(world.users["gp_a"]).get(
        reverse("patient_detail", args=[twin.pk])
    )  # an audited view of the twin
    twins_audit = set(AuditEvent.objects.filter(patient=twin).values_list("pk", flat=True))
    nhs_number = world.patient_a.nhs_number
    world.patient_a.nhs_number = None
    world.patient_a.save()
    twin.nhs_number = nhs_number  # typed late, on the other record
    twin.save()

    admin = client_for(world.users["administrator"])
    response = admin.post(reverse("merge_patients", args=[world.patient_a.pk, twin.pk]))
    assert response.status_code == 302

    kept = Patient.objects.get(pk=world.patient_a.pk)
    assert list(Patient.objects.filter(merged_into__isnull=True, given_name=twin.given_name)) == [kept]
    assert (kept.nhs_number, kept.phone) == (nhs_number, "0191 555 1234")  # the blanks filled in
    assert set(Referral.objects.filter(patient=kept)) == {world.referral_a, twins_referral}
    assert kept.caseload_entries.get() == entry and entry.contacts.count() == 1
    assert kept.mdt_flags.get().reason == "Falls"
    # The trail is untouched, and says what happened.
    assert set(AuditEvent.objects.filter(patient=twin).values_list("pk", flat=True)) >= twins_audit
    merged = AuditEvent.objects.filter(action=AuditAction.MERGE).order_by("pk")
    assert [(e.patient_id, e.user) for e in merged] == [
        (kept.pk, world.users["administrator"]),
        (twin.pk, world.users["administrator"]),
    ]
    assert merged[0].detail.startswith(f"merged record #{twin.pk} into this one; moved")

    # The old record's address leads to the kept one; search finds one person.
    gp = client_for(world.users["gp_a"])
    assert gp.get(reverse("patient_detail", args=[twin.pk]))["Location"] == kept.get_absolute_url()
    found = gp.get(reverse("patient_list"), {"q": twin.family_name}).context["page"].object_list
    assert list(found) == [kept]


def test_records_with_two_different_nhs_numbers_are_not_merged(world, client_for):
    other = PatientFactory(
        given_name=world.patient_a.given_name,
        family_name=world.patient_a.family_name,
        date_of_birth=world.patient_a.date_of_birth,
    )
    response = client_for(world.users["administrator"]).post(
        reverse("merge_patients", args=[world.patient_a.pk, other.pk]), follow=True
    )
    assert "different NHS numbers: they are two people" in response.content.decode()
    assert not Patient.objects.filter(merged_into__isnull=False).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.MERGE).exists()


def test_two_open_entries_on_one_team_must_be_resolved_first(world, twin):
    member = world.users["cit_member_a"]
    on_caseload(team=world.team_a, key_worker=member, referral=world.referral_a)
    on_caseload(team=world.team_a, key_worker=member, patient=twin)
    with pytest.raises(merging.MergeRefused, match="Both records are open on the caseload"):
        merging.merge_patients(keep=world.patient_a, duplicate=twin, user=world.users["administrator"])
    assert twin.caseload_entries.count() == 1


def test_the_consent_to_messages_recorded_last_stands_after_a_merge(world, twin, time_machine):
    coordinator = world.users["rah_coordinator"]
    for patient in (world.patient_a, twin):
        patient.phone = "07700 900123"
        patient.save()
    time_machine.move_to(dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC), tick=False)
    record_consent(patient=world.patient_a, user=coordinator, recipient="person", channel="sms")
    time_machine.move_to(dt.datetime(2026, 11, 3, 9, 0, tzinfo=dt.UTC), tick=False)
    record_consent(patient=twin, user=coordinator, recipient="person", channel="sms", opted_out=True)
    merging.merge_patients(keep=world.patient_a, duplicate=twin, user=world.users["administrator"])
    (consent,) = ContactConsent.objects.all()
    assert consent.patient == world.patient_a and consent.opted_out  # they opted out since
