"""Which referrals a user may see, and the lists pages and the API share.

- referrers: the referrals they made, and those of their practices;
- Recovery at Home staff: every referral to Recovery at Home;
- CIT members: referrals to their teams;
- MDT coordinators: referrals of their practices' patients.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Case, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When

from atb.models import Role, Service, User
from referrals.models import Referral, ReferralEvent, Status

NO_ONE = Q(pk__in=[])
RAH_ROLES = (Role.RAH_COORDINATOR, Role.RAH_RESPONDER)


def referral_scope(*, user: User) -> Q:
    scope = NO_ONE
    if user.has_role(Role.REFERRER):
        scope |= Q(referred_by=user) | Q(referring_practice__in=user.practice_ids)
    if user.has_role(*RAH_ROLES):
        scope |= Q(service__code=Service.Code.RECOVERY_AT_HOME)
    if user.has_role(Role.CIT_MEMBER):
        scope |= Q(team__in=user.team_ids)
    if user.has_role(Role.MDT_COORDINATOR):
        scope |= Q(patient__practice__in=user.practice_ids)
    return scope


def _with_list_columns(referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    """What every referral list shows, in one query: patient, destination, last event."""
    last_event = ReferralEvent.objects.filter(referral=OuterRef("pk")).order_by("-at", "-id")
    return referrals.select_related(
        "patient__practice", "service", "team", "referred_by", "status_changed_by"
    ).annotate(
        last_event_kind=Subquery(last_event.values("kind")[:1]),
        last_event_at=Subquery(last_event.values("at")[:1]),
    )


def referrals_visible_to(*, user: User) -> QuerySet[Referral]:
    return Referral.objects.filter(referral_scope(user=user))


def referral_for(*, user: User, reference: str) -> Referral | None:
    """One referral with its timeline, or None when out of the user's scope."""
    return (
        referrals_visible_to(user=user)
        .select_related(
            "patient__practice__neighbourhood",
            "service",
            "team",
            "referred_by",
            "referring_practice",
            "status_changed_by",
            "redirected_from",
            "episode__category",
            "episode__arrival_recorded_by",
        )
        .prefetch_related(
            Prefetch("events", queryset=ReferralEvent.objects.select_related("user")),
            "episode__dispatches__responder",
        )
        .filter(reference=reference)
        .first()
    )


def filter_referrals(
    referrals: QuerySet[Referral],
    *,
    status: str = "",
    received_from: date | None = None,
    received_to: date | None = None,
) -> QuerySet[Referral]:
    if status:
        referrals = referrals.filter(status=status)
    if received_from:
        referrals = referrals.filter(received_at__date__gte=received_from)
    if received_to:
        referrals = referrals.filter(received_at__date__lte=received_to)
    return referrals


def my_referrals(*, user: User) -> QuerySet[Referral]:
    return _with_list_columns(Referral.objects.filter(referred_by=user)).order_by("-received_at", "-id")


def practice_referrals(*, user: User) -> QuerySet[Referral]:
    return _with_list_columns(Referral.objects.filter(referring_practice__in=user.practice_ids)).order_by(
        "-received_at", "-id"
    )


def listed_referrals(*, user: User) -> QuerySet[Referral]:
    """Everything the user may see, newest first (the API's list)."""
    return _with_list_columns(referrals_visible_to(user=user)).order_by("-received_at", "-id")


def inbox(*, user: User, service: Service, team_id: int | None = None) -> QuerySet[Referral]:
    """A service's or team's incoming referrals: new ones first, then newest."""
    referrals = referrals_visible_to(user=user).filter(service=service)
    if team_id is not None:
        referrals = referrals.filter(team_id=team_id)
    new_first = Case(When(status=Status.RECEIVED, then=Value(0)), default=Value(1))
    return _with_list_columns(referrals).order_by(new_first, "-received_at", "-id")


def referrals_of_patient(*, user: User, patient_id: int, whole_record: bool = False) -> QuerySet[Referral]:
    """The person's referrals the user may see (all of them under emergency access), with
    their timelines and any Recovery at Home episode, for the patient page."""
    referrals = Referral.objects.all() if whole_record else referrals_visible_to(user=user)
    return (
        _with_list_columns(referrals.filter(patient_id=patient_id))
        .select_related("episode__category")
        .prefetch_related(Prefetch("events", queryset=ReferralEvent.objects.select_related("user")))
        .order_by("-received_at", "-id")
    )
