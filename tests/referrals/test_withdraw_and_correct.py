"""The referrer withdraws or corrects a referral nobody has accepted yet: from the page, the
API and BaRS messages, through the same services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import AuditAction, AuditEvent
from recovery_at_home import services as rah
from referrals import services
from referrals.fhir import REFERRAL_REFERENCE
from referrals.models import Reason, ReferralEvent, Status
from tests.referrals.test_fhir import _message


def bars_message(*, message_id, request_id=None, status="active", reason=None, note=None, reference=None):
    """A BaRS message: a new referral, or (naming one sent before) its update or cancel."""
    message = _message(message_id)
    request = message["entry"][1]["resource"]
    request["status"] = status
    if request_id:
        request["id"] = request_id
    if reason:
        request["reasonCode"] = [{"text": reason}]
    if note:
        request["note"] = [{"text": note}]
    if reference:
        request["identifier"] = [{"system": REFERRAL_REFERENCE, "value": reference}]
    return message


def test_the_referrer_withdraws_a_referral_not_yet_accepted(world, client_for):
    referral = world.referral_b
    client = client_for(world.users["gp_b"])
    response = client.post(
        reverse("referrals:withdraw", args=[referral.reference]),
        {"reason": "Admitted to hospital overnight"},
        follow=True,
    )
    assert b"withdrawn" in response.content
    referral.refresh_from_db()
    assert referral.status == Status.WITHDRAWN
    assert referral.withdrawal_reason == "Admitted to hospital overnight"
    last = referral.events.last()
    assert (last.kind, last.note) == (ReferralEvent.Kind.WITHDRAWN, "Admitted to hospital overnight")
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE, detail="withdraw").exists()
    # The receiving service sees why, and has nothing left to act on.
    page = client_for(world.users["rah_coordinator"]).get(referral.get_absolute_url())
    assert b"Withdrawn by the referrer" in page.content
    assert b"Admitted to hospital overnight" in page.content


def test_an_accepted_referral_cannot_be_withdrawn_and_the_referrer_is_told(world):
    referral = world.referral_b
    services.accept_referral(referral=referral, user=world.users["rah_coordinator"])
    with pytest.raises(services.TransitionRefused, match="accepted cannot be withdrawn"):
        services.withdraw_referral(referral=referral, user=world.users["gp_b"], reason="No longer needed")


def test_only_the_referrer_or_their_practice_may_withdraw(world):
    with pytest.raises(services.NotTheReferrer):
        services.withdraw_referral(
            referral=world.referral_b, user=world.users["rah_coordinator"], reason="Not ours"
        )
    with pytest.raises(services.NotTheReferrer):
        services.withdraw_referral(referral=world.referral_b, user=world.users["gp_a"], reason="Not mine")


def test_a_withdrawal_needs_a_reason(world, client_for):
    referral = world.referral_b
    response = client_for(world.users["gp_b"]).post(
        reverse("referrals:withdraw", args=[referral.reference]), {"reason": "  "}, follow=True
    )
    assert b"Say why the referral is withdrawn" in response.content
    referral.refresh_from_db()
    assert referral.status == Status.RECEIVED


def test_a_correction_keeps_the_version_it_replaces_and_says_what_changed(world, client_for):
    referral = world.referral_b
    first_reason = referral.reason
    client = client_for(world.users["gp_b"])
    form = client.get(reverse("referrals:correct", args=[referral.reference]))
    assert form.status_code == 200
    response = client.post(
        reverse("referrals:correct", args=[referral.reference]),
        {"reason": Reason.DELIRIUM, "clinical_summary": "Confused since this morning", "key_safe": "on"},
        follow=True,
    )
    assert b"corrected" in response.content
    referral.refresh_from_db()
    assert (referral.reason, referral.clinical_summary, referral.key_safe) == (
        Reason.DELIRIUM,
        "Confused since this morning",
        True,
    )
    version = referral.versions.get()
    assert (version.number, version.details["reason"]) == (1, first_reason)
    note = referral.events.get(kind=ReferralEvent.Kind.CORRECTED).note
    assert "reason (" in note and "Confusion or delirium)" in note
    assert "clinical summary" in note and "key safe at the property (no → yes)" in note
    # The coordinator reads what changed, and the earlier version.
    page = client_for(world.users["rah_coordinator"]).get(referral.get_absolute_url())
    assert b"Corrected by the referrer" in page.content
    assert b"Earlier versions (1)" in page.content


def test_a_correction_that_is_wrong_says_so_beside_the_field_and_changes_nothing(world, client_for):
    referral = world.referral_b
    response = client_for(world.users["gp_b"]).post(
        reverse("referrals:correct", args=[referral.reference]),
        {"reason": Reason.OTHER, "reason_other": "", "clinical_summary": "x" * 4001},
    )
    assert response.status_code == 400
    assert b"Say what the other reason is." in response.content
    assert b"x" * 4001 in response.content  # what was typed is kept
    referral.refresh_from_db()
    assert referral.versions.count() == 0 and referral.reason != Reason.OTHER


def test_a_correction_after_acceptance_is_refused(world, api):
    referral = world.referral_b
    services.accept_referral(referral=referral, user=world.users["rah_coordinator"])
    response = api("gp_b").post(
        f"/api/referrals/{referral.reference}/correct/", {"reason": "delirium"}, format="json"
    )
    assert response.status_code == 409
    assert "cannot be corrected" in response.json()["detail"]


def test_the_api_withdraws_and_corrects_with_errors_naming_the_field(world, api):
    referral = world.referral_b
    client = api("gp_b")
    bad = client.post(f"/api/referrals/{referral.reference}/correct/", {"key_safe": "maybe"}, format="json")
    assert bad.status_code == 400 and "key_safe" in bad.json()
    nothing = client.post(f"/api/referrals/{referral.reference}/correct/", {}, format="json")
    assert nothing.status_code == 409 and nothing.json()["detail"] == "Nothing was changed."
    other = api("gp_a").post(f"/api/referrals/{referral.reference}/withdraw/", {"reason": "x"}, format="json")
    assert other.status_code == 404  # gp_a does not see gp_b's referral at all
    done = client.post(
        f"/api/referrals/{referral.reference}/withdraw/", {"reason": "Better now"}, format="json"
    )
    assert done.status_code == 200 and done.json()["status"] == "withdrawn"


def _sent(world, api, **changes):
    message = bars_message(**changes)
    response = api("gp_b").post("/fhir/$process-message", message, format="json")
    return response


def test_bars_cancel_and_update_messages_withdraw_and_correct_the_referral(world, api):
    made = _sent(world, api, message_id="m-1", request_id="their-sr-7")
    assert made.status_code == 201
    reference = made.json()["id"]
    updated = _sent(
        world,
        api,
        message_id="m-2",
        request_id="their-sr-7",
        reason="Confusion or delirium",
        note="Worse today",
    )
    assert updated.status_code == 200
    cancelled = _sent(
        world, api, message_id="m-3", request_id="their-sr-7", status="revoked", note="Admitted"
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "revoked"
    kinds = list(ReferralEvent.objects.filter(referral__reference=reference).values_list("kind", flat=True))
    assert kinds[-2:] == [ReferralEvent.Kind.CORRECTED, ReferralEvent.Kind.WITHDRAWN]
    again = _sent(world, api, message_id="m-3", request_id="their-sr-7", status="revoked", note="Admitted")
    assert again.status_code == 200  # the same message twice changes nothing more
    too_late = _sent(world, api, message_id="m-4", request_id="their-sr-7", note="Another change")
    assert too_late.status_code == 422
    assert "withdrawn: it cannot be corrected" in too_late.json()["issue"][0]["diagnostics"]


def test_a_cancel_naming_a_referral_of_another_sender_finds_nothing(world, api):
    message = bars_message(message_id="m-9", status="revoked", reference=world.referral_a.reference)
    response = api("gp_b").post("/fhir/$process-message", message, format="json")
    assert response.status_code == 404 or response.status_code == 422
    world.referral_a.refresh_from_db()
    assert world.referral_a.status == Status.RECEIVED


def test_a_bars_update_about_another_person_is_refused(world, api):
    made = _sent(world, api, message_id="m-1", request_id="their-sr-8")
    assert made.status_code == 201
    other = bars_message(message_id="m-2", request_id="their-sr-8", note="Changed")
    other["entry"][2]["resource"]["name"] = [{"family": "Someone-Else", "given": ["Ann"]}]
    response = api("gp_b").post("/fhir/$process-message", other, format="json")
    assert response.status_code == 422
    assert "Patient differs" in response.json()["issue"][0]["diagnostics"]


def test_a_dispatched_referral_can_no_longer_be_withdrawn(world):
    rah.dispatch_responder(
        referral=world.referral_b, responder=world.users["rah_responder"], user=world.users["rah_coordinator"]
    )
    with pytest.raises(services.TransitionRefused, match="accepted cannot be withdrawn"):
        services.withdraw_referral(referral=world.referral_b, user=world.users["gp_b"], reason="Not needed")


def test_opening_the_correction_page_is_audited(world, client_for):
    client_for(world.users["gp_b"]).get(reverse("referrals:correct", args=[world.referral_b.reference]))
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient=world.patient_b, detail="correct"
    ).exists()
