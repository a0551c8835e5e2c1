"""The live queue: every open Recovery at Home referral, soonest due first."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from core.input import is_id
from core.models import Neighbourhood, User
from core.models.patients import age_today
from core.models.users import person_name
from core.uk_time import uk_day_start, uk_when
from recovery_at_home import clock
from recovery_at_home.models import REACHED_LAST, Dispatch, Episode, PlannedVisit, TriageCategory
from referrals.models import OPEN_STATUSES, shown_reason

ACTIVE_DISPATCH = [Dispatch.State.DISPATCHED, Dispatch.State.ON_THE_WAY]


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue, as the template prints it."""

    pk: int  # the episode's
    reached: bool  # once the person was reached: after the running clocks in the queue
    patient_id: int
    reference: str
    url: str
    state: str
    state_label: str
    due_at: datetime  # for the countdown (static/js/queue.js)
    due_time: str  # UK time, "14:05", with the date when not today
    agreed_later: bool
    arrived_time: str  # UK time; empty while the clock runs
    time_left: str
    patient_name: str  # "SMITH, Ada"
    age: int | None
    locality: str
    reason: str
    category: str  # empty until triaged
    visits: list[tuple[str, str]]  # (responder, "dispatched" / "on the way" / "arrived")


# What a row reads of the episode's referral, person and category.
QUEUE_ROW_VALUES = {
    "reference": F("referral__reference"),
    "reason": F("referral__reason"),
    "reason_other": F("referral__reason_other"),
    "patient_id": F("referral__patient_id"),
    "given_name": F("referral__patient__given_name"),
    "family_name": F("referral__patient__family_name"),
    "date_of_birth": F("referral__patient__date_of_birth"),
    "locality": F("referral__patient__practice__neighbourhood__name"),
    "category_name": F("category__name"),
}
SHOWN_VISITS = [*ACTIVE_DISPATCH, Dispatch.State.ARRIVED]


def _queue_row(
    values: dict, *, visits: list[tuple[str, str]], now: datetime, due_soon: timedelta
) -> QueueRow:
    due_at, arrived_at = values["response_due_at"], values["arrived_at"]
    state = clock.clock_state(due_at=due_at, arrived_at=arrived_at, now=now, due_soon=due_soon)
    return QueueRow(
        pk=values["pk"],
        reached=values["reached"],
        patient_id=values["patient_id"],
        reference=values["reference"],
        url=reverse("referral_detail", args=[values["reference"]]),
        state=state,
        state_label=clock.ClockState(state).label,
        due_at=due_at,
        due_time=uk_when(due_at, now=now),
        agreed_later=bool(values["agreed_later_reason"]),
        arrived_time=uk_when(arrived_at, now=now),
        time_left=clock.time_left(due_at, now=now),
        patient_name=listed_name(family_name=values["family_name"], given_name=values["given_name"]),
        age=age_today(values["date_of_birth"]),
        locality=values["locality"] or "not known",
        reason=shown_reason(values["reason"], values["reason_other"]),
        category=values["category_name"] or "",
        visits=visits,
    )


