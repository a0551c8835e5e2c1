"""The care that follows the urgent response: short-term care at home.

"Remained at home with short-term care" opens a care episode instead of closing the
referral: visits planned over days or weeks (a time window, the tasks, who goes), each
recorded as done, missed (with the reason) or moved to another time; then a review and
the discharge (to the Community Integrated Team, to social care, or to no further
service), which closes the referral and says how long the care lasted. A visit missed,
or still unrecorded `MISSED_AFTER` its window, raises one alert to the coordinators on
duty through the alert sweep (`recovery_at_home.alerts`).

Pages, the API and the demo all act through these functions (the referral page's
actions go through `services.act_on_clock`, which audits them).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format

from core.models import Role, User
from recovery_at_home.handover import hand_to_cit
from recovery_at_home.models import CareDischarge, CareEpisode, Episode, PlannedVisit
from recovery_at_home.refusals import ClockRefused, NotYoursToDo
from referrals import services as referral_services
from referrals.models import OPEN_STATUSES, Referral, ReferralEvent, Status

# A visit not recorded this long after its window ends counts as missed: the coordinator
# is alerted (time for the responder to write it up first).
MISSED_AFTER = timedelta(minutes=30)
LONGEST_WINDOW = timedelta(hours=12)


def _local(moment: datetime) -> str:
    """ "Tue 8 Dec 2026 14:00": for the timeline's notes, read on later days and years."""
    return date_format(timezone.localtime(moment), "D j M Y H:i")


def open_care_episode(*, episode: Episode, user: User, planned_end_date: date) -> CareEpisode:
    """Start the short-term care (the outcome "remained at home"): the referral moves on to
    work in progress and stays open until the discharge."""
    care = CareEpisode.objects.create(
        episode=episode, started_at=timezone.now(), planned_end_date=planned_end_date
    )
    referral = Referral.objects.get(pk=episode.referral_id)  # as the outcome's acceptance left it
    if referral.status == Status.ACCEPTED:
        referral_services.start_referral(referral=referral, user=user)
    ReferralEvent.objects.create(
        referral=referral,
        kind=ReferralEvent.Kind.OUTCOME,
        user=user,
        note=f"Remained at home with short-term care, planned until {date_format(planned_end_date, 'j M Y')}",
    )
    return care


def _open_care(referral: Referral) -> CareEpisode:
    """The referral's care episode, locked, while it runs."""
    care = CareEpisode.objects.select_for_update().filter(episode__referral=referral).first()
    if care is None:
        raise ClockRefused("This referral has no short-term care.")
    if not care.is_open:
        raise ClockRefused(f"The short-term care ended on {_local(care.discharged_at)}.")
    if not Referral.objects.filter(pk=referral.pk, status__in=OPEN_STATUSES).exists():
        raise ClockRefused("The referral is closed.")
    return care


def _rah_staff(user: User) -> None:
    if not user.has_role(Role.RAH_COORDINATOR, Role.RAH_RESPONDER):
        raise NotYoursToDo("Only Recovery at Home staff plan and record care visits.")


@transaction.atomic
def plan_visit(
    *,
    referral: Referral,
    user: User,
    responder: User,
    window_start: datetime,
    window_end: datetime,
    tasks: str,
) -> PlannedVisit:
    """Plan one visit of the care: who goes, between when, to do what."""
    _rah_staff(user)
    care = _open_care(referral)
    if not responder.is_active or not responder.has_role(Role.RAH_RESPONDER):
        raise ClockRefused(f"{responder} is not a Recovery at Home responder.", field="responder")
    if window_end <= window_start:
        raise ClockRefused("The visit's window must end after it starts.", field="window_end")
    if window_end - window_start > LONGEST_WINDOW:
        raise ClockRefused("A visit's window is at most 12 hours: check the times.", field="window_end")
    now = timezone.now()
    if window_end <= now:
        raise ClockRefused("That time has passed: plan a visit that is still to come.", field="window_end")
    tasks = tasks.strip()
    if not tasks:
        raise ClockRefused("Say what the visit is for.", field="tasks")
    visit = PlannedVisit.objects.create(
        care=care,
        responder=responder,
        window_start=window_start,
        window_end=window_end,
        tasks=tasks,
        planned_by=user,
        planned_at=now,
    )
    ReferralEvent.objects.create(
        referral=referral,
        kind=ReferralEvent.Kind.VISIT_PLANNED,
        user=user,
        note=f"{_local(window_start)} to {timezone.localtime(window_end):%H:%M}, {responder}: {tasks}",
    )
    return visit


class VisitOutcome:
    DONE = PlannedVisit.State.DONE
    MISSED = PlannedVisit.State.MISSED
    RESCHEDULED = PlannedVisit.State.RESCHEDULED
    CHOICES = [
        (DONE, "Done"),
        (MISSED, "Missed (say why)"),
        (RESCHEDULED, "Moved to another time"),
    ]


