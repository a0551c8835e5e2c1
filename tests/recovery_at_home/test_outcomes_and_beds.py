from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from core.models import AuditAction, AuditEvent, BedUnit, OutboundEmail, Role
from recovery_at_home import services
from recovery_at_home.models import BedStay, Episode, Outcome
from referrals import services as referral_services
from referrals.models import Reason, Referral, ReferralEvent, Status
from tests.factories import PatientFactory, RecoveryAtHomeFactory, ReferralFactory, UserFactory


@pytest.fixture
def houghton(world):
    return BedUnit.objects.create(service=world.rah, name="Houghton", beds=2)


def _outcome(world, outcome, referral=None, **fields):
    return services.record_outcome(
        referral=referral or world.referral_b, user=world.users["rah_coordinator"], outcome=outcome, **fields
    )


def test_remaining_at_home_needs_a_planned_end_date_and_opens_short_term_care(world):
    with pytest.raises(services.ClockRefused, match="planned end date"):
        _outcome(world, Outcome.REMAINED_AT_HOME)
    in_six_days = timezone.localdate() + dt.timedelta(days=6)
    episode = _outcome(world, Outcome.REMAINED_AT_HOME, planned_end_date=in_six_days)
    referral = Referral.objects.get(pk=world.referral_b.pk)
    assert referral.status == Status.IN_PROGRESS  # closed at the care's discharge (test_care.py)
    assert episode.planned_end_date == episode.care.planned_end_date == in_six_days


def test_an_outcome_is_recorded_once(world):
    _outcome(world, Outcome.HOSPITAL)
    with pytest.raises(services.ClockRefused, match="already recorded"):
        _outcome(world, Outcome.DIED)


def test_the_outcome_keeps_the_moment_it_was_recorded_which_closed_the_referral(world):
    with time_machine.travel(dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC), tick=False):  # clocks go forward
        episode = _outcome(world, Outcome.HOSPITAL)
    closed = world.referral_b.events.get(kind=ReferralEvent.Kind.CLOSED)
    assert episode.outcome_recorded_at == closed.at == dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC)
    assert Episode.objects.get(pk=episode.pk).outcome_recorded_at == closed.at


def test_the_database_refuses_an_outcome_without_its_time_and_a_time_without_an_outcome(world):
    episode = Episode.objects.get(referral=world.referral_b)
    with pytest.raises(IntegrityError), transaction.atomic():
        Episode.objects.filter(pk=episode.pk).update(outcome=Outcome.HOSPITAL)
    with pytest.raises(IntegrityError), transaction.atomic():
        Episode.objects.filter(pk=episode.pk).update(outcome_recorded_at=timezone.now())


def test_handing_to_the_cit_creates_the_teams_referral_linked_to_the_history(world, client_for):
    episode = _outcome(world, Outcome.HANDED_TO_CIT, note="Needs ongoing wound care")
    handover = episode.handover_referral
    assert (handover.service, handover.team) == (world.cit, world.team_b)  # the patient's practice's team
    assert handover.patient == world.patient_b and handover.status == Status.RECEIVED
    assert world.referral_b.reference in handover.clinical_summary
    assert Referral.objects.get(pk=world.referral_b.pk).status == Status.CLOSED
    page = (
        client_for(world.users["rah_coordinator"]).get(world.referral_b.get_absolute_url()).content.decode()
    )
    assert handover.reference in page


def test_admitting_to_a_bed_unit_takes_a_bed_and_discharge_frees_it(world, houghton):
    _outcome(world, Outcome.BED_UNIT, bed_unit=houghton)
    assert services.free_beds(bed_unit=houghton) == 1
    stay = BedStay.objects.get(bed_unit=houghton)
    services.discharge_from_bed(stay=stay, user=world.users["rah_coordinator"], note="Home with carers")
    assert services.free_beds(bed_unit=houghton) == 2
    with pytest.raises(services.ClockRefused, match="already discharged"):
        services.discharge_from_bed(stay=stay, user=world.users["rah_coordinator"])


def test_a_full_unit_refuses_and_nothing_is_half_saved(world, houghton):
    for _ in range(2):
        _outcome(world, Outcome.BED_UNIT, referral=ReferralFactory(service=world.rah), bed_unit=houghton)
    with pytest.raises(services.ClockRefused, match="no free bed"):
        _outcome(world, Outcome.BED_UNIT, bed_unit=houghton)
    assert Referral.objects.get(pk=world.referral_b.pk).status != Status.CLOSED
    assert Episode.objects.get(referral=world.referral_b).outcome == ""


@pytest.mark.django_db(transaction=True)
def test_two_coordinators_admitting_to_the_last_free_bed_one_succeeds():
    rah = RecoveryAtHomeFactory()
    unit = BedUnit.objects.create(service=rah, name="Town End Farm", beds=1)
    referrals = [ReferralFactory(service=rah, patient=PatientFactory()) for _ in range(2)]
    coordinators = UserFactory.create_batch(2, roles=[Role.RAH_COORDINATOR])
    start = threading.Barrier(2)
    results: list[str] = []

    def admit(referral, user):
        try:
            start.wait()
            services.record_outcome(referral=referral, user=user, outcome=Outcome.BED_UNIT, bed_unit=unit)
            results.append("admitted")
        except services.ClockRefused as refused:
            results.append(str(refused))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=admit, args=pair) for pair in zip(referrals, coordinators, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results) == ["Town End Farm has no free bed.", "admitted"]
    assert BedStay.objects.filter(bed_unit=unit, discharged_at__isnull=True).count() == 1
    assert Referral.objects.filter(status=Status.CLOSED).count() == 1


