"""The Friends and Family Test's figures, by neighbourhood and month: invited, answered,
the response rate, and the shares positive and negative (NHS England's FFT definitions:
very good and good over every answer, "don't know" included; poor and very poor alike)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from django.db.models import Count, DateField, Q
from django.db.models.functions import TruncMonth

from feedback.models import NEGATIVE, POSITIVE, Invitation, Response

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
