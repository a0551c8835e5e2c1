"""Months of the alliance's work for the demo, so its pages show a service in use: the
dashboard's weeks, caseloads with reviews due, past MDTs with minutes and actions, and
each GP's list of what happened to their referrals.

Every act is made through the portal's own services at the moment it happened (the clock
is moved to it with `time_machine`), so the timelines, audit trail, clocks and figures
are what the portal itself would have recorded. Acts run in time order across people (a
small discrete-event simulation): a bed taken is not free for the next admission, a
person on a caseload is not accepted onto it twice. Acts that fall after now are not
made: they are the work in hand today (open referrals, caseloads, the next meetings).

The volumes and times are invented but of the right shape: a few urgent responses a day,
most reached within two hours, a district nursing caseload of a dozen per team.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.db.models import F, Max
from django.utils import timezone

from core.models import BedUnit, OutboundEmail, Patient, Practice, Role, Service, Team, User
from mdt import selectors as mdt_selectors
from mdt import services as mdt
from mdt.models import Action, Attendee, Meeting, MeetingSchedule
from mdt.models import Outcome as ItemOutcome
from recovery_at_home import care as rah_care
from recovery_at_home import rota
from recovery_at_home import services as rah
from recovery_at_home.models import BedStay, CareDischarge, Outcome, TriageCategory
from recovery_at_home.reach import visits_in_hand
from referrals import services as referrals
from referrals.identity import SentPerson
from referrals.models import Reason, Referral, Source
from teams import services as teams
from teams.models import CarePlanGoal, CaseloadEntry, Contact, DischargeReason

# What a care visit is for.
CARE_TASKS = [
    "Help with washing and dressing",
    "Medication prompt and a check on eating and drinking",
    "Mobility practice with the frame",
    "Check the skin and change the dressing",
    "Catheter check",
    "Reablement: making a hot drink safely",
]

# What the GPs, callers and teams write, by reason: short, as a busy clinician writes.
SUMMARIES = {
    Reason.FALL: [
        "Found on the floor by the carer this morning, no head injury; unsteady since.",
        "Second fall this week; lives alone; pendant alarm used.",
        "Fell in the bathroom overnight; bruised hip, weight bearing with pain.",
    ],
    Reason.FRAILTY: [
        "Off legs for two days, eating little; usually walks with a frame.",
        "More breathless and tired; struggling with personal care.",
    ],
    Reason.REDUCED_FUNCTION: [
        "Not managing the stairs since a chest infection; sleeping in the chair.",
        "Deconditioned after a week in bed with flu.",
    ],
    Reason.PALLIATIVE: [
        "Known lung cancer; pain not controlled overnight; family at the bedside.",
        "End of life; anticipatory medicines in the house; carer exhausted.",
    ],
    Reason.EQUIPMENT: ["Needs a commode and a perching stool today to stay at home."],
    Reason.DELIRIUM: [
        "Confused since yesterday, not herself; possible UTI.",
        "Agitated overnight, wandering; daughter worried.",
    ],
    Reason.CATHETER: ["Catheter bypassing and blocked; district nurses not until tomorrow."],
    Reason.DIABETES: ["Blood sugars high all week; not eating; insulin dose unclear."],
    Reason.CARER_BREAKDOWN: ["Husband, the main carer, admitted to hospital; she cannot manage alone."],
    Reason.LONG_TERM_CONDITION: [
        "COPD, three exacerbations this winter; please review the self-management plan.",
        "Heart failure, ankles swelling; weights and fluid plan needed.",
    ],
    Reason.FRAILTY_REVIEW: ["Moderate frailty; please assess and agree a care plan."],
    Reason.WOUND_CARE: ["Leg ulcer, weekly dressings; housebound."],
    Reason.MEDICATION: ["Confused about her tablets; please review and consider blister packs."],
    Reason.SOCIAL_ISOLATION: ["Widowed this year, rarely goes out; low mood."],
    Reason.CARER_SUPPORT: ["Wife cares for him round the clock and is worn out."],
}
RAH_REASONS = [
    (Reason.FALL, 30),
    (Reason.FRAILTY, 14),
    (Reason.REDUCED_FUNCTION, 14),
    (Reason.DELIRIUM, 10),
    (Reason.CATHETER, 8),
    (Reason.CARER_BREAKDOWN, 7),
    (Reason.PALLIATIVE, 6),
    (Reason.EQUIPMENT, 6),
    (Reason.DIABETES, 5),
]
CIT_REASONS = [
    (Reason.LONG_TERM_CONDITION, 30),
    (Reason.FRAILTY_REVIEW, 25),
    (Reason.WOUND_CARE, 20),
    (Reason.MEDICATION, 12),
    (Reason.SOCIAL_ISOLATION, 7),
    (Reason.CARER_SUPPORT, 6),
]
# Who refers to Recovery at Home, and who rings in for them (not a portal user).
RAH_SOURCES = [
    (Source.GP, 45),
    (Source.NHS_111, 14),
    (Source.AMBULANCE, 14),
    (Source.FAMILY_CARER, 10),
    (Source.SOCIAL_CARE, 6),
    (Source.CARE_HOME, 6),
    (Source.HOSPITAL_DISCHARGE, 5),
]
CALLERS = {
    Source.NHS_111: ("NHS 111 clinical advisor", "111"),
    Source.AMBULANCE: ("North East Ambulance Service crew", "paramedic"),
    Source.SOCIAL_CARE: ("Sunderland Care and Support", "care coordinator"),
    Source.CARE_HOME: ("Care home nurse in charge", "nurse"),
    Source.HOSPITAL_DISCHARGE: ("Sunderland Royal discharge team", "discharge nurse"),
}
GOALS = [
    "Walk to the corner shop with a stick",
    "Manage own medicines with a blister pack",
    "Get in and out of the bath safely",
    "Know what to do when breathless",
    "Go to the Age UK lunch club on Thursdays",
    "Carer has a break each week",
]
CONTACT_NOTES = [
    "Seen at home; observations stable; plan reviewed with the person.",
    "Dressing changed; healing well.",
    "Phoned: managing, daughter visiting daily.",
    "Inhaler technique checked; rescue pack explained.",
    "Medicines reconciled with the pharmacist; blister packs from Monday.",
    "Not in when called; neighbour says at the day centre.",
]
MDT_ACTIONS = [
    "Ask the pharmacist for a structured medication review",
    "Refer to the falls prevention service",
    "Offer an advance care planning conversation",
    "Ask Age UK's link worker to visit",
    "Carer's assessment through the Carers Centre",
    "Occupational therapy home assessment",
]

LONDON = ZoneInfo("Europe/London")

# Days of the week by how busy they are (Monday first): fewer referrals at weekends.
DAY_WEIGHT = [1.2, 1.1, 1.0, 1.0, 1.1, 0.7, 0.6]


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


@dataclass(order=True)
class _Act:
    at: datetime
    order: int
    do: Callable[[], None] = field(compare=False)


@dataclass
class Staff:
    coordinators: list[User]
    responders: list[User]
    members: dict[int, list[User]]  # team id: its members
    gps: dict[int, User]  # practice id: a GP who works there
    mdt_coordinator: User | None


class History:
    """Acts on a timeline, run in time order with the clock at each one."""

    def __init__(self, *, now: datetime, rng: random.Random, staff: Staff, patients: list[Patient]):
        self.now, self.rng, self.staff = now, rng, staff
        self.patients = patients
        self.acts: list[_Act] = []
        self.counter = itertools.count()
        self.busy: set[int] = set()  # people with an open Recovery at Home referral
        self.died: set[int] = set()  # nobody is referred, visited or reviewed after
        self.rah = Service.objects.get(code=Service.Code.RECOVERY_AT_HOME)
        self.cit = Service.objects.get(code=Service.Code.COMMUNITY_INTEGRATED_TEAMS)
        self.categories = {category.code: category for category in TriageCategory.objects.all()}
        self.bed_units = list(BedUnit.objects.filter(service=self.rah))
        self.teams = {team.neighbourhood_id: team for team in Team.objects.all()}

    def at(self, when: datetime, do: Callable[[], None]) -> None:
        """Do it then, unless then is still to come: that is today's work, left undone."""
        if when < self.now:
            heapq.heappush(self.acts, _Act(when, next(self.counter), do))

    def run(self) -> int:
        done = 0
        while self.acts:
            act = heapq.heappop(self.acts)
            with time_machine.travel(act.at, tick=False):
                act.do()
            done += 1
        return done

    # --- when things happen ------------------------------------------------------------

    def moment(self, day: date, *, start: int = 7, end: int = 22) -> datetime:
        """A UK time of day between the hours, busiest late morning."""
        hour = self.rng.triangular(start, end, 11)
        return datetime.combine(day, time(0), tzinfo=LONDON) + timedelta(hours=hour)

    def working_time(self, after: datetime, *, within_hours: float) -> datetime:
        """A weekday office-hours moment soon after: when a team reads its inbox."""
        moment = after + timedelta(hours=self.rng.uniform(0.5, within_hours))
        local = timezone.localtime(moment)
        while local.weekday() >= 5 or not 9 <= local.hour < 17:
            day = local.date() + timedelta(days=0 if local.hour < 9 else 1)  # an early hour: that morning
            local = datetime.combine(day, time(9), tzinfo=LONDON) + timedelta(
                minutes=self.rng.randrange(0, 240)
            )
        return local

    def minutes(self, low: float, high: float, mode: float) -> timedelta:
        return timedelta(minutes=self.rng.triangular(low, high, mode))

    # --- who -------------------------------------------------------------------------

    def free_patient(self) -> Patient | None:
        for _ in range(20):
            patient = self.rng.choice(self.patients)
            if patient.pk not in self.busy and patient.pk not in self.died:
                return patient
        return None

    def referrer_for(self, patient: Patient, source: str) -> referrals.Referrer:
        gp = self.staff.gps.get(patient.practice_id)
        if source == Source.GP and gp is not None:
            return referrals.Referrer(user=gp, practice=patient.practice, phone=gp.phone)
        coordinator = self.rng.choice(self.staff.coordinators)
        if source == Source.FAMILY_CARER:
            name = patient.carer_name or "Neighbour"
            role = (patient.carer_relationship or "neighbour").lower()
            return referrals.Referrer(
                name=name, role=role, phone=patient.carer_phone or patient.phone, recorded_by=coordinator
            )
        name, role = CALLERS.get(source, ("Caller", ""))
        return referrals.Referrer(name=name, role=role, phone="0191 498 0999", recorded_by=coordinator)

    def team_of(self, patient: Patient) -> Team | None:
        return self.teams.get(patient.practice.neighbourhood_id)

    # --- the days --------------------------------------------------------------------

    def plan_days(self, first: date, last: date, *, rah_per_day: float, cit_per_day: float) -> None:
        day = first
        while day <= last:
            weight = DAY_WEIGHT[day.weekday()]
            for _ in range(max(1, self._count(rah_per_day * weight))):
                self.at(self.moment(day), self.rah_referral)
            if day.weekday() < 5:
                for _ in range(self._count(cit_per_day * weight)):
                    self.at(self.moment(day, start=8, end=18), self.cit_referral)
            day += timedelta(days=1)

    def _count(self, mean: float) -> int:
        """Around the mean, never below zero (a day's referrals vary)."""
        return max(0, round(self.rng.gauss(mean, mean**0.5)))

    # --- Recovery at Home -------------------------------------------------------------

    def rah_referral(self) -> None:
        patient = self.free_patient()
        if patient is None:
            return
        source = _weighted(self.rng, RAH_SOURCES)
        reason = _weighted(self.rng, RAH_REASONS)
        referral = referrals.submit_referral(
            person=SentPerson.of_record(patient),
            of_record=patient,
            service=self.rah,
            team=None,
            referrer=self.referrer_for(patient, source),
            source=source,
            reason=reason,
            clinical_summary=self.rng.choice(SUMMARIES[reason]),
            carer_breakdown=reason == Reason.CARER_BREAKDOWN,
            key_safe=self.rng.random() < 0.3,
            consent_to_referral=True,
            consent_to_share=True,
        )
        self.busy.add(patient.pk)
        self.at(timezone.now() + self.minutes(2, 25, 6), lambda: self.triage(referral))

    def triage(self, referral: Referral) -> None:
        if referral.reason in (Reason.PALLIATIVE, Reason.DELIRIUM) and self.rng.random() < 0.5:
            code = "crisis"
        else:
            code = "urgent" if self.rng.random() < 0.82 else "same_day"
        coordinator = self.rng.choice(self.staff.coordinators)
        rah.triage_referral(referral=referral, category=self.categories[code], user=coordinator)
        minutes = self.categories[code].response_minutes
        # Mostly within the category's time; a busy afternoon or a far visit runs over.
        reach = self.minutes(minutes * 0.2, minutes * 1.45, minutes * 0.55)
        dispatched = timezone.now() + self.minutes(1, 20, 5)
        self.at(
            dispatched, lambda: self.dispatch(referral, coordinator, arrive_at=referral.received_at + reach)
        )

    def dispatch(self, referral: Referral, coordinator: User, *, arrive_at: datetime) -> None:
        responder = self.rng.choice(self.staff.responders)
        # The history's coordinators send whoever is picked, after any visit in hand.
        in_hand = len(visits_in_hand(responder=responder))
        visit = rah.dispatch_responder(
            referral=referral, responder=responder, user=coordinator, visits_in_hand=in_hand
        )
        arrive_at = max(arrive_at, timezone.now() + timedelta(minutes=8))
        self.at(
            timezone.now() + timedelta(minutes=3),
            lambda: rah.record_on_the_way(dispatch=visit, user=responder),
        )
        self.at(arrive_at, lambda: self.arrive(referral, visit, responder, coordinator))

    def arrive(self, referral, visit, responder: User, coordinator: User) -> None:
        rah.record_responder_arrival(dispatch=visit, user=responder)
        outcome = _weighted(
            self.rng,
            [
                (Outcome.REMAINED_AT_HOME, 56),
                (Outcome.HOSPITAL, 14),
                (Outcome.BED_UNIT, 10),
                (Outcome.HANDED_TO_CIT, 13),
                (Outcome.DECLINED, 5),
                (Outcome.DIED, 2 if referral.reason != Reason.PALLIATIVE else 40),
            ],
        )
        reablement = outcome == Outcome.REMAINED_AT_HOME and self.rng.random() < 0.35
        if reablement and referral.source != Source.HOSPITAL_DISCHARGE:
            rah.record_reablement_need(referral=referral, user=responder)
            care_begins = timezone.now() + timedelta(hours=self.rng.triangular(4, 60, 20))
            self.at(care_begins, lambda: self.reablement_begins(referral, coordinator))
        self.at(
            timezone.now() + self.minutes(30, 150, 60), lambda: self.outcome(referral, coordinator, outcome)
        )

    def reablement_begins(self, referral: Referral, coordinator: User) -> None:
        rah.record_reablement_start(referral=referral, user=coordinator)

    def outcome(self, referral: Referral, coordinator: User, outcome: str) -> None:
        patient = referral.patient
        unit = None
        if outcome == Outcome.BED_UNIT:
            unit = next((u for u in self.bed_units if rah.free_beds(bed_unit=u) > 0), None)
            in_bed = BedStay.objects.filter(patient=patient, discharged_at__isnull=True).exists()
            if unit is None or in_bed:
                outcome = Outcome.HOSPITAL  # no bed free: the ward it is
        if (
            outcome == Outcome.HANDED_TO_CIT
            and CaseloadEntry.objects.filter(patient=patient, closed_at__isnull=True).exists()
        ):
            outcome = Outcome.REMAINED_AT_HOME  # their team already has them: it is told
        today = timezone.localdate()
        episode = rah.record_outcome(
            referral=referral,
            user=coordinator,
            outcome=outcome,
            bed_unit=unit,
            planned_end_date=today + timedelta(days=self.rng.choice([3, 3, 7, 14, 28, 42]))
            if outcome == Outcome.REMAINED_AT_HOME
            else None,
            note="Falls and frailty follow-up by the team." if outcome == Outcome.HANDED_TO_CIT else "",
        )
        if outcome == Outcome.REMAINED_AT_HOME:
            self.short_term_care(referral, coordinator, until=episode.planned_end_date)
        else:
            self.busy.discard(patient.pk)
        if outcome == Outcome.DIED:
            self.died_at_home(patient)
        if outcome == Outcome.BED_UNIT:
            stay = BedStay.objects.get(episode=episode)
            self.at(
                timezone.now() + timedelta(days=self.rng.triangular(4, 21, 10)), lambda: self.bed_home(stay)
            )
        if episode.handover_referral is not None:
            self.cit_inbox(episode.handover_referral)

    # --- Short-term care after "remained at home" ---------------------------------------

    def short_term_care(self, referral: Referral, coordinator: User, *, until: date) -> None:
        """Visits on the first three days and then weekly, each planned now and recorded at
        its time (mostly done; now and then missed or moved); the discharge on the planned
        last day. What falls after now stays planned: today's and the coming days' visits."""
        first = timezone.localdate() + timedelta(days=1)
        days = [first + timedelta(days=n) for n in range(3)]
        days += [first + timedelta(days=n) for n in range(7, (until - first).days + 1, 7)]
        for day in days:
            if day > until:
                break
            hour = self.rng.choice([9, 10, 11, 14, 16])
            start = datetime.combine(day, time(hour), tzinfo=LONDON)
            responder = self.rng.choice(self.staff.responders)
            visit = rah_care.plan_visit(
                referral=referral,
                user=coordinator,
                responder=responder,
                window_start=start,
                window_end=start + timedelta(hours=1),
                tasks=self.rng.choice(CARE_TASKS),
            )
            self.at(start + self.minutes(10, 70, 40), lambda visit=visit: self.care_visit(referral, visit))
        discharge_at = datetime.combine(until, time(11), tzinfo=LONDON) + self.minutes(0, 240, 60)
        self.at(discharge_at, lambda: self.care_discharge(referral))

    def care_visit(self, referral: Referral, visit) -> None:
        visit.refresh_from_db()
        if visit.state != "planned":
            return  # cancelled at a discharge that came first
        if referral.patient_id in self.died:
            return
        outcome = _weighted(self.rng, [("done", 93), ("missed", 4), ("rescheduled", 3)])
        fields = {}
        if outcome == "missed":
            fields["note"] = self.rng.choice(
                ["No answer at the door", "Out with family", "Declined the visit"]
            )
        if outcome == "rescheduled":
            later = visit.window_start + timedelta(hours=3)
            fields.update(note="Asked for the afternoon", new_start=later, new_end=later + timedelta(hours=1))
        recorded = rah_care.record_visit(
            referral=referral, user=visit.responder, visit=visit, outcome=outcome, **fields
        )
        if recorded.rescheduled_as is not None:
            moved = recorded.rescheduled_as
            self.at(moved.window_start + self.minutes(10, 50, 20), lambda: self.care_visit(referral, moved))

    def care_discharge(self, referral: Referral) -> None:
        patient = referral.patient
        has_team = CaseloadEntry.objects.filter(patient=patient, closed_at__isnull=True).exists()
        where = _weighted(
            self.rng,
            [
                (CareDischarge.NO_FURTHER_SERVICE, 55),
                (CareDischarge.SOCIAL_CARE, 20),
                (CareDischarge.CIT, 0 if has_team else 25),
            ],
        )
        coordinator = self.rng.choice(self.staff.coordinators)
        care = rah_care.discharge_from_care(
            referral=referral,
            user=coordinator,
            discharged_to=where,
            note="Ongoing support with mobility." if where == CareDischarge.CIT else "",
        )
        self.busy.discard(patient.pk)
        if care.handover_referral is not None:
            self.cit_inbox(care.handover_referral)

    def died_at_home(self, patient: Patient) -> None:
        """The team closes the person's caseload entry the next working day."""
        self.died.add(patient.pk)
        for entry in CaseloadEntry.objects.filter(patient=patient, closed_at__isnull=True):
            self.at(
                self.working_time(timezone.now(), within_hours=8),
                lambda entry=entry: self.close_on_death(entry),
            )

    def close_on_death(self, entry: CaseloadEntry) -> None:
        entry.refresh_from_db()
        if entry.is_open:
            teams.discharge_from_caseload(entry=entry, user=entry.key_worker, reason=DischargeReason.DIED)

    def bed_home(self, stay: BedStay) -> None:
        rah.discharge_from_bed(
            stay=stay, user=self.rng.choice(self.staff.coordinators), note="Home with a package of care."
        )

    # --- Community Integrated Teams -------------------------------------------------------

    def cit_referral(self) -> None:
        patient = self.rng.choice(self.patients)
        gp = self.staff.gps.get(patient.practice_id)
        if gp is None or self.team_of(patient) is None or patient.pk in self.died:
            return
        reason = _weighted(self.rng, CIT_REASONS)
        referral = referrals.submit_referral(
            person=SentPerson.of_record(patient),
            of_record=patient,
            service=self.cit,
            team=None,
            referrer=referrals.Referrer(user=gp, practice=patient.practice, phone=gp.phone),
            source=Source.GP,
            reason=reason,
            clinical_summary=self.rng.choice(SUMMARIES[reason]),
            consent_to_referral=True,
            consent_to_share=True,
        )
        self.cit_inbox(referral)

    def cit_inbox(self, referral: Referral) -> None:
        self.at(self.working_time(timezone.now(), within_hours=20), lambda: self.cit_decides(referral))

    def cit_decides(self, referral: Referral) -> None:
        members = self.staff.members.get(referral.team_id) or []
        if not members:
            return
        member = self.rng.choice(members)
        if referral.patient_id in self.died:
            referrals.decline_referral(referral=referral, user=member, reason="The person has died")
            return
        already = CaseloadEntry.objects.filter(patient=referral.patient, team=referral.team, closed_at=None)
        if already.exists() or self.rng.random() < 0.07:
            referrals.decline_referral(
                referral=referral,
                user=member,
                reason="Already on our caseload; added to the care plan"
                if already.exists()
                else "Better met by the Age UK link worker; passed on with consent",
            )
            return
        entry = teams.accept_onto_caseload(
            referral=referral, key_worker=self.rng.choice(members), user=member
        )
        stay = timedelta(days=self.rng.triangular(14, 110, 45))
        self.at(self.working_time(timezone.now(), within_hours=72), lambda: self.first_visit(entry))
        self.at(self.working_time(entry.opened_at + stay, within_hours=8), lambda: self.discharge(entry))
        review_day = entry.review_due
        # Most reviews on time; some slip a week; a few are still waiting today.
        slip = self.rng.choice([0, 0, 0, 1, 2, 5, 7, 14, 21])
        self.at(
            self.working_time(datetime.combine(review_day, time(9), tzinfo=LONDON), within_hours=4)
            + timedelta(days=slip),
            lambda: self.review(entry),
        )

    def first_visit(self, entry: CaseloadEntry) -> None:
        if not self._open(entry):
            return
        self.contact(entry, kind=Contact.Kind.VISIT)
        for description in self.rng.sample(GOALS, self.rng.choice([1, 2])):
            goal = teams.add_goal(
                entry=entry,
                user=entry.key_worker,
                description=description,
                target_date=timezone.localdate() + timedelta(weeks=self.rng.choice([4, 6, 8])),
            )
            met = timezone.now() + timedelta(days=self.rng.uniform(14, 70))
            self.at(self.working_time(met, within_hours=6), lambda goal=goal: self.goal_met(goal))
        if self.rng.random() < 0.2:
            self.flag(entry)
        self.at(
            self.working_time(timezone.now() + timedelta(days=7), within_hours=48),
            lambda: self.follow_up(entry),
        )

    def follow_up(self, entry: CaseloadEntry) -> None:
        if not self._open(entry):
            return
        self.contact(
            entry, kind=self.rng.choice([Contact.Kind.VISIT, Contact.Kind.VISIT, Contact.Kind.PHONE])
        )
        gap = timedelta(days=self.rng.choice([5, 7, 7, 10, 14]))
        self.at(self.working_time(timezone.now() + gap, within_hours=24), lambda: self.follow_up(entry))

    def contact(self, entry: CaseloadEntry, *, kind: str) -> None:
        length = self.rng.choice([20, 30, 45, 60]) if kind != Contact.Kind.PHONE else 10
        attended = self.rng.random() > 0.05
        teams.record_contact(
            entry=entry,
            user=entry.key_worker,
            staff=entry.key_worker,
            kind=kind,
            at=timezone.now() - timedelta(minutes=length),
            duration_minutes=length,
            attended=attended,
            notes=self.rng.choice(CONTACT_NOTES)
            if attended
            else "No answer at the door; will ring tomorrow.",
        )

    def goal_met(self, goal: CarePlanGoal) -> None:
        if self._open(goal.entry):
            status = (
                CarePlanGoal.Status.ACHIEVED if self.rng.random() < 0.75 else CarePlanGoal.Status.IN_PROGRESS
            )
            teams.set_goal_status(goal=goal, user=goal.entry.key_worker, status=status)

    def review(self, entry: CaseloadEntry) -> None:
        if not self._open(entry):
            return
        today = timezone.localdate()
        teams.review_care_plan(
            entry=entry,
            user=entry.key_worker,
            reviewed_on=today,
            next_review_due=today + timedelta(weeks=6),
            note="Goals reviewed with the person and their family.",
        )
        entry.refresh_from_db()
        following = datetime.combine(entry.review_due, time(9), tzinfo=LONDON)
        self.at(self.working_time(following, within_hours=4), lambda: self.review(entry))

    def flag(self, entry: CaseloadEntry) -> None:
        if mdt.open_flag(patient=entry.patient) is None:
            mdt.flag_for_mdt(
                patient=entry.patient,
                user=entry.key_worker,
                reason="Not improving as hoped; GP and social care views needed",
                team=entry.team,
            )

    def discharge(self, entry: CaseloadEntry) -> None:
        if not self._open(entry):
            return
        reason = _weighted(
            self.rng,
            [
                (DischargeReason.GOALS_MET, 70),
                (DischargeReason.DECLINED, 8),
                (DischargeReason.TRANSFERRED, 8),
                (DischargeReason.ADMITTED_LONG_TERM, 6),
                (DischargeReason.DIED, 4),
                (DischargeReason.MOVED_AWAY, 4),
            ],
        )
        teams.discharge_from_caseload(entry=entry, user=entry.key_worker, reason=reason)
        if reason == DischargeReason.DIED:
            self.died.add(entry.patient_id)

    def _open(self, entry: CaseloadEntry) -> bool:
        """Still on the caseload (and alive: a death closes it the next working day)."""
        entry.refresh_from_db()
        return entry.is_open and entry.patient_id not in self.died

    # --- MDT meetings ----------------------------------------------------------------

    def plan_meetings(self, schedule: MeetingSchedule) -> None:
        for meeting in schedule.meetings.filter(starts_at__lt=self.now).order_by("starts_at"):
            self.at(meeting.starts_at - timedelta(days=6, hours=3), lambda m=meeting: self.prepare(m))
            self.at(meeting.starts_at + timedelta(minutes=75), lambda m=meeting: self.hold(m))
            self.at(
                self.working_time(meeting.starts_at + timedelta(hours=20), within_hours=4),
                lambda m=meeting: self.close(m),
            )

    def prepare(self, meeting: Meeting, *, people: int = 5) -> None:
        """The coordinator builds the agenda from the suggestions and invites the team."""
        coordinator = meeting.coordinator
        for candidate in mdt_selectors.agenda_candidates(meeting=meeting, limit=people):
            mdt.add_to_agenda(
                meeting=meeting, patient=candidate.patient, user=coordinator, reason=candidate.reason_summary
            )
        self.invite_all(meeting)
        if meeting.starts_at > timezone.now() + timedelta(days=1) and meeting.starts_at < self.now:
            mdt.publish_agenda(meeting=meeting, user=coordinator)

    def invite_all(self, meeting: Meeting) -> None:
        coordinator = meeting.coordinator
        gp = self.staff.gps.get(meeting.practice_id)
        if gp is not None:
            mdt.invite(
                meeting=meeting, user=coordinator, staff=gp, organisation=Attendee.Organisation.PRACTICE
            )
        team = self.teams.get(meeting.practice.neighbourhood_id)
        for member in (self.staff.members.get(team.pk) or [])[:2] if team else []:
            mdt.invite(
                meeting=meeting, user=coordinator, staff=member, organisation=Attendee.Organisation.CIT
            )
        if self.staff.coordinators:
            mdt.invite(
                meeting=meeting,
                user=coordinator,
                staff=self.staff.coordinators[0],
                organisation=Attendee.Organisation.RAH,
            )
        mdt.invite(
            meeting=meeting,
            user=coordinator,
            name="Age UK link worker",
            organisation=Attendee.Organisation.AGE_UK,
        )

    def hold(self, meeting: Meeting) -> None:
        coordinator = meeting.coordinator
        mdt.mark_held(meeting=meeting, user=coordinator)
        attendees = list(meeting.attendees.values_list("pk", flat=True))
        present = {pk for pk in attendees if self.rng.random() < 0.85}
        mdt.record_attendance(meeting=meeting, user=coordinator, present=present)
        gp = self.staff.gps.get(meeting.practice_id)
        team = self.teams.get(meeting.practice.neighbourhood_id)
        due = timezone.localdate() + timedelta(weeks=2)
        for item in meeting.items.select_related("patient"):
            mdt.update_item(
                item=item,
                user=coordinator,
                discussion="Discussed with the GP, the team and Age UK; the family's wishes noted.",
                outcome=self.rng.choice(
                    [ItemOutcome.CONTINUE, ItemOutcome.CONTINUE, ItemOutcome.REFER, ItemOutcome.DISCUSS_AGAIN]
                ),
            )
            if self.rng.random() < 0.7:
                owner, owner_team = (gp, None) if gp is not None and self.rng.random() < 0.5 else (None, team)
                if owner is None and owner_team is None:
                    continue
                action = mdt.add_action(
                    item=item,
                    user=coordinator,
                    description=self.rng.choice(MDT_ACTIONS),
                    due_date=due,
                    owner=owner,
                    owner_team=owner_team,
                )
                done_at = self.working_time(
                    timezone.now() + timedelta(days=self.rng.uniform(2, 20)), within_hours=6
                )
                self.at(done_at, lambda a=action, who=owner or coordinator: self.action_done(a, who))

    def action_done(self, action: Action, user: User) -> None:
        if self.rng.random() < 0.8:
            mdt.set_action_status(action=action, user=user, status=Action.Status.DONE, note="Done.")

    def close(self, meeting: Meeting) -> None:
        mdt.close_minutes(meeting=meeting, user=meeting.coordinator)


