"""Demo referrals: months of past work (`tools.demo_history`), then today's cases in every
state, made through the referral services so each has a true timeline. Created once:
skipped when referrals already exist."""

from __future__ import annotations

import random
from datetime import timedelta

import time_machine
from django.db import transaction
from django.utils import timezone

from closed_loop.person_messages import record_consent
from core.models import BedUnit, Patient, Service, User
from feedback import services as feedback
from feedback.models import Invitation
from mdt import selectors as mdt_selectors
from mdt import services as mdt_services
from mdt.models import Meeting, MeetingSchedule
from mdt.services import flag_for_mdt
from partners import carers
from partners import services as partners
from partners.models import ONS4_FIELDS, Term
from recovery_at_home import services as rah
from recovery_at_home.models import Episode, Outcome, TriageCategory
from recovery_at_home.reach import visits_in_hand
from referrals import services
from referrals.identity import SentPerson
from referrals.models import OPEN_STATUSES, Reason, Referral, Source
from teams import services as teams
from tools.demo_history import last_email, make_history, make_rota, mdt_schedules, past_emails_were_sent


def _patients_of(neighbourhood: str) -> list[Patient]:
    """Eight patients of a neighbourhood, repeating when it has fewer."""
    patients = list(Patient.objects.filter(practice__neighbourhood__code=neighbourhood).order_by("pk")[:8])
    return [patients[i % len(patients)] for i in range(8)] if patients else []


@transaction.atomic
def seed_demo_referrals(*, history_days: int = 0, seed: int = 2026) -> int:
    if Referral.objects.exists():
        return 0
    users = {
        user.username: user
        for user in User.objects.filter(
            username__in=["gp.a", "gp.b", "rah.coordinator", "rah.responder", "cit.member"]
        )
    }
    rah = Service.objects.get(code=Service.Code.RECOVERY_AT_HOME)
    cit = Service.objects.get(code=Service.Code.COMMUNITY_INTEGRATED_TEAMS)
    gp_a, gp_b = users["gp.a"], users["gp.b"]
    east, north = _patients_of("east"), _patients_of("north")
    if not east or not north:
        return 0
    make_history(days=history_days, reserved={patient.pk for patient in east + north}, seed=seed)
    make_rota()
    now = timezone.now()

    def refer(patient, service, reason, hours_ago, user=gp_a, **caller):
        referrer = services.Referrer(
            user=None if caller else user,
            practice=None if caller else user.practices.first(),
            phone=caller.get("phone", "0191 555 0101"),
            name=caller.get("name", ""),
            role=caller.get("role", "GP"),
        )
        return services.submit_referral(
            person=SentPerson.of_record(patient),
            of_record=patient,
            service=service,
            team=None,
            referrer=referrer,
            source=Source.FAMILY_CARER if caller else Source.GP,
            reason=reason,
            clinical_summary="Demo referral: " + Reason(reason).label.lower() + ".",
            consent_to_referral=True,
            consent_to_share=True,
            received_at=now - timedelta(hours=hours_ago),
        )

    member, coordinator = users["cit.member"], users["rah.coordinator"]
    refer(east[0], cit, Reason.FRAILTY_REVIEW, 2)
    refer(east[1], rah, Reason.FALL, 1)
    refer(north[0], rah, Reason.DELIRIUM, 0.5, user=gp_b)
    refer(
        east[2], rah, Reason.CARER_BREAKDOWN, 0.2, name="Susan Bell", role="Daughter", phone="0191 498 0123"
    )
    _seed_caseload(
        member,
        accepted=refer(east[3], cit, Reason.WOUND_CARE, 30),
        in_progress=refer(east[4], cit, Reason.LONG_TERM_CONDITION, 50),
        closed=refer(east[5], cit, Reason.MEDICATION, 200),
    )
    declined = refer(east[6], cit, Reason.SOCIAL_ISOLATION, 70)
    services.decline_referral(referral=declined, user=member, reason="Better met by the Age UK link worker")
    redirected = refer(east[7], rah, Reason.REDUCED_FUNCTION, 5)
    services.redirect_referral(
        referral=redirected, user=coordinator, service=cit, note="Not urgent; needs ongoing support"
    )
    # The GP learnt the person had gone into hospital overnight, before anyone accepted it.
    withdrawn = refer(north[2], rah, Reason.FRAILTY, 9, user=gp_b)
    services.withdraw_referral(referral=withdrawn, user=gp_b, reason="Admitted to hospital overnight")
    accepted_rah = refer(north[1], rah, Reason.CATHETER, 3, user=gp_b)
    services.accept_referral(referral=accepted_rah, user=coordinator)
    _seed_recovery_at_home(coordinator, users["rah.responder"], people=east + north)
    _seed_mdt(gp_a, member)
    _seed_feedback(seed=seed)
    _seed_partners(
        gp_a=gp_a,
        gp_b=gp_b,
        member=member,
        coordinator=coordinator,
        struggling=east[2],
        declined=declined,
        seed=seed,
    )
    return Referral.objects.count()  # none existed before


