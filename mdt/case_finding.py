"""Finding people before the crisis: for each practice, the people whose last year says
they may be heading for one, each with why, for the MDT coordinator to bring to a
meeting. The thresholds are the administrator's (`CaseFindingSettings`):

- two or more Recovery at Home referrals in the last 12 months;
- a hospital or bed unit admission in the last 12 months;
- on the open caseloads of two or more teams at once;
- living in a care home and neither discussed at an MDT nor reviewed by a team in 6 months.

Each criterion is one query over the practice, whatever its size."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time

from dateutil.relativedelta import relativedelta
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.formats import date_format

from core.models import Patient, Practice, Service
from mdt.models import AgendaItem, CaseFindingSettings, Meeting
from mdt.selectors import Candidate
from recovery_at_home.models import BedStay, Episode
from recovery_at_home.models import Outcome as RahOutcome
from referrals.models import Referral
from teams.models import CarePlanReview, CaseloadEntry


def _on(moment) -> str:
    """A day as the list says it, with its year: the look back crosses New Year."""
    day = timezone.localdate(moment) if isinstance(moment, datetime) else moment
    return date_format(day, "j M Y")


def _months_before(day: date, months: int) -> datetime:
    """The start (UK time) of the day `months` calendar months before `day`."""
    return timezone.make_aware(datetime.combine(day - relativedelta(months=months), time.min))


def case_finding(*, practice: Practice, today: date | None = None) -> list[Candidate]:
    """The practice's people the thresholds pick out, by name, each with every reason."""
    settings = CaseFindingSettings.current()
    today = today or timezone.localdate()
    since = _months_before(today, settings.months)
    people = Patient.objects.filter(practice=practice, merged_into__isnull=True)
    reasons: dict[int, list[str]] = defaultdict(list)

    rah = (
        Referral.objects.filter(
            patient__in=people, service__code=Service.Code.RECOVERY_AT_HOME, received_at__gte=since
        )
        .values("patient_id")
        .annotate(count=Count("pk"), latest=Max("received_at"))
        .filter(count__gte=settings.rah_referrals)
    )
    for row in rah:
        reasons[row["patient_id"]].append(
            f"{row['count']} Recovery at Home referrals in {settings.months} months "
            f"(latest {_on(row['latest'])})"
        )

    admissions: dict[int, list] = defaultdict(list)
    hospital = Episode.objects.filter(
        referral__patient__in=people, outcome=RahOutcome.HOSPITAL, outcome_recorded_at__gte=since
    ).values_list("referral__patient_id", "outcome_recorded_at")
    for patient_id, at in hospital:
        admissions[patient_id].append((at, "hospital"))
    beds = BedStay.objects.filter(patient__in=people, admitted_at__gte=since).values_list(
        "patient_id", "admitted_at", "bed_unit__name"
    )
    for patient_id, at, unit in beds:
        admissions[patient_id].append((at, unit))
    for patient_id, stays in admissions.items():
        if len(stays) >= settings.admissions:
            stays.sort(reverse=True)
            where = "; ".join(f"{place} {_on(at)}" for at, place in stays[:3])
            count = len(stays)
            reasons[patient_id].append(
                f"{count} admission{'s' if count != 1 else ''} in {settings.months} months ({where})"
            )

    teams = (
        CaseloadEntry.objects.filter(patient__in=people, closed_at__isnull=True)
        .values_list("patient_id", "team__name")
        .order_by("patient_id", "team__name")
    )
    on_teams: dict[int, set[str]] = defaultdict(set)
    for patient_id, team in teams:
        on_teams[patient_id].add(team)
    for patient_id, names in on_teams.items():
        if len(names) >= settings.teams:
            reasons[patient_id].append(f"On {len(names)} teams' caseloads ({', '.join(sorted(names))})")

    review_since = _months_before(today, settings.care_home_review_months)
    in_care_homes = dict(people.exclude(care_home="").values_list("pk", "care_home"))
    discussed = dict(
        AgendaItem.objects.filter(
            patient__in=in_care_homes,
            meeting__status__in=[Meeting.Status.HELD, Meeting.Status.CLOSED],
        )
        .exclude(discussion="")
        .values("patient_id")
        .annotate(last=Max("meeting__starts_at"))
        .values_list("patient_id", "last")
    )
    reviewed = dict(
        CarePlanReview.objects.filter(entry__patient__in=in_care_homes)
        .values("entry__patient_id")
        .annotate(last=Max("reviewed_on"))
        .values_list("entry__patient_id", "last")
    )
    for patient_id, home in in_care_homes.items():
        last_discussed, last_reviewed = discussed.get(patient_id), reviewed.get(patient_id)
        moments = [m for m in (last_discussed, last_reviewed) if m is not None]
        last = max((timezone.localdate(m) if isinstance(m, datetime) else m for m in moments), default=None)
        if last is None:
            reasons[patient_id].append(f"Lives in {home}; not discussed at an MDT or reviewed by a team")
        elif last < review_since.date():
            reasons[patient_id].append(f"Lives in {home}; last discussed or reviewed {_on(last)}")

    patients = Patient.objects.filter(pk__in=list(reasons)).order_by("family_name", "given_name", "pk")
    return [Candidate(patient=patient, reasons=reasons[patient.pk]) for patient in patients]


def next_meeting(*, practice: Practice) -> Meeting | None:
    """The practice's next meeting whose agenda is still open."""
    return (
        Meeting.objects.filter(
            practice=practice,
            status__in=[Meeting.Status.PLANNED, Meeting.Status.PUBLISHED],
            starts_at__gte=timezone.now(),
        )
        .order_by("starts_at")
        .first()
    )
