"""Capacity against demand, live: for each of the next hours, the referrals whose response
falls due then against the responders on shift and the visits they already have in hand.

The queue shows it beside the rows, and warns when the people due, with nobody sent yet,
are more than those on shift can reach. The figure is a planning estimate, not a rota
rule: a responder reaches the first person after a journey (`TYPICAL_JOURNEY`) and one
more every `PER_PERSON` (an hour's visit and a journey, as the dispatch suggestion counts
them, `recovery_at_home.reach`); visits already in hand come off the total.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q

from core.models import Role
from recovery_at_home import reach
from recovery_at_home.models import Dispatch, Episode, Shift
from recovery_at_home.selectors import ACTIVE_DISPATCH

HOURS_AHEAD = 4
TYPICAL_JOURNEY = timedelta(minutes=20)
PER_PERSON = reach.VISIT + TYPICAL_JOURNEY


@dataclass(frozen=True)
class HourAhead:
    starts_at: datetime
    ends_at: datetime
    due: int  # not yet reached, due in this hour (the first hour also holds those overdue)
    nobody_sent: int  # of those, with no responder sent
    on_shift: int  # responders on shift for any of the hour
    can_reach: int  # people those on shift can reach from now to the hour's end, less their visits in hand
    short: bool  # more people due with nobody sent, from now to the hour's end, than can be reached


@dataclass(frozen=True)
class CapacityAhead:
    hours: list[HourAhead]
    in_hand: int  # visits sent and not yet reached, of responders on shift now

    @property
    def short_from(self) -> HourAhead | None:
        """The first hour the due people outrun who can reach them, if any."""
        return next((hour for hour in self.hours if hour.short), None)


def capacity_ahead(*, now: datetime, hours: int = HOURS_AHEAD) -> CapacityAhead:
    """The next `hours` hours from now (three queries, whatever the queue's length)."""
    edges = [now + timedelta(hours=n) for n in range(hours + 1)]
    sent = Dispatch.objects.filter(episode=OuterRef("pk"), state__in=ACTIVE_DISPATCH)
    running = Episode.objects.filter(queue_open=True, arrived_at__isnull=True, response_due_at__lt=edges[-1])
    counts = running.annotate(sent=Exists(sent)).aggregate(
        **{f"due_{n}": Count("pk", filter=_in_hour(n, edges)) for n in range(hours)},
        **{f"unsent_{n}": Count("pk", filter=_in_hour(n, edges) & Q(sent=False)) for n in range(hours)},
    )
    shifts = list(
        Shift.objects.filter(
            staff__is_active=True,
            staff__role_grants__role=Role.RAH_RESPONDER,
            starts_at__lt=edges[-1],
            ends_at__gt=now,
        )
        .values_list("staff_id", "starts_at", "ends_at")
        .distinct()
    )
    by_person: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for staff, starts, ends in shifts:
        by_person[staff].append((starts, ends))
    on_shift_now = [staff for staff, times in by_person.items() if any(s <= now < e for s, e in times)]
    in_hand_of = Counter(
        Dispatch.objects.filter(reach.IN_HAND, responder__in=on_shift_now).values_list(
            "responder_id", flat=True
        )
    )
    in_hand = sum(in_hand_of.values())

    result, unsent_so_far = [], 0
    for n in range(hours):
        start, end = edges[n], edges[n + 1]
        on_shift = {staff for staff, starts, ends in shifts if starts < end and ends > start}
        # Each responder's visits in hand come off their own reach, not anyone else's.
        can_reach = sum(
            max(0, _reachable(times, now=now, by=end) - in_hand_of[staff])
            for staff, times in by_person.items()
        )
        unsent_so_far += counts[f"unsent_{n}"]
        result.append(
            HourAhead(
                starts_at=start,
                ends_at=end,
                due=counts[f"due_{n}"],
                nobody_sent=counts[f"unsent_{n}"],
                on_shift=len(on_shift),
                can_reach=can_reach,
                short=unsent_so_far > can_reach,
            )
        )
    return CapacityAhead(hours=result, in_hand=in_hand)


def _reachable(times: list[tuple[datetime, datetime]], *, now: datetime, by: datetime) -> int:
    """How many people one responder (on shift at these times) can reach from now until
    `by`: the first after a journey, then one more for each visit and journey after it."""
    available = sum(
        (min(ends, by) - max(starts, now) for starts, ends in times if min(ends, by) > max(starts, now)),
        timedelta(0),
    )
    if available < TYPICAL_JOURNEY:
        return 0
    return int((available - TYPICAL_JOURNEY) / PER_PERSON) + 1


def _in_hour(n: int, edges: list[datetime]) -> Q:
    """Due in hour n; the first hour holds everything already overdue too."""
    upper = Q(response_due_at__lt=edges[n + 1])
    return upper if n == 0 else upper & Q(response_due_at__gte=edges[n])
