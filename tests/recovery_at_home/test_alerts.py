from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django_celery_beat.models import PeriodicTask

from core.email_delivery import send_unsent_emails
from core.models import Role
from recovery_at_home import alerts, services
from recovery_at_home.models import Alert, Episode, TriageCategory
from referrals.models import ReferralEvent
from tests.factories import ReferralFactory, UserFactory

LONDON = ZoneInfo("Europe/London")
# Tomorrow at 10:00 UK time (a 2-hour referral: due at noon): after the world's own
# referrals, made at the real now, as a coordinator's day would be.
TEN_AM = (dt.datetime.now(LONDON) + dt.timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)


def _at(hour, minute=0):
    return TEN_AM.replace(hour=hour, minute=minute)


@pytest.fixture
def referral(world):
    with time_machine.travel(TEN_AM, tick=False):
        referral = ReferralFactory(service=world.rah, patient=world.patient_b)
        services.triage_referral(
            referral=referral,
            category=TriageCategory.objects.get(code="urgent"),
            user=world.users["rah_coordinator"],
        )
    return referral


def _sweep_every_minute(start, end, on_minute=None):
    moment = start
    while moment <= end:
        with time_machine.travel(moment, tick=False):
            if on_minute:
                on_minute(moment)
            alerts.sweep(now=moment)
        moment += dt.timedelta(minutes=1)


def _raised(referral):
    return [
        (a.kind, timezone_hm(a.raised_at), a.late)
        for a in Alert.objects.filter(episode__referral=referral).order_by("raised_at", "pk")
    ]


def timezone_hm(moment):
    return moment.astimezone(LONDON).strftime("%H:%M")


def test_stepping_through_a_referrals_life_raises_each_alert_once_at_its_minute(world, referral):
    def arrive_at_12_20(moment):
        if moment == _at(12, 20):
            services.record_arrival(referral=referral, user=world.users["rah_responder"])

    _sweep_every_minute(TEN_AM, _at(13), on_minute=arrive_at_12_20)
    assert _raised(referral) == [
        ("due_soon", "11:30", False),
        ("breached", "12:00", False),
        ("escalated", "12:15", False),
    ]


def test_an_acknowledged_breach_is_not_escalated(world, referral):
    def acknowledge_at_12_05(moment):
        if moment == _at(12, 5):
            breach = Alert.objects.get(episode__referral=referral, kind=Alert.Kind.BREACHED)
            assert alerts.acknowledge_alert(alert=breach, user=world.users["rah_coordinator"])

    _sweep_every_minute(_at(11, 55), _at(12, 40), on_minute=acknowledge_at_12_05)
    assert [kind for kind, _, _ in _raised(referral)] == ["due_soon", "breached"]
    kinds = list(referral.events.values_list("kind", flat=True))
    assert kinds.count(ReferralEvent.Kind.ALERT) == 2 and ReferralEvent.Kind.ALERT_ACKNOWLEDGED in kinds


def test_reaching_the_person_stops_all_further_alerts(world, referral):
    with time_machine.travel(_at(11, 40), tick=False):
        services.record_arrival(referral=referral, user=world.users["rah_responder"])
    _sweep_every_minute(_at(11, 40), _at(13))
    assert _raised(referral) == []


def test_closing_the_referral_stops_alerts(world, referral):
    from recovery_at_home.models import Outcome

    with time_machine.travel(_at(11), tick=False):
        services.record_outcome(
            referral=referral, user=world.users["rah_coordinator"], outcome=Outcome.HOSPITAL
        )
    _sweep_every_minute(_at(11), _at(12, 30))
    assert _raised(referral) == []


def test_an_agreed_later_time_re_arms_the_alerts(world, referral):
    _sweep_every_minute(_at(11, 29), _at(11, 31))
    with time_machine.travel(_at(11, 40), tick=False):
        services.agree_later_time(
            referral=referral,
            user=world.users["rah_coordinator"],
            due_at=_at(15),
            reason="Daughter asked for the afternoon",
        )
    _sweep_every_minute(_at(11, 40), _at(15))
    assert _raised(referral) == [
        ("due_soon", "11:30", False),
        ("due_soon", "14:30", False),
        ("breached", "15:00", False),
    ]


