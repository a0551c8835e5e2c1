"""The response clock's rules: open, triage, agree a later time, record arrival.

The clock starts when the referral was received (not when it was triaged) and stops at
the first face-to-face contact. Times are UTC instants, so a window across a clock
change is that many real minutes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from core import time_bounds
from core.audit import record_event
from core.models import AuditAction, BedUnit, Role, User
from recovery_at_home import care, clock, reach
from recovery_at_home.handover import hand_to_cit
from recovery_at_home.models import BedStay, Dispatch, Episode, Outcome, TriageCategory
from recovery_at_home.refusals import ClockRefused, NotYoursToDo
from referrals import services as referral_services
from referrals.models import OPEN_STATUSES, Referral, ReferralEvent, Status

# Until a coordinator triages it, a referral is due within the 2-hour standard.
PROVISIONAL_CATEGORY = "urgent"
PROVISIONAL_MINUTES = 120
# An arrival recorded more than this after it happened needs a reason.
LATE_RECORDING = timedelta(minutes=15)


def _not_open(referral: Referral) -> ClockRefused:
    """The refusal of a change to a referral that is no longer open, saying what it is."""
    return ClockRefused(f"The referral is {referral.get_status_display().lower()}.")


def _local(moment: datetime) -> str:
    """ "1 Dec 2026 07:00": for the timeline's notes and messages, kept and read on later
    days, so always with the date and year."""
    return date_format(timezone.localtime(moment), "j M Y H:i")


def open_episode(*, referral: Referral) -> Episode:
    """Start the clock for a referral that has reached Recovery at Home."""
    provisional = TriageCategory.objects.filter(code=PROVISIONAL_CATEGORY).first()
    minutes = provisional.response_minutes if provisional else PROVISIONAL_MINUTES
    episode, _ = Episode.objects.get_or_create(
        referral=referral,
        defaults={
            "window_minutes": minutes,
            "response_due_at": referral.received_at + timedelta(minutes=minutes),
            "queue_open": referral.is_open,
        },
    )
    return episode


def _running_episode(referral: Referral) -> Episode:
    episode = Episode.objects.select_for_update().select_related("referral").get(referral=referral)
    if episode.referral.status not in OPEN_STATUSES:
        raise _not_open(episode.referral)
    if not episode.clock_running:
        raise ClockRefused(f"The clock stopped at {_local(episode.arrived_at)}, when the person was reached.")
    return episode


def _move_referral(referral: Referral, user: User, *, from_status: str, move) -> None:
    """Triage accepts the referral for the service; the first arrival starts the work.
    If a colleague moved it a moment earlier, that is the same outcome."""
    if Referral.objects.filter(pk=referral.pk, status=from_status).exists():
        try:
            move(referral=referral, user=user)
        except referral_services.TransitionRefused:
            pass


@transaction.atomic
def triage_referral(*, referral: Referral, category: TriageCategory, user: User) -> Episode:
    """Set the category and so the window, counted from when the referral was received."""
    episode = _running_episode(referral)
    episode.category = category
    episode.window_minutes = category.response_minutes
    if not episode.agreed_later:
        episode.response_due_at = episode.referral.received_at + timedelta(minutes=category.response_minutes)
    episode.triaged_at = timezone.now()
    episode.triaged_by = user
    episode.save()
    _move_referral(referral, user, from_status=Status.RECEIVED, move=referral_services.accept_referral)
    ReferralEvent.objects.create(
        referral=referral,
        kind=ReferralEvent.Kind.TRIAGED,
        user=user,
        note=f"{category}: due {_local(episode.response_due_at)}",
    )
    return episode


@transaction.atomic
def agree_later_time(*, referral: Referral, user: User, due_at: datetime, reason: str) -> Episode:
    """The person or their carer asked for a later visit: the due time moves, and the
    response is reported apart from the 2-hour standard."""
    reason = reason.strip()
    if not reason:
        raise ClockRefused("Say why a later time was agreed.", field="reason")
    episode = _running_episode(referral)
    if problem := time_bounds.agreed_later_problem(
        due_at, now=timezone.now(), received_at=episode.referral.received_at
    ):
        raise ClockRefused(problem, field="due_at")
    episode.response_due_at = due_at
    episode.agreed_later_reason = reason
    episode.save(update_fields=["response_due_at", "agreed_later_reason"])
    ReferralEvent.objects.create(
        referral=referral,
        kind=ReferralEvent.Kind.AGREED_LATER,
        user=user,
        note=f"Due {_local(due_at)}: {reason}",
    )
    return episode


@transaction.atomic
def record_arrival(
    *, referral: Referral, user: User, arrived_at: datetime | None = None, late_reason: str = ""
) -> Episode:
    """Stop the clock at the first face-to-face contact. Only the first recording counts."""
    now = timezone.now()
    arrived_at = arrived_at or now
    if arrived_at > now:
        raise ClockRefused("The arrival time cannot be in the future.", field="arrived_at")
    if arrived_at < referral.received_at:
        raise ClockRefused("The arrival time cannot be before the referral was received.", field="arrived_at")
    if now - arrived_at > LATE_RECORDING and not late_reason.strip():
        raise ClockRefused("Recording an arrival after the event needs a reason.", field="late_reason")
    stopped = Episode.objects.filter(
        referral=referral, arrived_at__isnull=True, referral__status__in=OPEN_STATUSES
    ).update(
        arrived_at=arrived_at,
        arrival_recorded_at=now,
        arrival_recorded_by=user,
        arrival_late_reason=late_reason.strip(),
    )
    episode = Episode.objects.select_related("arrival_recorded_by", "referral").get(referral=referral)
    if stopped != 1:
        if episode.arrived_at is not None:
            who, when = episode.arrival_recorded_by, _local(episode.arrived_at)
            raise ClockRefused(f"Arrival was already recorded by {who} at {when}.")
        raise _not_open(episode.referral)
    note = f"Arrived {_local(arrived_at)}" + (
        f" (recorded later: {late_reason.strip()})" if late_reason else ""
    )
    # Reaching the person means the service took the referral, triaged or not: accepted
    # and started first, so the timeline (and what the referrer hears) reads in order.
    _move_referral(referral, user, from_status=Status.RECEIVED, move=referral_services.accept_referral)
    _move_referral(referral, user, from_status=Status.ACCEPTED, move=referral_services.start_referral)
    ReferralEvent.objects.create(referral=referral, kind=ReferralEvent.Kind.ARRIVED, user=user, note=note)
    return episode


def _when_recorded(
    moment: datetime | None, *, late_reason: str, now: datetime, what: str, field: str
) -> datetime:
    """A time a responder gives for something that happened (in `field`): no later than
    now, and given more than a few minutes after it happened, with the reason (as an
    arrival is)."""
    moment = moment or now
    if moment > now:
        raise ClockRefused(f"The time {what} cannot be in the future.", field=field)
    if now - moment > LATE_RECORDING and not late_reason.strip():
        raise ClockRefused(f"Recording when {what} after the event needs a reason.", field="late_reason")
    return moment


def _late(late_reason: str) -> str:
    return f" (recorded later: {late_reason.strip()})" if late_reason.strip() else ""


@transaction.atomic
def record_reablement_need(
    *,
    referral: Referral,
    user: User,
    in_referral: bool = False,
    found_at: datetime | None = None,
    late_reason: str = "",
) -> Episode:
    """The person needs reablement: start the 2-day clock, at receipt when the referral
    asked for it, else when the need was found (`clock.reablement_clock_start`)."""
    now = timezone.now()
    if in_referral and found_at is not None:
        raise ClockRefused(
            "Either the referral asked for reablement, or give when the need was found.", field="found_at"
        )
    episode = Episode.objects.select_for_update().select_related("referral").get(referral=referral)
    if not clock.on_reablement_clock(episode.referral.source):
        raise ClockRefused(
            "Referred from a hospital ward: reablement after discharge is not on the 2-day clock."
        )
    if episode.reablement_clock_start is not None:
        raise ClockRefused(
            f"The need for reablement was recorded at {_local(episode.reablement_clock_start)}."
        )
    if not clock.reablement_clock_runs(status=episode.referral.status, outcome=episode.outcome):
        raise _not_open(episode.referral)
    if not in_referral:
        found_at = _when_recorded(
            found_at, late_reason=late_reason, now=now, what="the need was found", field="found_at"
        )
        if found_at < episode.referral.received_at:
            raise ClockRefused(
                "The need cannot have been found before the referral was received.", field="found_at"
            )
    episode.reablement_clock_start = clock.reablement_clock_start(
        received_at=episode.referral.received_at, in_referral=in_referral, found_at=found_at or now
    )
    episode.save(update_fields=["reablement_clock_start"])
    came_from = "asked for in the referral" if in_referral else "found" + _late(late_reason)
    ReferralEvent.objects.create(
        referral=referral,
        kind=ReferralEvent.Kind.REABLEMENT_NEEDED,
        user=user,
        note=f"Reablement {came_from}: 2-day clock from {_local(episode.reablement_clock_start)}",
    )
    return episode


@transaction.atomic
def record_reablement_start(
    *, referral: Referral, user: User, started_at: datetime | None = None, late_reason: str = ""
) -> Episode:
    """Reablement care began: stop the 2-day clock. Only the first recording counts."""
    started_at = _when_recorded(
        started_at, late_reason=late_reason, now=timezone.now(), what="care began", field="started_at"
    )
    episode = Episode.objects.select_for_update().select_related("referral").get(referral=referral)
    if episode.reablement_clock_start is None:
        raise ClockRefused("Record first that the person needs reablement.")
    if episode.reablement_care_started_at is not None:
        raise ClockRefused(
            f"Reablement care was recorded as beginning at {_local(episode.reablement_care_started_at)}."
        )
    if started_at < episode.reablement_clock_start:
        raise ClockRefused(
            "Reablement cannot begin before the 2-day clock started "
            f"({_local(episode.reablement_clock_start)}).",
            field="started_at",
        )
    if not clock.may_record_reablement_start(
        status=episode.referral.status,
        outcome=episode.outcome,
        status_changed_at=episode.referral.status_changed_at,
        started_at=started_at,
    ):
        raise _not_open(episode.referral)
    episode.reablement_care_started_at = started_at
    episode.save(update_fields=["reablement_care_started_at"])
    ReferralEvent.objects.create(
        referral=referral,
        kind=ReferralEvent.Kind.REABLEMENT_STARTED,
        user=user,
        note=f"Began {_local(started_at)}{_late(late_reason)}",
    )
    return episode


@transaction.atomic
def dispatch_responder(
    *, referral: Referral, responder: User, user: User, visits_in_hand: int | None = 0
) -> Dispatch:
    """Send a responder to the person. `visits_in_hand` is how many visits the coordinator
    saw the responder already had (the suggestion shows them): one sent since, by another
    coordinator, or any at all through the bare list, is said back rather than stacked
    unseen. The responder's row is locked while counted, so of two coordinators sending
    the same person at once, the second is told."""
    if not responder.has_role(Role.RAH_RESPONDER):
        raise ClockRefused(f"{responder} is not a Recovery at Home responder.", field="responder")
    episode = Episode.objects.select_for_update().select_related("referral").get(referral=referral)
    if episode.referral.status not in OPEN_STATUSES:
        raise _not_open(episode.referral)
    if episode.dispatches.filter(responder=responder).exclude(state=Dispatch.State.STOOD_DOWN).exists():
        raise ClockRefused(f"{responder} is already dispatched to this person.")
    User.objects.select_for_update(no_key=True).get(pk=responder.pk)
    in_hand = reach.visits_in_hand(responder=responder)
    if len(in_hand) > (visits_in_hand or 0):
        latest = in_hand[-1]
        raise ClockRefused(
            f"{responder} already has {len(in_hand)} visit{'s' if len(in_hand) > 1 else ''} in hand "
            f"(latest {latest.episode.referral.reference}, sent {_local(latest.dispatched_at)}). "
            'To send them after it, use their Dispatch button under "Who can go", which counts it.',
            field="responder",
        )
    now = timezone.now()
    # Sending someone is taking the referral on: from here the referrer can no longer
    # withdraw or correct it under the responder's feet.
    _move_referral(referral, user, from_status=Status.RECEIVED, move=referral_services.accept_referral)
    dispatch = Dispatch.objects.create(
        episode=episode, responder=responder, dispatched_at=now, dispatched_by=user
    )
    ReferralEvent.objects.create(
        referral=referral,
        kind=ReferralEvent.Kind.DISPATCHED,
        user=user,
        note=f"{responder}{', ' + responder.get_discipline_display() if responder.discipline else ''}",
    )
    return dispatch


def _move_dispatch(
    dispatch: Dispatch, *, user: User, from_states: list[str], to_state: str, **fields
) -> None:
    if not user.has_role(Role.RAH_RESPONDER):
        raise NotYoursToDo("Only a Recovery at Home responder records their visits.")
    if dispatch.responder_id != user.pk:
        raise ClockRefused("Only the dispatched responder can record this.")
    if not Dispatch.objects.filter(pk=dispatch.pk, state__in=from_states).update(state=to_state, **fields):
        current = Dispatch.objects.get(pk=dispatch.pk)
        raise ClockRefused(f"This visit is already {current.get_state_display().lower()}.")


@transaction.atomic
def record_on_the_way(*, dispatch: Dispatch, user: User) -> Dispatch:
    _move_dispatch(
        dispatch,
        user=user,
        from_states=[Dispatch.State.DISPATCHED],
        to_state=Dispatch.State.ON_THE_WAY,
        on_the_way_at=timezone.now(),
    )
    ReferralEvent.objects.create(
        referral_id=dispatch.episode.referral_id, kind=ReferralEvent.Kind.ON_THE_WAY, user=user
    )
    dispatch.refresh_from_db()
    _audit_visit(dispatch, user, "responder on the way")
    return dispatch


def _audit_visit(dispatch: Dispatch, user: User, done: str) -> None:
    referral = dispatch.episode.referral
    record_event(action=AuditAction.UPDATE, user=user, patient=referral.patient, obj=referral, detail=done)


@transaction.atomic
def record_responder_arrival(
    *, dispatch: Dispatch, user: User, arrived_at: datetime | None = None, late_reason: str = ""
) -> Dispatch:
    """The responder is with the person. The first face-to-face contact stops the clock;
    a second responder arriving later only records their own visit."""
    if not user.has_role(Role.RAH_RESPONDER) or dispatch.responder_id != user.pk:
        raise NotYoursToDo("Only the dispatched responder records their arrival.")
    arrived_at = arrived_at or timezone.now()
    if problem := time_bounds.visit_arrival_problem(arrived_at, dispatched_at=dispatch.dispatched_at):
        raise ClockRefused(problem, field="arrived_at")
    referral = Referral.objects.get(pk=dispatch.episode.referral_id)
    if Episode.objects.filter(pk=dispatch.episode_id, arrived_at__isnull=True).exists():
        try:
            with transaction.atomic():
                record_arrival(referral=referral, user=user, arrived_at=arrived_at, late_reason=late_reason)
        except ClockRefused:
            if Episode.objects.filter(pk=dispatch.episode_id, arrived_at__isnull=True).exists():
                raise  # refused for another reason (a bad time, a closed referral)
    _move_dispatch(
        dispatch,
        user=user,
        from_states=[Dispatch.State.DISPATCHED, Dispatch.State.ON_THE_WAY],
        to_state=Dispatch.State.ARRIVED,
        arrived_at=arrived_at,
    )
    dispatch.refresh_from_db()
    _audit_visit(dispatch, user, "responder arrived")
    return dispatch


def free_beds(*, bed_unit: BedUnit) -> int:
    return bed_unit.beds - BedStay.objects.filter(bed_unit=bed_unit, discharged_at__isnull=True).count()


def admit_to_bed(*, episode: Episode, bed_unit: BedUnit, user: User) -> BedStay:
    """Take a free bed. The unit's row is locked while its beds are counted, so two
    coordinators can never both take the last one. Call inside a transaction."""
    locked = BedUnit.objects.select_for_update().get(pk=bed_unit.pk)
    if free_beds(bed_unit=locked) <= 0:
        raise ClockRefused(f"{locked} has no free bed.")
    patient = episode.referral.patient
    if BedStay.objects.filter(patient=patient, discharged_at__isnull=True).exists():
        raise ClockRefused(f"{patient.full_name} is already in a bed unit.")
    stay = BedStay.objects.create(
        bed_unit=locked, patient=patient, episode=episode, admitted_at=timezone.now(), admitted_by=user
    )
    ReferralEvent.objects.create(
        referral=episode.referral, kind=ReferralEvent.Kind.BED_ADMITTED, user=user, note=str(locked)
    )
    return stay


@transaction.atomic
def discharge_from_bed(*, stay: BedStay, user: User, note: str = "") -> BedStay:
    """A coordinator frees the bed."""
    if not user.has_role(Role.RAH_COORDINATOR):
        raise NotYoursToDo("Only a Recovery at Home coordinator discharges from a bed unit.")
    if not BedStay.objects.filter(pk=stay.pk, discharged_at__isnull=True).update(
        discharged_at=timezone.now(), discharged_by=user, discharge_note=note.strip()
    ):
        raise ClockRefused("This person was already discharged from the bed.")
    stay.refresh_from_db()
    ReferralEvent.objects.create(
        referral_id=stay.episode.referral_id,
        kind=ReferralEvent.Kind.BED_DISCHARGED,
        user=user,
        note=note.strip(),
    )
    record_event(action=AuditAction.UPDATE, user=user, patient=stay.patient, obj=stay, detail="discharged")
    return stay


@transaction.atomic
def record_outcome(
    *,
    referral: Referral,
    user: User,
    outcome: str,
    note: str = "",
    planned_end_date: date | None = None,
    bed_unit: BedUnit | None = None,
) -> Episode:
    """Record how the episode ended and close the referral with it, in one transaction;
    "remained at home" instead opens the short-term care (`care`), and the referral closes
    at its discharge."""
    episode = Episode.objects.select_for_update().select_related("referral__patient").get(referral=referral)
    if episode.outcome:
        raise ClockRefused(f"The outcome was already recorded: {episode.get_outcome_display().lower()}.")
    if outcome == Outcome.REMAINED_AT_HOME and planned_end_date is None:
        raise ClockRefused("Give the planned end date of the short-term care.", field="planned_end_date")
    if outcome == Outcome.REMAINED_AT_HOME and (
        problem := time_bounds.planned_end_problem(planned_end_date, today=timezone.localdate())
    ):
        raise ClockRefused(problem, field="planned_end_date")
    if outcome == Outcome.BED_UNIT and bed_unit is None:
        raise ClockRefused("Choose the bed unit.", field="bed_unit")
    _move_referral(referral, user, from_status=Status.RECEIVED, move=referral_services.accept_referral)
    if outcome == Outcome.BED_UNIT:
        admit_to_bed(episode=episode, bed_unit=bed_unit, user=user)
    if outcome == Outcome.HANDED_TO_CIT:
        episode.handover_referral = hand_to_cit(referral=referral, user=user, note=note)
    episode.outcome = outcome
    episode.outcome_recorded_at = timezone.now()
    episode.outcome_note = note.strip()
    episode.planned_end_date = planned_end_date if outcome == Outcome.REMAINED_AT_HOME else None
    episode.save(
        update_fields=[
            "outcome",
            "outcome_recorded_at",
            "outcome_note",
            "planned_end_date",
            "handover_referral",
        ]
    )
    if outcome == Outcome.REMAINED_AT_HOME:
        care.open_care_episode(episode=episode, user=user, planned_end_date=planned_end_date)
        # In care now, not waiting for a response: off the live queue.
        Episode.objects.filter(pk=episode.pk).update(queue_open=False)
        return episode
    label = Outcome(outcome).label + (f" ({bed_unit})" if bed_unit and outcome == Outcome.BED_UNIT else "")
    try:
        referral_services.close_referral(referral=referral, user=user, outcome=label)
    except referral_services.TransitionRefused as refused:
        raise ClockRefused(str(refused)) from None
    return episode


# --- The clock's actions as the pages and the API offer them --------------------------


def may_record_outcome(*, user: User, referral: Referral) -> bool:
    """A coordinator, or a responder sent to the person (not stood down): whoever saw them.
    Read from the episode's dispatches (a page that shows them has fetched them already)."""
    if user.has_role(Role.RAH_COORDINATOR):
        return True
    return user.has_role(Role.RAH_RESPONDER) and any(
        visit.responder_id == user.pk and visit.state != Dispatch.State.STOOD_DOWN
        for visit in referral.episode.dispatches.all()
    )


