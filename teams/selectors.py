"""Read-only queries for the caseload pages and API: each list is one query whatever its
length (the last contact and the MDT flag are subqueries, not per-row lookups)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from core import access
from core.audit import Refused
from core.models import Discipline, Patient, Team, User
from core.uk_time import uk_day_start
from referrals import selectors as referral_selectors
from referrals.models import Referral
from teams.models import CarePlanReview, CaseloadEntry, CaseloadEvent, Contact

REVIEW_SOON = timedelta(days=14)


def teams_of(*, user: User) -> QuerySet[Team]:
    """The user's teams (`core.access`): a team's pages answer 404 to anyone else."""
    return (
        Team.objects.filter(pk__in=access.teams_of(user=user))
        .select_related("neighbourhood")
        .order_by("name")
    )


def team_for(*, user: User, team_id: int) -> Team:
    """The team if the user is a member of it: anyone else's team answers 404."""
    team = teams_of(user=user).filter(pk=team_id).first()
    if team is None:
        raise Http404("No team of yours.")
    return team


def entry_or_refusal(*, user: User, entry_id: int) -> CaseloadEntry:
    """The entry, for a member of its team; for anyone else a 404 naming the person."""
    entry = entry_for(user=user, entry_id=entry_id)
    if entry is None:
        refused = CaseloadEntry.objects.filter(pk=entry_id).select_related("patient").first()
        patient = refused.patient if refused else None
        raise Refused("No caseload entry of your team's.", patient=patient, obj=refused)
    return entry


def entry_for(*, user: User, entry_id: int) -> CaseloadEntry | None:
    """An entry of one of the user's teams, with what its page shows, or None."""
    return (
        CaseloadEntry.objects.filter(pk=entry_id, team__in=access.teams_of(user=user))
        .select_related("patient__practice__neighbourhood", "team", "key_worker", "referral", "closed_by")
        .prefetch_related(
            Prefetch("contacts", queryset=Contact.objects.select_related("staff")),
            "goals",
            Prefetch("reviews", queryset=CarePlanReview.objects.select_related("reviewed_by")),
            Prefetch("events", queryset=CaseloadEvent.objects.select_related("user")),
        )
        .first()
    )


def _with_row_columns(entries: QuerySet[CaseloadEntry]) -> QuerySet[CaseloadEntry]:
    last_contact = Contact.objects.filter(entry=OuterRef("pk"), attended=True).order_by("-at")
    return entries.select_related("patient__practice", "key_worker", "team", "referral").annotate(
        last_contact_at=Subquery(last_contact.values("at")[:1]),
        # A person waiting for an MDT discussion has an open flag. The mdt app builds on
        # this one, so the caseload reads the flag through the person, not mdt's models.
        flagged_for_mdt=Exists(
            Patient.objects.filter(
                pk=OuterRef("patient_id"), mdt_flags__isnull=False, mdt_flags__cleared_at__isnull=True
            )
        ),
    )


@dataclass(frozen=True)
class CaseloadFilters:
    key_worker: User | None = None
    discipline: str = ""
    practice_id: int | None = None
    review: str = ""  # "overdue" or "due"
    flagged: bool = False
    sort: str = "review_due"


SORTS = {
    "patient": ("patient__family_name", "patient__given_name", "pk"),
    "key_worker": ("key_worker__last_name", "key_worker__first_name", "pk"),
    "opened": ("opened_at", "pk"),
    "-opened": ("-opened_at", "-pk"),
    "last_contact": ("last_contact_at", "pk"),  # never contacted first
    "review_due": ("review_due", "pk"),
}


