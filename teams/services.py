"""The business rules of a team's caseload. Pages, the API and tasks all come here.

Every change writes the entry's timeline in the same transaction; a change that another
member made a moment earlier is refused with what happened, never applied twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format

from core import time_bounds
from core.audit import record_event
from core.models import AuditAction, Role, Team, User
from referrals import services as referral_services
from referrals.models import Referral, Status
from teams.models import CarePlanGoal, CarePlanReview, CaseloadEntry, CaseloadEvent, Contact, DischargeReason

# A new entry's care plan is first reviewed after this long, unless the member says otherwise.
FIRST_REVIEW_AFTER = timedelta(weeks=6)


class CaseloadRefused(Exception):
    """The change cannot be made; the message says why, for the person who asked."""


def key_workers_for(*, team: Team) -> QuerySet[User]:
    """Who may hold entries of this team: its active members."""
    return (
        User.objects.filter(teams=team, is_active=True, role_grants__role=Role.CIT_MEMBER)
        .distinct()
        .order_by("last_name", "first_name")
    )


def _check_key_worker(team: Team, key_worker: User) -> None:
    if not key_workers_for(team=team).filter(pk=key_worker.pk).exists():
        raise CaseloadRefused(f"{key_worker} is not a member of {team}.")


def _event(entry: CaseloadEntry, kind: str, user: User | None, note: str = "", at: datetime | None = None):
    return CaseloadEvent.objects.create(entry=entry, kind=kind, user=user, note=note, at=at or timezone.now())


def _day(value: date) -> str:
    return date_format(value, "j M Y")


@transaction.atomic
def accept_onto_caseload(
    *, referral: Referral, key_worker: User, user: User, review_due: date | None = None
) -> CaseloadEntry:
    """Accept a referral to the team and open its caseload entry, both or neither. When two
    members accept at once, the referral's conditional update lets exactly one through."""
    if referral.team is None:
        raise CaseloadRefused("Only a referral to a Community Integrated Team goes onto a caseload.")
    if not referral_services.may_act_on(user=user, referral=referral):
        raise referral_services.NotTheReceiver("Only a member of the team accepts onto its caseload.")
    _check_key_worker(referral.team, key_worker)
    try:
        referral = referral_services.accept_referral(
            referral=referral, user=user, note=f"Onto the caseload; key worker {key_worker}."
        )
    except referral_services.TransitionRefused as refused:
        raise CaseloadRefused(str(refused)) from refused
    existing = (
        CaseloadEntry.objects.filter(patient=referral.patient, team=referral.team, closed_at__isnull=True)
        .select_related("key_worker")
        .first()
    )
    if existing is not None:  # raising undoes the acceptance too
        raise CaseloadRefused(
            f"{referral.patient} is already on the caseload (key worker {existing.key_worker}, since "
            f"{_day(timezone.localdate(existing.opened_at))}). Decline this referral or ask the key worker."
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            entry = CaseloadEntry.objects.create(
                patient=referral.patient,
                team=referral.team,
                referral=referral,
                key_worker=key_worker,
                opened_at=now,
                opened_by=user,
                review_due=review_due or (timezone.localdate(now) + FIRST_REVIEW_AFTER),
            )
    except IntegrityError as clash:  # the same person accepted from another referral this instant
        raise CaseloadRefused(f"{referral.patient} was put on the caseload a moment ago.") from clash
    _event(
        entry,
        CaseloadEvent.Kind.OPENED,
        user,
        f"From referral {referral.reference}; key worker {key_worker}.",
    )
    record_event(
        action=AuditAction.UPDATE, user=user, patient=referral.patient, obj=referral, detail="accept"
    )
    return entry


def _open_entry_for_update(entry: CaseloadEntry) -> CaseloadEntry:
    locked = CaseloadEntry.objects.select_for_update().get(pk=entry.pk)
    if not locked.is_open:
        closed = _day(timezone.localdate(locked.closed_at))
        raise CaseloadRefused(f"{entry.patient} was discharged from the caseload on {closed}.")
    return locked


@transaction.atomic
def record_contact(
    *,
    entry: CaseloadEntry,
    user: User,
    staff: User,
    kind: str,
    at: datetime,
    duration_minutes: int,
    attended: bool = True,
    notes: str = "",
) -> Contact:
    """A visit, call or care home visit. The first one that happened starts the work on the
    referral (accepted becomes in progress)."""
    entry = _open_entry_for_update(entry)
    if problem := time_bounds.contact_time_problem(at, now=timezone.now()):
        raise CaseloadRefused(problem)
    contact = Contact.objects.create(
        entry=entry,
        kind=kind,
        staff=staff,
        at=at,
        duration_minutes=duration_minutes,
        attended=attended,
        notes=notes.strip(),
        recorded_by=user,
    )
    what = contact.get_kind_display() + ("" if attended else " (did not happen)")
    _event(entry, CaseloadEvent.Kind.CONTACT, user, f"{what} by {staff}, {duration_minutes} min.")
    referral = entry.referral
    if attended and referral.status == Status.ACCEPTED:
        referral_services.start_referral(referral=referral, user=user)
    return contact


@transaction.atomic
def add_goal(*, entry: CaseloadEntry, user: User, description: str, target_date: date | None) -> CarePlanGoal:
    if target_date and (
        problem := time_bounds.plan_date_problem(target_date, today=timezone.localdate(), what="target date")
    ):
        raise CaseloadRefused(problem)
    entry = _open_entry_for_update(entry)
    goal = CarePlanGoal.objects.create(
        entry=entry, description=description.strip(), target_date=target_date, created_by=user
    )
    _event(entry, CaseloadEvent.Kind.GOAL, user, f"Added: {goal.description}")
    return goal


@transaction.atomic
def set_goal_status(*, goal: CarePlanGoal, user: User, status: str) -> CarePlanGoal:
    _open_entry_for_update(goal.entry)
    goal = CarePlanGoal.objects.select_for_update().get(pk=goal.pk)
    if goal.status == status:
        return goal
    goal.status = status
    goal.save(update_fields=["status", "updated_at"])
    _event(goal.entry, CaseloadEvent.Kind.GOAL, user, f"{goal.description}: {goal.get_status_display()}")
    return goal


@transaction.atomic
def review_care_plan(
    *, entry: CaseloadEntry, user: User, reviewed_on: date, next_review_due: date | None, note: str = ""
) -> CarePlanReview:
    entry = _open_entry_for_update(entry)
    if reviewed_on > timezone.localdate():
        raise CaseloadRefused("A review cannot be recorded for a future date.")
    if next_review_due is not None and next_review_due <= reviewed_on:
        raise CaseloadRefused("The next review must be after this one.")
    review = CarePlanReview.objects.create(
        entry=entry,
        reviewed_on=reviewed_on,
        reviewed_by=user,
        note=note.strip(),
        next_review_due=next_review_due,
    )
    CaseloadEntry.objects.filter(pk=entry.pk).update(review_due=next_review_due)
    following = f"next review {_day(next_review_due)}" if next_review_due else "no further review planned"
    _event(entry, CaseloadEvent.Kind.REVIEWED, user, f"Reviewed {_day(reviewed_on)}; {following}.")
    return review


@transaction.atomic
def discharge_from_caseload(
    *, entry: CaseloadEntry, user: User, reason: str, note: str = ""
) -> CaseloadEntry:
    """Close the entry (once: a second discharge is refused) and its referral, if still open."""
    entry = _open_entry_for_update(entry)
    now = timezone.now()
    label = DischargeReason(reason).label
    CaseloadEntry.objects.filter(pk=entry.pk).update(
        closed_at=now, closed_by=user, discharge_reason=reason, discharge_note=note.strip()
    )
    _event(entry, CaseloadEvent.Kind.DISCHARGED, user, f"{label}. {note}".strip(), at=now)
    referral = entry.referral
    if referral.is_open:
        if referral.status == Status.RECEIVED:  # cannot happen from the pages; kept for safety
            raise CaseloadRefused("The referral was never accepted.")
        referral_services.close_referral(
            referral=referral, user=user, outcome=f"Discharged from the caseload: {label}. {note}".strip()
        )
    entry.refresh_from_db()
    return entry


@transaction.atomic
def reassign_caseload(
    *, team: Team, entry_ids: Iterable[int], key_worker: User, user: User
) -> list[CaseloadEntry]:
    """Give many entries to another key worker (a colleague is leaving): every entry or none.
    Each moved entry gets one timeline event naming both key workers."""
    _check_key_worker(team, key_worker)
    wanted = set(entry_ids)
    if not wanted:
        raise CaseloadRefused("Choose at least one person to reassign.")
    entries = list(
        CaseloadEntry.objects.select_for_update(of=("self",))
        .filter(pk__in=wanted, team=team, closed_at__isnull=True)
        .select_related("key_worker")
        .order_by("pk")
    )
    if len(entries) != len(wanted):
        raise CaseloadRefused(
            f"{len(wanted) - len(entries)} of the chosen people are no longer open on this caseload; "
            "nothing was reassigned. Reload the caseload and choose again."
        )
    moving = [entry for entry in entries if entry.key_worker_id != key_worker.pk]
    now = timezone.now()
    CaseloadEntry.objects.filter(pk__in=[entry.pk for entry in moving]).update(key_worker=key_worker)
    CaseloadEvent.objects.bulk_create(
        CaseloadEvent(
            entry=entry,
            kind=CaseloadEvent.Kind.KEY_WORKER,
            at=now,
            user=user,
            note=f"From {entry.key_worker} to {key_worker}.",
        )
        for entry in moving
    )
    return moving


@transaction.atomic
def change_entry(*, entry: CaseloadEntry, user: User, done: str, change):
    """A change to one caseload entry (`change()`, one of the functions above), audited in
    its transaction: the entry page's forms and the API both come here."""
    result = change()
    record_event(action=AuditAction.UPDATE, user=user, patient=entry.patient, obj=entry, detail=done)
    return result
