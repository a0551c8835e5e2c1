"""Break-glass: emergency access to a record outside one's relationship, with a reason,
audited as such, reported to administrators, and ended with the session."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from core.models import AuditAction, AuditEvent, BreakGlassAccess
from tests.conftest import PASSWORD

REASON = {"reason": "urgent_care", "explanation": "Called to a fall at home; GP record needed now."}


def _sign_in(client, username="gp_b"):
    assert client.post(reverse("login"), {"username": username, "password": PASSWORD}).status_code == 302
    return client


def _break_glass(client, patient, **overrides):
    form = {"nhs_number": patient.nhs_number, **REASON, **overrides}
    return client.post(reverse("break_glass"), form)


def test_a_gp_without_a_relationship_opens_the_record_after_giving_a_reason(world, client):
    _sign_in(client)
    patient_page = reverse("patient_detail", args=[world.patient_a.pk])
    refused = client.get(patient_page)
    assert refused.status_code == 404
    assert reverse("break_glass") in refused.content.decode()  # the way in is offered

    response = _break_glass(client, world.patient_a)

    assert response.status_code == 302 and response["Location"] == patient_page
    page = client.get(patient_page)
    assert page.status_code == 200
    html = page.content.decode()
    assert escape(world.patient_a.family_name.upper()) in html
    assert "Emergency access." in html and escape(REASON["explanation"]) in html
    assert world.referral_a.reference in html  # the whole record, not only gp_b's referrals
    assert reverse("patient_update", args=[world.patient_a.pk]) not in html  # read-only
    grant = BreakGlassAccess.objects.get()
    assert (grant.user, grant.patient, grant.reason) == (world.users["gp_b"], world.patient_a, "urgent_care")
    granted = AuditEvent.objects.get(action=AuditAction.BREAK_GLASS)
    assert granted.patient == world.patient_a and REASON["explanation"] in granted.detail
    viewed = AuditEvent.objects.get(action=AuditAction.VIEW, patient=world.patient_a)
    assert viewed.detail.startswith("break-glass: Urgent care")


def test_break_glass_does_not_open_editing(world, client):
    _sign_in(client)
    _break_glass(client, world.patient_a)
    assert client.get(reverse("patient_update", args=[world.patient_a.pk])).status_code == 404


def test_access_ends_when_the_user_signs_out(world, client):
    _sign_in(client)
    _break_glass(client, world.patient_a)
    patient_page = reverse("patient_detail", args=[world.patient_a.pk])
    assert client.get(patient_page).status_code == 200

    client.post(reverse("logout"))
    _sign_in(client)

    assert client.get(patient_page).status_code == 404
    assert BreakGlassAccess.objects.get().ended_at is not None


def test_access_ends_with_the_idle_timeout(world, client):
    with time_machine.travel(dt.datetime(2026, 10, 24, 23, 0, tzinfo=dt.UTC), tick=False) as clock:
        _sign_in(client)
        _break_glass(client, world.patient_a)
        clock.shift(dt.timedelta(minutes=31))  # idle past the 30 minutes
        assert client.get(reverse("referrals:home")).status_code == 302  # signed out
        _sign_in(client)
        assert client.get(reverse("patient_detail", args=[world.patient_a.pk])).status_code == 404


def test_access_belongs_to_the_session_not_the_user(world, client):
    _sign_in(client)
    _break_glass(client, world.patient_a)
    other_browser = _sign_in(Client())
    assert other_browser.get(reverse("patient_detail", args=[world.patient_a.pk])).status_code == 404


def test_a_mistyped_nhs_number_is_explained_beside_the_field_and_the_reason_kept(world, client):
    _sign_in(client)
    wrong_check_digit = world.patient_a.nhs_number[:9] + str((int(world.patient_a.nhs_number[9]) + 1) % 10)
    response = _break_glass(client, world.patient_a, nhs_number=wrong_check_digit)
    assert response.status_code == 200
    form = response.context["form"]
    assert "check digit" in " ".join(form.errors["nhs_number"])
    assert escape(REASON["explanation"]) in response.content.decode()
    assert not BreakGlassAccess.objects.exists()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"explanation": "urgent"}, "explanation", "at least 10 characters"),
        ({"reason": ""}, "reason", "This field is required"),
        ({"nhs_number": "943 476 5919"}, "nhs_number", "No patient with this NHS number"),
    ],
)
def test_a_reason_is_required_and_an_unknown_number_refused(world, client, change, field, message):
    _sign_in(client)
    response = _break_glass(client, world.patient_a, **change)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not BreakGlassAccess.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.BREAK_GLASS).exists()


def test_a_search_for_an_unregistered_number_is_itself_recorded(world, client):
    _sign_in(client)
    _break_glass(client, world.patient_a, nhs_number="943 476 5919")
    refused = AuditEvent.objects.get(action=AuditAction.REFUSED, user=world.users["gp_b"])
    assert "9434765919" in refused.detail.replace(" ", "")


def test_someone_with_a_relationship_needs_no_break_glass(world, client):
    _sign_in(client, "gp_a")
    response = _break_glass(client, world.patient_a)
    assert response["Location"] == reverse("patient_detail", args=[world.patient_a.pk])
    assert not BreakGlassAccess.objects.exists()


@pytest.mark.parametrize("username", ["service_manager", "administrator"])
def test_managers_and_administrators_cannot_break_glass(world, client_for, username):
    client = client_for(world.users[username])
    assert client.get(reverse("break_glass")).status_code == 403
    assert _break_glass(client, world.patient_a).status_code == 403
    assert not BreakGlassAccess.objects.exists()


def test_administrators_see_every_access_with_its_reason_and_use_in_the_report(world, client, client_for):
    _sign_in(client)
    _break_glass(client, world.patient_a)
    client.get(reverse("patient_detail", args=[world.patient_a.pk]))
    client.get(reverse("patient_detail", args=[world.patient_a.pk]))

    admin = client_for(world.users["administrator"])
    report = admin.get(reverse("break_glass_report"))

    assert report.status_code == 200
    html = report.content.decode()
    assert escape(world.patient_a.family_name.upper()) in html
    assert escape(REASON["explanation"]) in html and "Urgent care" in html
    assert escape(world.users["gp_b"].get_full_name()) in html
    assert report.context["page"].object_list[0].views == 2
    assert "Session still open" in html
    assert AuditEvent.objects.filter(
        user=world.users["administrator"], action=AuditAction.LIST, patient=world.patient_a
    ).exists()  # reading the report is audited too


def test_the_report_period_is_in_uk_days(world, client, client_for):
    # 23:30 UTC on 30 June is 00:30 on 1 July in the UK (BST).
    with time_machine.travel(dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC), tick=False):
        _sign_in(client)
        _break_glass(client, world.patient_a)
    admin = client_for(world.users["administrator"])
    july = admin.get(reverse("break_glass_report"), {"start": "2026-07-01", "end": "2026-07-31"})
    june = admin.get(reverse("break_glass_report"), {"start": "2026-06-01", "end": "2026-06-30"})
    assert len(july.context["page"].object_list) == 1
    assert len(june.context["page"].object_list) == 0


def test_the_report_runs_a_constant_number_of_queries(world, client_for, django_assert_max_num_queries):
    from tests.factories import PatientFactory

    gp_b = world.users["gp_b"]
    for _ in range(30):
        BreakGlassAccess.objects.create(
            user=gp_b,
            patient=PatientFactory(),
            reason="covering",
            explanation="Covering the practice's visits today.",
            session_key="x" * 32,
            expires_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        )
    admin = client_for(world.users["administrator"])
    with django_assert_max_num_queries(12):
        assert admin.get(reverse("break_glass_report")).status_code == 200


def test_reading_the_report_is_not_shown_as_emergency_access_in_the_access_log(world, client, client_for):
    """The report lists the person, so reading it is in their access log: as a list an
    administrator read, not as an emergency access."""
    _sign_in(client)
    _break_glass(client, world.patient_a)
    client.get(reverse("patient_detail", args=[world.patient_a.pk]))
    admin = client_for(world.users["administrator"])
    admin.get(reverse("break_glass_report"))
    log = admin.get(reverse("patient_access_log", args=[world.patient_a.pk]))
    html = log.content.decode()
    assert "Emergency access: Emergency access (break-glass)" in html  # gp_b's grant
    assert "Emergency access: Viewed" in html  # and the record opened under it
    assert "Emergency access: Listed" not in html  # the administrator's report is a list
    assert AuditEvent.objects.filter(
        user=world.users["administrator"], action=AuditAction.LIST, patient=world.patient_a
    ).exists()
