"""The live queue: every open Recovery at Home referral, soonest due first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet

from atb.models import Neighbourhood, Role, User
from recovery_at_home.models import REACHED_LAST, Dispatch, Episode, TriageCategory
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


def time_left(episode: Episode, *, now: datetime) -> str:
    """ "1 h 5 min left", "12 min late": as the queue's countdown (static/js/queue.js) says it."""
    seconds = (episode.response_due_at - now).total_seconds()
    minutes = int(abs(seconds) // 60)
    hours, rest = divmod(minutes, 60)
    text = f"{hours} h {rest} min" if hours else f"{minutes} min"
    return f"{text} left" if seconds >= 0 else f"{text} late"


@dataclass(frozen=True)
class QueueFilters:
    category: str = ""  # a category code, or "untriaged"
    locality: str = ""  # a neighbourhood code
    state: str = ""
    unassigned: bool = False


def _filtered_queue(*, filters: QueueFilters, now: datetime) -> QuerySet[Episode]:
    """The open episodes the filters choose, from the partial index of open episodes."""
    episodes = Episode.objects.filter(queue_open=True)
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
    return episodes


def _with_rows(episodes: QuerySet[Episode]) -> QuerySet[Episode]:
    """What a queue row shows, in the queue's order: running clocks by due time, then those reached."""
    active = Dispatch.objects.filter(state__in=[*ACTIVE_DISPATCH, Dispatch.State.ARRIVED]).select_related(
        "responder"
    )
    return (
        episodes.annotate(reached=REACHED_LAST)
        .select_related("category", "referral__patient__practice__neighbourhood")
        .prefetch_related(Prefetch("dispatches", queryset=active, to_attr="current_dispatches"))
        .order_by("reached", "response_due_at", "pk")
    )


def open_queue(*, filters: QueueFilters, now: datetime) -> QuerySet[Episode]:
    """Open referrals with a running clock first (by due time), then those reached."""
    return _with_rows(_filtered_queue(filters=filters, now=now))


@dataclass(frozen=True)
class QueueCursor:
    """Where a page of the queue ends: keyset pagination, so a page stays put while
    referrals arrive and leave above it (an offset would shift under the coordinator)."""

    reached: int
    due_at: datetime
    pk: int

    def encode(self) -> str:
        return f"{self.reached}.{round(self.due_at.timestamp() * 1_000_000)}.{self.pk}"

    @classmethod
    def decode(cls, text: str) -> QueueCursor | None:
        """None for anything that is not a cursor this code wrote (a hand-edited link)."""
        parts = text.split(".")
        if len(parts) != 3 or not all(part.isdigit() and len(part) <= 20 for part in parts):
            return None
        reached, micros, pk = (int(part) for part in parts)
        if reached not in (0, 1) or not micros < 4_102_444_800_000_000:  # before 2100
            return None
        due_at = datetime.fromtimestamp(micros / 1_000_000, tz=UTC)
        return cls(reached=reached, due_at=due_at, pk=pk)

    @classmethod
    def after(cls, episode: Episode) -> QueueCursor:
        return cls(reached=episode.reached, due_at=episode.response_due_at, pk=episode.pk)

    def rows_after(self) -> Q:
        later = Q(response_due_at__gt=self.due_at) | Q(response_due_at=self.due_at, pk__gt=self.pk)
        return Q(reached__gt=self.reached) | (Q(reached=self.reached) & later)


@dataclass(frozen=True)
class QueueCounts:
    open: int = 0
    breached: int = 0
    due_soon: int = 0
    untriaged: int = 0
    arrived: int = 0


@dataclass(frozen=True)
class QueuePage:
    episodes: list[Episode]
    counts: QueueCounts
    after: QueueCursor | None  # where this page starts; None on the first page
    next: QueueCursor | None  # where the next page starts; None on the last
    remaining: int = 0  # rows from this page's first to the end of the queue

    @property
    def first_number(self) -> int:
        """The position of the page's first row in the whole queue (1 on the first page)."""
        return self.counts.open - self.remaining + 1 if self.episodes else 0

    @property
    def last_number(self) -> int:
        return self.first_number + len(self.episodes) - 1 if self.episodes else 0


QUEUE_PAGE_SIZE = 25  # about a screenful; the counts and the next page give the rest


def queue_page(
    *, filters: QueueFilters, now: datetime, after: QueueCursor | None = None, size: int = QUEUE_PAGE_SIZE
) -> QueuePage:
    """One page of the queue (soonest due first) and the counts of the whole filtered queue:
    at national scale a coordinator reads the first page and the totals, not 2,000 rows."""
    filtered = _filtered_queue(filters=filters, now=now)
    rows = _with_rows(filtered)
    if after is not None:
        rows = rows.filter(after.rows_after())
    counted = filtered.annotate(reached=REACHED_LAST).aggregate(
        open=Count("pk"),
        breached=Count("pk", filter=Q(arrived_at__isnull=True, response_due_at__lte=now)),
        due_soon=Count(
            "pk",
            filter=Q(arrived_at__isnull=True, response_due_at__gt=now, response_due_at__lte=now + DUE_SOON),
        ),
        untriaged=Count("pk", filter=Q(category__isnull=True)),
        arrived=Count("pk", filter=Q(arrived_at__isnull=False)),
        remaining=Count("pk", filter=after.rows_after() if after else Q()),
    )
    episodes = list(rows[: size + 1])
    more = len(episodes) > size
    episodes = episodes[:size]
    remaining = counted.pop("remaining")
    return QueuePage(
        episodes=episodes,
        counts=QueueCounts(**counted),
        after=after,
        next=QueueCursor.after(episodes[-1]) if more else None,
        remaining=remaining,
    )


def may_record_outcome(*, user: User, referral) -> bool:
    """A coordinator, or a responder sent to the person (not stood down): whoever saw them."""
    if user.has_role(Role.RAH_COORDINATOR):
        return True
    # From the episode's dispatches, which the referral page has already fetched.
    return user.has_role(Role.RAH_RESPONDER) and any(
        visit.responder_id == user.pk and visit.state != Dispatch.State.STOOD_DOWN
        for visit in referral.episode.dispatches.all()
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
