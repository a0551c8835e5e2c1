"""The live queue: every open Recovery at Home referral, soonest due first."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from time import monotonic
from urllib.parse import quote

from django.core.cache import cache
from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from atb.queries import built_once
from core.input import is_id
from core.models import Neighbourhood, User
from core.models.patients import age_today
from core.models.users import person_name
from recovery_at_home.models import REACHED_LAST, Dispatch, Episode, TriageCategory
from referrals.models import OPEN_STATUSES, Reason

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
    return clock_state(due_at=episode.response_due_at, arrived_at=episode.arrived_at, now=now)


def clock_state(*, due_at: datetime, arrived_at: datetime | None, now: datetime) -> str:
    if arrived_at is not None:
        return QueueState.ARRIVED
    if due_at <= now:
        return QueueState.BREACHED
    if due_at - now <= DUE_SOON:
        return QueueState.DUE_SOON
    return QueueState.ON_TIME


def time_left(due_at: datetime, *, now: datetime) -> str:
    """ "1 h 5 min left", "12 min late": as the queue's countdown (static/js/queue.js) says it."""
    seconds = (due_at - now).total_seconds()
    minutes = int(abs(seconds) // 60)
    hours, rest = divmod(minutes, 60)
    text = f"{hours} h {rest} min" if hours else f"{minutes} min"
    return f"{text} left" if seconds >= 0 else f"{text} late"


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue, worked out once in Python: the template only prints it.
    (Chained lookups and filters in the template, 25 rows every few seconds for every
    coordinator, were most of the page's time.)"""

    pk: int  # the episode's
    reached: bool  # once the person was reached: after the running clocks in the queue
    patient_id: int
    reference: str
    url: str
    state: str
    state_label: str
    due_at: datetime  # for the countdown (static/js/queue.js)
    due_time: str  # UK time, "14:05"
    agreed_later: bool
    arrived_time: str  # UK time; empty while the clock runs
    time_left: str
    patient_name: str  # "SMITH, Ada"
    age: int | None
    locality: str
    reason: str
    category: str  # empty until triaged
    visits: list[tuple[str, str]]  # (responder, "dispatched" / "on the way" / "arrived")


STATE_LABELS = {
    QueueState.ON_TIME: "On time",
    QueueState.DUE_SOON: "Due soon",
    QueueState.BREACHED: "Breached",
    QueueState.ARRIVED: "Arrived",
}


# What a row reads, as values: 25 rows of six joined models were most of the page's time
# as model instances, and a row only prints them.
QUEUE_ROW_VALUES = {
    "reference": F("referral__reference"),
    "reason": F("referral__reason"),
    "patient_id": F("referral__patient_id"),
    "given_name": F("referral__patient__given_name"),
    "family_name": F("referral__patient__family_name"),
    "date_of_birth": F("referral__patient__date_of_birth"),
    "locality": F("referral__patient__practice__neighbourhood__name"),
    "category_name": F("category__name"),
}
SHOWN_VISITS = [*ACTIVE_DISPATCH, Dispatch.State.ARRIVED]


def referral_url_maker() -> Callable[[str], str]:
    """The referral page's address for a reference, reversed once for a list of rows (a
    reverse() per row was a tenth of the queue's own work)."""
    marker = "0REFERENCE0"
    address = reverse("referral_detail", args=[marker])
    return lambda reference: address.replace(marker, quote(reference, safe=""))


def _queue_row(
    values: dict, *, visits: list[tuple[str, str]], now: datetime, url_of: Callable[[str], str]
) -> QueueRow:
    due_at, arrived_at = values["response_due_at"], values["arrived_at"]
    state = clock_state(due_at=due_at, arrived_at=arrived_at, now=now)
    return QueueRow(
        pk=values["pk"],
        reached=values["reached"],
        patient_id=values["patient_id"],
        reference=values["reference"],
        url=url_of(values["reference"]),
        state=state,
        state_label=STATE_LABELS[state],
        due_at=due_at,
        due_time=uk_time(due_at),
        agreed_later=bool(values["agreed_later_reason"]),
        arrived_time=uk_time(arrived_at) if arrived_at else "",
        time_left=time_left(due_at, now=now),
        patient_name=listed_name(family_name=values["family_name"], given_name=values["given_name"]),
        age=age_today(values["date_of_birth"]),
        locality=values["locality"] or "not known",
        reason=REASONS.get(values["reason"], values["reason"]),
        category=values["category_name"] or "",
        visits=visits,
    )


@built_once
def _shown_visits() -> QuerySet[Dispatch]:
    return (
        Dispatch.objects.filter(state__in=SHOWN_VISITS)
        .order_by("dispatched_at", "pk")
        .values_list(
            "episode_id", "state", "responder__first_name", "responder__last_name", "responder__username"
        )
    )


def _visits(episode_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """Who is going to (or has reached) each of these people, in the order they were sent."""
    visits = defaultdict(list)
    if not episode_ids:
        return visits
    dispatches = _shown_visits().filter(episode_id__in=episode_ids)
    for episode_id, state, first_name, last_name, username in dispatches:
        responder = person_name(first_name=first_name, last_name=last_name, username=username)
        visits[episode_id].append((responder, VISIT_STATES[state]))
    return visits


REASONS = dict(Reason.choices)
VISIT_STATES = {state: label.lower() for state, label in Dispatch.State.choices}


def uk_time(moment: datetime) -> str:
    """ "14:05", UK time."""
    return timezone.localtime(moment).strftime("%H:%M")


def listed_name(*, family_name: str, given_name: str) -> str:
    """ "SMITH, Ada": a person as the queue and its alerts list them."""
    return f"{family_name.upper()}, {given_name}"


@dataclass(frozen=True)
class QueueFilters:
    category: str = ""  # a category code, or "untriaged"
    locality: str = ""  # a neighbourhood code
    state: str = ""
    unassigned: bool = False


def _filtered_queue(
    *, filters: QueueFilters, now: datetime, episodes: QuerySet[Episode] | None = None
) -> QuerySet[Episode]:
    """The open episodes the filters choose, from the partial index of open episodes (or
    from `episodes`, a query of open episodes already built)."""
    episodes = Episode.objects.filter(queue_open=True) if episodes is None else episodes
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


def _in_queue_order(episodes: QuerySet[Episode]) -> QuerySet[Episode]:
    """Running clocks by due time, then those reached: the open-queue index's own order."""
    return episodes.annotate(reached=REACHED_LAST).order_by("reached", "response_due_at", "pk")


@built_once
def _queue_rows() -> QuerySet[Episode]:
    """What a page of the queue reads of each open episode, in the queue's order."""
    return _in_queue_order(Episode.objects.filter(queue_open=True)).values(
        "pk", "reached", "response_due_at", "agreed_later_reason", "arrived_at", **QUEUE_ROW_VALUES
    )


def open_queue(*, filters: QueueFilters, now: datetime) -> QuerySet[Episode]:
    """Open referrals with a running clock first (by due time), then those reached, with
    what the API's entries show."""
    return _in_queue_order(_filtered_queue(filters=filters, now=now)).select_related(
        "category", "referral__patient__practice__neighbourhood"
    )


def episode_of(*, referral) -> Episode:
    """A referral's clock, with what the API's queue entries show."""
    return Episode.objects.select_related("category", "referral__patient__practice__neighbourhood").get(
        referral=referral
    )


@dataclass(frozen=True)
class QueueCursor:
    """Where a page of the queue ends: keyset pagination, so a page stays put while
    referrals arrive and leave above it (an offset would shift under the coordinator)."""

    reached: bool
    due_at: datetime
    pk: int

    def encode(self) -> str:
        return f"{int(self.reached)}.{round(self.due_at.timestamp() * 1_000_000)}.{self.pk}"

    @classmethod
    def decode(cls, text: str) -> QueueCursor | None:
        """None for anything that is not a cursor this code wrote (a hand-edited link)."""
        parts = text.split(".")
        if len(parts) != 3 or not all(is_id(part) for part in parts):
            return None
        reached, micros, pk = (int(part) for part in parts)
        if reached not in (0, 1) or not micros < 4_102_444_800_000_000:  # before 2100
            return None
        due_at = datetime.fromtimestamp(micros / 1_000_000, tz=UTC)
        return cls(reached=bool(reached), due_at=due_at, pk=pk)

    @classmethod
    def after(cls, row: QueueRow) -> QueueCursor:
        return cls(reached=row.reached, due_at=row.due_at, pk=row.pk)

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
    rows: list[QueueRow]
    counts: QueueCounts
    after: QueueCursor | None  # where this page starts; None on the first page
    next: QueueCursor | None  # where the next page starts; None on the last
    remaining: int = 0  # rows from this page's first to the end of the queue

    @property
    def first_number(self) -> int:
        """The position of the page's first row in the whole queue (1 on the first page)."""
        return self.counts.open - self.remaining + 1 if self.rows else 0

    @property
    def last_number(self) -> int:
        return self.first_number + len(self.rows) - 1 if self.rows else 0


QUEUE_PAGE_SIZE = 25  # about a screenful; the counts and the next page give the rest


def queue_page(
    *, filters: QueueFilters, now: datetime, after: QueueCursor | None = None, size: int = QUEUE_PAGE_SIZE
) -> QueuePage:
    """One page of the queue (soonest due first) and the counts of the whole filtered queue:
    at national scale a coordinator reads the first page and the totals, not 2,000 rows."""
    filtered = _filtered_queue(filters=filters, now=now)
    ordered = _filtered_queue(filters=filters, now=now, episodes=_queue_rows())
    if after is not None:
        ordered = ordered.filter(after.rows_after())
        filtered = filtered.annotate(reached=REACHED_LAST)  # to count those after the cursor
    counted = filtered.aggregate(
        open=Count("pk"),
        breached=Count("pk", filter=Q(arrived_at__isnull=True, response_due_at__lte=now)),
        due_soon=Count(
            "pk",
            filter=Q(arrived_at__isnull=True, response_due_at__gt=now, response_due_at__lte=now + DUE_SOON),
        ),
        untriaged=Count("pk", filter=Q(category__isnull=True)),
        arrived=Count("pk", filter=Q(arrived_at__isnull=False)),
        **({"remaining": Count("pk", filter=after.rows_after())} if after else {}),
    )
    found = list(ordered[: size + 1])
    more = len(found) > size
    found = found[:size]
    visits = _visits([values["pk"] for values in found])
    url_of = referral_url_maker()
    rows = [
        _queue_row(values, visits=visits.get(values["pk"], []), now=now, url_of=url_of) for values in found
    ]
    remaining = counted.pop("remaining", counted["open"])
    return QueuePage(
        rows=rows,
        counts=QueueCounts(**counted),
        after=after,
        next=QueueCursor.after(rows[-1]) if more else None,
        remaining=remaining,
    )


def visits_for(*, responder: User) -> QuerySet[Dispatch]:
    """A responder's visits that still need them: not stood down, referral still open."""
    return (
        Dispatch.objects.filter(responder=responder, episode__referral__status__in=OPEN_STATUSES)
        .exclude(state=Dispatch.State.STOOD_DOWN)
        .select_related("episode__category", "episode__referral__patient__practice__neighbourhood")
        .order_by("episode__response_due_at", "pk")
    )


FILTER_CHOICES_CACHE_KEY = "rah:queue-filter-choices"
# Each process keeps its copy this long before asking the shared cache again (a Redis
# round trip was a twentieth of the page): an edit shows at once in the process that
# made it, and in the other workers within this time.
FILTER_CHOICES_LOCAL_SECONDS = 30
_local_filter_choices: dict = {"until": float("-inf"), "choices": None}


def filter_choices() -> dict:
    """The queue filters' choices: reference data an administrator seldom edits, so cached
    (shared by every worker) until a category or a neighbourhood is saved or deleted, and
    kept a short while by each process."""
    now = monotonic()
    choices = _local_filter_choices["choices"] if now < _local_filter_choices["until"] else None
    if choices is None:
        choices = cache.get(FILTER_CHOICES_CACHE_KEY)
    if choices is None:
        choices = {
            "categories": list(TriageCategory.objects.values_list("code", "name")),
            "localities": list(Neighbourhood.objects.values_list("code", "name")),
        }
        cache.set(FILTER_CHOICES_CACHE_KEY, choices, timeout=3600)
    if now >= _local_filter_choices["until"]:
        _local_filter_choices.update(until=now + FILTER_CHOICES_LOCAL_SECONDS, choices=choices)
    return {**choices, "states": QueueState.CHOICES}


def forget_filter_choices() -> None:
    _local_filter_choices.update(until=float("-inf"), choices=None)
    cache.delete(FILTER_CHOICES_CACHE_KEY)