def _coordinator(*, user: User, referral: Referral) -> bool:
    return user.has_role(Role.RAH_COORDINATOR)


def _staff(*, user: User, referral: Referral) -> bool:
    return user.has_role(Role.RAH_COORDINATOR, Role.RAH_RESPONDER)


# action -> (what it does, who may, what the audit trail and the person are told)
CLOCK_ACTIONS = {
    "triage": (triage_referral, _coordinator, "triaged"),
    "agree-later": (agree_later_time, _coordinator, "later time agreed"),
    "dispatch": (dispatch_responder, _coordinator, "responder dispatched"),
    "arrival": (record_arrival, _staff, "arrival recorded"),
    "outcome": (record_outcome, may_record_outcome, "outcome recorded"),
    "reablement-needed": (record_reablement_need, _staff, "need for reablement recorded"),
    "reablement-started": (record_reablement_start, _staff, "start of reablement care recorded"),
    "plan-visit": (care.plan_visit, _staff, "care visit planned"),
    "record-visit": (care.record_visit, _staff, "care visit recorded"),
    "discharge-care": (care.discharge_from_care, _coordinator, "discharged from short-term care"),
}


def check_may_act_on_clock(*, user: User, referral: Referral, action: str) -> None:
    """Refuse (403) whoever may not do this action, before anything they sent is read: a
    person who may not triage is told so, not that their form is incomplete."""
    _, may, done = CLOCK_ACTIONS[action]
    if not may(user=user, referral=referral):
        raise NotYoursToDo(f"Not yours to do for this referral: {done}.")


@transaction.atomic
def act_on_clock(*, referral: Referral, user: User, action: str, **fields):
    """One of CLOCK_ACTIONS by whoever may, audited with the change: the pages and the
    API both come here."""
    perform, _, done = CLOCK_ACTIONS[action]
    if not Episode.objects.filter(referral=referral).exists():
        raise ClockRefused("This referral has no Recovery at Home clock.")
    check_may_act_on_clock(user=user, referral=referral, action=action)
    result = perform(referral=referral, user=user, **fields)
    record_event(action=AuditAction.UPDATE, user=user, patient=referral.patient, obj=referral, detail=done)
    return result