def demo_staff() -> Staff:
    users = User.objects.filter(is_active=True).prefetch_related("role_grants", "practices", "teams")
    staff = Staff(coordinators=[], responders=[], members={}, gps={}, mdt_coordinator=None)
    for user in users.order_by("pk"):
        roles = {grant.role for grant in user.role_grants.all()}
        if Role.RAH_COORDINATOR in roles:
            staff.coordinators.append(user)
        if Role.RAH_RESPONDER in roles:
            staff.responders.append(user)
        if Role.CIT_MEMBER in roles:
            for team in user.teams.all():
                staff.members.setdefault(team.pk, []).append(user)
        if Role.REFERRER in roles:
            for practice in user.practices.all():
                staff.gps.setdefault(practice.pk, user)
        if Role.MDT_COORDINATOR in roles and staff.mdt_coordinator is None:
            staff.mdt_coordinator = user
    return staff


def mdt_schedules(*, coordinator: User, first_date: date) -> list[MeetingSchedule]:
    """Each practice the MDT coordinator serves meets every four weeks, on Tuesdays at 13:00."""
    schedules = []
    for practice in Practice.objects.filter(staff=coordinator).order_by("ods_code"):
        schedules.append(
            MeetingSchedule.objects.create(
                practice=practice,
                coordinator=coordinator,
                first_date=first_date,
                start_time=time(13, 0),
                place=f"{practice.name}, meeting room",
            )
        )
    return schedules