def _seed_caseload(member: User, *, accepted: Referral, in_progress: Referral, closed: Referral) -> None:
    """Three people on the East team's caseload: one new, one being visited with a care
    plan and flagged for the MDT, one discharged."""

    now = timezone.now()
    teams.accept_onto_caseload(referral=accepted, key_worker=member, user=member)
    visited = teams.accept_onto_caseload(
        referral=in_progress, key_worker=member, user=member, review_due=(now - timedelta(days=3)).date()
    )
    teams.record_contact(
        entry=visited,
        user=member,
        staff=member,
        kind="visit",
        at=now - timedelta(hours=26),
        duration_minutes=45,
        notes="Breathless on the stairs; inhaler technique reviewed.",
    )
    teams.add_goal(entry=visited, user=member, description="Walk to the corner shop", target_date=None)
    flag_for_mdt(patient=visited.patient, user=member, reason="Two exacerbations this month; review plan")
    done = teams.accept_onto_caseload(referral=closed, key_worker=member, user=member)
    teams.discharge_from_caseload(
        entry=done, user=member, reason="goals_met", note="Blister packs arranged; back to the GP"
    )


def _seed_mdt(gp: User, member: User) -> None:
    """gp.a's practice meets every four weeks on Tuesday at 13:00 (since the history began,
    or from next Tuesday); the next meeting has people on its agenda and its attendees
    invited."""

    coordinator = User.objects.filter(username="mdt.coordinator").first()
    practice = gp.practices.first()
    if coordinator is None or practice is None:
        return
    today = timezone.localdate()
    if not MeetingSchedule.objects.filter(practice=practice).exists():
        next_tuesday = today + timedelta(days=(1 - today.weekday()) % 7 or 7)
        for schedule in mdt_schedules(coordinator=coordinator, first_date=next_tuesday):
            mdt_services.generate_meetings(schedule=schedule, until=today + timedelta(weeks=12))
    meeting = (
        Meeting.objects.filter(practice=practice, starts_at__gt=timezone.now(), status=Meeting.Status.PLANNED)
        .order_by("starts_at")
        .first()
    )
    for candidate in mdt_selectors.agenda_candidates(meeting=meeting, limit=4):
        mdt_services.add_to_agenda(
            meeting=meeting, patient=candidate.patient, user=coordinator, reason=candidate.reason_summary
        )
    for staff, organisation in ((gp, "practice"), (member, "cit")):
        if not meeting.attendees.filter(user=staff).exists():
            mdt_services.invite(meeting=meeting, user=coordinator, staff=staff, organisation=organisation)
    mdt_services.invite(meeting=meeting, user=coordinator, name="Age UK link worker", organisation="age_uk")


