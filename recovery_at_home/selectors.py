"""The live queue: every open Recovery at Home referral, soonest due first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, IntegerField, Prefetch, QuerySet, Value, When

from atb.models import Neighbourhood, User
from recovery_at_home.models import Dispatch, Episode, TriageCategory
from referrals.models import OPEN_STATUSES

DUE_SOON = timedelta(minutes=30)
ACTIVE_DISPATCH = [Dispatch.State.DISPATCHED, Dispatch.State.ON_THE_WAY]


class QueueState:
    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    BREACHED = "breached"
    ARRIVED = "arrived"
    CHOICES = [
        (ON_TIME, "On time"),
        (DUE_SOON, "Due within 30 minutes"),
        (BREACHED, "Breached"),
        (ARRIVED, "Arrived"),
    ]


def queue_state(episode: Episode, *, now: datetime) -> str:
    if episode.arrived_at is not None:
        return QueueState.ARRIVED
    if episode.response_due_at <= now:
        return QueueState.BREACHED
    if episode.response_due_at - now <= DUE_SOON:
        return QueueState.DUE_SOON
    return QueueState.ON_TIME


@dataclass(frozen=True)
class QueueFilters:
    category: str = ""  # a category code, or "untriaged"
    locality: str = ""  # a neighbourhood code
    state: str = ""
    unassigned: bool = False


def open_queue(*, filters: QueueFilters, now: datetime) -> QuerySet[Episode]:
    """Open referrals with a running clock first (by due time), then those reached."""
    episodes = Episode.objects.filter(referral__status__in=OPEN_STATUSES)
    if filters.category == "untriaged":
        episodes = episodes.filter(category__isnull=True)
    elif filters.category:
        episodes = episodes.filter(category__code=filters.category)
    if filters.locality:
        episodes = episodes.filter(referral__patient__practice__neighbourhood__code=filters.locality)
    if filters.state == QueueState.ARRIVED:
        episodes = episodes.filter(arrived_at__isnull=False)
    elif filters.state == QueueState.BREACHED:
        episodes = episodes.filter(arrived_at__isnull=True, response_due_at__lte=now)
    elif filters.state == QueueState.DUE_SOON:
        episodes = episodes.filter(
            arrived_at__isnull=True, response_due_at__gt=now, response_due_at__lte=now + DUE_SOON
        )
    elif filters.state == QueueState.ON_TIME:
        episodes = episodes.filter(arrived_at__isnull=True, response_due_at__gt=now + DUE_SOON)
    if filters.unassigned:
        episodes = episodes.exclude(dispatches__state__in=ACTIVE_DISPATCH)
    reached_last = Case(
        When(arrived_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    active = Dispatch.objects.filter(state__in=[*ACTIVE_DISPATCH, Dispatch.State.ARRIVED]).select_related(
        "responder"
    )
    return (
        episodes.select_related("category", "referral__patient__practice__neighbourhood")
        .prefetch_related(Prefetch("dispatches", queryset=active, to_attr="current_dispatches"))
        .order_by(reached_last, "response_due_at", "pk")
    )


def visits_for(*, responder: User) -> QuerySet[Dispatch]:
    """A responder's visits that still need them: not stood down, referral still open."""
    return (
        Dispatch.objects.filter(responder=responder, episode__referral__status__in=OPEN_STATUSES)
        .exclude(state=Dispatch.State.STOOD_DOWN)
        .select_related("episode__category", "episode__referral__patient__practice__neighbourhood")
        .order_by("episode__response_due_at", "pk")
    )


def filter_choices() -> dict:
    return {
        "categories": list(TriageCategory.objects.values_list("code", "name")),
        "localities": list(Neighbourhood.objects.values_list("code", "name")),
        "states": QueueState.CHOICES,
    }