def test_the_bed_board_shows_occupants_and_is_hidden_outside_the_service(world, houghton, client_for):
    _outcome(world, Outcome.BED_UNIT, bed_unit=houghton)
    page = client_for(world.users["rah_coordinator"]).get(reverse("recovery_at_home:beds")).content.decode()
    assert escape(world.patient_b.family_name).upper() in page.upper()
    assert "1 of 2 beds taken" in page
    assert client_for(world.users["gp_b"]).get(reverse("recovery_at_home:beds")).status_code == 404


def test_a_coordinator_records_an_outcome_from_the_referral_page(world, client_for):
    response = client_for(world.users["rah_coordinator"]).post(
        reverse("referral_clock_action", args=[world.referral_b.reference, "outcome"]),
        {"outcome": Outcome.HOSPITAL, "note": "Suspected fracture", "planned_end_date": "", "bed_unit": ""},
        follow=True,
    )
    assert "outcome recorded" in response.content.decode()
    assert Referral.objects.get(pk=world.referral_b.pk).outcome == "Admitted to hospital"


def test_the_responder_sent_to_the_person_records_the_outcome_and_no_other(world, client_for):
    """The design: a responder records arrival and outcome. Only one who was sent (and not
    stood down) may; another responder is refused and nothing changes."""
    sent = world.users["rah_responder"]
    other = UserFactory(roles=[Role.RAH_RESPONDER])
    services.dispatch_responder(
        referral=world.referral_b, responder=sent, user=world.users["rah_coordinator"]
    )
    url = reverse("referral_clock_action", args=[world.referral_b.reference, "outcome"])
    form = {
        "outcome": Outcome.DECLINED,
        "note": "Did not want the visit",
        "planned_end_date": "",
        "bed_unit": "",
    }

    page = client_for(other).get(world.referral_b.get_absolute_url()).content.decode()
    assert "Record the outcome and close" not in page
    assert client_for(other).post(url, form).status_code == 403
    assert Referral.objects.get(pk=world.referral_b.pk).status != Status.CLOSED

    client = client_for(sent)
    assert "Record the outcome and close" in client.get(world.referral_b.get_absolute_url()).content.decode()
    response = client.post(url, form, follow=True)
    assert "outcome recorded" in response.content.decode()
    assert Referral.objects.get(pk=world.referral_b.pk).status == Status.CLOSED


@pytest.mark.parametrize(
    ("reason", "handed_over_as"),
    [
        # The team responds to falls: the reason carries over as it was.
        (Reason.FALL, (Reason.FALL, "", "Fall without serious injury")),
        # Not a team reason: "other", saying where it came from, never "hospital discharge".
        (
            Reason.DELIRIUM,
            (
                Reason.OTHER,
                "Hand-over from Recovery at Home: Confusion or delirium",
                "Other: Hand-over from Recovery at Home: Confusion or delirium",
            ),
        ),
    ],
)
def test_a_hand_over_keeps_the_persons_reason_not_a_hospital_discharge(world, reason, handed_over_as):
    referral = ReferralFactory(service=world.rah, patient=world.patient_b, reason=reason)
    handover = _outcome(
        world, Outcome.HANDED_TO_CIT, referral=referral, note="Stayed at home"
    ).handover_referral
    assert (handover.reason, handover.reason_other, handover.reason_shown) == handed_over_as


@pytest.mark.parametrize("username", ["gp_b", "rah_coordinator", "rah_responder"])
def test_the_hand_over_link_opens_for_everyone_who_sees_the_recovery_at_home_referral(
    world, client_for, username
):
    """The GP who referred, the coordinator and the responder follow the person to the
    team: the link on the referral they can see opens the team's referral."""
    handover = _outcome(world, Outcome.HANDED_TO_CIT, note="Wound care").handover_referral
    client = client_for(world.users[username])
    page = client.get(world.referral_b.get_absolute_url()).content.decode()
    assert handover.get_absolute_url() in page

    response = client.get(handover.get_absolute_url())

    assert response.status_code == 200
    assert f"To <strong>{world.team_b}</strong>" in response.content.decode()


def test_a_hand_over_is_referred_by_recovery_at_home_and_recorded_by_who_handed_over(world):
    """The responder is not the team's referrer: they are not emailed as one, and the
    timeline and the audit trail say who handed over."""
    responder = world.users["rah_responder"]
    handover = services.record_outcome(
        referral=world.referral_b, user=responder, outcome=Outcome.HANDED_TO_CIT, note="Wound care"
    ).handover_referral

    assert handover.referred_by is None
    assert (handover.referrer_name, handover.referrer_role) == ("Recovery at Home", "hand-over")
    submitted = handover.events.get(kind=ReferralEvent.Kind.SUBMITTED)
    assert submitted.user == responder
    created = AuditEvent.objects.get(action=AuditAction.CREATE, object_id=str(handover.pk), detail="referral")
    assert created.user == responder

    team_member = UserFactory(roles=[Role.CIT_MEMBER], teams=[world.team_b], email="cit@example.nhs.uk")
    responder.email = "responder@example.nhs.uk"
    responder.save()
    referral_services.accept_referral(referral=handover, user=team_member)
    assert not OutboundEmail.objects.filter(to=responder.email).exists()
