"""One person on the caseload: contacts, care plan, reviews, key worker, discharge."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils.html import escape

from core.models import AuditAction, AuditEvent, Role
from teams import services
from teams.models import CarePlanGoal, CaseloadEvent, Contact
from tests.factories import UserFactory, on_caseload

LONDON = ZoneInfo("Europe/London")
# The Monday after the clocks went back (Sunday 25 October 2026, 02:00 BST -> 01:00 GMT).
MONDAY = dt.datetime(2026, 10, 26, 10, 0, tzinfo=LONDON)


@pytest.fixture
def entry(world):
    with time_machine.travel(MONDAY - dt.timedelta(days=7), tick=False):
        return on_caseload(
            team=world.team_a, key_worker=world.users["cit_member_a"], referral=world.referral_a
        )


def _contact(**overrides):
    return {
        "kind": "visit",
        "staff": overrides.pop("staff"),
        "at": "2026-10-24T15:30",
        "duration_minutes": "40",
        "attended": "on",
        "notes": "Walked to the kitchen with a frame.",
        **overrides,
    }


def test_a_contact_is_recorded_in_uk_time_and_starts_the_work(world, client_for, entry):
    member = world.users["cit_member_a"]
    with time_machine.travel(MONDAY, tick=False):
        client = client_for(member)
        response = client.post(reverse("teams:record_contact", args=[entry.pk]), _contact(staff=member.pk))
        assert response.status_code == 302
        (contact,) = Contact.objects.all()
        # Saturday 24 October was still British Summer Time: 15:30 there is 14:30 UTC.
        assert contact.at == dt.datetime(2026, 10, 24, 14, 30, tzinfo=dt.UTC)
        assert (contact.staff, contact.duration_minutes, contact.attended) == (member, 40, True)
        world.referral_a.refresh_from_db()
        assert world.referral_a.status == "in_progress"
        patient_page = client.get(reverse("patient_detail", args=[world.patient_a.pk])).content.decode()
    assert "24 Oct 2026 15:30" in patient_page
    assert "Walked to the kitchen with a frame." in patient_page
    assert entry.events.filter(kind=CaseloadEvent.Kind.CONTACT).count() == 1


def test_a_contact_that_did_not_happen_leaves_the_referral_accepted(world, entry):
    member = world.users["cit_member_a"]
    with time_machine.travel(MONDAY, tick=False):
        services.record_contact(
            entry=entry,
            user=member,
            staff=member,
            kind="phone",
            at=MONDAY - dt.timedelta(hours=1),
            duration_minutes=2,
            attended=False,
        )
    world.referral_a.refresh_from_db()
    assert world.referral_a.status == "accepted"


def test_bad_contact_input_is_shown_beside_the_fields_and_keeps_what_was_typed(world, client_for, entry):
    member = world.users["cit_member_a"]
    with time_machine.travel(MONDAY, tick=False):
        page = client_for(member).post(
            reverse("teams:record_contact", args=[entry.pk]),
            _contact(staff=member.pk, duration_minutes="0", at="2026-10-27T09:00"),
        )
    assert page.status_code == 400
    html = page.content.decode()
    assert "Ensure this value is greater than or equal to 1." in html
    assert "A contact cannot be in the future." in html
    assert "Walked to the kitchen with a frame." in html
    assert not Contact.objects.exists()


def test_care_plan_goals_and_reviews(world, client_for, entry):
    member = world.users["cit_member_a"]
    with time_machine.travel(MONDAY, tick=False):
        client = client_for(member)
        client.post(
            reverse("teams:add_goal", args=[entry.pk]),
            {"description": "Make a hot drink safely", "target_date": "2026-12-01"},
        )
        goal = CarePlanGoal.objects.get()
        client.post(reverse("teams:goal_status", args=[entry.pk, goal.pk]), {"status": "achieved"})
        client.post(
            reverse("teams:review", args=[entry.pk]),
            {"reviewed_on": "2026-10-26", "next_review_due": "2026-12-07", "note": "Good progress"},
        )
        refused = client.post(
            reverse("teams:review", args=[entry.pk]),
            {"reviewed_on": "2026-10-26", "next_review_due": "2026-10-20"},
        )
        page = client.get(reverse("patient_detail", args=[world.patient_a.pk])).content.decode()
    goal.refresh_from_db()
    entry.refresh_from_db()
    assert goal.status == CarePlanGoal.Status.ACHIEVED
    assert entry.review_due == dt.date(2026, 12, 7)
    assert (
        refused.status_code == 400 and "The next review must be after this one." in refused.content.decode()
    )
    assert "Make a hot drink safely" in page and "(achieved, by 1 Dec 2026)" in page
    kinds = list(entry.events.values_list("kind", flat=True))
    assert kinds == ["opened", "goal", "goal", "reviewed"]


def test_reviews_due_listing_shows_overdue_and_soon_due_people(world, client_for, entry):
    member = world.users["cit_member_a"]
    later = on_caseload(team=world.team_a, key_worker=member)
    later.review_due = dt.date(2027, 3, 1)
    later.save()
    entry.review_due = dt.date(2026, 10, 30)
    entry.save()
    with time_machine.travel(MONDAY, tick=False):
        listing = client_for(member).get(
            reverse("teams:caseload", args=[world.team_a.pk]), {"review": "due", "sort": "review_due"}
        )
    assert list(listing.context["page"].object_list) == [entry]


def test_changing_the_key_worker_and_discharging(world, client_for, entry):
    member = world.users["cit_member_a"]
    matron = UserFactory(roles=[Role.CIT_MEMBER], teams=[world.team_a], discipline="community_matron")
    client = client_for(member)
    client.post(reverse("teams:change_key_worker", args=[entry.pk]), {"key_worker": matron.pk})
    missing_reason = client.post(reverse("teams:discharge", args=[entry.pk]), {"note": "All done"})
    assert missing_reason.status_code == 400 and "This field is required." in missing_reason.content.decode()
    assert 'value="All done"' in missing_reason.content.decode()
    client.post(
        reverse("teams:discharge", args=[entry.pk]), {"reason": "goals_met", "note": "Independent again"}
    )
    again = client.post(reverse("teams:discharge", args=[entry.pk]), {"reason": "goals_met"})

    entry.refresh_from_db()
    world.referral_a.refresh_from_db()
    assert entry.key_worker == matron
    assert entry.closed_at is not None and entry.discharge_reason == "goals_met"
    assert world.referral_a.status == "closed"
    assert world.referral_a.outcome == "Discharged from the caseload: Goals met. Independent again"
    assert again.status_code == 400 and "was discharged from the caseload on" in again.content.decode()
    assert list(entry.events.values_list("kind", flat=True)) == ["opened", "key_worker", "discharged"]
    # The acceptance onto the caseload, the key worker's change and the discharge.
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE, patient=world.patient_a).count() == 3


def test_the_patient_page_brings_the_whole_person_together_and_is_audited(world, client_for, entry):
    member = world.users["cit_member_a"]
    services.add_goal(entry=entry, user=member, description="Sleep downstairs", target_date=None)
    page = client_for(member).get(reverse("patient_detail", args=[world.patient_a.pk]))
    html = page.content.decode()
    assert escape(world.patient_a.family_name.upper()) in html
    assert world.referral_a.reference in html and "Submitted" in html  # each referral with its timeline
    assert entry.get_absolute_url() in html and "Sleep downstairs" in html
    assert "Not flagged for the practice&#x27;s MDT." in html or "Not flagged for the practice's MDT." in html
    assert (
        AuditEvent.objects.filter(user=member, action=AuditAction.VIEW, patient=world.patient_a).count() == 1
    )
