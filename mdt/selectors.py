"""Read-only queries for the MDT pages: above all, the agenda's candidates, each with the
reasons it is suggested, in a fixed handful of queries however big the practice."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format

from core import access
from core.models import Patient, Service, User
from core.nhs_numbers import nhs_number_prefix
from mdt.models import Action, AgendaItem, MdtFlag, Meeting
from recovery_at_home.models import BedStay, Episode
from recovery_at_home.models import Outcome as RahOutcome
from referrals.models import Reason, Referral, Status
from teams.models import CaseloadEntry

# With no earlier meeting, "since the last meeting" means this long before this one.
FIRST_MEETING_LOOKS_BACK = timedelta(weeks=8)


def meetings_visible_to(*, user: User) -> QuerySet[Meeting]:
    """MDT coordinators see their practices' meetings (`core.access`); nobody else sees any."""
    practices = access.meeting_practices_of(user=user)
    return Meeting.objects.filter(practice__in=practices).select_related("practice", "coordinator")


def meeting_for(*, user: User, meeting_id: int) -> Meeting:
    meeting = meetings_visible_to(user=user).filter(pk=meeting_id).first()
    if meeting is None:
        raise Http404("No meeting of your practices.")
    return meeting


def agenda(*, meeting: Meeting) -> QuerySet[AgendaItem]:
    return (
        meeting.items.select_related("patient", "presenter")
        .prefetch_related(Prefetch("actions", queryset=Action.objects.select_related("owner", "owner_team")))
        .order_by("position", "pk")
    )


def since_last_meeting(meeting: Meeting) -> datetime:
    previous = (
        Meeting.objects.filter(practice=meeting.practice, starts_at__lt=meeting.starts_at)
        .order_by("-starts_at")
        .values_list("starts_at", flat=True)
        .first()
    )
    return previous or meeting.starts_at - FIRST_MEETING_LOOKS_BACK


@dataclass
class Candidate:
    patient: Patient
    reasons: list[str] = field(default_factory=list)

    @property
    def reason_summary(self) -> str:
        return "; ".join(self.reasons)[:500]


def _day(moment) -> str:
    return date_format(timezone.localtime(moment) if isinstance(moment, datetime) else moment, "j M")


class Suggestions(list):
    """The candidates shown (a list), and how many there were in all."""

    total: int = 0


def _reason(text: str, *args) -> str:
    return text.format(*(_day(arg) if isinstance(arg, date | datetime) else arg for arg in args))


