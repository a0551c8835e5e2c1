"""The Friends and Family Test: a link that works once, expires, shows nothing of the
record and cannot be guessed; anonymous answers; comments a manager reads first; figures
checked against a table of answers written by hand."""

from __future__ import annotations

import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils.html import escape

from core.models import Role, User
from feedback import figures, services
from feedback.models import Invitation, PulseAnswer, PulseSubmission, Response
from recovery_at_home import services as rah
from recovery_at_home.models import Outcome
from tests.factories import NeighbourhoodFactory, UserFactory

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock


def _discharge(world):
    """Recovery at Home reaches patient_b and the person goes to hospital: a discharge."""
    responder = world.users["rah_responder"]
    rah.record_arrival(referral=world.referral_b, user=responder)
    rah.record_outcome(referral=world.referral_b, user=responder, outcome=Outcome.HOSPITAL)
    return Invitation.objects.get(occasion=f"referral-{world.referral_b.pk}")


def _token(invitation) -> str:
    """The tablet's way to a working token (the one made at discharge is not kept)."""
    return services.reissue(occasion=invitation.occasion)


def test_a_discharge_is_invited_once_and_only_a_hash_of_the_link_is_kept(world):
    invitation = _discharge(world)
    token = _token(invitation)
    assert len(token) >= 43  # 32 random bytes: not to be guessed
    invitation.refresh_from_db()
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(Invitation.objects.values().get())
    assert invitation.neighbourhood == world.practice_b.neighbourhood
    assert (
        services.invite(occasion=invitation.occasion, service=world.rah, team=None, neighbourhood=None)
        is None
    )


def test_the_link_works_once_and_shows_nothing_of_the_record(world, client):
    token = _token(_discharge(world))
    url = reverse("feedback:answer", args=[token])
    page = client.get(url)
    assert page.status_code == 200
    assert b"Overall, how was your experience of our service?" in page.content
    patient = world.patient_b
    for private in (patient.given_name, patient.family_name, patient.nhs_number, world.referral_b.reference):
        assert escape(private).encode() not in page.content
    sent = client.post(url, {"answer": "very_good", "comment": "Kind and quick."})
    assert b"Thank you" in sent.content
    response = Response.objects.get()
    assert (response.answer, response.channel, response.month) == ("very_good", "link", dt.date(2026, 11, 1))
    assert response.review == Response.Review.PENDING  # a comment waits for a manager
    again = client.post(url, {"answer": "poor"})
    assert again.status_code == 404 and b"used already" in again.content
    assert Response.objects.count() == 1


def test_the_link_expires_after_two_weeks(world, client, frozen_clock):
    token = _token(_discharge(world))
    frozen_clock.shift(dt.timedelta(days=15))
    page = client.get(reverse("feedback:answer", args=[token]))
    assert page.status_code == 404 and b"expired" in page.content


def test_a_made_up_link_finds_nothing(db, client):
    page = client.get(reverse("feedback:answer", args=["x" * 43]))
    assert page.status_code == 404 and b"does not work" in page.content


def test_an_answer_missing_or_too_long_is_said_beside_it_and_nothing_is_kept(world, client):
    url = reverse("feedback:answer", args=[_token(_discharge(world))])
    page = client.post(url, {"comment": "x" * 2001})
    assert page.status_code == 400
    assert b"Choose one answer." in page.content and b"x" * 2001 in page.content
    assert Response.objects.count() == 0


def test_the_tablet_opens_the_question_and_the_link_sent_stops_working(world, client_for):
    invitation = _discharge(world)
    sent_link = _token(invitation)
    coordinator = client_for(world.users["rah_coordinator"])
    opened = coordinator.post(reverse("feedback_on_tablet", args=[world.referral_b.reference]))
    assert opened.status_code == 302 and "/feedback/f/" in opened["Location"]
    coordinator.post(opened["Location"], {"answer": "good"})
    assert Response.objects.get().channel == Response.Channel.TABLET
    assert coordinator.get(reverse("feedback:answer", args=[sent_link])).status_code == 404


def test_comments_are_read_by_a_manager_before_anyone_sees_them(world, client_for):
    for answer, comment in (("good", "Lovely staff"), ("poor", "Dr Smith at 4 Main St was rude")):
        services.record_from_paper(
            user=world.users["rah_coordinator"],
            service=world.rah,
            team=None,
            neighbourhood=world.team_a.neighbourhood,
            answer=answer,
            comment=comment,
            month=NOW.date(),
        )
    manager = client_for(world.users["service_manager"])
    shown_before = manager.get(reverse("feedback:figures")).content
    assert b"Lovely staff" not in shown_before and b"rude" not in shown_before
    review = manager.get(reverse("feedback:review"))
    assert b"Lovely staff" in review.content and b"rude" in review.content
    lovely, rude = Response.objects.order_by("pk")
    manager.post(reverse("feedback:decide", args=[lovely.pk, "show"]))
    manager.post(reverse("feedback:decide", args=[rude.pk, "withhold"]))
    page = manager.get(reverse("feedback:figures")).content
    assert b"Lovely staff" in page and b"rude" not in page
    coordinator_page = client_for(world.users["rah_coordinator"]).get(reverse("feedback:figures")).content
    assert b"Lovely staff" in coordinator_page and b"rude" not in coordinator_page


