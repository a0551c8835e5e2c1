"""Dispatch that knows the clock (issue 22, point 3): the responders on shift ranked by
whether they can reach the person before the response is due, and a dispatch that does
not stack a visit on a responder unseen."""

from __future__ import annotations

import threading
import time

import pytest
import time_machine
from django.db import connection, transaction
from django.urls import reverse

from core.models import AuditAction, AuditEvent, Discipline, Role
from recovery_at_home import reach, rota, services
from recovery_at_home.models import Dispatch, Episode, Outcome, Skill, TravelTime, TriageCategory
from referrals.models import Reason
from tests.factories import PatientFactory, ReferralFactory, UserFactory
from tests.recovery_at_home.test_alerts import TEN_AM, _at


@pytest.fixture
def town(world):
    """The travel matrix between the world's two neighbourhoods and the base (A is the
    neighbourhood of patient A's practice, B of patient B's)."""
    a, b = world.practice_a.neighbourhood, world.practice_b.neighbourhood
    for origin, destination, minutes in [
        (None, a, 20),
        (None, b, 25),
        (a, b, 15),
        (b, a, 15),
        (a, a, 10),
        (b, b, 10),
    ]:
        TravelTime.objects.create(origin=origin, destination=destination, minutes=minutes)
    return a, b


def _responder(world, name: str, *, skills=(), ends=20):
    person = UserFactory(
        roles=[Role.RAH_RESPONDER], first_name=name, last_name="Rota", discipline=Discipline.NURSE
    )
    rota.add_shift(
        staff=person,
        starts_at=_at(8),
        ends_at=_at(ends),
        user=world.users["rah_coordinator"],
        skills=list(skills),
    )
    return person


def _rah_referral(world, patient, *, reason=Reason.FALL, at=None):
    """A referral received at `at` (10:00 unless given), triaged urgent: due two hours on."""
    with time_machine.travel(at or TEN_AM, tick=False):
        referral = ReferralFactory(service=world.rah, patient=patient, reason=reason)
        services.triage_referral(
            referral=referral,
            category=TriageCategory.objects.get(code="urgent"),
            user=world.users["rah_coordinator"],
        )
    return referral


@pytest.fixture
def four_on_shift(world, town):
    """At 10:00, a fall in neighbourhood B (due at noon) and four responders on shift:
    - Nat, nearest (finished a visit in B at 09:00, still there) but no falls assessment;
    - Fay, at the base with falls assessment;
    - Bo, with falls assessment, on the way since 09:50 to a visit in A;
    - Lou, with falls assessment, at the base, but her shift ends at 10:15.
    And Otto, with every skill, not on shift."""
    coordinator = world.users["rah_coordinator"]
    nat = _responder(world, "Nat")
    fay = _responder(world, "Fay", skills=[Skill.FALLS_ASSESSMENT])
    bo = _responder(world, "Bo", skills=[Skill.FALLS_ASSESSMENT, Skill.CATHETER_CARE])
    lou = UserFactory(roles=[Role.RAH_RESPONDER], first_name="Lou", last_name="Rota")
    rota.add_shift(
        staff=lou, starts_at=_at(6), ends_at=_at(10, 15), user=coordinator, skills=[Skill.FALLS_ASSESSMENT]
    )
    UserFactory(roles=[Role.RAH_RESPONDER], first_name="Otto", last_name="Rota")

    earlier = _rah_referral(world, PatientFactory(practice=world.practice_b), at=_at(8, 30))
    with time_machine.travel(_at(8, 40), tick=False):
        visit = services.dispatch_responder(referral=earlier, responder=nat, user=coordinator)
    with time_machine.travel(_at(9), tick=False):
        services.record_responder_arrival(dispatch=visit, user=nat)

    in_a = _rah_referral(world, PatientFactory(practice=world.practice_a), at=_at(9, 40))
    with time_machine.travel(_at(9, 50), tick=False):
        visit = services.dispatch_responder(referral=in_a, responder=bo, user=coordinator)
        services.record_on_the_way(dispatch=visit, user=bo)

    fall = _rah_referral(world, world.patient_b)
    return fall, {"nat": nat, "fay": fay, "bo": bo, "lou": lou}


def _ranked(referral):
    """As the referral page asks, its referral and person already read."""
    episode = Episode.objects.select_related("referral__patient__practice__neighbourhood").get(
        referral=referral
    )
    with time_machine.travel(TEN_AM, tick=False):
        return reach.suggest_responders(episode=episode)


