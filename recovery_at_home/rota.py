"""The rota: who is on shift, and the rule for adding a shift. "On duty" is read here by
the alerts (and, as the rota grows, the queue's "who can go" and the dispatch)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, QuerySet, Window
from django.db.models.functions import RowNumber, TruncDate
from django.utils import timezone

from core.models import Discipline, Role, RoleGrant, User
from core.models.users import person_name
from core.uk_time import uk_day_start
from recovery_at_home.models import Shift, Skill

# A shift longer than this is a typing mistake (a night shift is 12 hours and a half).
LONGEST_SHIFT = timedelta(hours=14)
ROTA_ROLES = (Role.RAH_COORDINATOR, Role.RAH_RESPONDER)
WEEK = timedelta(days=7)


class ShiftRefused(Exception):
    """The shift cannot be added; `field` names the form field it is about, if one."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


def shifts_at(*, role: str, at: datetime) -> QuerySet[Shift]:
    """The shifts covering the moment of active staff in the role (one each: a person's
    shifts never overlap)."""
    on_role = RoleGrant.objects.filter(user=OuterRef("staff"), role=role)
    return Shift.objects.filter(Exists(on_role), staff__is_active=True, starts_at__lte=at, ends_at__gt=at)


def on_shift(*, role: str, at: datetime | None = None) -> QuerySet[User]:
    """Active staff in the role with a shift covering the moment (now unless given)."""
    at = at or timezone.now()
    return User.objects.filter(shifts__in=shifts_at(role=role, at=at)).distinct()


def on_duty(*, role: str, at: datetime | None = None) -> QuerySet[User]:
    """Who is on duty in the role: those on shift; if the rota has nobody in the role then
    (no rota kept yet, or a gap in it), everyone active in the role, so that an alert is
    never sent to nobody."""
    shift = on_shift(role=role, at=at)
    if shift.exists():
        return shift
    return User.objects.filter(is_active=True, role_grants__role=role).distinct()


def _keeper(user: User) -> None:
    if not user.has_role(Role.RAH_COORDINATOR):
        raise ShiftRefused("Only a Recovery at Home coordinator keeps the rota.")


def _check_and_lock(
    *, staff: User, starts_at: datetime, ends_at: datetime, skills, other_than: Shift | None = None
) -> None:
    """The rule for one shift: the person is Recovery at Home staff, the times make sense,
    the skills are the rota's, and it overlaps none of their other shifts. Their row is
    locked while compared, so two coordinators changing their rota at once cannot both
    win."""
    if not staff.is_active or not staff.has_role(*ROTA_ROLES):
        raise ShiftRefused(f"{staff} is not Recovery at Home staff.", field="staff")
    if ends_at <= starts_at:
        raise ShiftRefused("The shift must end after it starts.", field="ends_at")
    if ends_at - starts_at > LONGEST_SHIFT:
        raise ShiftRefused("A shift is at most 14 hours: check the end time.", field="ends_at")
    unknown = sorted(set(skills) - set(Skill.values))
    if unknown:
        raise ShiftRefused(f"Not a skill the rota knows: {', '.join(unknown)}.", field="skills")
    # FOR NO KEY UPDATE: it does not wait on (or deadlock with) a shift row that names the
    # person as its creator, only on another change to their rota.
    User.objects.select_for_update(no_key=True).get(pk=staff.pk)
    clashes = Shift.objects.filter(staff=staff, starts_at__lt=ends_at, ends_at__gt=starts_at)
    if other_than is not None:
        clashes = clashes.exclude(pk=other_than.pk)
    clash = clashes.first()
    if clash is not None:
        when = timezone.localtime(clash.starts_at).strftime("%-d %b %H:%M")
        raise ShiftRefused(f"{staff} already has a shift from {when}.", field="starts_at")


@transaction.atomic
def add_shift(
    *,
    staff: User,
    starts_at: datetime,
    ends_at: datetime,
    user: User,
    base: str = "Leechmere",
    skills: list[str] | tuple[str, ...] = (),
) -> Shift:
    """Put a member of staff on the rota (`_check_and_lock` holds the rule)."""
    _keeper(user)
    _check_and_lock(staff=staff, starts_at=starts_at, ends_at=ends_at, skills=skills)
    return Shift.objects.create(
        staff=staff,
        starts_at=starts_at,
        ends_at=ends_at,
        base=base.strip() or "Leechmere",
        skills=sorted(set(skills)),
        created_by=user,
    )