def open_caseload(*, team: Team, filters: CaseloadFilters | None = None) -> QuerySet[CaseloadEntry]:
    filters = filters or CaseloadFilters()
    entries = _with_row_columns(CaseloadEntry.objects.filter(team=team, closed_at__isnull=True))
    today = timezone.localdate()
    if filters.key_worker is not None:
        entries = entries.filter(key_worker=filters.key_worker)
    if filters.discipline:
        entries = entries.filter(key_worker__discipline=filters.discipline)
    if filters.practice_id:
        entries = entries.filter(patient__practice_id=filters.practice_id)
    if filters.review == "overdue":
        entries = entries.filter(review_due__lt=today)
    elif filters.review == "due":
        entries = entries.filter(review_due__lte=today + REVIEW_SOON)
    if filters.flagged:
        entries = entries.filter(flagged_for_mdt=True)
    order = SORTS.get(filters.sort, SORTS["review_due"])
    if order[0] == "last_contact_at":
        return entries.order_by(F("last_contact_at").asc(nulls_first=True), "pk")
    if order[0] == "review_due":
        return entries.order_by(F("review_due").asc(nulls_last=True), "pk")
    return entries.order_by(*order)


def my_caseload(*, user: User) -> QuerySet[CaseloadEntry]:
    """The member's own open entries, in every team, next review first."""
    return _with_row_columns(CaseloadEntry.objects.filter(key_worker=user, closed_at__isnull=True)).order_by(
        F("review_due").asc(nulls_last=True), "pk"
    )


@dataclass
class TeamDashboard:
    open_entries: int
    reviews_overdue: int
    new_referrals_this_week: int
    by_key_worker: list[dict]
    by_discipline: list[tuple[str, int]]


def start_of_week(today: date) -> date:
    return today - timedelta(days=today.weekday())


def team_dashboard(*, team: Team) -> TeamDashboard:
    """Counts only: a fixed handful of queries however big the caseload."""
    today = timezone.localdate()
    open_entries = CaseloadEntry.objects.filter(team=team, closed_at__isnull=True)
    totals = open_entries.aggregate(entries=Count("pk"), overdue=Count("pk", filter=Q(review_due__lt=today)))
    by_key_worker = list(
        open_entries.values(
            "key_worker", "key_worker__first_name", "key_worker__last_name", "key_worker__discipline"
        )
        .annotate(entries=Count("pk"), overdue=Count("pk", filter=Q(review_due__lt=today)))
        .order_by("-entries", "key_worker__last_name")
    )
    labels = dict(Discipline.choices)
    for row in by_key_worker:
        row["name"] = f"{row['key_worker__first_name']} {row['key_worker__last_name']}".strip()
        row["discipline"] = labels.get(row["key_worker__discipline"], "Not recorded")
    by_discipline: dict[str, int] = {}
    for row in by_key_worker:
        by_discipline[row["discipline"]] = by_discipline.get(row["discipline"], 0) + row["entries"]
    week_start = uk_day_start(start_of_week(today))
    new_referrals = Referral.objects.filter(team=team, received_at__gte=week_start).count()
    return TeamDashboard(
        open_entries=totals["entries"],
        reviews_overdue=totals["overdue"],
        new_referrals_this_week=new_referrals,
        by_key_worker=by_key_worker,
        by_discipline=sorted(by_discipline.items(), key=lambda item: -item[1]),
    )


def caseload_of_patient(*, patient_id: int) -> QuerySet[CaseloadEntry]:
    """Every team's entries for the person (open first), with contacts and goals, for the
    patient page: whoever may see the person sees who is looking after them."""
    return (
        CaseloadEntry.objects.filter(patient_id=patient_id)
        .select_related("team", "key_worker")
        .prefetch_related(Prefetch("contacts", queryset=Contact.objects.select_related("staff")), "goals")
        .order_by(F("closed_at").desc(nulls_first=True), "-opened_at")
    )


def team_referral_to_accept(*, user: User, reference: str) -> Referral:
    """A referral to one of the user's teams, for accepting onto its caseload; anything
    else is refused as not found (audited), as every referral door refuses."""
    referral = referral_selectors.referral_or_refusal(user=user, reference=reference)
    if referral.team_id is None or referral.team_id not in user.team_ids:
        raise referral_selectors.refusal_of(reference=reference)
    return referral