def test_the_nearest_responder_without_the_skill_is_ranked_below_those_who_have_it(four_on_shift):
    fall, people = four_on_shift
    ranked = _ranked(fall)
    assert [s.responder.first_name for s in ranked] == ["Fay", "Bo", "Nat", "Lou"]  # Otto: off shift

    fay, bo, nat, lou = ranked
    assert fay.can_go
    assert fay.why == [
        "Arrives about 10:25: 25 min from the Leechmere base",
        "95 min before it is due",
        "No visit in hand",
        "Has falls assessment",
    ]
    # Bo reaches A at 10:10, is there an hour, then 15 minutes to B: still in time.
    assert bo.can_go and bo.arrives_at == _at(11, 25)
    assert bo.why[0] == "Arrives about 11:25: 15 min from " + bo.setting_out_from.name
    assert bo.why[2] == f"1 visit in hand ({bo.visits_in_hand[0]}), free about 11:10"
    # Nat is nearest and earliest but cannot do a falls assessment: the suggestion says so.
    assert nat.arrives_at == _at(10, 10) and nat.in_time and not nat.can_go
    assert nat.why[-1] == "No falls assessment on this shift"
    # Lou has the skill, but her shift is over before she could get there.
    assert not lou.can_go and lou.why[-1] == "Shift ends 10:15, before they could arrive"


def test_a_responder_already_sent_to_the_person_is_not_suggested_again(world, four_on_shift):
    fall, people = four_on_shift
    with time_machine.travel(TEN_AM, tick=False):
        services.dispatch_responder(
            referral=fall, responder=people["fay"], user=world.users["rah_coordinator"]
        )
    assert "Fay" not in [s.responder.first_name for s in _ranked(fall)]


def test_a_journey_the_matrix_lacks_is_assumed_and_said(world, four_on_shift):
    fall, _ = four_on_shift
    TravelTime.objects.filter(origin__isnull=True).delete()
    fay = next(s for s in _ranked(fall) if s.responder.first_name == "Fay")
    assert fay.arrives_at == _at(10, 30)
    assert "no travel time recorded for this journey: 30 min assumed" in fay.why[0]


def test_the_referral_page_shows_who_can_go_and_dispatches_from_it(world, four_on_shift, client_for):
    fall, people = four_on_shift
    with time_machine.travel(TEN_AM, tick=False):
        client = client_for(world.users["rah_coordinator"])
        page = client.get(reverse("referral_detail", args=[fall.reference]))
        html = page.content.decode()
        assert html.index('data-responder="' + people["fay"].username) < html.index(
            'data-responder="' + people["nat"].username
        )
        assert "No falls assessment on this shift" in html
        # Bo has one visit in hand; his button says the page showed it, so he is sent after it.
        response = client.post(
            reverse("referral_clock_action", args=[fall.reference, "dispatch"]),
            {"responder": people["bo"].pk, "visits_in_hand": 1},
        )
    assert response.status_code == 302
    assert Dispatch.objects.filter(episode=fall.episode, responder=people["bo"]).exists()


def test_the_page_offers_no_suggestion_to_a_responder(world, four_on_shift, client_for):
    fall, _ = four_on_shift
    with time_machine.travel(TEN_AM, tick=False):
        client = client_for(world.users["rah_responder"])
        page = client.get(reverse("referral_detail", args=[fall.reference]))
    assert page.status_code == 200
    assert "Who can go" not in page.content.decode()


def test_a_responder_with_a_visit_unseen_is_said_back_beside_the_field(world, four_on_shift, client_for):
    """Through the bare list (which shows no visits), Bo's visit in hand is said back."""
    fall, people = four_on_shift
    with time_machine.travel(TEN_AM, tick=False):
        client = client_for(world.users["rah_coordinator"])
        response = client.post(
            reverse("referral_clock_action", args=[fall.reference, "dispatch"]),
            {"responder": people["bo"].pk},
        )
    assert response.status_code == 400
    errors = response.context["dispatch_form"].errors["responder"]
    assert "already has 1 visit in hand" in errors[0] and "Who can go" in errors[0]
    assert not Dispatch.objects.filter(episode=fall.episode, responder=people["bo"]).exists()


def test_the_api_refuses_an_unseen_visit_naming_the_field(world, four_on_shift, api):
    fall, people = four_on_shift
    with time_machine.travel(TEN_AM, tick=False):
        response = api("rah_coordinator").post(
            f"/api/rah/referrals/{fall.reference}/dispatch/",
            {"responder": people["bo"].pk},
            format="json",
        )
    assert response.status_code == 400
    assert "responder" in response.json()