LONGEST_PATTERN = 12  # weeks: a quarter's rota at a time


def pattern_days(*, starts_at: datetime, weekdays: list[int], weeks: int) -> list[date]:
    """The days a repeating shift falls on: from the first shift's day, each chosen weekday
    (Monday 0) for `weeks` weeks, the first day always included."""
    first = timezone.localdate(starts_at)
    chosen = set(weekdays) | {first.weekday()}
    return [
        first + timedelta(days=n) for n in range(7 * weeks) if (first + timedelta(days=n)).weekday() in chosen
    ]


@transaction.atomic
def add_repeating_shifts(
    *,
    staff: User,
    starts_at: datetime,
    ends_at: datetime,
    user: User,
    weekdays: list[int],
    weeks: int,
    base: str = "Leechmere",
    skills: list[str] | tuple[str, ...] = (),
) -> list[Shift]:
    """The same shift (its UK clock times, kept across a clock change) on the chosen
    weekdays for `weeks` weeks: all of them, or none if any one is refused (the refusal
    names the day)."""
    if not 1 <= weeks <= LONGEST_PATTERN:
        raise ShiftRefused(f"Repeat for 1 to {LONGEST_PATTERN} weeks.", field="repeat_weeks")
    # The first shift's UK clock times, and the days its end falls after its start.
    local_start, local_end = timezone.localtime(starts_at), timezone.localtime(ends_at)
    days_later = timedelta(days=(local_end.date() - local_start.date()).days)
    shifts = []
    for day in pattern_days(starts_at=starts_at, weekdays=weekdays, weeks=weeks):
        start = timezone.make_aware(datetime.combine(day, local_start.time()))
        end = timezone.make_aware(datetime.combine(day + days_later, local_end.time()))
        try:
            shifts.append(
                add_shift(staff=staff, starts_at=start, ends_at=end, user=user, base=base, skills=skills)
            )
        except ShiftRefused as refused:
            raise ShiftRefused(f"{day:%a %-d %b}: {refused}", field=refused.field) from None
    return shifts


def put_on_rota(
    *, user: User, repeat_weeks: int | None = None, repeat_days: list[int] | None = None, **shift
) -> list[Shift]:
    """What the rota page's form and the API add: one shift, or with `repeat_weeks` the same
    shift repeated (`add_repeating_shifts`)."""
    if repeat_weeks:
        return add_repeating_shifts(user=user, weeks=repeat_weeks, weekdays=repeat_days or [], **shift)
    return [add_shift(user=user, **shift)]


@transaction.atomic
def change_shift(
    *,
    shift: Shift,
    user: User,
    starts_at: datetime,
    ends_at: datetime,
    base: str = "Leechmere",
    skills: list[str] | tuple[str, ...] = (),
) -> Shift:
    """Change a shift that has not ended (one that has is the record of who was on duty):
    one under way keeps its start and ends from now on."""
    _keeper(user)
    shift = Shift.objects.select_for_update(of=("self",)).select_related("staff").filter(pk=shift.pk).first()
    if shift is None:
        raise ShiftRefused("That shift was taken off the rota.")
    now = timezone.now()
    if shift.ends_at <= now:
        raise ShiftRefused("That shift is over: it stays as the record of who was on duty.")
    if shift.starts_at <= now and starts_at != shift.starts_at:
        raise ShiftRefused("The shift has begun: its start stays as it was.", field="starts_at")
    if ends_at <= now:
        raise ShiftRefused(
            "Give an end still to come (the record of a shift is not rewritten).", field="ends_at"
        )
    _check_and_lock(staff=shift.staff, starts_at=starts_at, ends_at=ends_at, skills=skills, other_than=shift)
    shift.starts_at, shift.ends_at = starts_at, ends_at
    shift.base, shift.skills = base.strip() or "Leechmere", sorted(set(skills))
    shift.save(update_fields=["starts_at", "ends_at", "base", "skills"])
    return shift


