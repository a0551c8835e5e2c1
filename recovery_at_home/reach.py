"""Who can reach this person in time: the rule behind the dispatch suggestion.

For each responder on shift: where they will be and when they will be free (the visits
they already have in hand, one after another), the road minutes from there to the person
(`TravelTime`, an administrator's matrix), whether they have the skill the reason asks
for, and whether they arrive before the response is due and before their shift ends. The
coordinator decides; the suggestion ranks and says why. Pages and the API read it here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone

from core.models import Role, User
from core.uk_time import uk_when
from recovery_at_home import rota
from recovery_at_home.models import Dispatch, Episode, Shift, Skill, TravelTime
from recovery_at_home.selectors import ACTIVE_DISPATCH
from referrals.models import OPEN_STATUSES, Reason

# A first response from arrival to leaving: a local planning figure, not a standard. The
# suggestion uses it to say when a responder with a visit in hand is free again.
VISIT = timedelta(minutes=60)
# A pair of places the matrix does not hold yet: said so in the suggestion.
UNKNOWN_TRAVEL_MINUTES = 30
BASE_LABEL = "the Leechmere base"

# The skill a reason calls for, where one does (Recovery at Home's own practice: a fall
# wants a falls assessment, an urgent catheter someone trained in catheter care...).
REASON_SKILLS: dict[str, str] = {
    Reason.FALL: Skill.FALLS_ASSESSMENT,
    Reason.CATHETER: Skill.CATHETER_CARE,
    Reason.PALLIATIVE: Skill.END_OF_LIFE,
    Reason.REDUCED_FUNCTION: Skill.MOVING_AND_HANDLING,
    Reason.EQUIPMENT: Skill.MOVING_AND_HANDLING,
    Reason.DIABETES: Skill.PRESCRIBING,
}


# A visit in hand: sent and not yet reached, to a person still waiting for the response
# (the referral open and no outcome recorded: one sent who never arrived because another
# responder got there and the outcome followed is not in hand any more). Dispatch,
# capacity and the suggestion all count by this.
IN_HAND = Q(
    state__in=ACTIVE_DISPATCH,
    episode__referral__status__in=OPEN_STATUSES,
    episode__outcome="",
)


def skill_for(reason: str) -> str | None:
    """The skill this reason calls for, or None when any responder will do."""
    return REASON_SKILLS.get(reason)


@dataclass(frozen=True)
class Place:
    """Where a responder is, or is going: a neighbourhood, or the base (pk None)."""

    pk: int | None
    name: str


BASE = Place(pk=None, name=BASE_LABEL)


class Travel:
    """The travel matrix, read once for a suggestion."""

    def __init__(self) -> None:
        self._minutes = {
            (origin, destination): minutes
            for origin, destination, minutes in TravelTime.objects.values_list(
                "origin", "destination", "minutes"
            )
        }

    def minutes(self, origin: Place, destination: Place) -> tuple[int, bool]:
        """(minutes, known): within one neighbourhood with no figure of its own, a short
        drive is still a drive, so the unknown figure stands for it too."""
        known = self._minutes.get((origin.pk, destination.pk))
        return (known, True) if known is not None else (UNKNOWN_TRAVEL_MINUTES, False)


@dataclass
class Suggestion:
    """One responder on shift, as the suggestion ranks them for one referral."""

    responder: User
    shift: Shift
    arrives_at: datetime
    travel_minutes: int
    travel_known: bool
    setting_out_from: Place
    free_at: datetime  # when their visits in hand are done (now when they have none)
    visits_in_hand: list[str] = field(default_factory=list)  # references, in order
    skill: str | None = None  # the skill the reason calls for
    due_at: datetime | None = None  # None once the person was reached
    now: datetime | None = None

    @property
    def has_skill(self) -> bool:
        return self.skill is None or self.skill in self.shift.skills

    @property
    def in_time(self) -> bool:
        return self.due_at is None or self.arrives_at <= self.due_at

    @property
    def before_shift_ends(self) -> bool:
        return self.arrives_at < self.shift.ends_at

    @property
    def can_go(self) -> bool:
        """Arrives before the response is due and while on shift, with the skill needed."""
        return self.in_time and self.before_shift_ends and self.has_skill

    @property
    def minutes_to_spare(self) -> int | None:
        """Minutes between arriving and the response being due (negative: that late)."""
        if self.due_at is None:
            return None
        return int((self.due_at - self.arrives_at).total_seconds() // 60)

    def rank(self) -> tuple:
        # In time and on shift first, then the skill, then the soonest to arrive.
        return (
            not (self.in_time and self.before_shift_ends),
            not self.has_skill,
            self.arrives_at,
            self.responder.last_name,
            self.responder.pk,
        )

    @property
    def why(self) -> list[str]:
        """The suggestion's reasons, in words a coordinator reads at a glance."""
        reasons = []
        travel = f"{self.travel_minutes} min from {self.setting_out_from.name}"
        if not self.travel_known:
            travel += " (no travel time recorded for this journey: 30 min assumed)"
        reasons.append(f"Arrives about {uk_when(self.arrives_at, now=self.now)}: {travel}")
        spare = self.minutes_to_spare
        if spare is not None:
            reasons.append(f"{spare} min before it is due" if spare >= 0 else f"{-spare} min after it is due")
        if self.visits_in_hand:
            count = len(self.visits_in_hand)
            reasons.append(
                f"{count} visit{'s' if count > 1 else ''} in hand ({', '.join(self.visits_in_hand)}), "
                f"free about {uk_when(self.free_at, now=self.now)}"
            )
        elif self.now is not None and self.free_at > self.now:
            reasons.append(f"With a person until about {uk_when(self.free_at, now=self.now)}")
        else:
            reasons.append("No visit in hand")
        if self.skill is not None:
            label = Skill(self.skill).label.lower()
            reasons.append(f"Has {label}" if self.has_skill else f"No {label} on this shift")
        if not self.before_shift_ends:
            ends = uk_when(self.shift.ends_at, now=self.now)
            reasons.append(f"Shift ends {ends}, before they could arrive")
        return reasons


