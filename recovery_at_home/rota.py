"""The rota: who is on shift, and the rule for adding a shift. "On duty" is read here by
the alerts (and, as the rota grows, the queue's "who can go" and the dispatch)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.models import Role, User
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


def on_shift(*, role: str, at: datetime | None = None) -> QuerySet[User]:
    """Active staff in the role with a shift covering the moment (now unless given)."""
    at = at or timezone.now()
    return User.objects.filter(
        is_active=True,
        role_grants__role=role,
        shifts__starts_at__lte=at,
        shifts__ends_at__gt=at,
    ).distinct()


def on_duty(*, role: str, at: datetime | None = None) -> QuerySet[User]:
    """Who is on duty in the role: those on shift; if the rota has nobody in the role then
    (no rota kept yet, or a gap in it), everyone active in the role, so that an alert is
    never sent to nobody."""
    shift = on_shift(role=role, at=at)
    if shift.exists():
        return shift
    return User.objects.filter(is_active=True, role_grants__role=role).distinct()


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
    """Put a member of staff on the rota. Their own shifts may not overlap: their row is
    locked while they are compared, so two coordinators adding at once cannot both win."""
    if not user.has_role(Role.RAH_COORDINATOR):
        raise ShiftRefused("Only a Recovery at Home coordinator keeps the rota.")
    if not staff.is_active or not staff.has_role(*ROTA_ROLES):
        raise ShiftRefused(f"{staff} is not Recovery at Home staff.", field="staff")
    if ends_at <= starts_at:
        raise ShiftRefused("The shift must end after it starts.", field="ends_at")
    if ends_at - starts_at > LONGEST_SHIFT:
        raise ShiftRefused("A shift is at most 14 hours: check the end time.", field="ends_at")
    unknown = sorted(set(skills) - set(Skill.values))
    if unknown:
        raise ShiftRefused(f"Not a skill the rota knows: {', '.join(unknown)}.", field="skills")
    User.objects.select_for_update().get(pk=staff.pk)
    clash = Shift.objects.filter(staff=staff, starts_at__lt=ends_at, ends_at__gt=starts_at).first()
    if clash is not None:
        when = timezone.localtime(clash.starts_at).strftime("%-d %b %H:%M")
        raise ShiftRefused(f"{staff} already has a shift from {when}.", field="starts_at")
    return Shift.objects.create(
        staff=staff,
        starts_at=starts_at,
        ends_at=ends_at,
        base=base.strip() or "Leechmere",
        skills=sorted(set(skills)),
        created_by=user,
    )


# --- The week as the rota page shows it ----------------------------------------------


def week_of(*, day: date) -> list[tuple[date, list[Shift]]]:
    """The Monday-to-Sunday week holding `day`: each UK day with the shifts that start on
    it, earliest first (one query)."""
    monday = day - timedelta(days=day.weekday())
    days = [monday + timedelta(days=n) for n in range(7)]
    shifts = (
        Shift.objects.filter(starts_at__gte=uk_day_start(monday), starts_at__lt=uk_day_start(monday + WEEK))
        .select_related("staff")
        .prefetch_related("staff__role_grants")
        .order_by("starts_at", "staff__last_name")
    )
    by_day: dict[date, list[Shift]] = {d: [] for d in days}
    for shift in shifts:
        by_day[timezone.localdate(shift.starts_at)].append(shift)
    return list(by_day.items())


def cover_gaps(*, since: datetime, until: datetime, role: str) -> list[tuple[datetime, datetime]]:
    """The stretches between `since` and `until` with nobody in the role on shift, as
    (start, end): what the shifts together leave uncovered."""
    shifts = Shift.objects.filter(
        staff__is_active=True, staff__role_grants__role=role, starts_at__lt=until, ends_at__gt=since
    ).order_by("starts_at")
    gaps: list[tuple[datetime, datetime]] = []
    covered_until = since
    for start, end in shifts.values_list("starts_at", "ends_at").distinct():
        if start > covered_until:
            gaps.append((covered_until, start))
        covered_until = max(covered_until, end)
    if covered_until < until:
        gaps.append((covered_until, until))
    return gaps
