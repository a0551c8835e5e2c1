"""The team's caseload: who sees it, filtering, bulk reassignment, and its cost in queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from core.models import AuditAction, AuditEvent, Role
from teams import services
from teams.models import CaseloadEntry, CaseloadEvent
from tests.factories import UserFactory, bulk_caseload, on_caseload


@pytest.fixture
def member_b(world):
    return UserFactory(username="cit_member_b", roles=[Role.CIT_MEMBER], teams=[world.team_b])


@pytest.fixture
def entry_a(world):
    return on_caseload(team=world.team_a, key_worker=world.users["cit_member_a"], referral=world.referral_a)


def test_a_member_of_another_team_gets_404_for_the_caseload_its_people_and_its_api(
    world, client_for, member_b, entry_a
):
    client = client_for(member_b)
    for url in [
        reverse("teams:dashboard", args=[world.team_a.pk]),
        reverse("teams:caseload", args=[world.team_a.pk]),
        reverse("teams:entry", args=[entry_a.pk]),
        reverse("patient_detail", args=[world.patient_a.pk]),
        reverse("api:team-caseload", args=[world.team_a.pk]),
    ]:
        assert client.get(url).status_code == 404, url
    refused = AuditEvent.objects.filter(user=member_b, action=AuditAction.REFUSED, patient=world.patient_a)
    assert refused.count() == 2  # the entry and the patient page


def test_a_person_on_both_teams_caseloads_is_visible_to_both(world, client_for, member_b, entry_a):
    on_caseload(team=world.team_b, key_worker=member_b, patient=world.patient_a)
    page = client_for(member_b).get(reverse("patient_detail", args=[world.patient_a.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert str(world.team_a) in html and str(world.team_b) in html  # who else is looking after them
    assert entry_a.get_absolute_url() not in html  # but team A's entry page is team A's


def test_the_caseload_shows_each_person_with_key_worker_last_contact_and_next_review(
    world, client_for, entry_a
):
    member = world.users["cit_member_a"]
    services.record_contact(
        entry=entry_a,
        user=member,
        staff=member,
        kind="visit",
        at=timezone.now() - dt.timedelta(days=2),
        duration_minutes=45,
    )
    page = client_for(member).get(reverse("teams:caseload", args=[world.team_a.pk]))
    html = page.content.decode()
    assert escape(world.patient_a.family_name.upper()) in html
    assert escape(member.get_full_name()) in html
    assert timezone.localdate(timezone.now() - dt.timedelta(days=2)).strftime("%-d %b %Y") in html
    assert entry_a.review_due.strftime("%-d %b %Y") in html
    assert "since today" in html  # days on the caseload
    listed = AuditEvent.objects.filter(user=member, action=AuditAction.LIST, patient=world.patient_a)
    assert listed.count() == 1


def test_filters_narrow_the_caseload(world, client_for):
    member = world.users["cit_member_a"]
    matron = UserFactory(roles=[Role.CIT_MEMBER], teams=[world.team_a], discipline="community_matron")
    entries = bulk_caseload(
        team=world.team_a, key_workers=[member, matron], count=30, practice=world.practice_a
    )
    client = client_for(member)
    url = reverse("teams:caseload", args=[world.team_a.pk])

    def count(**query):
        return client.get(url, query).context["page"].paginator.count

    today = timezone.localdate()
    assert count() == 30
    assert count(key_worker=matron.pk) == 15
    assert count(discipline="community_matron") == 15
    assert count(review="overdue") == sum(1 for e in entries if e.review_due < today)
    assert count(review="due") == sum(1 for e in entries if e.review_due <= today + dt.timedelta(days=14))
    assert count(flagged="on") == len(entries[::7])
    by_review = client.get(url, {"sort": "review_due"}).context["page"].object_list
    assert [e.review_due for e in by_review] == sorted(e.review_due for e in by_review)


def test_my_caseload_lists_only_the_members_own_people(world, client_for, entry_a):
    colleague = UserFactory(roles=[Role.CIT_MEMBER], teams=[world.team_a])
    theirs = on_caseload(team=world.team_a, key_worker=colleague)
    page = client_for(world.users["cit_member_a"]).get(reverse("teams:my_caseload"))
    assert list(page.context["page"].object_list) == [entry_a]
    assert escape(theirs.patient.family_name.upper()) not in page.content.decode()


def test_reassigning_200_people_moves_every_one_with_one_timeline_event_each(world, client_for):
    leaving = UserFactory(roles=[Role.CIT_MEMBER], teams=[world.team_a])
    member = world.users["cit_member_a"]
    entries = bulk_caseload(team=world.team_a, key_workers=[leaving], count=200, practice=world.practice_a)
    response = client_for(member).post(
        reverse("teams:reassign", args=[world.team_a.pk]),
        {"entries": [e.pk for e in entries], "key_worker": member.pk},
    )
    assert response.status_code == 302
    assert CaseloadEntry.objects.filter(key_worker=member).count() == 200
    events = CaseloadEvent.objects.filter(kind=CaseloadEvent.Kind.KEY_WORKER)
    assert events.count() == 200 and events.values("entry").distinct().count() == 200
    assert events.first().note == f"From {leaving} to {member}."
    assert AuditEvent.objects.filter(user=member, action=AuditAction.UPDATE).count() == 200


def test_a_reassignment_that_cannot_all_happen_changes_nothing(world, client_for):
    leaving = UserFactory(roles=[Role.CIT_MEMBER], teams=[world.team_a])
    member = world.users["cit_member_a"]
    entries = bulk_caseload(team=world.team_a, key_workers=[leaving], count=200, practice=world.practice_a)
    services.discharge_from_caseload(entry=entries[-1], user=member, reason="goals_met")  # a moment earlier

    client = client_for(member)
    response = client.post(
        reverse("teams:reassign", args=[world.team_a.pk]),
        {"entries": [e.pk for e in entries], "key_worker": member.pk},
        follow=True,
    )
    assert "nothing was reassigned" in response.content.decode()
    assert not CaseloadEntry.objects.filter(key_worker=member).exists()
    assert not CaseloadEvent.objects.filter(kind=CaseloadEvent.Kind.KEY_WORKER).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.UPDATE, detail__startswith="key worker").exists()


def test_reassigning_to_someone_outside_the_team_is_refused(world, member_b):
    entry = on_caseload(team=world.team_a, key_worker=world.users["cit_member_a"])
    with pytest.raises(services.CaseloadRefused, match="is not a member of"):
        services.reassign_caseload(
            team=world.team_a, entry_ids=[entry.pk], key_worker=member_b, user=world.users["cit_member_a"]
        )


@pytest.mark.parametrize("size", [10, 2000])
def test_caseload_pages_and_api_run_a_constant_number_of_queries(
    world, client_for, django_assert_max_num_queries, size
):
    member = world.users["cit_member_a"]
    colleague = UserFactory(roles=[Role.CIT_MEMBER], teams=[world.team_a], discipline="physiotherapist")
    bulk_caseload(team=world.team_a, key_workers=[member, colleague], count=size, practice=world.practice_a)
    client = client_for(member)
    team = world.team_a.pk
    # session, user, role grants, the team, count, savepoint, the page (last contact and
    # MDT flag are subqueries), one audit insert, release, the filters' key workers and
    # practices, the reassign form's key workers, savepoint, session renewal, release
    with django_assert_max_num_queries(15):
        assert client.get(reverse("teams:caseload", args=[team]), {"sort": "last_contact"}).status_code == 200
    # session, user, role grants, the team, totals, per key worker, new referrals, members,
    # savepoint, session renewal, release
    with django_assert_max_num_queries(11):
        page = client.get(reverse("teams:dashboard", args=[team]))
    assert page.context["dashboard"].open_entries == size
    # session, user, role grants, count, savepoint, page, audit insert, release, savepoint,
    # session renewal, release
    with django_assert_max_num_queries(11):
        assert client.get(reverse("teams:my_caseload")).status_code == 200
    # as the caseload page, without the forms' choices
    with django_assert_max_num_queries(12):
        assert client.get(reverse("api:team-caseload", args=[team])).status_code == 200