def make_history(
    *, days: int, reserved: set[int], seed: int, rah_per_day: float = 3.0, cit_per_day: float = 1.6
) -> int:
    """`days` of work up to now; `reserved` people are kept for today's hand-made cases.
    Returns how many acts were made."""
    now = timezone.now()
    staff = demo_staff()
    if days <= 0 or not staff.coordinators or not staff.responders:
        return 0
    patients = list(
        Patient.objects.filter(practice__isnull=False, merged_into__isnull=True)
        .exclude(pk__in=reserved)
        .select_related("practice")
        .order_by("pk")
    )
    if not patients:
        return 0
    history = History(now=now, rng=random.Random(seed), staff=staff, patients=patients)
    today = timezone.localdate(now)
    first = today - timedelta(days=days)
    history.plan_days(first, today, rah_per_day=rah_per_day, cit_per_day=cit_per_day)
    if staff.mdt_coordinator is not None:
        tuesday = first + timedelta(days=(1 - first.weekday()) % 7)
        for schedule in mdt_schedules(coordinator=staff.mdt_coordinator, first_date=tuesday):
            with time_machine.travel(datetime.combine(tuesday, time(8), tzinfo=LONDON), tick=False):
                mdt.generate_meetings(schedule=schedule, until=today + timedelta(weeks=12))
            history.plan_meetings(schedule)
    before = last_email()
    done = history.run()
    past_emails_were_sent(after=before, now=now)
    return done