@transaction.atomic
def record_visit(
    *,
    referral: Referral,
    user: User,
    visit: PlannedVisit,
    outcome: str,
    note: str = "",
    new_start: datetime | None = None,
    new_end: datetime | None = None,
) -> PlannedVisit:
    """Record a planned visit as done, missed (with the reason) or moved (a new visit in
    its place, at the new time, for the same person). Of two people recording the same
    visit at once, the first wins and the other is told what it became."""
    _rah_staff(user)
    care = _open_care(referral)
    if visit.care_id != care.pk:
        raise ClockRefused("That visit is not part of this person's care.", field="visit")
    if not (user.has_role(Role.RAH_COORDINATOR) or visit.responder_id == user.pk):
        raise NotYoursToDo("Only the responder on the visit, or a coordinator, records it.")
    state = PlannedVisit.objects.values_list("state", flat=True).get(pk=visit.pk)
    if state != PlannedVisit.State.PLANNED:
        raise ClockRefused(f"This visit was already recorded: {PlannedVisit.State(state).label.lower()}.")
    note = note.strip()
    if outcome not in dict(VisitOutcome.CHOICES):
        raise ClockRefused("Choose what happened.", field="outcome")
    if outcome == VisitOutcome.MISSED and not note:
        raise ClockRefused("Say why the visit was missed.", field="note")
    now = timezone.now()
    if outcome == VisitOutcome.DONE and visit.window_start > now + timedelta(hours=1):
        raise ClockRefused("The visit's window has not begun: it cannot be done yet.", field="outcome")
    if outcome == VisitOutcome.RESCHEDULED and (new_start is None or new_end is None):
        raise ClockRefused("Give the new time of the visit.", field="new_start")
    changed = PlannedVisit.objects.filter(pk=visit.pk, state=PlannedVisit.State.PLANNED).update(
        state=outcome, recorded_at=now, recorded_by=user, note=note
    )
    if not changed:
        current = PlannedVisit.objects.get(pk=visit.pk)
        raise ClockRefused(f"This visit was already recorded: {current.get_state_display().lower()}.")
    if outcome == VisitOutcome.RESCHEDULED:
        # Planned once this one is marked moved, so that the new visit is known, as it is
        # planned, to replace it (the person is told of a change, not of a new visit).
        try:
            moved_to = plan_visit(
                referral=referral,
                user=user,
                responder=visit.responder,
                window_start=new_start,
                window_end=new_end,
                tasks=visit.tasks,
            )
        except ClockRefused as refused:  # said beside the new time's own fields
            field = {"window_start": "new_start", "window_end": "new_end"}.get(refused.field, refused.field)
            raise ClockRefused(str(refused), field=field) from None
        PlannedVisit.objects.filter(pk=visit.pk).update(rescheduled_as=moved_to)
    visit.refresh_from_db()
    said = {
        VisitOutcome.DONE: "done",
        VisitOutcome.MISSED: f"missed: {note}",
        VisitOutcome.RESCHEDULED: f"moved to {_local(new_start) if new_start else ''}. {note}".strip(),
    }[outcome]
    ReferralEvent.objects.create(
        referral=referral,
        kind=ReferralEvent.Kind.VISIT_RECORDED,
        user=user,
        note=f"Visit of {_local(visit.window_start)} ({visit.responder}) {said}",
    )
    return visit


@transaction.atomic
def discharge_from_care(*, referral: Referral, user: User, discharged_to: str, note: str = "") -> CareEpisode:
    """The review's decision: discharge to the team, to social care or to no further
    service. Visits still planned are cancelled; the referral closes, saying how long the
    care lasted; to the team, the team's referral is made."""
    if not user.has_role(Role.RAH_COORDINATOR):
        raise NotYoursToDo("Only a Recovery at Home coordinator discharges from short-term care.")
    care = _open_care(referral)
    if discharged_to not in CareDischarge.values:
        raise ClockRefused("Choose where the person goes on to.", field="discharged_to")
    note = note.strip()
    now = timezone.now()
    if discharged_to == CareDischarge.CIT:
        care.handover_referral = hand_to_cit(referral=referral, user=user, note=note)
    care.visits.filter(state=PlannedVisit.State.PLANNED).update(
        state=PlannedVisit.State.CANCELLED, recorded_at=now, recorded_by=user
    )
    care.discharged_at, care.discharged_to, care.discharged_by = now, discharged_to, user
    care.discharge_note = note
    care.save(
        update_fields=[
            "discharged_at",
            "discharged_to",
            "discharged_by",
            "discharge_note",
            "handover_referral",
        ]
    )
    days = care.length_days()
    where = CareDischarge(discharged_to).label.lower()
    ReferralEvent.objects.create(
        referral=referral,
        kind=ReferralEvent.Kind.CARE_DISCHARGED,
        user=user,
        note=f"After {days} day{'s' if days != 1 else ''} of short-term care, {where}. {note}".strip(),
    )
    referral_services.close_referral(
        referral=referral,
        user=user,
        outcome=f"Remained at home with short-term care ({days} day{'s' if days != 1 else ''}), then {where}",
    )
    return care


# --- Reading the care ------------------------------------------------------------------


def visits_missed(*, now: datetime) -> QuerySet[PlannedVisit]:
    """Visits of running care that count as missed: recorded so, or still unrecorded
    `MISSED_AFTER` their window (the sweep raises one alert for each)."""
    return PlannedVisit.objects.filter(care__discharged_at__isnull=True).filter(
        Q(state=PlannedVisit.State.MISSED)
        | Q(state=PlannedVisit.State.PLANNED, window_end__lt=now - MISSED_AFTER)
    )


def missed_since(visit_end: datetime) -> datetime:
    """When an unrecorded visit became missed (what a late alert is measured from)."""
    return visit_end + MISSED_AFTER
