"""The Friends and Family Test's figures, by neighbourhood and month: invited, answered,
the response rate, and the shares positive and negative (NHS England's FFT definitions:
very good and good over every answer, "don't know" included; poor and very poor alike)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from django.db.models import Avg, Count, DateField, Q
from django.db.models.functions import TruncMonth

from core.models import Role, Team, User
from feedback.models import NEGATIVE, POSITIVE, Invitation, PulseAnswer, Response

LONDON = ZoneInfo("Europe/London")


@dataclass
class FftRow:
    neighbourhood: str
    month: date
    invited: int = 0
    answered: int = 0
    positive: int = 0
    negative: int = 0

    @staticmethod
    def _share(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 1) if whole else None

    @property
    def response_rate(self) -> float | None:
        return self._share(self.answered, self.invited)

    @property
    def percent_positive(self) -> float | None:
        return self._share(self.positive, self.answered)

    @property
    def percent_negative(self) -> float | None:
        return self._share(self.negative, self.answered)


def fft_rows(*, start: date, end: date) -> list[FftRow]:
    """One row per neighbourhood and month from `start`'s month to `end`'s, in that order."""
    first, last = start.replace(day=1), end.replace(day=1)
    rows: dict[tuple, FftRow] = {}

    def row(name, month) -> FftRow:
        key = (name or "Not known", month)
        return rows.setdefault(key, FftRow(neighbourhood=key[0], month=month))

    invited = (
        Invitation.objects.annotate(month=TruncMonth("created_at", output_field=DateField(), tzinfo=LONDON))
        .filter(month__gte=first, month__lte=last)
        .values("neighbourhood__name", "month")
        .annotate(count=Count("pk"))
    )
    for item in invited:
        row(item["neighbourhood__name"], item["month"]).invited = item["count"]
    answered = (
        Response.objects.filter(month__gte=first, month__lte=last)
        .values("neighbourhood__name", "month")
        .annotate(
            count=Count("pk"),
            positive=Count("pk", filter=Q(answer__in=POSITIVE)),
            negative=Count("pk", filter=Q(answer__in=NEGATIVE)),
        )
    )
    for item in answered:
        found = row(item["neighbourhood__name"], item["month"])
        found.answered, found.positive, found.negative = item["count"], item["positive"], item["negative"]
    return sorted(rows.values(), key=lambda r: (r.month, r.neighbourhood))


def comments_shown(*, start: date, end: date):
    """Comments a manager has let through, newest month first: no one else reads the rest."""
    return (
        Response.objects.filter(
            month__gte=start.replace(day=1), month__lte=end.replace(day=1), review=Response.Review.SHOWN
        )
        .exclude(comment="")
        .select_related("service", "neighbourhood")
        .order_by("-month", "-pk")
    )


@dataclass
class PulseRow:
    where: str
    month: date
    staff: int
    answered: int
    supported: float | None
    equipped: float | None
    recommend_positive: float | None

    @property
    def response_rate(self) -> float | None:
        return round(100 * self.answered / self.staff, 1) if self.staff else None


def pulse_rows(*, start: date, end: date) -> list[PulseRow]:
    """The staff pulse by team (or Recovery at Home) and month: how many of today's staff
    answered, the mean agreement (1 to 5) with each statement, and the share who would
    recommend the service (very good or good)."""
    staff = {
        team_id: count
        for team_id, count in Team.objects.annotate(
            count=Count("members", filter=Q(members__role_grants__role=Role.CIT_MEMBER), distinct=True)
        ).values_list("pk", "count")
    }
    rah_staff = (
        User.objects.filter(role_grants__role__in=[Role.RAH_COORDINATOR, Role.RAH_RESPONDER], is_active=True)
        .distinct()
        .count()
    )
    answers = (
        PulseAnswer.objects.filter(month__gte=start.replace(day=1), month__lte=end.replace(day=1))
        .values("service__name", "team_id", "team__name", "month")
        .annotate(
            answered=Count("pk"),
            supported=Avg("supported"),
            equipped=Avg("equipped"),
            positive=Count("pk", filter=Q(recommend__in=POSITIVE)),
        )
        .order_by("month", "team__name", "service__name")
    )
    rows = [
        PulseRow(
            where=row["team__name"] or row["service__name"],
            month=row["month"],
            staff=staff.get(row["team_id"], 0) if row["team_id"] else rah_staff,
            answered=row["answered"],
            supported=round(row["supported"], 1),
            equipped=round(row["equipped"], 1),
            recommend_positive=round(100 * row["positive"] / row["answered"], 1),
        )
        for row in answers
    ]
    return sorted(rows, key=lambda row: (row.month, row.where))


def staff_comments_shown(*, start: date, end: date):
    """The staff pulse's comments a manager has let through."""
    return (
        PulseAnswer.objects.filter(
            month__gte=start.replace(day=1), month__lte=end.replace(day=1), review=Response.Review.SHOWN
        )
        .exclude(comment="")
        .select_related("service", "team")
        .order_by("-month", "-pk")
    )