@pytest.mark.django_db(transaction=True)
def test_two_coordinators_sending_the_same_responder_at_once_one_is_told(world, town):
    """Both saw Fay with nothing in hand and each sends her to a different person. The
    second's dispatch waits on Fay's row while the first's is saved, then counts again
    and is told: nothing of theirs is saved. (Without the row lock the second would not
    wait, and this test says so.)"""
    coordinator = world.users["rah_coordinator"]
    second = UserFactory(roles=[Role.RAH_COORDINATOR])
    fay = _responder(world, "Fay", skills=[Skill.FALLS_ASSESSMENT])
    # Not triaged (a transactional test has no triage categories): due within two hours.
    first_fall = ReferralFactory(service=world.rah, patient=world.patient_b)
    second_fall = ReferralFactory(service=world.rah, patient=world.patient_a)
    outcome, backend = [], []

    def second_coordinator_sends():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backend.append(cursor.fetchone()[0])
            services.act_on_clock(
                referral=second_fall, user=second, action="dispatch", responder=fay, visits_in_hand=0
            )
            outcome.append("sent")
        except services.ClockRefused as refused:
            outcome.append(str(refused))
        finally:
            connection.close()

    with transaction.atomic():
        services.act_on_clock(
            referral=first_fall, user=coordinator, action="dispatch", responder=fay, visits_in_hand=0
        )
        racing = threading.Thread(target=second_coordinator_sends)
        racing.start()
        deadline = time.monotonic() + 10
        while not (backend and _waits_for_a_lock(backend[0])):
            assert time.monotonic() < deadline, "the second dispatch did not wait for Fay's row"
            time.sleep(0.05)
    racing.join(timeout=30)
    assert len(outcome) == 1 and "already has 1 visit in hand" in outcome[0]
    assert list(Dispatch.objects.filter(responder=fay).values_list("episode__referral", flat=True)) == [
        first_fall.pk
    ]


def _waits_for_a_lock(pid: int) -> bool:
    """Whether that database session (the second coordinator's) is waiting for a lock."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND pid = %s", [pid])
        return cursor.fetchone()[0] > 0


def test_the_suggestion_reads_in_constant_queries(world, four_on_shift, django_assert_max_num_queries):
    fall, _ = four_on_shift
    for n in range(6):
        _responder(world, f"Extra{n}", skills=[Skill.END_OF_LIFE])
    episode = Episode.objects.select_related("referral__patient__practice__neighbourhood").get(referral=fall)
    with time_machine.travel(TEN_AM, tick=False), django_assert_max_num_queries(4):
        ranked = reach.suggest_responders(episode=episode)
    assert len(ranked) == 10


def test_each_reason_calls_for_a_skill_the_rota_knows():
    assert set(reach.REASON_SKILLS.values()) <= set(Skill.values)
    assert reach.skill_for(Reason.CATHETER) == Skill.CATHETER_CARE
    assert reach.skill_for(Reason.DELIRIUM) is None


def test_a_visit_overtaken_by_the_outcome_is_no_longer_in_hand(world, town, client_for):
    """Fay was sent, but Nat got there first and the outcome was recorded: Fay's visit is
    over, on her day, in the suggestion and in the count a dispatch checks."""
    coordinator = world.users["rah_coordinator"]
    fay, nat = _responder(world, "Fay"), _responder(world, "Nat")
    first = _rah_referral(world, world.patient_a, at=_at(9))
    with time_machine.travel(_at(9, 10), tick=False):
        services.dispatch_responder(referral=first, responder=fay, user=coordinator)
        visit = services.dispatch_responder(referral=first, responder=nat, user=coordinator)
    with time_machine.travel(_at(9, 40), tick=False):
        services.record_responder_arrival(dispatch=visit, user=nat)
        services.record_outcome(referral=first, user=coordinator, outcome=Outcome.HOSPITAL)
    assert reach.visits_in_hand(responder=fay) == []
    fall = _rah_referral(world, world.patient_b)
    fay_suggested = next(s for s in _ranked(fall) if s.responder == fay)
    assert fay_suggested.visits_in_hand == []
    with time_machine.travel(TEN_AM, tick=False):
        services.dispatch_responder(referral=fall, responder=fay, user=coordinator, visits_in_hand=0)
        day = client_for(fay).get(reverse("recovery_at_home:my_visits")).context["day"]
    assert [item.dispatch.episode.referral_id for item in day] == [fall.pk]


def test_the_api_ranks_as_the_page_does_and_audits_the_look(world, four_on_shift, api):
    fall, _ = four_on_shift
    with time_machine.travel(TEN_AM, tick=False):
        answer = api("rah_coordinator").get(f"/api/rah/referrals/{fall.reference}/who-can-go/")
        not_theirs = api("rah_responder").get(f"/api/rah/referrals/{fall.reference}/who-can-go/")
    assert answer.status_code == 200 and not_theirs.status_code == 404
    ranked = answer.json()
    assert [s["responder"]["name"].split()[0] for s in ranked] == ["Fay", "Bo", "Nat", "Lou"]
    assert ranked[1]["visits_in_hand"] and ranked[2]["why"][-1] == "No falls assessment on this shift"
    assert AuditEvent.objects.filter(
        user=world.users["rah_coordinator"], action=AuditAction.VIEW, detail="API who can go"
    ).exists()
