"""MDT business rules: flags, schedules, agendas, meetings, minutes and actions.

A meeting moves planned → agenda published → held → minutes closed, each step a
conditional update. Once the minutes are closed the record is locked: only the meeting's
coordinator may change it, giving a reason that goes on the meeting's record and the
audit trail.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Case, Max, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from icalendar import Calendar, Event, vCalAddress, vText

from core import time_bounds
from core.models import Patient, Team, User
from core.notifications import portal_link, queue_email
from mdt.models import (
    Action,
    ActionEvent,
    AgendaItem,
    Attendee,
    MdtFlag,
    Meeting,
    MeetingEvent,
    MeetingSchedule,
    OverdueNotice,
)
from mdt.signals import minutes_closed
from teams.models import CaseloadEntry, CaseloadEvent

LONDON = ZoneInfo("Europe/London")


class FlagRefused(Exception):
    """The person is already flagged; the message says by whom and why."""


class MeetingRefused(Exception):
    """The change cannot be made to this meeting now; the message says why."""


# --- Flags -------------------------------------------------------------------------


def open_flag(*, patient: Patient) -> MdtFlag | None:
    return (
        MdtFlag.objects.filter(patient=patient, cleared_at__isnull=True).select_related("flagged_by").first()
    )


def flag_for_mdt(*, patient: Patient, user: User, reason: str, team: Team | None = None) -> MdtFlag:
    """Ask for the person to be discussed at their practice's next MDT. One open flag per
    person (a database constraint): a second asks nothing new and is refused with the first."""
    reason = reason.strip()
    if not reason:
        raise FlagRefused("Say why the person should be discussed.")
    try:
        with transaction.atomic():
            flag = MdtFlag.objects.create(patient=patient, reason=reason, flagged_by=user, team=team)
            CaseloadEvent.objects.bulk_create(
                CaseloadEvent(entry=entry, kind=CaseloadEvent.Kind.FLAGGED, user=user, note=reason)
                for entry in CaseloadEntry.objects.filter(patient=patient, closed_at__isnull=True)
            )
            return flag
    except IntegrityError:
        existing = open_flag(patient=patient)
        when = date_format(timezone.localtime(existing.flagged_at), "j M Y") if existing else "just now"
        who = existing.flagged_by if existing else "a colleague"
        raise FlagRefused(f"Already flagged for the MDT by {who} on {when}.") from None


# --- Schedules and meetings ---------------------------------------------------------


def _uk_moment(day: date, at) -> datetime:
    """A UK wall-clock time on a day, as an instant (13:00 is 13:00 in summer and winter)."""
    return datetime.combine(day, at, tzinfo=LONDON)


def generate_meetings(*, schedule: MeetingSchedule, until: date) -> int:
    """Create the schedule's meetings from today up to `until`. Safe to run again: a
    meeting that exists (or was moved by hand) is not made twice. Returns how many are new."""
    today = timezone.localdate()
    day, step = schedule.first_date, timedelta(weeks=schedule.every_weeks)
    if day < today:
        day += step * ((today - day).days // step.days)
    planned = []
    while day <= until:
        if day >= today:
            planned.append(
                Meeting(
                    practice=schedule.practice,
                    schedule=schedule,
                    starts_at=_uk_moment(day, schedule.start_time),
                    duration_minutes=schedule.duration_minutes,
                    place=schedule.place,
                    video_link=schedule.video_link,
                    coordinator=schedule.coordinator,
                )
            )
        day += step
    already = set(
        Meeting.objects.filter(schedule=schedule, starts_at__in=[m.starts_at for m in planned]).values_list(
            "starts_at", flat=True
        )
    )
    new = [meeting for meeting in planned if meeting.starts_at not in already]
    Meeting.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def generate_upcoming_meetings(*, weeks_ahead: int = 12) -> int:
    until = timezone.localdate() + timedelta(weeks=weeks_ahead)
    return sum(
        generate_meetings(schedule=schedule, until=until)
        for schedule in MeetingSchedule.objects.filter(active=True).select_related("practice")
    )


def _lock(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().select_related("practice", "coordinator").get(pk=meeting.pk)


def _check_editable(meeting: Meeting, user: User, amendment_reason: str) -> None:
    """Changes to a closed meeting: its coordinator only, with a reason that is kept."""
    if not meeting.is_closed:
        return
    if user.pk != meeting.coordinator_id:
        raise MeetingRefused("The minutes are closed: only the meeting's coordinator can change them.")
    if not amendment_reason.strip():
        raise MeetingRefused("The minutes are closed: give the reason for this change.")
    MeetingEvent.objects.create(
        meeting=meeting, kind=MeetingEvent.Kind.AMENDED, user=user, note=amendment_reason.strip()[:500]
    )


def _move(meeting: Meeting, user: User, *, from_status: str, to_status: str, event: str, **fields) -> Meeting:
    now = timezone.now()
    if not Meeting.objects.filter(pk=meeting.pk, status=from_status).update(status=to_status, **fields):
        current = Meeting.objects.get(pk=meeting.pk)
        raise MeetingRefused(f"The meeting is {current.get_status_display().lower()} already.")
    MeetingEvent.objects.create(meeting=meeting, kind=event, user=user, at=now)
    meeting.refresh_from_db()
    return meeting


# --- The agenda ----------------------------------------------------------------------


@transaction.atomic
def add_to_agenda(
    *, meeting: Meeting, patient: Patient, user: User, reason: str, amendment_reason: str = ""
) -> AgendaItem:
    meeting = _lock(meeting)  # positions are handed out one at a time
    _check_editable(meeting, user, amendment_reason)
    if patient.practice_id != meeting.practice_id or patient.merged_into_id:
        raise MeetingRefused(f"{patient} is not a patient of {meeting.practice.name}.")
    position = (meeting.items.aggregate(last=Max("position"))["last"] or 0) + 1
    try:
        with transaction.atomic():
            return AgendaItem.objects.create(
                meeting=meeting,
                patient=patient,
                position=position,
                reason=reason.strip()[:500],
                added_by=user,
            )
    except IntegrityError:
        raise MeetingRefused(f"{patient} is already on this agenda.") from None


def _renumber(meeting: Meeting) -> None:
    items = list(meeting.items.order_by("position", "pk"))
    for number, item in enumerate(items, start=1):
        item.position = number
    AgendaItem.objects.bulk_update(items, ["position"])


@transaction.atomic
def remove_from_agenda(*, item: AgendaItem, user: User, amendment_reason: str = "") -> None:
    meeting = _lock(item.meeting)
    _check_editable(meeting, user, amendment_reason)
    if item.actions.exists():
        raise MeetingRefused(f"{item.patient} has actions from this meeting: close or cancel them instead.")
    item.delete()
    _renumber(meeting)


@transaction.atomic
def move_item(*, item: AgendaItem, user: User, steps: int, amendment_reason: str = "") -> None:
    """Move an item up (negative) or down the agenda; the others close ranks."""
    meeting = _lock(item.meeting)
    _check_editable(meeting, user, amendment_reason)
    items = list(meeting.items.order_by("position", "pk"))
    index = next(i for i, other in enumerate(items) if other.pk == item.pk)
    target = min(max(index + steps, 0), len(items) - 1)
    items.insert(target, items.pop(index))
    for number, other in enumerate(items, start=1):
        other.position = number
    AgendaItem.objects.bulk_update(items, ["position"])


@transaction.atomic
def update_item(*, item: AgendaItem, user: User, amendment_reason: str = "", **fields) -> AgendaItem:
    """Presenter and clinical question before; discussion and outcome during or after."""
    meeting = _lock(item.meeting)
    _check_editable(meeting, user, amendment_reason)
    allowed = {"presenter", "clinical_question", "discussion", "outcome"}
    for name, value in fields.items():
        if name not in allowed:
            raise TypeError(name)
        setattr(item, name, value)
    item.save(update_fields=list(fields))
    return item


# --- Attendees -----------------------------------------------------------------------


@transaction.atomic
def invite(
    *,
    meeting: Meeting,
    user: User,
    organisation: str,
    staff: User | None = None,
    name: str = "",
    email: str = "",
) -> Attendee:
    meeting = _lock(meeting)
    _check_editable(meeting, user, "invitation" if meeting.is_closed else "")
    if staff is not None:
        name, email = name or staff.get_full_name() or staff.username, email or staff.email
    if not name.strip():
        raise MeetingRefused("Give the attendee's name.")
    try:
        with transaction.atomic():
            return Attendee.objects.create(
                meeting=meeting, user=staff, name=name.strip(), email=email.strip(), organisation=organisation
            )
    except IntegrityError:
        raise MeetingRefused(f"{name} is already invited.") from None


@transaction.atomic
def record_attendance(*, meeting: Meeting, user: User, present: set[int], amendment_reason: str = "") -> None:
    meeting = _lock(meeting)
    _check_editable(meeting, user, amendment_reason)
    meeting.attendees.update(attended=Case(When(pk__in=present, then=Value(True)), default=Value(False)))


# --- Publishing, holding, closing ------------------------------------------------------


def invitation(meeting: Meeting, attendee: Attendee | None = None) -> str:
    """The meeting as an iCalendar invitation (RFC 5545), for calendars to accept."""
    calendar = Calendar()
    calendar.add("prodid", "-//All Together Better Sunderland//ATB Portal//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", f"mdt-meeting-{meeting.pk}@atb-portal")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.ends_at)
    event.add("summary", f"MDT: {meeting.practice.name}")
    event.add("location", meeting.video_link or meeting.place or meeting.practice.name)
    link = portal_link(reverse("mdt:meeting", args=[meeting.pk]))
    event.add("description", f"Agenda in the ATB Portal: {link}")
    event.add("url", link)
    if meeting.coordinator.email:
        organizer = vCalAddress(f"mailto:{meeting.coordinator.email}")
        organizer.params["cn"] = vText(meeting.coordinator.get_full_name() or meeting.coordinator.username)
        event.add("organizer", organizer)
    if attendee is not None and attendee.email:
        guest = vCalAddress(f"mailto:{attendee.email}")
        guest.params["cn"] = vText(attendee.name)
        guest.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", guest, encode=0)
    calendar.add_component(event)
    return calendar.to_ical().decode()


@transaction.atomic
def publish_agenda(*, meeting: Meeting, user: User) -> int:
    """Publish, and invite every attendee with an email address (an .ics and a link; no
    patient details by email). Returns how many invitations were queued."""
    meeting = _move(
        _lock(meeting),
        user,
        from_status=Meeting.Status.PLANNED,
        to_status=Meeting.Status.PUBLISHED,
        event=MeetingEvent.Kind.PUBLISHED,
        published_at=timezone.now(),
    )
    when = date_format(timezone.localtime(meeting.starts_at), "l j F Y, H:i")
    link = portal_link(reverse("mdt:meeting", args=[meeting.pk]))
    queued = 0
    for attendee in meeting.attendees.exclude(email=""):
        queue_email(
            key=f"mdt-{meeting.pk}-invitation-{attendee.pk}",
            to=attendee.email,
            subject=f"MDT invitation: {meeting.practice.name}, {when}",
            body=(
                f"You are invited to the multi-disciplinary team meeting of {meeting.practice.name} "
                f"on {when} ({meeting.video_link or meeting.place or 'place to be confirmed'}).\n\n"
                f"The agenda ({meeting.items.count()} people) is in the ATB Portal: {link}\n"
                "(No patient details are sent by email.)"
            ),
            attachment=("invitation.ics", "text/calendar; method=REQUEST", invitation(meeting, attendee)),
        )
        queued += 1
    return queued


@transaction.atomic
def mark_held(*, meeting: Meeting, user: User) -> Meeting:
    if problem := time_bounds.meeting_started_problem(
        meeting.starts_at, now=timezone.now(), step="recorded as held"
    ):
        raise MeetingRefused(problem)
    return _move(
        _lock(meeting),
        user,
        from_status=Meeting.Status.PUBLISHED,
        to_status=Meeting.Status.HELD,
        event=MeetingEvent.Kind.HELD,
    )


def sends_minutes_summary(meeting: Meeting) -> bool:
    """Whether closing the minutes emails the practice a summary: when it has an address."""
    return bool(meeting.practice.email)


@transaction.atomic
def close_minutes(*, meeting: Meeting, user: User) -> Meeting:
    """Lock the record and send the practice a summary (figures and a link only)."""
    now = timezone.now()
    meeting = _move(
        _lock(meeting),
        user,
        from_status=Meeting.Status.HELD,
        to_status=Meeting.Status.CLOSED,
        event=MeetingEvent.Kind.CLOSED,
        closed_at=now,
        closed_by=user,
    )
    minutes_closed.send(sender=Meeting, meeting=meeting)
    if sends_minutes_summary(meeting):
        discussed = meeting.items.exclude(discussion="").count()
        actions = Action.objects.filter(item__meeting=meeting).count()
        when = date_format(timezone.localtime(meeting.starts_at), "j F Y")
        queue_email(
            key=f"mdt-{meeting.pk}-minutes",
            to=meeting.practice.email,
            subject=f"MDT minutes closed: {meeting.practice.name}, {when}",
            body=(
                f"The minutes of the MDT held on {when} are closed: {discussed} people discussed, "
                f"{actions} actions agreed.\n\nRead them in the ATB Portal: "
                f"{portal_link(reverse('mdt:meeting', args=[meeting.pk]))}\n"
                "(No patient details are sent by email.)"
            ),
        )
    return meeting


# --- Actions -------------------------------------------------------------------------


@transaction.atomic
def add_action(
    *,
    item: AgendaItem,
    user: User,
    description: str,
    due_date: date,
    owner: User | None = None,
    owner_team: Team | None = None,
    amendment_reason: str = "",
) -> Action:
    _check_editable(_lock(item.meeting), user, amendment_reason)
    if (owner is None) == (owner_team is None):
        raise MeetingRefused("Give the action one owner: a person or a team.")
    if problem := time_bounds.plan_date_problem(due_date, today=timezone.localdate(), what="due date"):
        raise MeetingRefused(problem)
    action = Action.objects.create(
        item=item,
        description=description.strip(),
        due_date=due_date,
        owner=owner,
        owner_team=owner_team,
        created_by=user,
    )
    ActionEvent.objects.create(action=action, user=user, status=Action.Status.OPEN, note="Agreed at the MDT")
    return action


@transaction.atomic
def set_action_status(*, action: Action, user: User, status: str, note: str = "") -> Action:
    """Done, cancelled or reopened: every change stays in the action's history. (Owners
    close their actions after the minutes are closed: that is the point of them.)"""
    action = Action.objects.select_for_update().get(pk=action.pk)
    if action.status == status:
        raise MeetingRefused(f"The action is {action.get_status_display().lower()} already.")
    action.status = status
    action.save(update_fields=["status"])
    ActionEvent.objects.create(action=action, user=user, status=status, note=note.strip()[:500])
    return action


def _action_recipients(action: Action) -> list[str]:
    owners = [action.owner.email] if action.owner_id else []
    if action.owner_team_id:
        team = action.owner_team
        owners = (
            [team.email]
            if team.email
            else list(team.members.filter(is_active=True).exclude(email="").values_list("email", flat=True))
        )
    coordinator = action.item.meeting.coordinator.email
    return sorted({email for email in [*owners, coordinator] if email})


def send_overdue_notices(*, today: date | None = None) -> int:
    """Once a day per overdue open action (however often this runs): a notice row, unique
    per action and day, then an email to the owner and the meeting's coordinator."""
    today = today or timezone.localdate()
    overdue = Action.objects.filter(status=Action.Status.OPEN, due_date__lt=today).values_list(
        "pk", flat=True
    )
    OverdueNotice.objects.bulk_create(
        [OverdueNotice(action_id=pk, for_date=today) for pk in overdue], ignore_conflicts=True
    )
    sent = 0
    notices = (
        OverdueNotice.objects.filter(for_date=today, notified_at__isnull=True)
        .select_related(
            "action__item__meeting__practice", "action__item__meeting__coordinator", "action__owner"
        )
        .select_related("action__owner_team")
    )
    for notice in notices:
        with transaction.atomic():
            if not OverdueNotice.objects.filter(pk=notice.pk, notified_at__isnull=True).update(
                notified_at=timezone.now()
            ):
                continue  # another sweep took it
            action = notice.action
            meeting = action.item.meeting
            for address in _action_recipients(action):
                queue_email(
                    key=f"mdt-action-{action.pk}-overdue-{today:%Y%m%d}-{address}",
                    to=address,
                    subject=f"Overdue MDT action ({meeting.practice.name}): due {action.due_date:%d %b %Y}",
                    body=(
                        f"An action agreed at the MDT of {meeting.practice.name} on "
                        f"{date_format(timezone.localtime(meeting.starts_at), 'j F Y')} is overdue "
                        f"(owner: {action.owner_display}).\n\nSee it in the ATB Portal: "
                        f"{portal_link(reverse('mdt:my_actions'))}\n(No patient details are sent by email.)"
                    ),
                )
            sent += 1
    return sent