@transaction.atomic
def remove_shift(*, shift: Shift, user: User) -> None:
    """Take a shift that has not begun off the rota (a shift under way is ended early by
    changing its end; one over is the record of who was on duty)."""
    _keeper(user)
    if not Shift.objects.filter(pk=shift.pk, starts_at__gt=timezone.now()).delete()[0]:
        if Shift.objects.filter(pk=shift.pk).exists():
            raise ShiftRefused("That shift has begun: change its end time instead.")
        raise ShiftRefused("That shift was already taken off the rota.")


# --- The week and the day as the rota page shows them ----------------------------------

# A day of the week view lists this many shifts, then says how many more the day view has:
# a service of 500 responders has 250 shifts a day, which no one reads in a week's table.
SHOWN_PER_DAY = 30
NAMES_PER_HOUR = 8


@dataclass(frozen=True)
class RotaLine:
    """One shift as the rota's tables show it."""

    pk: int
    staff_name: str
    discipline: str
    coordinating: bool
    starts_at: datetime
    ends_at: datetime
    base: str
    skills: list[str]

    @property
    def role_label(self) -> str:
        return "Coordinator" if self.coordinating else "Responder"

    @property
    def skill_labels(self) -> list[str]:
        return [Skill(value).label for value in self.skills if value in Skill.values]

    def __str__(self) -> str:
        starts, ends = timezone.localtime(self.starts_at), timezone.localtime(self.ends_at)
        return f"{self.staff_name}, {starts:%a %-d %b %H:%M} to {ends:%H:%M}"


@dataclass
class RotaDay:
    day: date
    shown: list[RotaLine]
    coordinators: int = 0
    responders: int = 0

    @property
    def more(self) -> int:
        return self.coordinators + self.responders - len(self.shown)


def _coordinating() -> Exists:
    return Exists(RoleGrant.objects.filter(user=OuterRef("staff"), role=Role.RAH_COORDINATOR))


def _lines(shifts: QuerySet[Shift]) -> list[RotaLine]:
    """The shifts as plain lines, in one query (no model per shift and person)."""
    rows = shifts.annotate(coordinating=_coordinating()).values_list(
        "pk",
        "staff__first_name",
        "staff__last_name",
        "staff__username",
        "staff__discipline",
        "coordinating",
        "starts_at",
        "ends_at",
        "base",
        "skills",
    )
    disciplines = dict(Discipline.choices)
    return [
        RotaLine(
            pk=pk,
            staff_name=person_name(first_name=first, last_name=last, username=username),
            discipline=disciplines.get(discipline, ""),
            coordinating=coordinating,
            starts_at=starts_at,
            ends_at=ends_at,
            base=base,
            skills=skills or [],
        )
        for pk, first, last, username, discipline, coordinating, starts_at, ends_at, base, skills in rows
    ]


def week_of(*, day: date) -> list[RotaDay]:
    """The Monday-to-Sunday week holding `day`: each UK day with how many coordinate and
    respond on shifts that start on it, and the first `SHOWN_PER_DAY` of those shifts,
    earliest first (two queries, whatever the number of shifts)."""
    monday = day - timedelta(days=day.weekday())
    days = {monday + timedelta(days=n): RotaDay(day=monday + timedelta(days=n), shown=[]) for n in range(7)}
    local_day = TruncDate("starts_at", tzinfo=timezone.get_current_timezone())
    shifts = Shift.objects.filter(
        starts_at__gte=uk_day_start(monday), starts_at__lt=uk_day_start(monday + WEEK)
    )
    counts = (
        shifts.annotate(local_day=local_day, coordinating=_coordinating())
        .values("local_day", "coordinating")
        .annotate(shifts=Count("pk"))
        .values_list("local_day", "coordinating", "shifts")
    )
    for when, coordinating, count in counts:
        if coordinating:
            days[when].coordinators = count
        else:
            days[when].responders = count
    order = [F("starts_at").asc(), F("staff__last_name").asc(), F("pk").asc()]
    first_of_each_day = shifts.annotate(
        place=Window(RowNumber(), partition_by=[local_day], order_by=order)
    ).filter(place__lte=SHOWN_PER_DAY)
    for line in _lines(first_of_each_day.order_by(*order)):
        days[timezone.localdate(line.starts_at)].shown.append(line)
    return list(days.values())


@dataclass(frozen=True)
class HourOfCover:
    starts_at: datetime
    coordinators: list[str]
    responders: int
    responder_names: list[str]  # the first NAMES_PER_HOUR

    @property
    def more_responders(self) -> int:
        return self.responders - len(self.responder_names)


