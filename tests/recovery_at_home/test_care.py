"""The care that follows (issue 22, point 4): "remained at home" opens short-term care with
planned visits, each done, missed or moved; a missed visit alerts the coordinators once;
the discharge closes the referral, saying how long the care lasted."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from core.email_delivery import send_unsent_emails
from core.models import AuditAction, AuditEvent, Role
from recovery_at_home import alerts, care, selectors, services
from recovery_at_home.models import Alert, CareDischarge, Episode, Outcome, PlannedVisit
from referrals.models import Referral, ReferralEvent, Status
from referrals.services import TransitionRefused, act_on_referral
from tests.factories import PatientFactory, ReferralFactory, UserFactory
from tests.recovery_at_home.test_alerts import TEN_AM, _at


@pytest.fixture
def in_care(world):
    """Patient B reached at 10:00 tomorrow and left at home with short-term care for a week."""
    referral, coordinator = world.referral_b, world.users["rah_coordinator"]
    with time_machine.travel(TEN_AM, tick=False):
        services.record_arrival(referral=referral, user=world.users["rah_responder"])
        services.record_outcome(
            referral=referral,
            user=coordinator,
            outcome=Outcome.REMAINED_AT_HOME,
            planned_end_date=TEN_AM.date() + dt.timedelta(days=7),
        )
    return Referral.objects.get(pk=referral.pk)


def _plan(world, referral, start, end, *, responder=None, tasks="Help with washing and dressing"):
    with time_machine.travel(_at(10, 30), tick=False):
        return services.act_on_clock(
            referral=referral,
            user=world.users["rah_coordinator"],
            action="plan-visit",
            responder=responder or world.users["rah_responder"],
            window_start=start,
            window_end=end,
            tasks=tasks,
        )


def test_remaining_at_home_opens_care_and_keeps_the_referral_open(world, in_care):
    assert in_care.status == Status.IN_PROGRESS
    episode = Episode.objects.get(referral=in_care)
    assert episode.care.is_open and episode.care.planned_end_date == TEN_AM.date() + dt.timedelta(days=7)
    assert not episode.queue_open  # in care, no longer waiting for a response
    assert in_care.events.filter(kind=ReferralEvent.Kind.OUTCOME, note__contains="short-term care").exists()


def test_a_visit_planned_done_and_one_moved_show_on_the_referral(world, in_care, client_for):
    morning = _plan(world, in_care, _at(14), _at(15))
    evening = _plan(world, in_care, _at(18), _at(19), tasks="Medication prompt")
    responder = world.users["rah_responder"]
    with time_machine.travel(_at(14, 40), tick=False):
        care.record_visit(referral=in_care, user=responder, visit=morning, outcome="done")
        moved = care.record_visit(
            referral=in_care,
            user=responder,
            visit=evening,
            outcome="rescheduled",
            note="Her daughter is there at six",
            new_start=_at(19, 30),
            new_end=_at(20, 30),
        ).rescheduled_as
        client = client_for(world.users["rah_coordinator"])
        html = client.get(in_care.get_absolute_url()).content.decode()
    assert moved.window_start == _at(19, 30) and moved.state == PlannedVisit.State.PLANNED
    assert moved.tasks == "Medication prompt"
    assert "Short-term care" in html and "Her daughter is there at six" in html
    assert html.count("Medication prompt") >= 2  # the one moved and the one in its place


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"window_start": "end", "window_end": "start"}, "window_end", "end after it starts"),
        ({"window_end": "far"}, "window_end", "at most 12 hours"),
        ({"tasks": "   "}, "tasks", "what the visit is for"),
    ],
)
def test_a_visit_that_cannot_be_is_refused_naming_its_field(world, in_care, fields, field, message):
    times = {"start": _at(14), "end": _at(15), "far": _at(14) + dt.timedelta(hours=13)}
    given = {"window_start": _at(14), "window_end": _at(15), "tasks": "Wash"}
    given.update({k: times.get(v, v) for k, v in fields.items()})
    with pytest.raises(services.ClockRefused, match=message) as refused:
        _plan(world, in_care, given["window_start"], given["window_end"], tasks=given["tasks"])
    assert refused.value.field == field
    assert not PlannedVisit.objects.exists()


def test_a_missed_visit_needs_its_reason_and_is_recorded_once(world, in_care):
    visit = _plan(world, in_care, _at(14), _at(15))
    responder = world.users["rah_responder"]
    with pytest.raises(services.ClockRefused, match="why the visit was missed"):
        care.record_visit(referral=in_care, user=responder, visit=visit, outcome="missed")
    care.record_visit(
        referral=in_care, user=responder, visit=visit, outcome="missed", note="No answer at the door"
    )
    with pytest.raises(services.ClockRefused, match="already recorded: missed"):
        care.record_visit(referral=in_care, user=world.users["rah_coordinator"], visit=visit, outcome="done")


def test_another_responder_may_not_record_someone_elses_visit(world, in_care):
    visit = _plan(world, in_care, _at(14), _at(15))
    other = UserFactory(roles=[Role.RAH_RESPONDER])
    with pytest.raises(services.NotYoursToDo):
        care.record_visit(referral=in_care, user=other, visit=visit, outcome="done")


def test_an_unrecorded_visit_is_alerted_once_across_sweeps(world, in_care):
    """Planned 14:00 to 15:00 and never recorded: one alert at 15:30, to the coordinator,
    however many sweeps run; none for the visit recorded as done."""
    world.users["rah_coordinator"].email = "coordinator@example.nhs.uk"
    world.users["rah_coordinator"].save()
    forgotten = _plan(world, in_care, _at(14), _at(15))
    done = _plan(world, in_care, _at(11), _at(12))
    with time_machine.travel(_at(12, 10), tick=False):
        care.record_visit(referral=in_care, user=world.users["rah_responder"], visit=done, outcome="done")
    for minute in (_at(15, 29), _at(15, 31), _at(15, 32), _at(16)):
        with time_machine.travel(minute, tick=False):
            alerts.sweep(now=minute)
    missed = Alert.objects.filter(kind=Alert.Kind.VISIT_MISSED)
    assert [(a.for_due_at, a.raised_at) for a in missed] == [(forgotten.window_end, _at(15, 31))]
    send_unsent_emails()
    emails = [e for e in mail.outbox if "care visit" in e.subject]
    ended = timezone.localtime(forgotten.window_end)
    assert [e.subject for e in emails] == [
        f"Recovery at Home {in_care.reference} care visit missed "
        f"(its window ended {ended.day} {ended:%b %Y %H:%M})"
    ]
    assert emails[0].body.startswith(f"Referral {in_care.reference} has a care visit missed")
    # On the queue's banner until acknowledged, though the person's clock stopped long ago.
    waiting, count = alerts.alerts_waiting()
    assert count == 1 and waiting[0].kind == "Care visit missed"


def test_a_visit_recorded_missed_is_alerted_at_once(world, in_care):
    visit = _plan(world, in_care, _at(14), _at(15))
    with time_machine.travel(_at(14, 5), tick=False):
        care.record_visit(
            referral=in_care,
            user=world.users["rah_responder"],
            visit=visit,
            outcome="missed",
            note="Refused entry",
        )
        alerts.sweep(now=_at(14, 5))
    assert Alert.objects.filter(kind=Alert.Kind.VISIT_MISSED).count() == 1


def test_discharge_to_the_team_closes_the_referral_and_starts_the_teams(world, in_care):
    _plan(world, in_care, _at(14), _at(15))
    later = _plan(world, in_care, _at(14) + dt.timedelta(days=2), _at(15) + dt.timedelta(days=2))
    with time_machine.travel(_at(16) + dt.timedelta(days=5), tick=False):
        cared = services.act_on_clock(
            referral=in_care,
            user=world.users["rah_coordinator"],
            action="discharge-care",
            discharged_to=CareDischarge.CIT,
            note="Needs ongoing support with medication",
        )
    referral = Referral.objects.get(pk=in_care.pk)
    assert referral.status == Status.CLOSED
    assert referral.outcome == (
        "Remained at home with short-term care (6 days), then to the community integrated team"
    )
    team_referral = cared.handover_referral
    assert team_referral.service.code == "cit" and team_referral.team == world.team_b
    assert "Needs ongoing support with medication" in team_referral.clinical_summary
    later.refresh_from_db()
    assert later.state == PlannedVisit.State.CANCELLED
    # Discharged: no more visits to plan or alerts to raise.
    with pytest.raises(services.ClockRefused, match="short-term care ended"):
        _plan(world, referral, _at(14) + dt.timedelta(days=6), _at(15) + dt.timedelta(days=6))


def test_a_responder_may_not_discharge(world, in_care):
    with pytest.raises(services.NotYoursToDo):
        services.act_on_clock(
            referral=in_care,
            user=world.users["rah_responder"],
            action="discharge-care",
            discharged_to=CareDischarge.NO_FURTHER_SERVICE,
        )


def test_my_visits_lists_first_responses_and_care_visits_in_time_order(world, in_care, client_for):
    responder = world.users["rah_responder"]
    _plan(world, in_care, _at(16), _at(17), tasks="Evening check")
    _plan(world, in_care, _at(11), _at(12), tasks="Morning wash")
    _plan(world, in_care, _at(9) + dt.timedelta(days=1), _at(10) + dt.timedelta(days=1), tasks="Tomorrow")
    with time_machine.travel(_at(10, 45), tick=False):
        fall = ReferralFactory(service=world.rah, patient=PatientFactory(practice=world.practice_b))
        services.dispatch_responder(referral=fall, responder=responder, user=world.users["rah_coordinator"])
        day = selectors.responder_day(responder=responder, now=_at(10, 45))
        client = client_for(responder)
        page = client.get(reverse("recovery_at_home:my_visits"))
    kinds = [
        ("care", item.planned.tasks) if item.planned else ("first", item.dispatch.episode.referral_id)
        for item in day
    ]
    assert kinds == [
        ("care", "Morning wash"),
        ("first", fall.pk),
        ("care", "Evening check"),
    ]  # not tomorrow's
    html = page.content.decode()
    assert (
        html.index("Morning wash")
        < html.index(fall.patient.family_name.upper())
        < html.index("Evening check")
    )


def test_a_care_visit_is_recorded_from_my_visits(world, in_care, client_for):
    visit = _plan(world, in_care, _at(11), _at(12), tasks="Morning wash")
    with time_machine.travel(_at(11, 30), tick=False):
        client = client_for(world.users["rah_responder"])
        response = client.post(
            reverse("recovery_at_home:record_planned_visit", args=[visit.pk]), {"outcome": "done"}
        )
        assert response.status_code == 302
        again = client.post(
            reverse("recovery_at_home:record_planned_visit", args=[visit.pk]),
            {"outcome": "done"},
            follow=True,
        )
    assert "already recorded: done" in again.content.decode()  # a second tap is told, not lost
    visit.refresh_from_db()
    assert visit.state == PlannedVisit.State.DONE and visit.recorded_by == world.users["rah_responder"]


def test_the_referral_page_refuses_a_bad_visit_beside_its_field(world, in_care, client_for):
    with time_machine.travel(_at(10, 30), tick=False):
        client = client_for(world.users["rah_coordinator"])
        response = client.post(
            reverse("referral_clock_action", args=[in_care.reference, "plan-visit"]),
            {
                "responder": world.users["rah_responder"].pk,
                "window_start": "2099-01-01T10:00",
                "window_end": "2099-01-01T09:00",
                "tasks": "Wash",
            },
        )
    assert response.status_code == 400
    form = response.context["plan_visit_form"]
    assert "end after it starts" in form.errors["window_end"][0]
    assert form["tasks"].value() == "Wash"
    assert not PlannedVisit.objects.exists()


def test_the_api_plans_and_records_a_visit_as_the_page_does(world, in_care, api):
    client = api("rah_coordinator")
    url = f"/api/rah/referrals/{in_care.reference}/"
    with time_machine.travel(_at(10, 30), tick=False):
        wrong = client.post(url + "plan-visit/", {"responder": [1], "tasks": {"a": 1}}, format="json")
        garbled = client.post(
            url + "plan-visit/",
            {"responder": "x", "window_start": 5, "window_end": True, "tasks": "Wash"},
            format="json",
        )
        planned = client.post(
            url + "plan-visit/",
            {
                "responder": world.users["rah_responder"].pk,
                "window_start": _at(14).isoformat(),
                "window_end": _at(15).isoformat(),
                "tasks": "Help with washing",
            },
            format="json",
        )
    assert wrong.status_code == 400 and {"responder", "tasks"} <= set(wrong.json())
    assert garbled.status_code == 400 and {"responder", "window_start", "window_end"} <= set(garbled.json())
    assert planned.status_code == 200
    visit = PlannedVisit.objects.get()
    with time_machine.travel(_at(14, 30), tick=False):
        recorded = api("rah_responder").post(
            url + "record-visit/", {"visit": visit.pk, "outcome": "missed"}, format="json"
        )
    assert recorded.status_code == 400 and "note" in recorded.json()  # a missed visit says why


def test_the_referral_is_not_closed_past_its_running_care(world, in_care, client_for):
    """Closed by hand while the care ran, the care would be orphaned and never discharged."""
    with pytest.raises(TransitionRefused, match="short-term care"):
        act_on_referral(referral=in_care, user=world.users["rah_coordinator"], action="close", outcome="Done")
    with time_machine.travel(_at(10, 30), tick=False):
        page = client_for(world.users["rah_coordinator"]).get(in_care.get_absolute_url()).content.decode()
    assert "Close with an outcome" not in page and "Review and discharge" in page
    assert "Act on it" not in page  # no empty heading: the care's section holds the actions


def test_a_bad_new_time_for_a_moved_visit_is_said_beside_it(world, in_care, client_for):
    visit = _plan(world, in_care, _at(14), _at(15))
    with time_machine.travel(_at(13), tick=False):
        client = client_for(world.users["rah_coordinator"])
        response = client.post(
            reverse("referral_clock_action", args=[in_care.reference, "record-visit"]),
            {
                "visit": visit.pk,
                "outcome": "rescheduled",
                "note": "Hospital appointment",
                "new_start": "2099-01-01T18:00",
                "new_end": "2099-01-01T17:00",
            },
        )
    assert response.status_code == 400
    form = response.context["record_visit_form"]
    assert "end after it starts" in form.errors["new_end"][0]
    assert form["note"].value() == "Hospital appointment"
    visit.refresh_from_db()
    assert visit.state == PlannedVisit.State.PLANNED


def test_a_responder_is_offered_only_their_own_visits_to_record(world, in_care, client_for):
    other = UserFactory(roles=[Role.RAH_RESPONDER], first_name="Otto")
    _plan(world, in_care, _at(14), _at(15), tasks="Theirs")
    _plan(world, in_care, _at(16), _at(17), responder=other, tasks="Otto's")
    with time_machine.travel(_at(13), tick=False):
        page = client_for(world.users["rah_responder"]).get(in_care.get_absolute_url())
    offered = list(page.context["record_visit_form"].fields["visit"].queryset)
    assert [v.tasks for v in offered] == ["Theirs"]


def test_the_api_lists_a_responders_care_visits_audited(world, in_care, api):
    _plan(world, in_care, _at(14), _at(15), tasks="Help with washing")
    with time_machine.travel(_at(13), tick=False):
        answer = api("rah_responder").get("/api/rah/care-visits/")
    assert answer.status_code == 200
    (visit,) = answer.json()["results"]
    assert visit["tasks"] == "Help with washing" and visit["reference"] == in_care.reference
    assert AuditEvent.objects.filter(action=AuditAction.LIST, detail="API my care visits").exists()