def test_a_sweep_after_an_outage_catches_up_and_marks_the_alerts_late(world, referral):
    _sweep_every_minute(_at(12, 40), _at(12, 40))  # nothing ran between 10:00 and 12:40
    assert _raised(referral) == [("breached", "12:40", True)]
    _sweep_every_minute(_at(12, 41), _at(12, 56))
    assert _raised(referral)[-1] == ("escalated", "12:55", False)


def test_alerts_are_emailed_to_coordinators_and_escalations_to_managers(world, referral, settings):
    settings.PORTAL_URL = "http://portal.test"
    world.users["rah_coordinator"].email = "coordinator@example.nhs.uk"
    world.users["rah_coordinator"].save()
    world.users["service_manager"].email = "manager@example.nhs.uk"
    world.users["service_manager"].save()
    _sweep_every_minute(_at(12), _at(12, 15))
    send_unsent_emails()
    ours = [email for email in mail.outbox if referral.reference in email.subject]
    sent = sorted((email.to[0], email.subject) for email in ours)
    due = f"{TEN_AM.day} {TEN_AM:%b %Y} 12:00"  # read later and elsewhere: with its date
    assert sent == [
        ("coordinator@example.nhs.uk", f"Recovery at Home {referral.reference} breached: was due at {due}"),
        ("manager@example.nhs.uk", f"Recovery at Home {referral.reference} breach at {due} not acknowledged"),
    ]
    assert all(referral.patient.family_name not in email.body for email in ours)
    link = f"http://portal.test/referrals/{referral.reference}/"
    assert all(email.body.splitlines()[2] == f"Open it in the ATB Portal: {link}" for email in ours)
    _sweep_every_minute(_at(12, 16), _at(12, 20))
    assert send_unsent_emails() == {}  # each alert delivered once


def test_a_second_acknowledgement_is_refused(world, referral):
    _sweep_every_minute(_at(12), _at(12))
    breach = Alert.objects.get(kind=Alert.Kind.BREACHED, episode__referral=referral)
    assert alerts.acknowledge_alert(alert=breach, user=world.users["rah_coordinator"]) is True
    assert alerts.acknowledge_alert(alert=breach, user=UserFactory(roles=[Role.RAH_COORDINATOR])) is False
    assert Alert.objects.get(pk=breach.pk).acknowledged_by == world.users["rah_coordinator"]


def test_beat_sweeps_every_minute_and_the_command_runs_one_sweep(db, capsys):
    entry = PeriodicTask.objects.get(task="recovery_at_home.tasks.sweep_alerts")
    assert (entry.interval.every, entry.interval.period, entry.enabled) == (1, "minutes", True)
    call_command("sweep_alerts")
    assert "breached: 0" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_over_1000_due_referrals_raise_each_alert_exactly_once():
    from tests.factories import PatientFactory, RecoveryAtHomeFactory

    rah = RecoveryAtHomeFactory()
    patient = PatientFactory()
    with time_machine.travel(TEN_AM, tick=False):
        for _ in range(1000):
            ReferralFactory(service=rah, patient=patient)
    assert Episode.objects.count() == 1000

    def two_sweeps_at(moment):
        start = threading.Barrier(2)

        def sweep():
            try:
                start.wait()
                alerts.raise_due_alerts(now=moment)
            finally:
                connection.close()

        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    two_sweeps_at(_at(11, 45))  # due soon
    two_sweeps_at(_at(12, 1))  # breached
    two_sweeps_at(_at(12, 20))  # escalated
    counts = {kind: Alert.objects.filter(kind=kind).count() for kind in Alert.Kind.values}
    assert counts == {"due_soon": 1000, "breached": 1000, "escalated": 1000, "missed": 0}


