"""seed_scale makes data shaped like the service, fast; here at a small size."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db.models import Count, Exists, F, OuterRef
from django.utils import timezone

from core.models import Patient, Practice, Role, User
from mdt.models import AgendaItem, Meeting
from recovery_at_home import rota
from recovery_at_home.models import Episode, Shift
from referrals.models import ReferenceCounter, Referral, Status
from teams.models import CaseloadEntry

SIZES = {"referrals": 6000, "patients": 2000, "open_rah": 150, "open_caseload": 400}


@pytest.fixture
def seeded(db):
    call_command("seed_scale", **SIZES, stdout=StringIO(), stderr=StringIO())


def _scale_referrals():
    return Referral.objects.filter(clinical_summary__startswith="Scale data:")


def test_the_volumes_asked_for_are_made(seeded):
    assert Patient.objects.filter(nhs_number__startswith="9995").count() == SIZES["patients"]
    assert _scale_referrals().count() == SIZES["referrals"]
    open_rah = _scale_referrals().filter(service__code="rah").exclude(status=Status.CLOSED)
    assert open_rah.count() == SIZES["open_rah"]
    assert Episode.objects.filter(referral__in=open_rah, arrived_at__isnull=True).count() == SIZES["open_rah"]
    assert (
        CaseloadEntry.objects.filter(closed_at__isnull=True, referral__in=_scale_referrals()).count()
        == (SIZES["open_caseload"])
    )
    assert Practice.objects.filter(neighbourhood__isnull=False).count() >= 40
    assert Meeting.objects.filter(status=Meeting.Status.CLOSED).count() >= 40 * 5 * 12


def test_the_data_keeps_the_services_rules(seeded):
    # Each referral of a team goes to the team of the patient's practice, from that practice.
    cit = _scale_referrals().filter(service__code="cit")
    assert not cit.exclude(team__neighbourhood=F("patient__practice__neighbourhood")).exists()
    assert not _scale_referrals().exclude(referring_practice=F("patient__practice")).exists()
    # Key workers belong to the entry's team; agenda patients to the meeting's practice.
    entries = CaseloadEntry.objects.filter(referral__in=_scale_referrals())
    assert not entries.exclude(key_worker__teams=F("team")).exists()
    assert not AgendaItem.objects.exclude(patient__practice=F("meeting__practice")).exists()
    # The rota: 500 responders, two thirds on days and a third on nights, half of each on
    # shift on a given day or night; never on two shifts at once.
    assert User.objects.filter(username__startswith="scale.resp").count() == 500
    today = timezone.localdate()
    for hour, low, high in ((10, 150, 185), (22, 70, 95)):
        at = timezone.make_aware(datetime.combine(today, time(hour)))
        assert low <= rota.on_shift(role=Role.RAH_RESPONDER, at=at).count() <= high, hour
    overlapping = Shift.objects.filter(
        staff=OuterRef("staff"), starts_at__lt=OuterRef("ends_at"), ends_at__gt=OuterRef("starts_at")
    ).exclude(pk=OuterRef("pk"))
    assert not Shift.objects.filter(Exists(overlapping)).exists()
    # References are the portal's own, and the counters run on past them.
    references = list(_scale_referrals().values_list("reference", flat=True))
    assert all(reference.startswith("ATB-") for reference in references)
    for counter in ReferenceCounter.objects.all():
        numbers = [int(r[9:]) for r in references if r[4:8] == str(counter.year)]
        assert not numbers or counter.last_number >= max(numbers)


def test_seeding_on_a_monday_keeps_each_practices_planned_tuesday_once(db):
    # The demo's schedules plan each of their practices' next Tuesday; on a Monday that is
    # tomorrow, the scale data's last slot too. The seed once failed on every Monday.
    today = timezone.localdate()
    monday = today + timedelta(days=(7 - today.weekday()) % 7)
    at = timezone.make_aware(datetime.combine(monday, time(9, 0)))
    with time_machine.travel(at, tick=False):
        call_command("seed_scale", **SIZES, stdout=StringIO(), stderr=StringIO())
    tuesday = timezone.make_aware(datetime.combine(monday + timedelta(days=1), time(13, 0)))
    planned = Meeting.objects.filter(starts_at=tuesday).values("practice").annotate(n=Count("id"))
    assert len(planned) >= 40  # every practice meets that Tuesday
    assert {row["n"] for row in planned} == {1}


def test_a_second_run_is_refused(seeded):
    with pytest.raises(CommandError, match="already holds scale data"):
        call_command("seed_scale", **SIZES, stdout=StringIO(), stderr=StringIO())


def test_the_queue_shows_the_open_work(seeded, client):
    client.force_login(User.objects.get(username="scale.rah0"))
    response = client.get("/recovery-at-home/queue/")
    assert response.status_code == 200
    page = response.context["page"]
    assert page.counts.open >= SIZES["open_rah"]  # the seeded open work, plus the demo's
    assert len(response.context["rows"]) == min(page.counts.open, 25)
    assert (
        not Episode.objects.filter(queue_open=True)
        .exclude(referral__status__in=["received", "accepted", "in_progress"])
        .exists()
    )  # the queue's copy of the status agrees with the referrals
    assert Episode.objects.filter(queue_open=False).exists()


def test_a_benchmark_run_declines_the_referrals_it_sent_so_the_next_run_measures_the_same_queue(seeded):
    from tests.factories import PatientFactory, ReferralFactory
    from tools.management.commands.bench import MARKER, _retire_own_referrals

    rah = Referral.objects.filter(service__code="rah").first().service
    open_rah = Episode.objects.filter(queue_open=True).count()
    sent = [
        ReferralFactory(service=rah, patient=PatientFactory(family_name=f"{MARKER}-{n}")) for n in range(3)
    ]
    assert Episode.objects.filter(queue_open=True).count() == open_rah + 3

    assert _retire_own_referrals() == 3
    assert Episode.objects.filter(queue_open=True).count() == open_rah
    assert {referral.status for referral in Referral.objects.filter(pk__in=[r.pk for r in sent])} == {
        Status.DECLINED
    }
    assert _scale_referrals().filter(status=Status.DECLINED).count() == 0
    assert _retire_own_referrals() == 0