def agenda_candidates(*, meeting: Meeting, limit: int | None = None) -> Suggestions:
    """The practice's patients the coordinator may want to discuss, each with why: a
    Recovery at Home referral, a hospital or bed unit admission or a new caseload entry
    since the last meeting; an MDT flag; a care plan review due; open actions from an
    earlier meeting. Those already on this agenda are left out. The most pressing come
    first (a flag, then an admission or urgent response, a new caseload entry, an open
    action, a review due), by name within each; only the first `limit` are loaded and
    described (a big practice can have a thousand reviews due)."""
    since = since_last_meeting(meeting)
    meeting_day = timezone.localdate(meeting.starts_at)
    practice_patients = Patient.objects.filter(
        practice=meeting.practice_id, merged_into__isnull=True
    ).exclude(mdt_items__meeting=meeting)
    reasons: dict[int, list[tuple]] = defaultdict(list)  # described only if shown
    priority: dict[int, int] = {}

    def suggest(patient_id: int, rank: int, text: str, *args) -> None:
        reasons[patient_id].append((text, *args))
        priority[patient_id] = min(rank, priority.get(patient_id, rank))

    rah_referrals = Referral.objects.filter(
        patient__in=practice_patients,
        service__code=Service.Code.RECOVERY_AT_HOME,
        # Every status named, though it excludes none: PostgreSQL then reads the inbox
        # index's range (service, status, since) of each status instead of every Recovery
        # at Home referral's row (measured at 1,000,000 referrals: 189 ms without, 23 with).
        status__in=Status.values,
        received_at__gte=since,
    ).values_list("patient_id", "received_at", "reason")
    for patient_id, received_at, reason in rah_referrals.order_by():
        suggest(patient_id, 1, "Recovery at Home {}: {}", received_at, Reason(reason).label.lower())

    hospital = Episode.objects.filter(
        outcome=RahOutcome.HOSPITAL, outcome_recorded_at__gte=since, referral__patient__in=practice_patients
    ).values_list("referral__patient_id", "outcome_recorded_at")
    for patient_id, at in hospital:
        suggest(patient_id, 1, "Admitted to hospital {}", at)

    beds = BedStay.objects.filter(patient__in=practice_patients, admitted_at__gte=since).values_list(
        "patient_id", "admitted_at", "bed_unit__name"
    )
    for patient_id, admitted_at, unit in beds:
        suggest(patient_id, 1, "Admitted to {} {}", unit, admitted_at)

    caseload = CaseloadEntry.objects.filter(patient__in=practice_patients).filter(
        Q(opened_at__gte=since) | Q(closed_at__isnull=True, review_due__lte=meeting_day)
    )
    for patient_id, team, opened_at, review_due, closed_at in caseload.values_list(
        "patient_id", "team__name", "opened_at", "review_due", "closed_at"
    ):
        if opened_at >= since:
            suggest(patient_id, 2, "New to {}'s caseload {}", team, opened_at)
        if closed_at is None and review_due and review_due <= meeting_day:
            suggest(patient_id, 4, "Care plan review due {} ({})", review_due, team)

    flags = MdtFlag.objects.filter(patient__in=practice_patients, cleared_at__isnull=True).values_list(
        "patient_id", "reason", "flagged_by__first_name", "flagged_by__last_name"
    )
    for patient_id, reason, first, last in flags:
        suggest(patient_id, 0, "Flagged for MDT by {} {}: {}", first, last, reason)

    actions = Action.objects.filter(
        status=Action.Status.OPEN,
        item__patient__in=practice_patients,
        item__meeting__starts_at__lt=meeting.starts_at,
    ).values_list("item__patient_id", "description", "due_date")
    for patient_id, description, due_date in actions:
        suggest(patient_id, 3, "Open action: {} (due {})", description, due_date)

    by_name = Patient.objects.filter(pk__in=list(reasons)).order_by("family_name", "given_name", "pk")
    ranked = sorted(by_name.values_list("pk", flat=True), key=priority.__getitem__)  # stable: by name within
    chosen = ranked if limit is None else ranked[:limit]
    patients = Patient.objects.in_bulk(chosen)
    suggestions = Suggestions(
        Candidate(patient=patients[pk], reasons=[_reason(*reason) for reason in reasons[pk]]) for pk in chosen
    )
    suggestions.total = len(ranked)
    return suggestions


def search_practice_patients(*, meeting: Meeting, query: str, limit: int = 20) -> QuerySet[Patient]:
    """Any other patient of the practice, by name or NHS number, to add by hand."""
    query = query.strip()
    patients = Patient.objects.filter(practice=meeting.practice_id, merged_into__isnull=True).exclude(
        mdt_items__meeting=meeting
    )
    if not query:
        return patients.none()
    digits = nhs_number_prefix(query)
    if digits:
        return patients.filter(nhs_number__startswith=digits)[:limit]
    for word in query.split():
        patients = patients.filter(Q(given_name__icontains=word) | Q(family_name__icontains=word))
    return patients.order_by("family_name", "given_name")[:limit]


def actions_of(*, user: User) -> QuerySet[Action]:
    """'My MDT actions': the user's own and their teams', open first, soonest due."""
    return (
        Action.objects.filter(Q(owner=user) | Q(owner_team__in=user.team_ids))
        .select_related("item__patient", "item__meeting__practice", "owner", "owner_team")
        .order_by("-status", "due_date", "pk")
    )


def discussions_of(*, patient_id: int) -> QuerySet[AgendaItem]:
    """The person's MDT discussions with their actions, newest meeting first (patient page)."""
    return (
        AgendaItem.objects.filter(patient_id=patient_id)
        .select_related("meeting__practice", "presenter")
        .prefetch_related(Prefetch("actions", queryset=Action.objects.select_related("owner", "owner_team")))
        .order_by("-meeting__starts_at")
    )
