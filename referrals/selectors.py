"""The referral lists pages and the API share. Which referrals a user may see, and how
much of each, is `core.access`: every list here is built from it."""

from __future__ import annotations

from datetime import date

from django.db.models import BooleanField, Case, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When

from core import access
from core.audit import Refused
from core.models import Service, User
from referrals.models import Referral, ReferralEvent, ReferralVersion, Status, shown_reason


def _with_list_columns(referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    """What every referral list shows, in one query: patient, destination, last event (for
    a referral seen as sent, the last of the events meant for the referrer)."""
    every = ReferralEvent.objects.filter(referral=OuterRef("pk")).order_by("-at", "-id")
    for_referrer = every.filter(kind__in=ReferralEvent.FOR_REFERRER)

    def last(column: str):
        return Case(
            When(record_visible=True, then=Subquery(every.values(column)[:1])),
            default=Subquery(for_referrer.values(column)[:1]),
        )

    return referrals.select_related(
        "patient__practice", "service", "team", "referred_by", "status_changed_by", "redirected_from"
    ).annotate(last_event_kind=last("kind"), last_event_at=last("at"))


def refusal_of(*, reference: str) -> Refused:
    """The 404 for a referral out of the user's scope, naming it for the audit trail."""
    refused = Referral.objects.filter(reference=reference).select_related("patient").first()
    return Refused("No referral found.", patient=refused.patient if refused else None, obj=refused)


def with_record_visibility(referrals: QuerySet[Referral], *, user: User) -> QuerySet[Referral]:
    """Each referral marked with whether the user sees it whole (`record_visible`) or only
    as it was sent; a referral without the mark is shown as sent."""
    return referrals.annotate(
        record_visible=Case(
            When(access.referral_record_scope(user=user), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def referrals_visible_to(*, user: User) -> QuerySet[Referral]:
    return with_record_visibility(Referral.objects.filter(access.referral_scope(user=user)), user=user)


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


def _sent(sent: Q, *, user: User) -> QuerySet[Referral]:
    """A referrer's own list: each of its referrals is theirs to see as sent (at least), so
    the list is read from its own index alone, its count too; each is still marked whole
    or as sent."""
    referrals = with_record_visibility(Referral.objects.filter(sent), user=user)
    return _with_list_columns(referrals).order_by("-received_at", "-id")


def my_referrals(*, user: User) -> QuerySet[Referral]:
    return _sent(access.referrals_sent_by_me(user=user), user=user)


def practice_referrals(*, user: User) -> QuerySet[Referral]:
    return _sent(access.referrals_sent_by_my_practice(user=user), user=user)


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
    if whole_record:
        referrals = Referral.objects.annotate(record_visible=Value(True, output_field=BooleanField()))
    else:
        referrals = with_record_visibility(
            Referral.objects.filter(access.referral_record_scope(user=user)), user=user
        )
    return (
        _with_list_columns(referrals.filter(patient_id=patient_id))
        .select_related("episode__category")
        .prefetch_related(Prefetch("events", queryset=ReferralEvent.objects.select_related("user")))
        .order_by("-received_at", "-id")
    )


def may_open(*, user: User, referral: Referral) -> bool:
    """Whether the user may open this referral's page (the access rule's scope)."""
    return referrals_visible_to(user=user).filter(pk=referral.pk).exists()


def referral_or_refusal(*, user: User, reference: str) -> Referral:
    """The referral as this user may see it, or a refusal (404, audited)."""
    referral = referral_for(user=user, reference=reference)
    if referral is None:
        raise refusal_of(reference=reference)
    return referral


def versions_of(*, referral: Referral) -> list[ReferralVersion]:
    """The versions a correction replaced, oldest first, each with the reason as shown."""
    versions = list(referral.versions.select_related("replaced_by"))
    for version in versions:
        version.reason_shown = shown_reason(
            version.details.get("reason", ""), version.details.get("reason_other", "")
        )
    return versions


def redirect_chain(referral: Referral) -> list[Referral]:
    """The referral and those it was redirected from, back to the one first sent (last)."""
    chain = [referral]
    while chain[-1].redirected_from_id is not None:
        chain.append(Referral.objects.select_related("service").get(pk=chain[-1].redirected_from_id))
    return chain