def day_of(*, day: date) -> tuple[list[RotaLine], list[HourOfCover]]:
    """A UK day of the rota: the shifts that cover any of it (a night shift from the day
    before too), and hour by hour who is on shift in each role (one query)."""
    start, end = uk_day_start(day), uk_day_start(day + timedelta(days=1))
    lines = _lines(
        Shift.objects.filter(starts_at__lt=end, ends_at__gt=start).order_by(
            "starts_at", "staff__last_name", "pk"
        )
    )
    # Stepped in UTC: a wall-clock hour added to a UK time would count 24 hours on the
    # days the clocks change (two rows for one instant in spring, one hour lost in autumn).
    hours, moment = [], start.astimezone(UTC)
    while moment < end:  # 23 or 25 hours on the days the clocks change
        on = [line for line in lines if line.starts_at <= moment < line.ends_at]
        responding = [line.staff_name for line in on if not line.coordinating]
        hours.append(
            HourOfCover(
                starts_at=moment,
                coordinators=[line.staff_name for line in on if line.coordinating],
                responders=len(responding),
                responder_names=responding[:NAMES_PER_HOUR],
            )
        )
        moment += timedelta(hours=1)
    return lines, hours


@dataclass(frozen=True)
class NeededCover:
    """Responders of these disciplines must be on shift, at all hours or between the UK
    hours given (a therapist by day; a nurse or paramedic around the clock)."""

    label: str
    disciplines: frozenset[str]
    hours: tuple[int, int] | None = None  # (from, until) in UK hours; None: all day


NEEDED_COVER = [
    NeededCover(
        "nurse or paramedic",
        frozenset(
            {Discipline.NURSE, Discipline.DISTRICT_NURSE, Discipline.COMMUNITY_MATRON, Discipline.PARAMEDIC}
        ),
    ),
    NeededCover(
        "therapist (by day)",
        frozenset({Discipline.PHYSIOTHERAPIST, Discipline.OCCUPATIONAL_THERAPIST}),
        hours=(8, 20),
    ),
]


def discipline_gaps(*, since: datetime, until: datetime) -> dict[str, list[tuple[datetime, datetime]]]:
    """For each `NEEDED_COVER`, the stretches from `since` to `until` (within its hours)
    when no responder of those disciplines is on shift."""
    gaps = {}
    for needed in NEEDED_COVER:
        stretches = cover_gaps(
            since=since, until=until, role=Role.RAH_RESPONDER, disciplines=needed.disciplines
        )
        if needed.hours is not None:
            stretches = [part for gap in stretches for part in _within_hours(gap, needed.hours)]
        gaps[needed.label] = stretches
    return gaps


def _within_hours(gap: tuple[datetime, datetime], hours: tuple[int, int]) -> list[tuple[datetime, datetime]]:
    """The parts of a gap that fall between the UK hours given, day by day."""
    start, end = gap
    parts, day = [], timezone.localdate(start)
    while uk_day_start(day) < end:
        opens = timezone.make_aware(datetime.combine(day, time(hours[0])))
        closes = timezone.make_aware(datetime.combine(day, time(hours[1])))
        if max(start, opens) < min(end, closes):
            parts.append((max(start, opens), min(end, closes)))
        day += timedelta(days=1)
    return parts


def cover_gaps(
    *, since: datetime, until: datetime, role: str, disciplines: frozenset[str] | None = None
) -> list[tuple[datetime, datetime]]:
    """The stretches between `since` and `until` with nobody in the role (of these
    disciplines, if given) on shift, as (start, end): what the shifts together leave
    uncovered."""
    shifts = Shift.objects.filter(
        staff__is_active=True, staff__role_grants__role=role, starts_at__lt=until, ends_at__gt=since
    ).order_by("starts_at")
    if disciplines is not None:
        shifts = shifts.filter(staff__discipline__in=disciplines)
    gaps: list[tuple[datetime, datetime]] = []
    covered_until = since
    for start, end in shifts.values_list("starts_at", "ends_at").distinct():
        if start > covered_until:
            gaps.append((covered_until, start))
        covered_until = max(covered_until, end)
    if covered_until < until:
        gaps.append((covered_until, until))
    return gaps