def last_email() -> int:
    return OutboundEmail.objects.aggregate(last=Max("pk"))["last"] or 0


def past_emails_were_sent(*, after: int, now) -> None:
    """What the portal emailed in the past (since email `after`) was delivered then: the
    demo's worker sends only today's news."""
    OutboundEmail.objects.filter(pk__gt=after, created_at__lt=now - timedelta(hours=1)).update(
        status=OutboundEmail.Status.SENT, sent_at=F("created_at")
    )


def make_rota(*, days_back: int = 7, days_ahead: int = 14) -> int:
    """The Recovery at Home rota around today: a coordinator on days (08:00 to 20:00) and
    one on nights, taking turns week by week; four responders on days and one on nights,
    each with a day off in turn. One day ahead is left short of a night responder: the
    cover gap the rota page flags. Returns how many shifts."""
    staff = demo_staff()
    if not staff.coordinators or not staff.responders:
        return 0
    lead = staff.coordinators[0]
    today = timezone.localdate()
    skills = [
        ["falls_assessment", "moving_and_handling"],
        ["catheter_care"],
        ["prescribing"],
        ["end_of_life"],
    ]
    made = 0
    for offset in range(-days_back, days_ahead):
        day = today + timedelta(days=offset)
        morning = datetime.combine(day, time(8), tzinfo=LONDON)
        evening = datetime.combine(day, time(20), tzinfo=LONDON)
        night_end = datetime.combine(day + timedelta(days=1), time(8), tzinfo=LONDON)
        week = day.isocalendar().week
        coordinators = staff.coordinators[week % len(staff.coordinators) :] + staff.coordinators
        on_days, on_nights = coordinators[0], coordinators[1 % len(coordinators)]
        rota.add_shift(staff=on_days, starts_at=morning, ends_at=evening, user=lead)
        if on_nights != on_days:
            rota.add_shift(staff=on_nights, starts_at=evening, ends_at=night_end, user=lead)
        made += 2
        resting = staff.responders[day.toordinal() % len(staff.responders)]
        working = [person for person in staff.responders if person != resting]
        night = working[-1]
        for number, person in enumerate(working[:-1]):
            rota.add_shift(
                staff=person,
                starts_at=morning,
                ends_at=evening,
                user=lead,
                skills=skills[number % len(skills)],
            )
            made += 1
        if offset != 3:  # the gap
            rota.add_shift(
                staff=night, starts_at=evening, ends_at=night_end, user=lead, skills=["end_of_life"]
            )
            made += 1
    return made
