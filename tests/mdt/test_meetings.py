"""MDT meetings: the agenda built from what happened, publishing with invitations, the
meeting's record and its locking, and actions that get done."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from core.email_delivery import send_unsent_emails
from core.models import AuditAction, AuditEvent, Role
from mdt import selectors, services
from mdt.models import Action, AgendaItem, Attendee, Meeting, MeetingEvent, MeetingSchedule, OverdueNotice
from recovery_at_home import services as rah_services
from recovery_at_home.models import Outcome, TriageCategory
from referrals import services as referral_services
from tests.factories import PatientFactory, ReferralFactory, UserFactory, meeting_with_agenda, on_caseload

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def coordinator(world):
    user = world.users["mdt_coordinator_a"]
    user.email = "mdt.coordinator@example.nhs.uk"
    user.save()
    return user


@pytest.fixture
def meeting(world, coordinator):
    meeting, _ = meeting_with_agenda(practice=world.practice_a, coordinator=coordinator)
    return meeting


def _reasons(meeting):
    return {c.patient: c.reasons for c in selectors.agenda_candidates(meeting=meeting)}


def test_the_candidates_are_what_happened_since_the_last_meeting_with_why(world, coordinator, meeting):
    rah_user = world.users["rah_coordinator"]
    practice_patient = lambda: PatientFactory(practice=world.practice_a)  # noqa: E731
    fell = practice_patient()
    ReferralFactory(patient=fell, service=world.rah)
    admitted = practice_patient()
    hospital = ReferralFactory(patient=admitted, service=world.rah)
    rah_services.triage_referral(
        referral=hospital, category=TriageCategory.objects.get(code="crisis"), user=rah_user
    )
    rah_services.record_arrival(referral=hospital, user=rah_user)
    rah_services.record_outcome(referral=hospital, user=rah_user, outcome=Outcome.HOSPITAL)
    new_on_caseload = practice_patient()
    on_caseload(team=world.team_a, key_worker=world.users["cit_member_a"], patient=new_on_caseload)
    flagged = practice_patient()
    services.flag_for_mdt(patient=flagged, user=world.users["gp_a"], reason="Carer at breaking point")
    already = practice_patient()
    services.flag_for_mdt(patient=already, user=world.users["gp_a"], reason="Also flagged")
    services.add_to_agenda(meeting=meeting, patient=already, user=coordinator, reason="by hand")
    elsewhere = PatientFactory(practice=world.practice_b)
    ReferralFactory(patient=elsewhere, service=world.rah)
    turned_away = practice_patient()  # a referral of any status says the person needed help
    referral_services.decline_referral(
        referral=ReferralFactory(patient=turned_away, service=world.rah),
        user=rah_user,
        reason="Needs the falls team",
    )

    reasons = _reasons(meeting)
    assert reasons[turned_away][0].startswith("Recovery at Home ")
    assert reasons[fell][0].startswith("Recovery at Home ") and "fall" in reasons[fell][0]
    assert any(r.startswith("Admitted to hospital") for r in reasons[admitted])
    assert reasons[new_on_caseload] == [
        f"New to {world.team_a.name}'s caseload {timezone.localdate():%-d %b}"
    ]
    assert reasons[flagged] == [f"Flagged for MDT by {world.users['gp_a']}: Carer at breaking point"]
    assert already not in reasons and elsewhere not in reasons


def test_events_before_the_previous_meeting_are_not_suggested_again(world, coordinator):
    old = PatientFactory(practice=world.practice_a)
    with time_machine.travel(timezone.now() - dt.timedelta(days=40), tick=False):
        ReferralFactory(patient=old, service=world.rah)
    meeting_with_agenda(
        practice=world.practice_a, coordinator=coordinator, starts_at=timezone.now() - dt.timedelta(days=28)
    )
    later, _ = meeting_with_agenda(practice=world.practice_a, coordinator=coordinator)
    assert old not in _reasons(later)


def test_an_admission_is_suggested_by_when_it_happened_not_when_the_referral_came(world, coordinator):
    rah_user = world.users["rah_coordinator"]
    crisis = TriageCategory.objects.get(code="crisis")

    def admitted(days_ago: int, *, referred_days_ago: int):
        patient = PatientFactory(practice=world.practice_a)
        with time_machine.travel(timezone.now() - dt.timedelta(days=referred_days_ago), tick=False):
            referral = ReferralFactory(patient=patient, service=world.rah)
            rah_services.triage_referral(referral=referral, category=crisis, user=rah_user)
            rah_services.record_arrival(referral=referral, user=rah_user)
        with time_machine.travel(timezone.now() - dt.timedelta(days=days_ago), tick=False):
            rah_services.record_outcome(referral=referral, user=rah_user, outcome=Outcome.HOSPITAL)
        return patient

    meeting_with_agenda(
        practice=world.practice_a, coordinator=coordinator, starts_at=timezone.now() - dt.timedelta(days=28)
    )
    long_episode = admitted(3, referred_days_ago=40)
    before_the_last_meeting = admitted(30, referred_days_ago=31)
    upcoming, _ = meeting_with_agenda(practice=world.practice_a, coordinator=coordinator)

    reasons = _reasons(upcoming)
    day = timezone.localdate(timezone.now() - dt.timedelta(days=3))
    assert reasons[long_episode] == [f"Admitted to hospital {day.day} {day:%b}"]
    assert before_the_last_meeting not in reasons


def test_open_actions_and_reviews_due_are_suggested(world, coordinator):
    earlier, (item,) = meeting_with_agenda(
        practice=world.practice_a,
        coordinator=coordinator,
        patients=[world.patient_a],
        starts_at=timezone.now() - dt.timedelta(days=28),
    )
    services.add_action(
        item=item,
        user=coordinator,
        description="Ask the pharmacist for a medication review",
        due_date=timezone.localdate() + dt.timedelta(days=3),
        owner=world.users["gp_a"],
    )
    reviewed = PatientFactory(practice=world.practice_a)
    entry = on_caseload(team=world.team_a, key_worker=world.users["cit_member_a"], patient=reviewed)
    entry.review_due = timezone.localdate()
    entry.save()
    upcoming, _ = meeting_with_agenda(practice=world.practice_a, coordinator=coordinator)
    reasons = _reasons(upcoming)
    assert any(r.startswith("Open action: Ask the pharmacist") for r in reasons[world.patient_a])
    assert any(r.startswith("Care plan review due") for r in reasons[reviewed])


def test_adding_and_reordering_survive_a_reload(world, client_for, coordinator, meeting):
    patients = [PatientFactory(practice=world.practice_a) for _ in range(3)]
    client = client_for(coordinator)
    for patient in patients:
        client.post(reverse("mdt:add_item", args=[meeting.pk]), {"patient": patient.pk, "reason": "Falls"})
    last = meeting.items.get(patient=patients[2])
    client.post(reverse("mdt:move_item", args=[meeting.pk, last.pk]), {"direction": "up"})
    client.post(reverse("mdt:move_item", args=[meeting.pk, last.pk]), {"direction": "up"})

    reloaded = client.get(reverse("mdt:meeting", args=[meeting.pk]))
    assert [item.patient for item in reloaded.context["items"]] == [patients[2], patients[0], patients[1]]
    assert [item.position for item in reloaded.context["items"]] == [1, 2, 3]

    again = client.post(reverse("mdt:add_item", args=[meeting.pk]), {"patient": patients[0].pk}, follow=True)
    assert "is already on this agenda" in again.content.decode()
    assert meeting.items.count() == 3


def test_the_database_itself_refuses_a_patient_twice_on_one_agenda(world, coordinator, meeting):
    AgendaItem.objects.create(
        meeting=meeting, patient=world.patient_a, position=1, reason="x", added_by=coordinator
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        AgendaItem.objects.create(
            meeting=meeting, patient=world.patient_a, position=2, reason="y", added_by=coordinator
        )


def test_patients_of_other_practices_cannot_be_added(world, client_for, coordinator, meeting):
    response = client_for(coordinator).post(
        reverse("mdt:add_item", args=[meeting.pk]), {"patient": world.patient_b.pk}
    )
    assert response.status_code == 404
    assert not meeting.items.exists()


def test_a_coordinator_of_another_practice_gets_404(world, client_for, meeting):
    other = UserFactory(roles=[Role.MDT_COORDINATOR], practices=[world.practice_b])
    client = client_for(other)
    assert client.get(reverse("mdt:meeting", args=[meeting.pk])).status_code == 404
    assert client.get(reverse("mdt:print", args=[meeting.pk])).status_code == 404
    assert (
        client.post(reverse("mdt:add_item", args=[meeting.pk]), {"patient": world.patient_a.pk}).status_code
        == 404
    )


@pytest.mark.parametrize("practice_size", [20, 2000])
def test_the_agenda_builder_runs_a_constant_number_of_queries(
    world, client_for, coordinator, django_assert_max_num_queries, practice_size
):
    from core.models import Patient

    patients = Patient.objects.bulk_create(
        Patient(given_name="Member", family_name=f"Practice-{n}", practice=world.practice_a)
        for n in range(practice_size)
    )
    for patient in patients[:8]:
        services.flag_for_mdt(patient=patient, user=world.users["gp_a"], reason="Frailty")
    meeting, _ = meeting_with_agenda(
        practice=world.practice_a, coordinator=coordinator, patients=patients[8:18]
    )
    client = client_for(coordinator)
    # session, user, role grants, the meeting, agenda, its actions, previous meeting, the
    # six kinds of candidate, their patients, search, savepoint, audit insert, release,
    # attendees, record, staff and team choices (shared by every form), savepoint,
    # session renewal, release
    with django_assert_max_num_queries(26):  # memberships are read once, as ids
        page = client.get(reverse("mdt:meeting", args=[meeting.pk]), {"q": "Practice-1"})
    assert page.status_code == 200
    assert len(page.context["candidates"]) == 8 and len(page.context["items"]) == 10


def test_publishing_emails_each_attendee_a_valid_invitation(world, client_for, coordinator, meeting):
    Meeting.objects.filter(pk=meeting.pk).update(
        starts_at=dt.datetime(2026, 12, 8, 13, 0, tzinfo=LONDON), video_link="https://meet.example.nhs.uk/mdt"
    )
    services.invite(meeting=meeting, user=coordinator, staff=world.users["gp_a"], organisation="practice")
    services.invite(
        meeting=meeting,
        user=coordinator,
        name="Ann Social",
        email="ann@example.gov.uk",
        organisation="social_care",
    )
    services.invite(meeting=meeting, user=coordinator, name="No Email", organisation="age_uk")
    client_for(coordinator).post(reverse("mdt:step", args=[meeting.pk, "publish"]))
    send_unsent_emails()

    invitations = sorted(mail.outbox, key=lambda m: m.to[0])
    assert [m.to for m in invitations] == [["ann@example.gov.uk"], [world.users["gp_a"].email]]
    for message in invitations:
        (name, content, mime_type) = message.attachments[0]
        assert (name, mime_type.split(";")[0]) == ("invitation.ics", "text/calendar")
        calendar = Calendar.from_ical(content)
        (event,) = calendar.walk("VEVENT")
        assert event.decoded("dtstart") == dt.datetime(2026, 12, 8, 13, 0, tzinfo=LONDON)
        assert event.decoded("dtend") - event.decoded("dtstart") == dt.timedelta(minutes=60)
        assert str(event["location"]) == "https://meet.example.nhs.uk/mdt"
        assert str(event["attendee"]) == f"mailto:{message.to[0]}"
        assert reverse("mdt:meeting", args=[meeting.pk]) in message.body
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.PUBLISHED
    assert send_unsent_emails() == {}  # each invitation once


def test_the_print_view_fits_a4_and_lists_the_agenda(world, client_for, coordinator):
    meeting, _ = meeting_with_agenda(
        practice=world.practice_a, coordinator=coordinator, patients=[world.patient_a]
    )
    page = client_for(coordinator).get(reverse("mdt:print", args=[meeting.pk])).content.decode()
    assert world.patient_a.nhs_number_display in page
    assert "css/print" in page
    from django.contrib.staticfiles import finders

    with open(finders.find("css/print.css")) as stylesheet:
        assert "size: A4" in stylesheet.read()
    assert AuditEvent.objects.filter(action=AuditAction.LIST, patient=world.patient_a).exists()


def test_the_meeting_record_discussion_and_actions_show_on_the_patient_page(world, client_for, coordinator):
    meeting, (item,) = meeting_with_agenda(
        practice=world.practice_a, coordinator=coordinator, patients=[world.patient_a]
    )
    client = client_for(coordinator)
    prefix = f"item{item.pk}"
    client.post(
        reverse("mdt:update_item", args=[meeting.pk, item.pk]),
        {f"{prefix}-discussion": "Agreed to trial a falls sensor", f"{prefix}-outcome": "continue"},
    )
    client.post(
        reverse("mdt:add_action", args=[meeting.pk, item.pk]),
        {
            f"action{item.pk}-description": "Order falls sensor",
            f"action{item.pk}-owner_team": world.team_a.pk,
            f"action{item.pk}-due_date": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        },
    )
    page = client.get(reverse("patient_detail", args=[world.patient_a.pk])).content.decode()
    assert "Agreed to trial a falls sensor" in page and "Continue on the caseload" in page
    assert "Order falls sensor" in page
    team_member = client_for(world.users["cit_member_a"]).get(reverse("mdt:my_actions"))
    assert [a.description for a in team_member.context["actions"]] == ["Order falls sensor"]


def test_an_action_without_one_owner_is_refused_beside_the_field(world, client_for, coordinator):
    meeting, (item,) = meeting_with_agenda(
        practice=world.practice_a, coordinator=coordinator, patients=[world.patient_a]
    )
    page = client_for(coordinator).post(
        reverse("mdt:add_action", args=[meeting.pk, item.pk]),
        {
            f"action{item.pk}-description": "Someone should do this",
            f"action{item.pk}-due_date": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        },
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert "Choose one owner: a person or a team." in html and "Someone should do this" in html
    assert not Action.objects.exists()


def test_closing_locks_the_minutes_and_sends_the_practice_a_summary(world, client_for, coordinator):
    world.practice_a.email = "practice.a@nhs.net"
    world.practice_a.save()
    meeting, (item,) = meeting_with_agenda(  # under way: held, then closed
        practice=world.practice_a,
        coordinator=coordinator,
        patients=[world.patient_a],
        starts_at=timezone.now() - dt.timedelta(hours=1),
    )
    client = client_for(coordinator)
    for step in ("publish", "held", "close"):
        client.post(reverse("mdt:step", args=[meeting.pk, step]))
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CLOSED
    send_unsent_emails()
    (summary,) = [m for m in mail.outbox if m.to == ["practice.a@nhs.net"]]
    assert "minutes closed" in summary.subject.lower() and world.patient_a.family_name not in summary.body

    prefix = f"item{item.pk}"
    refused = client.post(
        reverse("mdt:update_item", args=[meeting.pk, item.pk]),
        {f"{prefix}-discussion": "Changed later"},
        follow=True,
    )
    assert "give the reason for this change" in refused.content.decode()
    item.refresh_from_db()
    assert item.discussion == ""

    client.post(
        reverse("mdt:update_item", args=[meeting.pk, item.pk]),
        {f"{prefix}-discussion": "Changed later", f"{prefix}-amendment_reason": "Typo in the GP's notes"},
    )
    item.refresh_from_db()
    assert item.discussion == "Changed later"
    assert meeting.events.filter(kind=MeetingEvent.Kind.AMENDED, note="Typo in the GP's notes").exists()
    assert AuditEvent.objects.filter(detail__contains="closed minutes: Typo in the GP's notes").exists()

    someone_else = UserFactory(roles=[Role.MDT_COORDINATOR], practices=[world.practice_a])
    with pytest.raises(services.MeetingRefused, match="only the meeting's coordinator"):
        services.update_item(item=item, user=someone_else, amendment_reason="mine", discussion="x")


def test_an_overdue_action_gets_one_notice_a_day_and_none_once_done(world, coordinator):
    meeting, (item,) = meeting_with_agenda(
        practice=world.practice_a, coordinator=coordinator, patients=[world.patient_a]
    )
    owner = world.users["gp_a"]
    monday = dt.datetime(2026, 11, 23, 9, 0, tzinfo=LONDON)
    with time_machine.travel(monday - dt.timedelta(days=3), tick=False):
        action = services.add_action(
            item=item,
            user=coordinator,
            description="Chase the OT",
            due_date=dt.date(2026, 11, 22),
            owner=owner,
        )

    def sweep_at(moment):
        with time_machine.travel(moment, tick=False):
            return services.send_overdue_notices()

    assert sweep_at(monday) == 1
    assert sweep_at(monday + dt.timedelta(hours=1)) == 0  # the hourly sweep again: nothing new
    assert sweep_at(monday + dt.timedelta(hours=14)) == 0  # 23:00 the same UK day
    assert sweep_at(monday + dt.timedelta(days=1)) == 1  # the next day
    send_unsent_emails()
    notices = [m for m in mail.outbox if "Overdue MDT action" in m.subject]
    assert sorted(m.to[0] for m in notices) == sorted([owner.email, coordinator.email] * 2)

    with time_machine.travel(monday + dt.timedelta(days=1, hours=2), tick=False):
        services.set_action_status(
            action=action, user=owner, status=Action.Status.DONE, note="Referred to OT"
        )
    assert sweep_at(monday + dt.timedelta(days=2)) == 0
    assert OverdueNotice.objects.filter(action=action).count() == 2
    assert list(action.events.values_list("status", flat=True)) == ["open", "done"]


def test_a_schedule_plans_its_meetings_at_the_uk_time_across_the_clock_change(world, coordinator):
    schedule = MeetingSchedule.objects.create(
        practice=world.practice_a,
        coordinator=coordinator,
        first_date=dt.date(2027, 3, 16),  # a Tuesday in GMT; the clocks go forward on 28 March
        start_time=dt.time(13, 0),
        every_weeks=2,
    )
    with time_machine.travel(dt.datetime(2027, 3, 1, 9, 0, tzinfo=LONDON), tick=False):
        assert services.generate_meetings(schedule=schedule, until=dt.date(2027, 4, 15)) == 3
        assert services.generate_meetings(schedule=schedule, until=dt.date(2027, 4, 15)) == 0  # idempotent
    starts = [timezone.localtime(m.starts_at) for m in Meeting.objects.filter(schedule=schedule)]
    assert [(s.date(), s.hour) for s in starts] == [
        (dt.date(2027, 3, 16), 13),
        (dt.date(2027, 3, 30), 13),
        (dt.date(2027, 4, 13), 13),
    ]
    assert [s.utcoffset() for s in starts] == [dt.timedelta(0), dt.timedelta(hours=1), dt.timedelta(hours=1)]


def test_attendance_is_recorded_at_the_meeting(world, client_for, coordinator, meeting):
    here = services.invite(
        meeting=meeting, user=coordinator, staff=world.users["gp_a"], organisation="practice"
    )
    away = services.invite(meeting=meeting, user=coordinator, name="Age UK worker", organisation="age_uk")
    client_for(coordinator).post(reverse("mdt:attendance", args=[meeting.pk]), {"present": [here.pk]})
    assert dict(Attendee.objects.values_list("pk", "attended")) == {here.pk: True, away.pk: False}


def test_planning_a_meeting_in_the_past_is_refused_beside_the_field(world, client_for, coordinator):
    page = client_for(coordinator).post(
        reverse("mdt:create_meeting"),
        {
            "practice": world.practice_a.pk,
            "starts_at": "2020-01-07T13:00",
            "duration_minutes": "60",
            "place": "Room 2",
        },
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert "A new meeting cannot start in the past." in html and 'value="Room 2"' in html
    assert not Meeting.objects.exists()


def test_a_schedule_from_the_page_plans_twelve_weeks_of_meetings(world, client_for, coordinator):
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=LONDON), tick=False):
        client = client_for(coordinator)
        client.post(
            reverse("mdt:create_schedule"),
            {
                "practice": world.practice_a.pk,
                "first_date": "2026-11-24",
                "start_time": "13:00",
                "every_weeks": "4",
                "duration_minutes": "60",
                "place": "Practice",
            },
        )
        page = client.get(reverse("mdt:home"))
    assert [timezone.localtime(m.starts_at).date() for m in page.context["meetings"]] == [
        dt.date(2026, 11, 24),
        dt.date(2026, 12, 22),
        dt.date(2027, 1, 19),  # 16 February is beyond the twelve weeks
    ]


def test_beat_sends_overdue_notices_hourly_and_plans_meetings_daily(db):
    from django_celery_beat.models import PeriodicTask

    schedules = {
        entry.task: (entry.interval.every, entry.interval.period, entry.enabled)
        for entry in PeriodicTask.objects.filter(task__startswith="mdt.")
    }
    assert schedules == {
        "mdt.tasks.send_overdue_action_notices": (1, "hours", True),
        "mdt.tasks.generate_upcoming_meetings": (1, "days", True),
    }


def test_a_long_list_of_suggestions_shows_the_most_pressing_first(
    world, client_for, coordinator, monkeypatch
):
    """A big practice can have a thousand care plan reviews due: the builder shows the most
    pressing suggestions first (a flag before a new caseload entry) and the rest behind a link."""
    from mdt import views

    monkeypatch.setattr(views, "SUGGESTIONS_SHOWN", 2)
    meeting, _ = meeting_with_agenda(practice=world.practice_a, coordinator=coordinator, patients=[])
    for n in range(3):  # Aaa-0..2: new to the caseload since the last meeting
        on_caseload(
            team=world.team_a,
            key_worker=world.users["cit_member_a"],
            patient=PatientFactory(family_name=f"Aaa-{n}", practice=world.practice_a),
        )
    flagged = PatientFactory(family_name="Zed", practice=world.practice_a)
    services.flag_for_mdt(patient=flagged, user=world.users["gp_a"], reason="Falls")
    client = client_for(coordinator)

    page = client.get(reverse("mdt:meeting", args=[meeting.pk]))
    shown = [candidate.patient for candidate in page.context["candidates"]]
    assert page.context["suggested"] == 4 and len(shown) == 2
    assert shown[0] == flagged and shown[1].family_name == "Aaa-0"  # by name after the flag
    assert "The 2 most pressing of 4 suggestions" in page.content.decode()

    everything = client.get(reverse("mdt:meeting", args=[meeting.pk]), {"suggestions": "all"})
    assert [c.patient.family_name for c in everything.context["candidates"]] == [
        "Zed",
        "Aaa-0",
        "Aaa-1",
        "Aaa-2",
    ]
    assert "most pressing" not in everything.content.decode()


def test_staff_lists_name_each_person_with_their_discipline_and_keep_who_was_chosen(
    world, client_for, coordinator
):
    meeting, (item,) = meeting_with_agenda(
        practice=world.practice_a, coordinator=coordinator, patients=[world.patient_a]
    )
    nurse = UserFactory(
        first_name="Ann <Marie>", last_name="O'Neil", discipline="district_nurse", roles=[Role.CIT_MEMBER]
    )
    retired = UserFactory(first_name="Gone", last_name="Away", roles=[Role.CIT_MEMBER], is_active=False)
    client = client_for(coordinator)
    url = reverse("mdt:meeting", args=[meeting.pk])

    page = client.get(url).content.decode()
    option = f'<option value="{nurse.pk}">Ann &lt;Marie&gt; O&#x27;Neil (District nurse)</option>'
    assert page.count(option) == 3  # presenter, action owner and invitation
    assert f'value="{retired.pk}"' not in page

    update = reverse("mdt:update_item", args=[meeting.pk, item.pk])
    client.post(update, {f"item{item.pk}-presenter": nurse.pk, f"item{item.pk}-outcome": "continue"})
    assert AgendaItem.objects.get(pk=item.pk).presenter == nurse
    page = client.get(url).content.decode()
    assert f'<option value="{nurse.pk}" selected>' in page  # the item's presenter

    refused = client.post(update, {f"item{item.pk}-presenter": retired.pk})
    assert refused.status_code == 400
    assert "Select a valid choice" in refused.content.decode()
    assert AgendaItem.objects.get(pk=item.pk).presenter == nurse


def test_closing_says_plainly_when_no_summary_could_be_sent(world, client_for, coordinator):
    world.practice_a.email = ""
    world.practice_a.save()
    meeting, _ = meeting_with_agenda(
        practice=world.practice_a,
        coordinator=coordinator,
        patients=[world.patient_a],
        starts_at=timezone.now() - dt.timedelta(hours=1),
    )
    client = client_for(coordinator)
    for step in ("publish", "held"):
        client.post(reverse("mdt:step", args=[meeting.pk, step]))
    page = client.post(reverse("mdt:step", args=[meeting.pk, "close"]), follow=True).content.decode()
    assert f"no summary was sent: {world.practice_a.name} has no email address" in page
    assert "being emailed" not in page
    send_unsent_emails()
    assert not [m for m in mail.outbox if "MDT minutes closed" in m.subject]


def test_a_meeting_is_held_only_once_it_has_started(world, client_for, coordinator):
    meeting, _ = meeting_with_agenda(practice=world.practice_a, coordinator=coordinator, patients=[])
    client = client_for(coordinator)
    client.post(reverse("mdt:step", args=[meeting.pk, "publish"]))
    page = client.post(reverse("mdt:step", args=[meeting.pk, "held"]), follow=True).content.decode()
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.PUBLISHED
    assert "it can be recorded as held once it has started" in page


def test_closed_minutes_offer_no_moving_or_removing(world, client_for, coordinator):
    meeting, (item,) = meeting_with_agenda(
        practice=world.practice_a,
        coordinator=coordinator,
        patients=[world.patient_a],
        starts_at=timezone.now() - dt.timedelta(hours=1),
    )
    client = client_for(coordinator)
    remove = reverse("mdt:remove_item", args=[meeting.pk, item.pk])
    assert remove in client.get(meeting.get_absolute_url()).content.decode()
    for step in ("publish", "held", "close"):
        client.post(reverse("mdt:step", args=[meeting.pk, step]))
    page = client.get(meeting.get_absolute_url()).content.decode()
    assert remove not in page and reverse("mdt:move_item", args=[meeting.pk, item.pk]) not in page


def test_the_printout_is_the_agenda_before_the_meeting_and_the_minutes_after(world, client_for, coordinator):
    """On screen the printout has a way back and a Print button (hidden on paper); once the
    meeting is held it prints the minutes: each person's discussion, outcome and actions."""
    meeting, (item,) = meeting_with_agenda(
        practice=world.practice_a, coordinator=coordinator, patients=[world.patient_a]
    )
    client = client_for(coordinator)
    agenda = client.get(reverse("mdt:print", args=[meeting.pk])).content.decode()
    assert "<h1>MDT agenda:" in agenda and "Discussion:" not in agenda
    assert f'<a href="{meeting.get_absolute_url()}">Back to the meeting</a>' in agenda
    assert '<button type="button" data-print>Print</button>' in agenda and "js/print" in agenda

    prefix = f"item{item.pk}"
    client.post(
        reverse("mdt:update_item", args=[meeting.pk, item.pk]),
        {f"{prefix}-discussion": "Agreed to trial a falls sensor", f"{prefix}-outcome": "continue"},
    )
    client.post(
        reverse("mdt:add_action", args=[meeting.pk, item.pk]),
        {
            f"action{item.pk}-description": "Order falls sensor",
            f"action{item.pk}-owner_team": world.team_a.pk,
            f"action{item.pk}-due_date": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        },
    )
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.HELD)

    minutes = client.get(reverse("mdt:print", args=[meeting.pk])).content.decode()
    assert "<h1>MDT minutes:" in minutes
    assert "Agreed to trial a falls sensor" in minutes and "Continue on the caseload" in minutes
    assert "Order falls sensor" in minutes
    assert "Print minutes" in client.get(meeting.get_absolute_url()).content.decode()
