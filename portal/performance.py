"""The performance dashboard's figures: aggregates only, never a person.

Each figure is one grouped query over the chosen period (UK days) and, where it applies,
locality (the neighbourhood of the patient's practice).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncWeek
from django.utils import timezone

from core.access import referral_record_scope
from core.models import Neighbourhood, Role, RoleGrant, Service, User
from core.uk_time import uk_day_start
from mdt.models import Action
from recovery_at_home import clock
from recovery_at_home.models import BedStay, Episode, Outcome, Shift
from referrals.models import Reason, Referral, Source, to_nhs_services
from teams.models import CaseloadEntry

RESPONSE_BUCKETS = [(0, 30), (30, 60), (60, 90), (90, 120), (120, 180), (180, 240), (240, None)]


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    locality: Neighbourhood | None = None

    @property
    def since(self) -> datetime:
        return uk_day_start(self.start)

    @property
    def until(self) -> datetime:
        return uk_day_start(self.end + timedelta(days=1))

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def weeks(self) -> list[date]:
        """The Mondays of every week the period touches, its first to its last: a chart by
        week starts where the period starts, not at its first busy week."""
        first = self.start - timedelta(days=self.start.weekday())
        return [first + timedelta(weeks=n) for n in range((self.end - first).days // 7 + 1)]

    def week_label(self, monday: date) -> str:
        """ "w/c 1 Jun", the one way every chart and table names a week (with the year
        when the period crosses one)."""
        year = f" {monday.year}" if self.start.year != self.end.year else ""
        return f"w/c {monday.day} {monday:%b}{year}"


def _referrals(period: Period) -> QuerySet[Referral]:
    referrals = Referral.objects.filter(
        to_nhs_services(), received_at__gte=period.since, received_at__lt=period.until
    )
    if period.locality is not None:
        referrals = referrals.filter(patient__practice__neighbourhood=period.locality)
    return referrals


def _in_locality(episodes: QuerySet[Episode], period: Period) -> QuerySet[Episode]:
    if period.locality is None:
        return episodes
    return episodes.filter(referral__patient__practice__neighbourhood=period.locality)


def _two_hour_referrals(period: Period) -> QuerySet[Episode]:
    """The 2-hour UCR referrals received in the period."""
    return Episode.objects.filter(clock.IN_TWO_HOUR_STANDARD, referral__in=_referrals(period))


def _ucr_referrals(period: Period) -> QuerySet[Episode]:
    """Every Recovery at Home referral received in the period, 2-hour or not."""
    return Episode.objects.filter(
        referral__in=_referrals(period).filter(service__code=Service.Code.RECOVERY_AT_HOME)
    )


def _ucr_contacts(period: Period) -> QuerySet[Episode]:
    """First face-to-face contacts made in the period, whenever the person was referred."""
    return _in_locality(
        Episode.objects.filter(arrived_at__gte=period.since, arrived_at__lt=period.until), period
    )


def _reablement_clocks(period: Period) -> QuerySet[Episode]:
    """2-day reablement clocks that started in the period (a clock counts in its start's)."""
    started = Episode.objects.filter(
        reablement_clock_start__gte=period.since, reablement_clock_start__lt=period.until
    )
    return _in_locality(started, period)


@dataclass(frozen=True)
class Figure:
    label: str
    read_from: Callable[[Period], QuerySet[Episode]]
    # Over `read_from`'s episodes (empty: every one), or made for a moment: a reablement
    # clock is overdue from two days after its start.
    counts: Q | Callable[..., Q]
    shows: str = "contact"  # what its list shows of each: the first contact, or "reablement"

    def counted(self, *, now: datetime) -> Q:
        return self.counts(now=now) if callable(self.counts) else self.counts


# The dashboard's national figures, by name: it counts each, and the list behind a figure
# (`figure_episodes`) holds the same referrals, read by the same lines.
NO_FILTER = Q()
FIGURES = {
    "two_hour_referrals": Figure("2-hour UCR referrals", _two_hour_referrals, NO_FILTER),
    "two_hour_counted": Figure(
        "2-hour UCR referrals reached, counted in the share",
        _two_hour_referrals,
        clock.COUNTS_TOWARDS_TWO_HOUR_STANDARD,
    ),
    "two_hour_met": Figure(
        "2-hour UCR referrals reached within 2 hours", _two_hour_referrals, clock.MET_TWO_HOUR_STANDARD
    ),
    "two_hour_agreed_later": Figure(
        "2-hour UCR referrals seen at a later time agreed with the person",
        _two_hour_referrals,
        clock.AGREED_LATER,
    ),
    "two_hour_ended": Figure(
        "2-hour UCR referrals that ended before a contact", _two_hour_referrals, clock.ENDED_WITHOUT_CONTACT
    ),
    "ucr_referrals": Figure("All UCR referrals", _ucr_referrals, NO_FILTER),
    "ucr_contacts": Figure("UCR contacts delivered", _ucr_contacts, NO_FILTER),
    "reablement_clocks": Figure(
        "2-day reablement clocks started", _reablement_clocks, NO_FILTER, shows="reablement"
    ),
    "reablement_counted": Figure(
        "Reablement clocks counted in the share: care began, or two days passed",
        _reablement_clocks,
        clock.counts_towards_reablement,
        shows="reablement",
    ),
    "reablement_met": Figure(
        "Reablement care began within 2 days", _reablement_clocks, clock.MET_REABLEMENT, shows="reablement"
    ),
    "reablement_overdue": Figure(
        "Still waiting for reablement care after 2 days",
        _reablement_clocks,
        clock.reablement_overdue,
        shows="reablement",
    ),
    "reablement_waiting": Figure(
        "Waiting for reablement care, within 2 days",
        _reablement_clocks,
        clock.reablement_waiting,
        shows="reablement",
    ),
    "reablement_ended": Figure(
        "Reablement clocks ended before care (died, declined, admitted or redirected)",
        _reablement_clocks,
        clock.REABLEMENT_ENDED_FIRST,
        shows="reablement",
    ),
}


def _count(figure: Figure, *, now: datetime) -> Count:
    counted = figure.counted(now=now)
    return Count("pk", filter=counted) if counted else Count("pk")


def _totals(period: Period, names: dict[str, str]) -> dict[str, int]:
    """{key: count} for figures read from the same episodes, in one query."""
    read_from = {FIGURES[name].read_from for name in names.values()}
    assert len(read_from) == 1, "one query counts figures of one base"
    now = timezone.now()
    counts = {key: _count(FIGURES[name], now=now) for key, name in names.items()}
    return read_from.pop()(period).aggregate(**counts)


def figure_episodes(*, period: Period, name: str) -> QuerySet[Episode]:
    """The episodes a figure counts."""
    figure = FIGURES[name]
    return figure.read_from(period).filter(figure.counted(now=timezone.now()))


def figure_list(*, user: User, period: Period, name: str) -> QuerySet[Episode]:
    """The referrals behind a figure that this user may see (the access rule's), in the
    order they were received."""
    return (
        figure_episodes(period=period, name=name)
        .filter(referral__in=Referral.objects.filter(referral_record_scope(user=user)))
        .select_related("referral__patient__practice__neighbourhood", "category")
        .order_by("referral__received_at", "pk")
    )


def with_reablement_clocks(episodes: list[Episode]) -> list[tuple[Episode, clock.Clock | None]]:
    """Each listed episode with its 2-day clock as the extract reports it (start, care, met)."""
    now = timezone.now()
    return [(episode, clock.reablement_clock_of(episode, now=now)) for episode in episodes]


def two_hour_standard(period: Period) -> dict:
    """The national 2-hour UCR figure (`recovery_at_home.clock`) for the referrals received
    in the period: those in the standard, those counted in the share (reached, no later time
    agreed), met, and those reported apart."""
    totals = _totals(
        period,
        {
            "in_standard": "two_hour_referrals",
            "total": "two_hour_counted",
            "met": "two_hour_met",
            "agreed_later": "two_hour_agreed_later",
            "ended_without_contact": "two_hour_ended",
        },
    )
    weekly = (
        figure_episodes(period=period, name="two_hour_counted")
        .annotate(week=TruncWeek("referral__received_at", tzinfo=timezone.get_current_timezone()))
        .values("week")
        .annotate(total=Count("pk"), met=Count("pk", filter=clock.MET_TWO_HOUR_STANDARD))
        .order_by("week")
    )
    by_week = {row["week"].date(): row for row in weekly}
    return {
        **totals,
        "share": totals["met"] / totals["total"] if totals["total"] else None,
        "weeks": [
            {
                "week": monday,
                "label": period.week_label(monday),
                "total": (total := by_week.get(monday, {}).get("total", 0)),
                "met": (met := by_week.get(monday, {}).get("met", 0)),
                "share": met / total if total else None,
            }
            for monday in period.weeks()
        ],
    }


def reablement(period: Period) -> dict:
    """The 2-day reablement clocks that started in the period: counted in the share (care
    began, or still waiting two days after the start), met, and the rest apart: still
    within the two days, or ended before care."""
    totals = _totals(
        period,
        {
            "started": "reablement_clocks",
            "total": "reablement_counted",
            "met": "reablement_met",
            "overdue": "reablement_overdue",
            "waiting": "reablement_waiting",
            "ended": "reablement_ended",
        },
    )
    return {**totals, "share": totals["met"] / totals["total"] if totals["total"] else None}


def local_targets(period: Period) -> list[dict]:
    """Each category's own target (crisis 1 hour, same day 4 hours...), apart from the
    national figure: responses reached, and reached within the window they were given."""
    reached = Episode.objects.filter(
        clock.COUNTS_TOWARDS_LOCAL_TARGET, referral__in=_referrals(period), category__isnull=False
    )
    rows = (
        reached.values("category__name", "category__order", "category__response_minutes")
        .annotate(reached=Count("pk"), within=Count("pk", filter=clock.MET_LOCAL_TARGET))
        .order_by("category__order", "category__response_minutes", "category__name")
    )
    return [
        {
            "category": row["category__name"],
            "reached": row["reached"],
            "within": row["within"],
            "share": row["within"] / row["reached"],
        }
        for row in rows
    ]


def ucr_activity(period: Period) -> dict:
    """The national UCR publication's other figures: all UCR referrals received (every
    Recovery at Home referral, 2-hour or not), UCR contacts delivered (first face-to-face
    contacts made in the period, whenever referred), and referrals per 100,000 residents
    by the neighbourhood of the person's practice, where an administrator has given its
    population."""
    neighbourhoods = Neighbourhood.objects.filter(population__isnull=False).order_by("name")
    if period.locality is not None:
        neighbourhoods = neighbourhoods.filter(pk=period.locality.pk)
    counted = dict(
        figure_episodes(period=period, name="ucr_referrals")
        .values_list("referral__patient__practice__neighbourhood")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {
        "referrals": sum(counted.values()),
        "contacts": figure_episodes(period=period, name="ucr_contacts").count(),
        "per_100k": [
            {
                "neighbourhood": neighbourhood.name,
                "locality": neighbourhood.pk,
                "population": neighbourhood.population,
                "referrals": counted.get(neighbourhood.pk, 0),
                "rate": round(counted.get(neighbourhood.pk, 0) * 100_000 / neighbourhood.population, 1)
                if neighbourhood.population
                else None,
            }
            for neighbourhood in neighbourhoods
        ],
    }


def response_times(period: Period) -> list[dict]:
    """How long people waited for the first face-to-face contact, in bands (all categories)."""
    waits = (
        Episode.objects.filter(referral__in=_referrals(period), arrived_at__isnull=False)
        .annotate(
            wait=ExpressionWrapper(F("arrived_at") - F("referral__received_at"), output_field=DurationField())
        )
        .aggregate(
            **{
                f"b{low}": Count(
                    "pk",
                    filter=Q(wait__gte=timedelta(minutes=low))
                    & (Q(wait__lt=timedelta(minutes=high)) if high else Q()),
                )
                for low, high in RESPONSE_BUCKETS
            }
        )
    )
    return [
        {"band": f"{low}–{high} min" if high else f"over {low // 60} hours", "count": waits[f"b{low}"]}
        for low, high in RESPONSE_BUCKETS
    ]


def _counted(referrals: QuerySet[Referral], field: str, labels: dict) -> list[dict]:
    rows = referrals.values(field).annotate(count=Count("pk")).order_by("-count", field)
    return [
        {"label": labels.get(row[field], row[field] or "Not known"), "count": row["count"]} for row in rows
    ]


def referrals_by(period: Period) -> dict[str, list[dict]]:
    referrals = _referrals(period)
    weekly = (
        referrals.annotate(week=TruncWeek("received_at", tzinfo=timezone.get_current_timezone()))
        .values("week")
        .annotate(count=Count("pk"))
        .order_by("week")
    )
    by_week = {row["week"].date(): row["count"] for row in weekly}
    return {
        "source": _counted(referrals, "source", dict(Source.choices)),
        "reason": _counted(referrals, "reason", dict(Reason.choices)),
        "locality": _counted(referrals, "patient__practice__neighbourhood__name", {}),
        "week": [
            {"label": period.week_label(monday), "count": by_week.get(monday, 0)} for monday in period.weeks()
        ],
    }


def rah_outcomes(period: Period) -> list[dict]:
    episodes = Episode.objects.filter(referral__in=_referrals(period)).exclude(outcome="")
    return _counted(episodes, "outcome", dict(Outcome.choices))


def bed_occupancy(period: Period) -> list[dict]:
    """Beds in use at noon each day, all units together."""
    stays = list(
        BedStay.objects.filter(admitted_at__lt=period.until)
        .filter(Q(discharged_at__isnull=True) | Q(discharged_at__gte=period.since))
        .values_list("admitted_at", "discharged_at")
    )
    occupancy = []
    for day in period.days():
        noon = timezone.make_aware(datetime.combine(day, time(12)))
        count = sum(
            1
            for admitted, discharged in stays
            if admitted <= noon and (discharged is None or discharged > noon)
        )
        occupancy.append({"label": day.strftime("%d %b"), "count": count})
    return occupancy


def caseload_sizes(period: Period) -> list[dict]:
    entries = CaseloadEntry.objects.filter(closed_at__isnull=True)
    if period.locality is not None:
        entries = entries.filter(team__neighbourhood=period.locality)
    return _counted(entries, "team__name", {})


def overdue_mdt_actions(period: Period) -> list[dict]:
    actions = Action.objects.filter(status=Action.Status.OPEN, due_date__lt=timezone.localdate())
    if period.locality is not None:
        actions = actions.filter(item__meeting__practice__neighbourhood=period.locality)
    return _counted(actions, "item__meeting__practice__name", {})


WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def demand_and_capacity(period: Period) -> dict:
    """Recovery at Home's demand against its capacity over the period, by hour of the day
    and by day of the week (UK time): the referrals received then, and the responder-hours
    on the rota then (`Shift`; the rota is the whole service's, whatever the locality).
    Where referrals per responder-hour run high, the rota is thin for the demand."""
    zone = timezone.get_current_timezone()
    referrals = _referrals(period).filter(service__code=Service.Code.RECOVERY_AT_HOME)
    hourly = dict(
        referrals.annotate(hour=ExtractHour("received_at", tzinfo=zone))
        .values("hour")
        .annotate(count=Count("pk"))
        .values_list("hour", "count")
    )
    daily = dict(
        referrals.annotate(weekday=ExtractIsoWeekDay("received_at", tzinfo=zone))
        .values("weekday")
        .annotate(count=Count("pk"))
        .values_list("weekday", "count")
    )
    hours_on = [0.0] * 24
    days_on = [0.0] * 7
    responding = RoleGrant.objects.filter(user=OuterRef("staff"), role=Role.RAH_RESPONDER)
    shifts = Shift.objects.filter(
        Exists(responding), starts_at__lt=period.until, ends_at__gt=period.since
    ).values_list("starts_at", "ends_at")
    for starts, ends in shifts:  # each shift once, however many share its times
        moment, end = max(starts, period.since).astimezone(UTC), min(ends, period.until)
        while moment < end:  # hour by hour, the part of each hour on shift
            local = timezone.localtime(moment)
            # UK hours begin when UTC hours do (the offset is whole hours), so step in UTC.
            next_hour = min(end, moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1))
            share = (next_hour - moment).total_seconds() / 3600
            hours_on[local.hour] += share
            days_on[local.weekday()] += share
            moment = next_hour

    def row(label: str, count: int, responder_hours: float) -> dict:
        per_hour = round(count / responder_hours, 2) if responder_hours else None
        return {
            "label": label,
            "referrals": count,
            "responder_hours": round(responder_hours, 1),
            "per_hour": per_hour,
        }

    return {
        "by_hour": [row(f"{hour:02d}:00", hourly.get(hour, 0), hours_on[hour]) for hour in range(24)],
        "by_weekday": [row(name, daily.get(n + 1, 0), days_on[n]) for n, name in enumerate(WEEKDAY_NAMES)],
    }


def dashboard(period: Period) -> dict:
    return {
        "two_hour": two_hour_standard(period),
        "local_targets": local_targets(period),
        "ucr": ucr_activity(period),
        "reablement": reablement(period),
        "response_times": response_times(period),
        "referrals": referrals_by(period),
        "outcomes": rah_outcomes(period),
        "beds": bed_occupancy(period),
        "caseloads": caseload_sizes(period),
        "overdue_actions": overdue_mdt_actions(period),
        "demand_capacity": demand_and_capacity(period),
    }
