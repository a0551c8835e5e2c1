"""The outcome letter to the practice: written when Recovery at Home or a team closes its work
with a person and after each MDT discussion; one A4 page, as a page and a PDF; offered to
a sending system as a FHIR DocumentReference."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from fhir.resources.R4B.documentreference import DocumentReference

from closed_loop import fhir_letters, letter_documents
from closed_loop.models import OutcomeLetter, SendingSystem, SystemResponse
from core.models import AuditAction, AuditEvent, Role
from mdt import services as mdt
from mdt.models import Outcome as MdtOutcome
from recovery_at_home import services as rah
from recovery_at_home.models import Outcome
from referrals.models import Referral
from teams import services as teams
from teams.models import Contact, DischargeReason
from tests.factories import UserFactory, meeting_with_agenda
from tests.referrals.test_fhir import _message

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock


def test_a_team_discharge_writes_the_practice_a_one_page_letter(world, client_for, frozen_clock):
    member = world.users["cit_member_a"]
    entry = teams.accept_onto_caseload(referral=world.referral_a, key_worker=member, user=member)
    for day in (1, 8, 15):
        frozen_clock.shift(dt.timedelta(days=7))
        teams.record_contact(
            entry=entry,
            user=member,
            staff=member,
            kind=Contact.Kind.VISIT,
            at=NOW + dt.timedelta(days=day),
            duration_minutes=30,
        )
    teams.discharge_from_caseload(
        entry=entry, user=member, reason=DischargeReason.GOALS_MET, note="Please review BP in 3 months"
    )
    letter = OutcomeLetter.objects.get(referral=world.referral_a)
    assert letter.occasion == OutcomeLetter.Occasion.CASELOAD_DISCHARGE
    assert letter.practice == world.practice_a
    assert "3 contacts made." in letter.what_was_done and f"key worker {member}" in letter.what_was_done
    assert letter.outcome == "Discharged from the caseload: Goals met. Please review BP in 3 months"
    assert letter.actions_for_practice == "Please review BP in 3 months"

    gp = client_for(world.users["gp_a"])
    listed = gp.get(reverse("closed_loop:letters"))
    assert letter.title.encode() in listed.content
    page = gp.get(reverse("closed_loop:letter", args=[letter.pk]))
    assert b"What was done" in page.content and b"Please review BP in 3 months" in page.content
    pdf = gp.get(reverse("closed_loop:letter_pdf", args=[letter.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert len(letter_documents.laid_out(letter).pages) == 1  # one A4 page
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient=world.patient_a, detail="outcome letter PDF"
    ).exists()
    # Outside the relationship: not found.
    assert (
        client_for(world.users["gp_b"]).get(reverse("closed_loop:letter", args=[letter.pk])).status_code
        == 404
    )


def test_a_recovery_at_home_episode_closing_writes_a_letter_offered_to_the_sending_system(world, api):
    system_account = UserFactory(username="nhs111", roles=[Role.REFERRER])
    SendingSystem.objects.create(
        name="NHS 111", account=system_account, endpoint_url="http://127.0.0.1:9/bars"
    )
    world.users["nhs111"] = system_account
    made = api("nhs111").post("/fhir/$process-message", _message("msg-1"), format="json")
    referral_reference = made.json()["id"]
    referral = Referral.objects.get(reference=referral_reference)
    responder = world.users["rah_responder"]
    rah.record_arrival(referral=referral, user=responder, arrived_at=NOW)
    rah.record_outcome(
        referral=referral, user=responder, outcome=Outcome.HOSPITAL, note="Suspected hip fracture"
    )
    letter = OutcomeLetter.objects.get(referral=referral)
    assert letter.occasion == OutcomeLetter.Occasion.RAH_DISCHARGE
    assert "First seen" in letter.what_was_done and "Suspected hip fracture" in letter.what_was_done
    closed = SystemResponse.objects.filter(referral=referral).order_by("-sequence").first()
    document = closed.bundle["entry"][2]["resource"]
    DocumentReference.model_validate(document)
    # The system did not send a record link, and is not given one: the person as it sent them.
    assert document["subject"] == {"display": "Margaret Ridley"}
    url = document["content"][0]["attachment"]["url"]
    assert url.endswith(f"/fhir/Binary/{letter.pk}")
    # It reads the letter by its token, as the referral's own referrer; nobody else does.
    pdf = api("nhs111").get(f"/fhir/Binary/{letter.pk}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert api("nhs111").get(f"/fhir/DocumentReference/{letter.pk}").json()["subject"] == document["subject"]
    assert api("gp_b").get(f"/fhir/Binary/{letter.pk}").status_code == 404


def test_each_person_discussed_at_the_mdt_gets_a_letter_with_the_actions_agreed(world, client_for):
    coordinator = world.users["mdt_coordinator_a"]
    meeting, (item,) = meeting_with_agenda(
        practice=world.practice_a,
        coordinator=coordinator,
        patients=[world.patient_a],
        starts_at=NOW - dt.timedelta(hours=2),
    )
    mdt.publish_agenda(meeting=meeting, user=coordinator)
    mdt.mark_held(meeting=meeting, user=coordinator)
    mdt.update_item(
        item=item,
        user=coordinator,
        discussion="Frailty worsening; family struggling.",
        outcome=MdtOutcome.CONTINUE,
    )
    mdt.add_action(
        item=item,
        user=coordinator,
        description="Medication review",
        due_date=(NOW + dt.timedelta(days=14)).date(),
        owner=world.users["gp_a"],
    )
    mdt.close_minutes(meeting=meeting, user=coordinator)
    (letter,) = OutcomeLetter.objects.filter(occasion=OutcomeLetter.Occasion.MDT_DISCUSSION)
    assert letter.patient == world.patient_a and letter.practice == world.practice_a
    assert "Frailty worsening" in letter.what_was_done
    assert letter.outcome == "Continue on the caseload"
    assert letter.actions_for_practice.startswith(
        f"Medication review ({world.users['gp_a']}, by 8 December 2026)"
    )


def test_the_document_reference_reads_by_relationship_and_is_audited(world, api):
    letter = OutcomeLetter.objects.create(
        key="k",
        patient=world.patient_a,
        practice=world.practice_a,
        referral=world.referral_a,
        occasion=OutcomeLetter.Occasion.CASELOAD_DISCHARGE,
        title="Team A: outcome",
        what_was_done="Visits",
        outcome="Goals met",
        written_by=world.users["cit_member_a"],
    )
    response = api("gp_a").get(f"/fhir/DocumentReference/{letter.pk}")
    assert response.status_code == 200
    assert response.json() == fhir_letters.document_reference(letter)
    assert response.json()["subject"] == {"reference": f"Patient/{world.patient_a.pk}"}
    assert AuditEvent.objects.filter(action=AuditAction.VIEW, patient=world.patient_a, detail="FHIR").exists()
    assert api("gp_b").get(f"/fhir/DocumentReference/{letter.pk}").status_code == 404