def test_an_alert_email_failing_twice_then_succeeding_gives_one_alert_and_one_email(
    world, referral, settings
):
    from core.models import OutboundEmail
    from core.tasks import deliver_emails
    from tests.email_backends import FlakyEmailBackend

    settings.EMAIL_BACKEND = "tests.email_backends.FlakyEmailBackend"
    FlakyEmailBackend.failures_left = 2
    world.users["rah_coordinator"].email = "coordinator@example.nhs.uk"
    world.users["rah_coordinator"].save()
    _sweep_every_minute(_at(12), _at(12))
    email = OutboundEmail.objects.get(subject__contains=f"{referral.reference} breached")

    deliver_emails.apply(args=[[email.pk]])  # the task retries itself with backoff

    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutboundEmail.Status.SENT, 3)
    assert [m.subject for m in mail.outbox if referral.reference in m.subject] == [email.subject]
    assert Alert.objects.filter(episode__referral=referral, kind=Alert.Kind.BREACHED).count() == 1


def test_the_queue_shows_waiting_alerts_and_a_coordinator_acknowledges_one(world, referral, client_for):
    from django.urls import reverse

    _sweep_every_minute(_at(12), _at(12))
    breach = Alert.objects.get(episode__referral=referral, kind=Alert.Kind.BREACHED)
    client = client_for(world.users["rah_coordinator"])
    page = client.get(reverse("recovery_at_home:queue")).content.decode()
    assert "waiting for acknowledgement" in page
    assert reverse("recovery_at_home:acknowledge", args=[breach.pk]) in page
    polled = client.get(reverse("recovery_at_home:queue_rows")).content.decode()
    assert 'id="alert-banner" hx-swap-oob="true"' in polled  # the banner is live too
    # This referral's breach and the world's own Recovery at Home referral, breached by now too.
    assert client.get(reverse("recovery_at_home:alert_count")).context["alert_count"] == 2

    client.post(reverse("recovery_at_home:acknowledge", args=[breach.pk]))
    breach.refresh_from_db()
    assert breach.acknowledged_by == world.users["rah_coordinator"]
    assert (
        reverse("recovery_at_home:acknowledge", args=[breach.pk])
        not in client.get(reverse("recovery_at_home:queue")).content.decode()
    )


def test_a_full_banner_says_how_many_wait_beyond_it(world, client_for):
    from django.urls import reverse

    with time_machine.travel(TEN_AM, tick=False):
        for _ in range(alerts.BANNER_SIZE + 2):
            ReferralFactory(service=world.rah)
    _sweep_every_minute(_at(12), _at(12))  # every 2-hour clock has breached
    waiting = Alert.objects.filter(acknowledged_at__isnull=True).count()
    assert waiting > alerts.BANNER_SIZE
    client = client_for(world.users["rah_coordinator"])
    response = client.get(reverse("recovery_at_home:queue"))
    page = response.content.decode()
    assert f"{waiting} alerts waiting for acknowledgement (the newest {alerts.BANNER_SIZE} shown)" in page
    assert page.count("/acknowledge/") == alerts.BANNER_SIZE
    assert response.context["alert_count"] == waiting  # the navigation bar says the same


def test_a_sweep_runs_the_same_number_of_queries_for_ten_or_fifty_due_referrals(db):
    from django.utils import timezone

    from core.models import OutboundEmail
    from tools.alert_sweep_bench import build_open_referrals, measure_sweep

    def sweep_with(due):
        not_due = Episode.objects.filter(alerts__isnull=True).order_by("pk").values_list("pk", flat=True)
        Episode.objects.filter(pk__in=list(not_due[:due])).update(response_due_at=timezone.now())
        return measure_sweep()

    build_open_referrals(open_referrals=300, due=0, coordinators=2)
    assert sweep_with(0).counts["notified"] == 0  # the first sweep also records the heartbeat's row
    ten = sweep_with(10)
    fifty = sweep_with(50)

    assert (ten.counts["breached"], ten.counts["notified"]) == (10, 10)
    assert (fifty.counts["breached"], fifty.counts["notified"]) == (50, 50)
    assert ten.queries == fifty.queries
    assert OutboundEmail.objects.filter(subject__contains="breached").count() == 60 * 2
