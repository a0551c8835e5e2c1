"""The day of each user, in a real browser (see conftest.py)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from recovery_at_home.forms import DispatchForm
from referrals.models import Referral
from tests.e2e.conftest import assert_accessible, screenshot
from tests.factories import PatientFactory, ReferralFactory, valid_nhs_number


def test_a_gp_refers_a_new_patient_correcting_a_mistyped_nhs_number(world, person):
    gp = world.users["gp_a"]
    correct = valid_nhs_number(4242)
    mistyped = correct[:-1] + str((int(correct[-1]) + 1) % 10)  # the check digit no longer agrees
    page = person(gp)
    assert_accessible(page)

    page.get_by_role("link", name="Refer a patient").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Refer a patient")
    assert_accessible(page)
    page.get_by_label("NHS number").fill(mistyped)
    page.get_by_label("First name").fill("Edith")
    page.get_by_label("Last name").fill("Armstrong")
    page.get_by_label("Date of birth").fill("1936-04-12")
    page.get_by_label("Recovery at Home").check()
    page.get_by_label("Reason").select_option(label="Fall without serious injury")
    page.get_by_label("Clinical summary").fill("Two falls this week, managing at home with help.")
    page.get_by_label("The person (or their representative) agrees to this referral").check()
    page.get_by_label("Your contact number").fill("0191 555 0100")
    page.get_by_role("button", name=re.compile("Send", re.IGNORECASE)).click()

    nhs_number = page.get_by_label("NHS number")
    expect(nhs_number).to_have_value(mistyped)  # what was typed stays
    expect(page.locator("#error_1_id_nhs_number, .invalid-feedback").first).to_be_visible()
    expect(page.get_by_label("Last name")).to_have_value("Armstrong")
    assert not Referral.objects.filter(patient__family_name="Armstrong").exists()
    assert_accessible(page)
    screenshot(page, "referral-form-error")

    nhs_number.fill(correct)
    page.get_by_label("The person (or their representative) agrees to this referral").check()
    page.get_by_role("button", name=re.compile("Send", re.IGNORECASE)).click()
    referral = Referral.objects.get(patient__family_name="Armstrong")
    expect(page.get_by_text(referral.reference).first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Referrals").click()
    expect(page.get_by_role("link", name="My referrals")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("link", name=referral.reference)).to_be_visible()
    assert_accessible(page)
    screenshot(page, "my-referrals")


def test_recovery_at_home_triages_dispatches_and_hands_over_to_the_cit(
    world, person, reference_data, quick_queue
):
    coordinator = person(world.users["rah_coordinator"])
    coordinator.get_by_role("navigation", name="Main").get_by_role("link", name="Queue").click()
    expect(coordinator.get_by_role("heading", level=1)).to_have_text("Recovery at Home queue")
    assert_accessible(coordinator)

    # A GP's referral arrives while the coordinator watches: no reload.
    referral = ReferralFactory(
        service=world.rah, patient=PatientFactory(family_name="Armstrong", practice=world.practice_a)
    )
    row = coordinator.locator(f'tr[data-reference="{referral.reference}"]')
    expect(row).to_be_visible(timeout=10_000)
    expect(row).to_contain_text("Not triaged")
    assert_accessible(coordinator)
    screenshot(coordinator, "queue")

    row.get_by_role("link", name=re.compile("ARMSTRONG")).click()
    coordinator.get_by_label("Triage category").select_option(label="Urgent community response (2 hours)")
    coordinator.get_by_role("button", name="Triage").click()
    expect(coordinator.get_by_text(f"Referral {referral.reference}: triaged.")).to_be_visible()
    responder_user = world.users["rah_responder"]
    as_listed = DispatchForm().fields["responder"].label_from_instance(responder_user)
    coordinator.get_by_label("Responder").select_option(label=as_listed)
    coordinator.get_by_role("button", name="Dispatch").click()
    expect(coordinator.get_by_text("dispatched", exact=False).first).to_be_visible()
    assert_accessible(coordinator)

    responder = person(responder_user)
    responder.get_by_role("navigation", name="Main").get_by_role("link", name="My visits").click()
    expect(responder.get_by_text("ARMSTRONG", exact=False).first).to_be_visible()
    assert_accessible(responder)
    responder.get_by_role("button", name="Arrived now").click()
    responder.goto(referral.get_absolute_url())
    responder.get_by_text("Record the outcome and close").click()  # a disclosure (details)
    responder.get_by_label("Outcome").select_option(label="Handed to the Community Integrated Team")
    hand_over_note = responder.get_by_label("Note (for a hand-over: what the team should know)")
    hand_over_note.fill("Needs a care plan review.")
    responder.get_by_role("button", name="Record outcome").click()
    expect(responder.get_by_text("Handed to the Community Integrated Team").first).to_be_visible()
    assert_accessible(responder)

    coordinator.get_by_role("navigation", name="Main").get_by_role("link", name="Queue").click()
    expect(coordinator.locator(f'tr[data-reference="{referral.reference}"]')).to_have_count(0)
    referral.refresh_from_db()
    assert referral.episode.handover_referral is not None  # the team's referral, linked