def _seed_recovery_at_home(coordinator: User, responder: User, *, people: list[Patient]) -> None:
    """Triage today's open Recovery at Home referrals, send the responder to one, and put
    the accepted catheter-care referral's patient in a Houghton bed. Only today's people:
    the history's own referrals are left as it made them."""

    categories = {category.code: category for category in TriageCategory.objects.all()}
    todays = Episode.objects.filter(referral__patient__in=people)
    open_episodes = todays.filter(referral__status="received").select_related("referral")
    for episode in open_episodes.order_by("response_due_at"):
        code = {"delirium": "crisis", "carer_breakdown": "urgent"}.get(episode.referral.reason, "urgent")
        rah.triage_referral(referral=episode.referral, category=categories[code], user=coordinator)
    catheter = todays.filter(referral__reason="catheter", referral__status="accepted").first()
    houghton = BedUnit.objects.filter(name="Houghton").first()
    if catheter is not None and houghton is not None:
        rah.record_arrival(referral=catheter.referral, user=responder)
        rah.record_outcome(
            referral=catheter.referral, user=coordinator, outcome=Outcome.BED_UNIT, bed_unit=houghton
        )
    # Reached, found to need reablement at the visit, and at home with short-term care:
    # its 2-day reablement clock runs (the referral page and the dashboard show it).
    reablement = (
        todays.filter(arrived_at__isnull=True, referral__status__in=OPEN_STATUSES)
        .exclude(referral__source="hospital_discharge")
        .order_by("-response_due_at")
        .first()
    )
    if reablement is not None:
        rah.record_arrival(referral=reablement.referral, user=responder)
        rah.record_reablement_need(referral=reablement.referral, user=responder)
        rah.record_outcome(
            referral=reablement.referral,
            user=coordinator,
            outcome=Outcome.REMAINED_AT_HOME,
            planned_end_date=timezone.localdate() + timedelta(weeks=6),
        )
    first = (
        todays.filter(arrived_at__isnull=True, referral__status__in=OPEN_STATUSES)
        .order_by("response_due_at")
        .first()
    )
    if first is not None:
        # Their daughter agreed to be texted when someone is on the way (the demo has no
        # GOV.UK Notify key: the message waits, queued, on the referral's page).
        patient = first.referral.patient
        if not patient.carer_phone:
            patient.carer_name, patient.carer_relationship, patient.carer_phone = (
                "Joanne",
                "daughter",
                "07700 900461",
            )
            patient.save(update_fields=["carer_name", "carer_relationship", "carer_phone"])
        record_consent(patient=patient, user=coordinator, recipient="carer", channel="sms")
        rah.dispatch_responder(
            referral=first.referral,
            responder=responder,
            user=coordinator,
            visits_in_hand=len(visits_in_hand(responder=responder)),
        )


# What people said, in the proportions a service like this hears (invented).
DEMO_ANSWERS = [
    ("very_good", 55),
    ("good", 25),
    ("neither", 6),
    ("poor", 4),
    ("very_poor", 2),
    ("dont_know", 8),
]
DEMO_COMMENTS = [
    "They came within the hour and explained everything to my mum.",
    "Lovely, patient staff. Thank you.",
    "We waited longer than we were told, and nobody rang to say.",
    "The physio got Dad walking again before the weekend.",
]


def _seed_feedback(*, seed: int) -> None:
    """About a third of the history's discharges answered the question, a day after it, on
    the link or a tablet; some with a comment a manager has still to read."""
    rng = random.Random(seed)
    answers, weights = zip(*DEMO_ANSWERS, strict=True)
    for invitation in Invitation.objects.filter(used_at=None).order_by("pk"):
        if rng.random() > 0.35:
            continue
        token = feedback.reissue(occasion=invitation.occasion)
        comment = rng.choice(DEMO_COMMENTS) if rng.random() < 0.2 else ""
        answered_at = min(invitation.created_at + timedelta(days=1), timezone.now())
        with time_machine.travel(answered_at, tick=False):
            feedback.answer_invitation(
                token=token,
                answer=rng.choices(answers, weights)[0],
                comment=comment,
                channel=rng.choice(["link", "tablet"]),
            )


def _at(days_ago: float):
    """Travel to a moment in the past, so a partner's timeline reads as weeks of work."""
    return time_machine.travel(timezone.now() - timedelta(days=days_ago), tick=False)


def _partner(code: str) -> tuple[Service, User]:
    service = Service.objects.get(code=code)
    return service, service.partner_staff.order_by("pk").first()


def _terms(kind: str, *labels: str) -> list[Term]:
    return list(Term.objects.filter(list=kind, label__in=labels))


