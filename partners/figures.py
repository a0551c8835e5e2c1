"""The partners' figures for the dashboard, by neighbourhood (of the person's practice):
referrals to each partner service, and for social prescribing what the information
standard asks: needs, outcomes and the change in wellbeing (ONS4) from start to end."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from core.models import Service
from partners.models import ONS4_FIELDS, PartnerWork, Wellbeing
from referrals.models import Referral, Status

NOT_KNOWN = "Not known"  # a carer whose practice is not recorded
ACCEPTED = (Status.ACCEPTED, Status.IN_PROGRESS, Status.CLOSED)
WINDOW = timedelta(days=365)
# Fewer people than this asked twice in a neighbourhood: their change is not shown, so no
# one's own answers can be read off the page.
SMALLEST_GROUP = 3


@dataclass
class Row:
    neighbourhood: str
    referred: int = 0
    accepted: int = 0
    declined: int = 0
    closed: int = 0
    by_service: dict[int, int] = field(default_factory=dict)  # referrals per service pk
    paired: int = 0  # people asked the four questions at the start and at the end
    change: dict[str, float | None] = field(default_factory=dict)  # mean end minus start
    needs: list[tuple[str, int]] = field(default_factory=list)  # the three most named
    outcomes: list[tuple[str, int]] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)  # by service, in the services' order


@dataclass
class Figures:
    since: datetime
    services: list[str]
    rows: list[Row]


NEIGHBOURHOOD = "patient__practice__neighbourhood__name"


def _place(name: str | None) -> str:
    return name or NOT_KNOWN


def partner_figures(*, now: datetime | None = None) -> Figures:
    """Referrals received by partner services in the last year, by neighbourhood; a fixed
    number of queries whatever the volume."""
    now = now or timezone.now()
    since = now - WINDOW
    referrals = Referral.objects.filter(service__kind=Service.Kind.PARTNER, received_at__gte=since)
    rows: dict[str, Row] = {}

    def row(name: str | None) -> Row:
        return rows.setdefault(_place(name), Row(neighbourhood=_place(name)))

    for counted in referrals.values(NEIGHBOURHOOD, "service").annotate(
        referred=Count("pk"),
        accepted=Count("pk", filter=Q(status__in=ACCEPTED)),
        declined=Count("pk", filter=Q(status=Status.DECLINED)),
        closed=Count("pk", filter=Q(status=Status.CLOSED)),
    ):
        target = row(counted[NEIGHBOURHOOD])
        for name in ("referred", "accepted", "declined", "closed"):
            setattr(target, name, getattr(target, name) + counted[name])
        target.by_service[counted["service"]] = counted["referred"]

    prescribed = referrals.filter(service__social_prescribing=True)
    _wellbeing_change(prescribed, row)
    for list_name, attribute in (("needs", "needs"), ("outcomes", "outcomes")):
        through = getattr(PartnerWork, list_name).through
        tallies: dict[str, Counter] = defaultdict(Counter)
        for named in (
            through.objects.filter(partnerwork__referral__in=prescribed)
            .values(f"partnerwork__referral__{NEIGHBOURHOOD}", "term__label")
            .annotate(n=Count("pk"))
        ):
            tallies[_place(named[f"partnerwork__referral__{NEIGHBOURHOOD}"])][named["term__label"]] += named[
                "n"
            ]
        for place, tally in tallies.items():
            most = sorted(tally.items(), key=lambda item: (-item[1], item[0]))[:3]
            setattr(row(place), attribute, most)

    services = list(
        Service.objects.filter(kind=Service.Kind.PARTNER).order_by("name", "pk").values_list("pk", "name")
    )
    ordered = sorted(rows.values(), key=lambda r: (r.neighbourhood == NOT_KNOWN, r.neighbourhood))
    for each in ordered:
        each.counts = [each.by_service.get(pk, 0) for pk, _ in services]
    return Figures(since=since, services=[name for _, name in services], rows=ordered)


def _wellbeing_change(referrals, row) -> None:
    """Mean change per question among people asked at the start and at the end."""
    answers: dict[int, dict[str, dict]] = defaultdict(dict)
    places: dict[int, str | None] = {}
    for answer in Wellbeing.objects.filter(work__referral__in=referrals).values(
        "work_id", "when", f"work__referral__{NEIGHBOURHOOD}", *ONS4_FIELDS
    ):
        answers[answer["work_id"]][answer["when"]] = answer
        places[answer["work_id"]] = answer[f"work__referral__{NEIGHBOURHOOD}"]
    changes: dict[str, list[dict[str, int]]] = defaultdict(list)
    for work_id, pair in answers.items():
        if Wellbeing.When.BEFORE in pair and Wellbeing.When.AFTER in pair:
            before, after = pair[Wellbeing.When.BEFORE], pair[Wellbeing.When.AFTER]
            changes[_place(places[work_id])].append({q: after[q] - before[q] for q in ONS4_FIELDS})
    for place, people in changes.items():
        target = row(place)
        target.paired = len(people)
        if len(people) >= SMALLEST_GROUP:
            target.change = {q: round(sum(p[q] for p in people) / len(people), 1) for q in ONS4_FIELDS}
