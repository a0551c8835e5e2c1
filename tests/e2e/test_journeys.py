"""The day of each user, in a real browser (see conftest.py)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from referrals.models import Referral
from tests.e2e.conftest import assert_accessible, screenshot
from tests.factories import valid_nhs_number


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
