from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from core.audit import record_event
from core.models import AuditAction, AuditEvent
from tests.factories import typed_date


@pytest.fixture
def audit_event(world):
    return record_event(
        request=None, user=world.users["gp_a"], action=AuditAction.VIEW, patient=world.patient_a
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE atb_auditevent SET action = 'list' WHERE id = %s",
        "DELETE FROM atb_auditevent WHERE id = %s",
    ],
)
def test_postgresql_refuses_to_alter_the_audit_trail(audit_event, statement):
    with pytest.raises(DatabaseError, match="Cannot update or delete rows from atb_auditevent"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [audit_event.pk])
    audit_event.refresh_from_db()
    assert audit_event.action == AuditAction.VIEW


def test_bulk_updates_and_deletes_from_django_cannot_slip_past(audit_event):
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        AuditEvent.objects.filter(pk=audit_event.pk).update(detail="rewritten")
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        AuditEvent.objects.filter(pk=audit_event.pk).delete()
    assert AuditEvent.objects.filter(pk=audit_event.pk, detail="").exists()


def test_viewing_the_patient_page_writes_exactly_one_audit_event(world, client_for):
    gp = world.users["gp_a"]
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()  # the world's own
    response = client_for(gp).get(
        reverse("patient_detail", args=[world.patient_a.pk]), REMOTE_ADDR="10.20.30.40"
    )
    assert response.status_code == 200
    events = list(AuditEvent.objects.filter(patient=world.patient_a, id__gt=before))
    assert len(events) == 1
    (event,) = events
    assert (event.user, event.action, event.ip_address) == (gp, AuditAction.VIEW, "10.20.30.40")
    assert event.object_type == "atb.Patient"
    assert event.path == f"/patients/{world.patient_a.pk}/"


def test_a_patient_list_records_each_patient_it_showed(world, client_for):
    response = client_for(world.users["mdt_coordinator_a"]).get(reverse("patient_list"))
    assert world.patient_a.get_absolute_url() in response.content.decode()
    assert world.patient_b.get_absolute_url() not in response.content.decode()
    listed = AuditEvent.objects.filter(action=AuditAction.LIST)
    assert list(listed.values_list("patient", flat=True)) == [world.patient_a.pk]


def test_refused_access_to_a_patient_is_audited_and_answers_404(world, client_for):
    response = client_for(world.users["gp_b"]).get(reverse("patient_detail", args=[world.patient_a.pk]))
    assert response.status_code == 404
    assert escape(world.patient_a.family_name).upper() not in response.content.decode().upper()
    event = AuditEvent.objects.get(patient=world.patient_a, user=world.users["gp_b"])
    assert event.action == AuditAction.REFUSED


def test_changing_a_patient_records_what_changed(world, client_for):
    client = client_for(world.users["gp_a"])
    patient = world.patient_a
    response = client.post(
        reverse("patient_update", args=[patient.pk]),
        {
            "nhs_number": patient.nhs_number,
            "given_name": patient.given_name,
            "family_name": patient.family_name,
            **typed_date("date_of_birth", "1940-05-17"),
            "practice": world.practice_a.pk,
            "phone": "0191 555 0199",
            "lives_alone": "on",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=AuditAction.UPDATE)
    assert event.patient == patient
    assert "phone" in event.detail and "lives_alone" in event.detail


def test_sign_in_sign_out_and_failed_sign_in_are_logged(world, client):
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()  # the world's own
    client.post(reverse("login"), {"username": "gp_a", "password": "wrong password"})
    client.post(reverse("login"), {"username": "gp_a", "password": "correct-horse-battery-staple"})
    client.post(reverse("logout"))
    actions = list(AuditEvent.objects.filter(id__gt=before).order_by("id").values_list("action", "username"))
    assert actions == [
        (AuditAction.SIGN_IN_FAILED, "gp_a"),
        (AuditAction.SIGN_IN, "gp_a"),
        (AuditAction.SIGN_OUT, "gp_a"),
    ]


def test_a_refused_csrf_check_is_in_the_trail(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["gp_a"])
    response = client.post(reverse("referrals:create"), {})
    assert response.status_code == 403
    (event,) = AuditEvent.objects.filter(user=world.users["gp_a"], action=AuditAction.REFUSED)
    assert "CSRF" in event.detail and event.path == reverse("referrals:create")