def suggest_responders(*, episode: Episode, now: datetime | None = None) -> list[Suggestion]:
    """The responders on shift now, ranked for this episode (those already sent to the
    person left out). Three queries whatever the number of responders."""
    now = now or timezone.now()
    referral = episode.referral
    neighbourhood = referral.patient.practice.neighbourhood if referral.patient.practice_id else None
    destination = Place(pk=neighbourhood.pk, name=neighbourhood.name) if neighbourhood else BASE
    already_sent = set(
        Dispatch.objects.filter(episode=episode)
        .exclude(state=Dispatch.State.STOOD_DOWN)
        .values_list("responder_id", flat=True)
    )
    shifts = [
        shift
        for shift in rota.shifts_at(role=Role.RAH_RESPONDER, at=now).select_related("staff")
        if shift.staff_id not in already_sent
    ]
    if not shifts:
        return []
    visits = _visits_this_shift(shifts, now=now)
    travel = Travel()
    skill = skill_for(referral.reason)
    suggestions = []
    for shift in shifts:
        place, free_at, in_hand = _where_and_when_free(visits[shift.staff_id], now=now, travel=travel)
        minutes, known = travel.minutes(place, destination)
        suggestions.append(
            Suggestion(
                responder=shift.staff,
                shift=shift,
                arrives_at=free_at + timedelta(minutes=minutes),
                travel_minutes=minutes,
                travel_known=known,
                setting_out_from=place,
                free_at=free_at,
                visits_in_hand=in_hand,
                skill=skill,
                due_at=episode.response_due_at if episode.arrived_at is None else None,
                now=now,
            )
        )
    return sorted(suggestions, key=Suggestion.rank)


@dataclass(frozen=True)
class _Visit:
    reference: str
    sent_at: datetime
    on_the_way_at: datetime | None
    arrived_at: datetime | None
    place: Place


def _visits_this_shift(shifts: list[Shift], *, now: datetime) -> dict[int, list[_Visit]]:
    """Each responder's visits in hand (`IN_HAND`, whenever sent) and those they reached
    this shift, in the order they were sent: what they still have to do, and where they
    have been."""
    began = {shift.staff_id: shift.starts_at for shift in shifts}
    rows = (
        Dispatch.objects.filter(responder__in=began)
        .filter(
            IN_HAND
            | Q(state=Dispatch.State.ARRIVED, arrived_at__gte=min(began.values()), arrived_at__lte=now)
        )
        .values(
            "responder_id",
            "dispatched_at",
            "on_the_way_at",
            "arrived_at",
            reference=F("episode__referral__reference"),
            place_pk=F("episode__referral__patient__practice__neighbourhood"),
            place_name=F("episode__referral__patient__practice__neighbourhood__name"),
        )
        .order_by("dispatched_at", "pk")
    )
    visits: dict[int, list[_Visit]] = defaultdict(list)
    for row in rows:
        if row["arrived_at"] is not None and row["arrived_at"] < began[row["responder_id"]]:
            continue  # reached on an earlier shift: says nothing of where they are now
        place = Place(pk=row["place_pk"], name=row["place_name"]) if row["place_pk"] else BASE
        visits[row["responder_id"]].append(
            _Visit(
                reference=row["reference"],
                sent_at=row["dispatched_at"],
                on_the_way_at=row["on_the_way_at"],
                arrived_at=row["arrived_at"],
                place=place,
            )
        )
    return visits


def _where_and_when_free(
    visits: list[_Visit], *, now: datetime, travel: Travel
) -> tuple[Place, datetime, list]:
    """Where the responder sets out from next, when, and the visits in hand before that:
    each visit not yet reached is travelled to after the one before, and every visit
    takes `VISIT` from arrival."""
    place, free_at, in_hand = BASE, None, []
    for visit in visits:
        if visit.arrived_at is not None:
            free_at = max(free_at or visit.arrived_at, visit.arrived_at + VISIT)
        else:
            minutes, _ = travel.minutes(place, visit.place)
            sets_off = visit.on_the_way_at or visit.sent_at
            if free_at is not None:
                sets_off = max(sets_off, free_at)
            # Not there yet, so not before now, however short the journey was thought.
            free_at = max(now, sets_off + timedelta(minutes=minutes)) + VISIT
            in_hand.append(visit.reference)
        place = visit.place
    return place, max(now, free_at or now), in_hand


def visits_in_hand(*, responder: User) -> list[Dispatch]:
    """The responder's visits sent and not yet reached, on referrals still open: what a
    further dispatch would come after (read under the responder's row lock)."""
    return list(
        Dispatch.objects.filter(IN_HAND, responder=responder)
        .select_related("episode__referral")
        .order_by("dispatched_at", "pk")
    )
