"""Flagging a person for their practice's MDT, from the patient page."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from core.models import AuditAction, AuditEvent
from mdt.models import MdtFlag
from teams.models import CaseloadEvent
from tests.factories import on_caseload


@pytest.fixture
def entry(world):
    return on_caseload(team=world.team_a, key_worker=world.users["cit_member_a"], referral=world.referral_a)


def test_a_member_flags_a_person_for_mdt_and_the_caseload_shows_it(world, client_for, entry):
    member = world.users["cit_member_a"]
    client = client_for(member)
    url = reverse("mdt:flag", args=[world.patient_a.pk])
    response = client.post(url, {"reason": "Three falls in a month; medication review"}, follow=True)
    assert "is flagged for the practice" in response.content.decode()

    flag = MdtFlag.objects.get()
    assert (flag.patient, flag.flagged_by, flag.team) == (world.patient_a, member, world.team_a)
    assert entry.events.filter(kind=CaseloadEvent.Kind.FLAGGED).count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE, detail="flagged for MDT").count() == 1
    page = client.get(reverse("patient_detail", args=[world.patient_a.pk])).content.decode()
    assert "Three falls in a month; medication review" in page
    flagged = client.get(reverse("teams:caseload", args=[world.team_a.pk]), {"flagged": "on"})
    assert list(flagged.context["page"].object_list) == [entry]


def test_a_second_flag_is_refused_naming_the_first(world, client_for, entry):
    client_for(world.users["gp_a"]).post(
        reverse("mdt:flag", args=[world.patient_a.pk]), {"reason": "Carer strain"}
    )
    again = client_for(world.users["cit_member_a"]).post(
        reverse("mdt:flag", args=[world.patient_a.pk]), {"reason": "Falls"}, follow=True
    )
    # Escaped as the page escapes it: staff names may hold an apostrophe (O'Neill).
    assert escape(f"Already flagged for the MDT by {world.users['gp_a']}") in again.content.decode()
    assert MdtFlag.objects.count() == 1


def test_nobody_flags_a_person_they_cannot_see(world, client_for):
    response = client_for(world.users["gp_b"]).post(
        reverse("mdt:flag", args=[world.patient_a.pk]), {"reason": "Curious"}
    )
    assert response.status_code == 404
    assert not MdtFlag.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.REFUSED, patient=world.patient_a).exists()


def test_an_empty_reason_is_refused(world, client_for, entry):
    response = client_for(world.users["cit_member_a"]).post(
        reverse("mdt:flag", args=[world.patient_a.pk]), {"reason": "  "}, follow=True
    )
    assert "Say why the person should be discussed" in response.content.decode()
    assert not MdtFlag.objects.exists()
