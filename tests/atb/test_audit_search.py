"""Administrators search the audit trail, and print a patient's access log for a subject
access request."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.urls import reverse
from django.utils.html import escape

from core.audit import record_event
from core.models import AuditAction, AuditEvent
from portal.merging import merge_patients
from tests.factories import PatientFactory


def _events(response):
    return list(response.context["page"].object_list)


def test_search_by_patient_user_action_and_uk_dates(world, client_for):
    gp_a, gp_b = world.users["gp_a"], world.users["gp_b"]
    # 23:30 UTC on 31 July is 00:30 on 1 August in the UK.
    with time_machine.travel(dt.datetime(2026, 7, 31, 23, 30, tzinfo=dt.UTC), tick=False):
        late_july_utc = record_event(
            request=None, user=gp_a, action=AuditAction.VIEW, patient=world.patient_a
        )
    with time_machine.travel(dt.datetime(2026, 7, 31, 12, 0, tzinfo=dt.UTC), tick=False):
        july = record_event(request=None, user=gp_a, action=AuditAction.UPDATE, patient=world.patient_a)
        other_patient = record_event(
            request=None, user=gp_b, action=AuditAction.VIEW, patient=world.patient_b
        )
    admin = client_for(world.users["administrator"])
    search = reverse("audit_search")

    by_patient = _events(admin.get(search, {"nhs_number": world.patient_a.nhs_number_display}))
    assert late_july_utc in by_patient and july in by_patient and other_patient not in by_patient
    assert _events(admin.get(search, {"username": "GP_B", "action": "view"})) == [other_patient]
    by_action = _events(admin.get(search, {"nhs_number": world.patient_a.nhs_number, "action": "update"}))
    assert by_action == [july]
    august = _events(admin.get(search, {"start": "2026-08-01", "end": "2026-08-01"}))
    assert late_july_utc in august and july not in august
    assert july in _events(admin.get(search, {"start": "2026-07-31", "end": "2026-07-31"}))


def test_a_bad_search_is_explained_beside_the_field(world, client_for):
    admin = client_for(world.users["administrator"])
    response = admin.get(reverse("audit_search"), {"nhs_number": "123", "username": "gp_a"})
    assert response.status_code == 200 and response.context["page"] is None
    assert "10 digits" in " ".join(response.context["form"].errors["nhs_number"])
    assert 'value="gp_a"' in response.content.decode()  # what was typed stays
    backwards = admin.get(reverse("audit_search"), {"start": "2026-08-02", "end": "2026-08-01"})
    assert "on or after its start" in " ".join(backwards.context["form"].errors["end"])


def test_searching_the_trail_is_itself_audited(world, client_for):
    record_event(request=None, user=world.users["gp_a"], action=AuditAction.VIEW, patient=world.patient_a)
    admin = client_for(world.users["administrator"])
    admin.get(reverse("audit_search"), {"username": "gp_a"})
    assert AuditEvent.objects.filter(
        user=world.users["administrator"],
        action=AuditAction.LIST,
        patient=world.patient_a,
        detail="audit search",
    ).exists()


def test_the_search_runs_a_constant_number_of_queries(world, client_for, django_assert_max_num_queries):
    for _ in range(60):
        record_event(
            request=None, user=world.users["gp_a"], action=AuditAction.VIEW, patient=PatientFactory()
        )
    admin = client_for(world.users["administrator"])
    with django_assert_max_num_queries(12):
        response = admin.get(reverse("audit_search"), {"username": "gp_a"})
    assert len(_events(response)) == 50


def test_the_access_log_lists_who_looked_at_this_record_and_nothing_else(world, client_for):
    duplicate = PatientFactory(
        given_name=world.patient_a.given_name,
        family_name=world.patient_a.family_name,
        date_of_birth=world.patient_a.date_of_birth,
        practice=world.practice_a,
        nhs_number=None,
    )
    gp_a = world.users["gp_a"]
    gp_a.job_title = "GP partner"
    gp_a.save()
    record_event(request=None, user=gp_a, action=AuditAction.VIEW, patient=world.patient_a)
    record_event(
        request=None, user=world.users["rah_coordinator"], action=AuditAction.VIEW, patient=duplicate
    )
    record_event(
        request=None,
        user=world.users["gp_b"],
        action=AuditAction.BREAK_GLASS,
        patient=world.patient_a,
        detail="Urgent care: called to a fall",
    )
    record_event(request=None, user=world.users["gp_b"], action=AuditAction.VIEW, patient=world.patient_b)
    merge_patients(keep=world.patient_a, duplicate=duplicate, user=world.users["administrator"])
    admin = client_for(world.users["administrator"])

    response = admin.get(reverse("patient_access_log", args=[world.patient_a.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    users = {event.user for event in response.context["events"]}
    assert {gp_a, world.users["rah_coordinator"], world.users["gp_b"]} <= users  # merged record's too
    assert "GP partner" in html
    assert "Emergency access: " in html and "called to a fall" in html
    assert all(event.patient_id in (world.patient_a.pk, duplicate.pk) for event in response.context["events"])
    assert "css/print." in html  # the printable layout
    assert escape(world.patient_b.family_name.upper()) not in html
    assert AuditEvent.objects.filter(
        user=world.users["administrator"], action=AuditAction.VIEW, patient=world.patient_a
    ).exists()
