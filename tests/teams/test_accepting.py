"""Accepting a referral onto a team's caseload: one entry, the chosen key worker, or nothing."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.urls import reverse

from core.models import AuditAction, AuditEvent, Role
from referrals.models import Referral, ReferralEvent
from teams import services
from teams.models import CaseloadEntry, CaseloadEvent
from tests.factories import (
    CommunityTeamsServiceFactory,
    PatientFactory,
    ReferralFactory,
    TeamFactory,
    UserFactory,
)


@pytest.fixture
def nurse(world):
    return UserFactory(
        username="nurse_a", roles=[Role.CIT_MEMBER], teams=[world.team_a], discipline="district_nurse"
    )


def test_accepting_puts_the_person_on_the_caseload_with_the_chosen_key_worker(world, client_for, nurse):
    member = world.users["cit_member_a"]
    response = client_for(member).post(
        reverse("teams:accept", args=[world.referral_a.reference]),
        {"key_worker": nurse.pk, "review_due": "2030-01-15"},
    )
    (entry,) = CaseloadEntry.objects.all()
    assert response.status_code == 302 and response["Location"] == entry.get_absolute_url()
    assert (entry.patient, entry.team, entry.key_worker, entry.opened_by) == (
        world.patient_a,
        world.team_a,
        nurse,
        member,
    )
    assert str(entry.review_due) == "2030-01-15"
    world.referral_a.refresh_from_db()
    assert world.referral_a.status == "accepted"
    accepted = world.referral_a.events.get(kind=ReferralEvent.Kind.ACCEPTED)
    assert accepted.note == f"Onto the caseload; key worker {nurse}."
    assert list(entry.events.values_list("kind", flat=True)) == [CaseloadEvent.Kind.OPENED]
    assert AuditEvent.objects.filter(user=member, action=AuditAction.UPDATE, patient=world.patient_a).exists()


def test_the_accept_form_offers_only_the_teams_members_and_keeps_what_was_typed(world, client_for, nurse):
    outsider = UserFactory(roles=[Role.CIT_MEMBER], teams=[world.team_b])
    page = client_for(world.users["cit_member_a"]).post(
        reverse("teams:accept", args=[world.referral_a.reference]),
        {"key_worker": outsider.pk, "review_due": "2031-02-03"},
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert "Select a valid choice" in html
    assert 'value="2031-02-03"' in html
    assert not CaseloadEntry.objects.exists()
    world.referral_a.refresh_from_db()
    assert world.referral_a.status == "received"


def test_a_first_review_in_the_past_is_refused_beside_the_field(world, client_for, nurse):
    page = client_for(world.users["cit_member_a"]).post(
        reverse("teams:accept", args=[world.referral_a.reference]),
        {"key_worker": nurse.pk, "review_due": "2020-01-01"},
    )
    assert page.status_code == 400
    assert "The first review cannot be in the past." in page.content.decode()


def test_the_referral_pages_accept_button_leads_to_choosing_a_key_worker(world, client_for):
    client = client_for(world.users["cit_member_a"])
    detail = client.get(reverse("referral_detail", args=[world.referral_a.reference])).content.decode()
    assert reverse("teams:accept", args=[world.referral_a.reference]) in detail
    posted = client.post(reverse("referrals:act", args=[world.referral_a.reference, "accept"]))
    assert posted["Location"] == reverse("teams:accept", args=[world.referral_a.reference])
    assert not CaseloadEntry.objects.exists()


def test_a_person_already_on_the_caseload_is_not_added_twice(world, nurse):
    services.accept_onto_caseload(referral=world.referral_a, key_worker=nurse, user=nurse)
    again = ReferralFactory(patient=world.patient_a, service=world.cit, team=world.team_a)
    with pytest.raises(services.CaseloadRefused, match="already on the caseload"):
        services.accept_onto_caseload(referral=again, key_worker=nurse, user=nurse)
    again.refresh_from_db()
    assert again.status == "received"  # the acceptance was undone with the refusal
    assert CaseloadEntry.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_members_accepting_at_once_make_one_entry():
    team = TeamFactory()
    first, second = (UserFactory(roles=[Role.CIT_MEMBER], teams=[team]) for _ in range(2))
    referral = ReferralFactory(patient=PatientFactory(), service=CommunityTeamsServiceFactory(), team=team)
    start = threading.Barrier(2)
    outcomes = []

    def accept(member):
        try:
            start.wait()
            services.accept_onto_caseload(
                referral=Referral.objects.get(pk=referral.pk), key_worker=member, user=member
            )
            outcomes.append("accepted")
        except services.CaseloadRefused as refused:
            outcomes.append(str(refused))
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(member,)) for member in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert outcomes.count("accepted") == 1
    (refusal,) = [outcome for outcome in outcomes if outcome != "accepted"]
    assert refusal.startswith("This referral was already accepted by")
    assert CaseloadEntry.objects.count() == 1
    assert ReferralEvent.objects.filter(referral=referral, kind=ReferralEvent.Kind.ACCEPTED).count() == 1
