from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
import time_machine
from django.db import connection, transaction
from django.urls import reverse
from django.utils.html import escape

from core.models import AuditAction, AuditEvent
from referrals import services
from referrals.models import Referral, Status
from tests.factories import ReferralFactory


def test_references_read_atb_year_and_six_digits_in_order(world):
    first, second = ReferralFactory(), ReferralFactory()
    assert re.fullmatch(r"ATB-\d{4}-\d{6}", first.reference)
    assert int(second.reference[-6:]) == int(first.reference[-6:]) + 1


def test_the_reference_year_is_the_year_in_london(db):
    # 23:30 UTC on 31 December is still 31 December in London (GMT); numbering starts again in January.
    assert (
        services.allocate_reference(at=dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)) == "ATB-2026-000001"
    )
    assert services.allocate_reference(at=dt.datetime(2027, 1, 1, 0, 30, tzinfo=dt.UTC)) == "ATB-2027-000001"


@pytest.mark.django_db(transaction=True)
def test_references_are_unique_when_allocated_at_the_same_moment():
    references: list[str] = []
    start = threading.Barrier(4)

    def allocate():
        try:
            start.wait()
            for _ in range(5):
                with transaction.atomic():
                    references.append(services.allocate_reference(at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC)))
        finally:
            connection.close()

    threads = [threading.Thread(target=allocate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(references) == [f"ATB-2026-{n:06d}" for n in range(1, 21)]


def test_a_gp_of_practice_a_gets_404_for_practice_bs_referral(world, client_for):
    response = client_for(world.users["gp_a"]).get(world.referral_b.get_absolute_url())
    assert response.status_code == 404
    refused = AuditEvent.objects.get(action=AuditAction.REFUSED)
    assert refused.patient == world.patient_b


def test_my_practices_referrals_include_colleagues_but_not_other_practices(world, client_for):
    from tests.factories import UserFactory

    colleague = UserFactory(roles=["referrer"], practices=[world.practice_a])
    page = client_for(colleague).get(reverse("referrals:practice")).content.decode()
    assert world.referral_a.reference in page and world.referral_b.reference not in page
    mine = client_for(colleague).get(reverse("referrals:home")).content.decode()
    assert world.referral_a.reference not in mine


def test_lists_filter_by_status_and_received_date(world, client_for):
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False):
        old = ReferralFactory(
            patient=world.patient_a, service=world.cit, team=world.team_a, referred_by=world.users["gp_a"]
        )
    services.accept_referral(referral=world.referral_a, user=world.users["cit_member_a"])
    client = client_for(world.users["gp_a"])

    accepted = client.get(reverse("referrals:home"), {"status": Status.ACCEPTED}).content.decode()
    assert world.referral_a.reference in accepted and old.reference not in accepted

    march = client.get(
        reverse("referrals:home"), {"received_from": "2026-03-01", "received_to": "2026-03-31"}
    )
    assert old.reference in march.content.decode()
    assert world.referral_a.reference not in march.content.decode()


def _many_referrals(world, count):
    for _ in range(count):
        ReferralFactory(
            service=world.cit,
            team=world.team_a,
            referred_by=world.users["gp_a"],
            referring_practice=world.practice_a,
            patient__practice=world.practice_a,
        )


@pytest.mark.parametrize("count", [5, 500])
@pytest.mark.parametrize(
    ("user", "url_name"),
    [("gp_a", "referrals:home"), ("gp_a", "referrals:practice"), ("cit_member_a", "referrals:inbox")],
)
def test_referral_lists_run_a_constant_number_of_queries(
    world, client_for, django_assert_max_num_queries, count, user, url_name
):
    _many_referrals(world, count)
    client = client_for(world.users[user])
    # session, user, role grants, [team, service for the inbox], count, page with patients and
    # last event, savepoint, audit insert, release, savepoint, session renewal, release
    with django_assert_max_num_queries(14):
        response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == min(count + 1, 25)


def test_a_list_records_each_patient_it_showed(world, client_for):
    client_for(world.users["cit_member_a"]).get(reverse("referrals:inbox"))
    listed = AuditEvent.objects.filter(action=AuditAction.LIST)
    assert list(listed.values_list("patient", flat=True)) == [world.patient_a.pk]


def test_the_inbox_shows_only_the_members_team(world, client_for):
    page = client_for(world.users["cit_member_a"]).get(reverse("referrals:inbox")).content.decode()
    assert world.referral_a.reference in page and world.referral_b.reference not in page
    rah_page = client_for(world.users["rah_coordinator"]).get(reverse("referrals:inbox")).content.decode()
    assert world.referral_b.reference in rah_page and world.referral_a.reference not in rah_page


def test_recovery_at_home_staff_may_open_the_people_referred_to_them(world, client_for):
    client = client_for(world.users["rah_responder"])
    assert client.get(reverse("patient_detail", args=[world.patient_b.pk])).status_code == 200
    assert client.get(reverse("patient_detail", args=[world.patient_a.pk])).status_code == 404
    assert Referral.objects.filter(patient=world.patient_b, service=world.rah).exists()


def test_the_inbox_puts_new_referrals_first_then_the_newest(world, client_for):
    member = world.users["cit_member_a"]
    newer = ReferralFactory(service=world.cit, team=world.team_a, patient__practice=world.practice_a)
    services.accept_referral(referral=newer, user=member)
    newest_new = ReferralFactory(service=world.cit, team=world.team_a, patient__practice=world.practice_a)
    page = client_for(member).get(reverse("referrals:inbox")).context["page"]
    assert [r.reference for r in page.object_list] == [
        newest_new.reference,
        world.referral_a.reference,
        newer.reference,
    ]


def test_the_patient_page_lists_the_referrals_the_user_may_see(world, client_for):
    page = client_for(world.users["gp_a"]).get(reverse("patient_detail", args=[world.patient_a.pk]))
    head, main = page.content.decode().split("<main", 1)
    assert world.referral_a.reference in main
    assert world.referral_a.reference not in head
    assert f"<title>{escape(world.patient_a.full_name)} · ATB Portal</title>" in head