def test_a_paper_form_for_a_month_to_come_is_refused(world, client_for):
    page = client_for(world.users["rah_coordinator"]).post(
        reverse("feedback:paper"),
        {"service": world.rah.pk, "answer": "good", "month": "2027-02-03"},
    )
    assert page.status_code == 400 and b"cannot be in the future" in page.content
    assert Response.objects.count() == 0


# The table, written by hand: (neighbourhood, month, invitations that month, answers).
ANSWERS = [
    ("East", dt.date(2026, 10, 1), 4, ["very_good", "good", "poor", "dont_know"]),
    ("East", dt.date(2026, 11, 1), 2, ["very_good"]),
    ("North", dt.date(2026, 11, 1), 5, ["neither", "very_poor"]),
]
EXPECTED = [
    # month, neighbourhood, invited, answered, response rate, positive, negative
    (dt.date(2026, 10, 1), "East", 4, 4, 100.0, 50.0, 25.0),
    (dt.date(2026, 11, 1), "East", 2, 1, 50.0, 100.0, 0.0),
    (dt.date(2026, 11, 1), "North", 5, 2, 40.0, 0.0, 50.0),
]


def test_the_figures_match_a_table_written_by_hand(world):
    places = {name: NeighbourhoodFactory(name=name) for name in ("East", "North")}
    for name, month, invited, answers in ANSWERS:
        with time_machine.travel(dt.datetime.combine(month, dt.time(12), tzinfo=ZoneInfo("Europe/London"))):
            for n in range(invited):
                services.invite(
                    occasion=f"{name}-{month}-{n}", service=world.rah, team=None, neighbourhood=places[name]
                )
        for answer in answers:
            Response.objects.create(
                service=world.rah, neighbourhood=places[name], answer=answer, channel="paper", month=month
            )
    rows = figures.fft_rows(start=dt.date(2026, 10, 1), end=dt.date(2026, 11, 30))
    assert [
        (
            r.month,
            r.neighbourhood,
            r.invited,
            r.answered,
            r.response_rate,
            r.percent_positive,
            r.percent_negative,
        )
        for r in rows
    ] == EXPECTED


def test_the_staff_pulse_is_answered_once_a_month_and_names_nobody(world, client_for, frozen_clock):
    member = world.users["cit_member_a"]
    client = client_for(member)
    assert client.get(reverse("feedback:pulse")).status_code == 200
    client.post(
        reverse("feedback:pulse"),
        {"supported": "4", "equipped": "2", "recommend": "good", "comment": "Short of cars"},
    )
    assert PulseSubmission.objects.filter(user=member).count() == 1
    answer = PulseAnswer.objects.get()
    assert (answer.team, answer.supported, answer.equipped, answer.review) == (world.team_a, 4, 2, "pending")
    assert not any(
        field.related_model is User for field in PulseAnswer._meta.get_fields() if field.is_relation
    )
    with pytest.raises(services.FeedbackRefused, match="answered this month"):
        services.answer_pulse(user=member, supported=5, equipped=5, recommend="very_good")
    assert b"You have answered this month" in client.get(reverse("feedback:pulse")).content
    frozen_clock.shift(dt.timedelta(days=7))  # 1 December: a new month, a new pulse
    services.answer_pulse(user=member, supported=5, equipped=4, recommend="very_good")
    assert PulseAnswer.objects.count() == 2


def test_the_pulse_figures_match_a_table_written_by_hand(world):
    # Team A has one member (cit_member_a); Recovery at Home two (the coordinator, the responder).
    second = UserFactory(roles=[Role.CIT_MEMBER], teams=[world.team_a])
    services.answer_pulse(user=world.users["cit_member_a"], supported=4, equipped=2, recommend="good")
    services.answer_pulse(user=second, supported=5, equipped=3, recommend="poor")
    services.answer_pulse(user=world.users["rah_responder"], supported=3, equipped=3, recommend="very_good")
    rows = figures.pulse_rows(start=NOW.date(), end=NOW.date())
    assert [
        (r.where, r.staff, r.answered, r.response_rate, r.supported, r.equipped, r.recommend_positive)
        for r in rows
    ] == [  # by name: team A is "Neighbourhood …", before "Recovery at Home"
        (world.team_a.name, 2, 2, 100.0, 4.5, 2.5, 50.0),
        ("Recovery at Home", 2, 1, 50.0, 3.0, 3.0, 100.0),
    ]


def test_a_pulse_comment_is_shown_only_once_a_manager_lets_it_through(world, client_for):
    services.answer_pulse(
        user=world.users["rah_responder"],
        supported=2,
        equipped=2,
        recommend="good",
        comment="Too few cars at night",
    )
    coordinator_view = client_for(world.users["rah_coordinator"]).get(reverse("feedback:figures")).content
    assert b"Too few cars" not in coordinator_view
    manager = client_for(world.users["service_manager"])
    assert b"Too few cars" in manager.get(reverse("feedback:review")).content
    manager.post(reverse("feedback:decide_pulse", args=[PulseAnswer.objects.get().pk, "show"]))
    assert (
        b"Too few cars" in client_for(world.users["rah_coordinator"]).get(reverse("feedback:figures")).content
    )