def _visits(episode_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """Who is going to (or has reached) each of these people, in the order they were sent."""
    visits = defaultdict(list)
    if not episode_ids:
        return visits
    dispatches = (
        Dispatch.objects.filter(state__in=SHOWN_VISITS, episode_id__in=episode_ids)
        .order_by("dispatched_at", "pk")
        .values_list(
            "episode_id", "state", "responder__first_name", "responder__last_name", "responder__username"
        )
    )
    for episode_id, state, first_name, last_name, username in dispatches:
        responder = person_name(first_name=first_name, last_name=last_name, username=username)
        visits[episode_id].append((responder, VISIT_STATES[state]))
    return visits


VISIT_STATES = {state: label.lower() for state, label in Dispatch.State.choices}


def listed_name(*, family_name: str, given_name: str) -> str:
    """ "SMITH, Ada": a person as the queue and its alerts list them."""
    return f"{family_name.upper()}, {given_name}"


@dataclass(frozen=True)
class QueueFilters:
    category: str = ""  # a category code, or "untriaged"
    locality: str = ""  # a neighbourhood code
    state: str = ""
    unassigned: bool = False


def _filtered_queue(*, filters: QueueFilters, now: datetime, due_soon: timedelta) -> QuerySet[Episode]:
    """The open episodes the filters choose, from the partial index of open episodes."""
    episodes = Episode.objects.filter(queue_open=True)
    if filters.category == "untriaged":
        episodes = episodes.filter(category__isnull=True)
    elif filters.category:
        episodes = episodes.filter(category__code=filters.category)
    if filters.locality:
        episodes = episodes.filter(referral__patient__practice__neighbourhood__code=filters.locality)
    if filters.state in clock.ClockState.values:
        episodes = episodes.filter(clock.in_state(filters.state, now=now, due_soon=due_soon))
    if filters.unassigned:
        episodes = episodes.exclude(dispatches__state__in=ACTIVE_DISPATCH)
    return episodes


def _in_queue_order(episodes: QuerySet[Episode]) -> QuerySet[Episode]:
    """Running clocks by due time, then those reached: the open-queue index's own order."""
    return episodes.annotate(reached=REACHED_LAST).order_by("reached", "response_due_at", "pk")


def open_queue(*, filters: QueueFilters, now: datetime, due_soon: timedelta) -> QuerySet[Episode]:
    """Open referrals with a running clock first (by due time), then those reached, with
    what the API's entries show."""
    return _in_queue_order(_filtered_queue(filters=filters, now=now, due_soon=due_soon)).select_related(
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
    due_soon: timedelta  # the alert policy's window, for the summary and the countdown
    rows: list[QueueRow]
    counts: QueueCounts
    after: QueueCursor | None  # where this page starts; None on the first page
    next: QueueCursor | None  # where the next page starts; None on the last
    remaining: int = 0  # rows from this page's first to the end of the queue

    @property
    def due_soon_minutes(self) -> int:
        return int(self.due_soon.total_seconds() // 60)

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
    due_soon = clock.due_soon_window()
    filtered = _filtered_queue(filters=filters, now=now, due_soon=due_soon)
    ordered = _in_queue_order(filtered).values(
        "pk", "reached", "response_due_at", "agreed_later_reason", "arrived_at", **QUEUE_ROW_VALUES
    )
    if after is not None:
        ordered = ordered.filter(after.rows_after())
        filtered = filtered.annotate(reached=REACHED_LAST)  # to count those after the cursor
    counted = filtered.aggregate(
        open=Count("pk"),
        breached=Count("pk", filter=clock.in_state(clock.ClockState.BREACHED, now=now, due_soon=due_soon)),
        due_soon=Count("pk", filter=clock.in_state(clock.ClockState.DUE_SOON, now=now, due_soon=due_soon)),
        untriaged=Count("pk", filter=Q(category__isnull=True)),
        arrived=Count("pk", filter=Q(arrived_at__isnull=False)),
        **({"remaining": Count("pk", filter=after.rows_after())} if after else {}),
    )
    found = list(ordered[: size + 1])
    more = len(found) > size
    found = found[:size]
    visits = _visits([values["pk"] for values in found])
    rows = [
        _queue_row(values, visits=visits.get(values["pk"], []), now=now, due_soon=due_soon)
        for values in found
    ]
    remaining = counted.pop("remaining", counted["open"])
    return QueuePage(
        due_soon=due_soon,
        rows=rows,
        counts=QueueCounts(**counted),
        after=after,
        next=QueueCursor.after(rows[-1]) if more else None,
        remaining=remaining,
    )


def visits_for(*, responder: User) -> QuerySet[Dispatch]:
    """A responder's first responses that still need them: not stood down, the referral
    still open, and the outcome not yet recorded (short-term care that follows is planned
    visits of its own; a visit never reached because the outcome came first is over)."""
    return (
        Dispatch.objects.filter(responder=responder, episode__referral__status__in=OPEN_STATUSES)
        .exclude(state=Dispatch.State.STOOD_DOWN)
        .exclude(episode__outcome__gt="")
        .select_related("episode__category", "episode__referral__patient__practice__neighbourhood")
        .order_by("episode__response_due_at", "pk")
    )


def filter_choices() -> dict:
    """The queue filters' choices."""
    return {
        "categories": list(TriageCategory.objects.values_list("code", "name")),
        "localities": list(Neighbourhood.objects.values_list("code", "name")),
        "states": clock.ClockState.choices,
    }


@dataclass(frozen=True)
class DayItem:
    """One thing in a responder's day: a first response (`dispatch`) or a planned visit of
    short-term care (`planned`), at the time it is due or its window opens."""

    at: datetime
    dispatch: Dispatch | None = None
    planned: PlannedVisit | None = None

    @property
    def patient(self):
        episode = self.dispatch.episode if self.dispatch else self.planned.care.episode
        return episode.referral.patient


def care_visits_for(*, responder: User, now: datetime) -> QuerySet[PlannedVisit]:
    """A responder's care visits still to record: today's, and any earlier one, in time
    order (the care still running)."""
    tomorrow = uk_day_start(timezone.localdate(now) + timedelta(days=1))
    return (
        PlannedVisit.objects.filter(
            responder=responder,
            state=PlannedVisit.State.PLANNED,
            care__discharged_at__isnull=True,
            window_start__lt=tomorrow,
        )
        .select_related("care__episode__referral__patient")
        .order_by("window_start", "pk")
    )


def responder_day(*, responder: User, now: datetime) -> list[DayItem]:
    """A responder's day in time order: first responses (soonest due first) with the care
    visits planned for them today, and any earlier one still unrecorded."""
    planned = care_visits_for(responder=responder, now=now)
    items = [
        DayItem(at=visit.episode.response_due_at, dispatch=visit) for visit in visits_for(responder=responder)
    ]
    items += [DayItem(at=visit.window_start, planned=visit) for visit in planned]
    return sorted(items, key=lambda item: item.at)