def _seed_partners(*, gp_a, gp_b, member, coordinator, struggling, declined, seed: int) -> None:
    """The partners at work: a carer breaking down waiting for the Carers Centre, a carer
    supported to the end, Age UK taking the person the team declined, and social
    prescribing across two practices with wellbeing asked before and after."""
    if not Service.objects.filter(kind=Service.Kind.PARTNER).exists():
        return
    rng, before = random.Random(seed), last_email()
    centre, centre_worker = _partner("carers-centre")
    living_well, age_uk = _partner("age-uk-living-well")
    prescribing, link_worker = _partner("social-prescribing")

    # The daughter who rang Recovery at Home: a person of her own, waiting in the inbox.
    daughter = carers.add_carer(
        cared_for=struggling,
        user=coordinator,
        given_name="Susan",
        family_name="Bell",
        relationship="daughter",
        phone="0191 498 0123",
        consent_to_share=True,
    )
    partners.refer_to_partner(
        person=daughter.carer,
        service=centre,
        user=coordinator,
        reason=Reason.CARER_BREAKDOWN,
        note="Cares for her mother alone and has not slept properly for a week.",
        consent_to_referral=True,
    )

    # A husband caring for someone on the East team's caseload: supported to the end.
    cared_for = Patient.objects.filter(caseload_entries__key_worker=member).order_by("pk").first()
    if cared_for is not None and centre_worker is not None:
        with _at(30):
            husband = carers.add_carer(
                cared_for=cared_for,
                user=member,
                given_name="George",
                family_name=cared_for.family_name,
                relationship="husband",
                phone="0191 498 0456",
                consent_to_share=True,
            )
            supported = partners.refer_to_partner(
                person=husband.carer,
                service=centre,
                user=member,
                reason=Reason.CARERS_ASSESSMENT,
                note="Would like a break on Thursdays.",
                consent_to_referral=True,
            )
        with _at(28):
            services.act_on_referral(referral=supported, user=centre_worker, action="accept")
        with _at(21):
            partners.record_support(
                referral=supported,
                user=centre_worker,
                needs=_terms("need", "Caring for someone", "Low mood, stress or anxiety"),
                support=_terms("support", "Carer's assessment", "A break for the carer"),
                offered="Assessment at home; sitting service every Thursday afternoon.",
            )
        with _at(7):
            partners.record_outcome(
                referral=supported,
                user=centre_worker,
                outcomes=_terms("outcome", "Carer's assessment completed", "Break for the carer arranged"),
                outcome="Thursday sitting service in place",
            )

    # The person the team declined as better met by Age UK: referred there, accepted.
    if age_uk is not None:
        with _at(2):
            lonely = partners.refer_to_partner(
                person=declined.patient,
                service=living_well,
                user=member,
                reason=Reason.SOCIAL_ISOLATION,
                note="Widowed this year; would like company and help with shopping.",
                consent_to_referral=True,
            )
        with _at(1):
            services.act_on_referral(referral=lonely, user=age_uk, action="accept")

    if link_worker is not None:
        _seed_social_prescribing(prescribing, link_worker, gps=(gp_a, gp_b), rng=rng)
    past_emails_were_sent(after=before, now=timezone.now())


def _seed_social_prescribing(prescribing, link_worker, *, gps, rng) -> None:
    """Each GP's people, most asked the four questions at the start and at the end."""
    for gp in gps:
        people = Patient.objects.filter(practice__in=gp.practices.all(), merged_into=None).order_by("-pk")[:6]
        for n, person in enumerate(people):
            days = 20 + 12 * n
            with _at(days):
                referral = partners.refer_to_partner(
                    person=person,
                    service=prescribing,
                    user=gp,
                    reason=Reason.SOCIAL_PRESCRIBING,
                    note="Would like to get out more.",
                    consent_to_referral=True,
                )
            if n == 5:
                continue  # still waiting
            with _at(days - 2):
                if n == 4:
                    services.act_on_referral(
                        referral=referral,
                        user=link_worker,
                        action="decline",
                        reason="Moved out of Sunderland",
                    )
                    continue
                services.act_on_referral(referral=referral, user=link_worker, action="accept")
                start = [rng.randint(2, 6), rng.randint(3, 6), rng.randint(2, 6), rng.randint(4, 9)]
                partners.record_wellbeing(
                    referral=referral,
                    user=link_worker,
                    when="before",
                    **dict(zip(ONS4_FIELDS, start, strict=True)),
                )
                partners.record_support(
                    referral=referral,
                    user=link_worker,
                    needs=_terms("need", rng.choice(DEMO_NEEDS), "Loneliness or isolation"),
                    support=_terms("support", "Community groups and activities", rng.choice(DEMO_SUPPORT)),
                    offered="Met at home; went along to the first session together.",
                )
            if n >= 3:
                continue  # still being supported
            end = [
                min(10, start[0] + rng.randint(0, 3)),
                min(10, start[1] + rng.randint(0, 2)),
                min(10, start[2] + rng.randint(0, 3)),
                max(0, start[3] - rng.randint(0, 3)),
            ]
            with _at(days - 14):
                partners.record_wellbeing(
                    referral=referral,
                    user=link_worker,
                    when="after",
                    **dict(zip(ONS4_FIELDS, end, strict=True)),
                )
                partners.record_outcome(
                    referral=referral,
                    user=link_worker,
                    outcomes=_terms("outcome", "Joined a community group or activity", "Feels less lonely"),
                    outcome="",
                )


DEMO_NEEDS = ["Getting out and about", "Money, benefits or debt", "Physical activity", "Bereavement"]
DEMO_SUPPORT = ["Befriending", "Benefits and money advice", "Physical activity sessions"]
