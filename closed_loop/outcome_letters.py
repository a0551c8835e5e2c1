"""The outcome letter to the GP practice: a one-page summary when a Recovery at Home episode
or a team's caseload entry closes, and after each MDT discussion of a person: what was
done, the outcome, and what the practice is asked to do. Written once, as things stood,
from what the services recorded; read in the portal (printable on A4, and as a PDF) and
offered to a sending system as a FHIR DocumentReference. Never emailed: it is the record."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format

from closed_loop.models import OutcomeLetter
from core.models import User
from core.selectors import patients_visible_to
from mdt.models import Meeting
from recovery_at_home.models import Episode, PlannedVisit
from referrals.models import Referral, ReferralEvent
from referrals.selectors import redirect_chain
from teams.models import CarePlanGoal, CaseloadEntry


def _day(moment) -> str:
    return date_format(timezone.localtime(moment), "j F Y")


def _minutes(start, end) -> int:
    return round((end - start).total_seconds() / 60)


def write_for_closed_referral(*, event: ReferralEvent) -> OutcomeLetter | None:
    """A referral closed: its Recovery at Home episode or its caseload entry ended."""
    if event.kind != ReferralEvent.Kind.CLOSED:
        return None
    referral = Referral.objects.select_related("patient__practice", "service", "team").get(
        pk=event.referral_id
    )
    episode = Episode.objects.filter(referral=referral).select_related("category", "care").first()
    entry = CaseloadEntry.objects.filter(referral=referral).select_related("key_worker", "team").first()
    if episode is not None:
        occasion, done, actions = OutcomeLetter.Occasion.RAH_DISCHARGE, *_recovery_at_home(referral, episode)
    elif entry is not None:
        occasion, done, actions = OutcomeLetter.Occasion.CASELOAD_DISCHARGE, *_caseload(entry)
    else:
        return None
    return _write(
        key=f"closed-{referral.pk}",
        referral=referral,
        patient=referral.patient,
        occasion=occasion,
        title=f"{referral.team or referral.service}: outcome of referral {referral.reference}",
        what_was_done=done,
        outcome=referral.outcome,
        actions_for_practice=actions,
        user=event.user,
    )


def _recovery_at_home(referral: Referral, episode: Episode) -> tuple[str, str]:
    received = timezone.localtime(referral.received_at)
    lines = [f"Referred {_day(received)} at {received:%H:%M}: {referral.reason_shown}."]
    if episode.category:
        lines.append(f"Triaged as {episode.category}.")
    if episode.arrived_at:
        minutes = _minutes(referral.received_at, episode.arrived_at)
        lines.append(f"First seen {_day(episode.arrived_at)}, {minutes} minutes after the referral.")
    care = getattr(episode, "care", None)
    actions = []
    if care is not None:
        visits = care.visits.aggregate(
            done=Count("pk", filter=Q(state=PlannedVisit.State.DONE)),
            missed=Count("pk", filter=Q(state=PlannedVisit.State.MISSED)),
        )
        lines.append(
            f"Short-term care at home from {_day(care.started_at)}: {visits['done']} visits made"
            + (f", {visits['missed']} missed." if visits["missed"] else ".")
        )
        if care.discharge_note:
            actions.append(care.discharge_note)
        if care.handover_referral_id:
            actions.append(
                f"Handed over to the Community Integrated Team ({care.handover_referral.reference})."
            )
    if episode.outcome_note:
        lines.append(f"Noted at the outcome: {episode.outcome_note}")
    if episode.handover_referral_id:
        actions.append(
            f"Handed over to the Community Integrated Team ({episode.handover_referral.reference})."
        )
    return "\n".join(lines), "\n".join(actions)


def _caseload(entry: CaseloadEntry) -> tuple[str, str]:
    contacts = entry.contacts.filter(attended=True).count()
    goals = entry.goals.aggregate(
        all=Count("pk"), achieved=Count("pk", filter=Q(status=CarePlanGoal.Status.ACHIEVED))
    )
    lines = [
        f"On the {entry.team} caseload from {_day(entry.opened_at)} to {_day(entry.closed_at)}, "
        f"key worker {entry.key_worker}.",
        f"{contacts} contact{'s' if contacts != 1 else ''} made.",
    ]
    if goals["all"]:
        lines.append(f"Care plan: {goals['achieved']} of {goals['all']} goals achieved.")
    return "\n".join(lines), entry.discharge_note


def write_for_meeting(*, meeting: Meeting, user: User) -> list[OutcomeLetter]:
    """The minutes closed: a letter for each person discussed, with the actions agreed."""
    letters = []
    items = (
        meeting.items.exclude(discussion="")
        .select_related("patient__practice")
        .prefetch_related("actions__owner", "actions__owner_team")
    )
    for item in items:
        actions = [
            f"{action.description} ({action.owner or action.owner_team or 'unassigned'}, "
            f"by {date_format(action.due_date, 'j F Y')})"
            for action in item.actions.all()
        ]
        letters.append(
            _write(
                key=f"mdt-item-{item.pk}",
                referral=None,
                patient=item.patient,
                occasion=OutcomeLetter.Occasion.MDT_DISCUSSION,
                title=f"{meeting.practice.name} MDT, {_day(meeting.starts_at)}: discussion",
                what_was_done=f"Discussed at the MDT: {item.reason}.\n{item.discussion}",
                outcome=item.get_outcome_display() or "No outcome recorded",
                actions_for_practice="\n".join(actions),
                user=user,
            )
        )
    return letters


def _write(*, key, referral, patient, occasion, title, what_was_done, outcome, actions_for_practice, user):
    letter, _ = OutcomeLetter.objects.get_or_create(
        key=key,
        defaults={
            "patient": patient,
            "practice": patient.practice,
            "referral": referral,
            "occasion": occasion,
            "title": title[:200],
            "what_was_done": what_was_done,
            "outcome": outcome,
            "actions_for_practice": actions_for_practice,
            "written_by": user,
        },
    )
    return letter


def letters_visible_to(*, user: User) -> QuerySet[OutcomeLetter]:
    """Letters about the people this user may see (`core.access`), newest first."""
    return (
        OutcomeLetter.objects.filter(patient__in=patients_visible_to(user=user).values("pk"))
        .select_related("patient", "practice", "referral", "written_by")
        .order_by("-written_at", "-id")
    )


def letter_for_referral(*, referral: Referral) -> OutcomeLetter | None:
    return OutcomeLetter.objects.filter(referral=referral).first()


def letter_for_its_referrer(*, user: User, pk: int) -> OutcomeLetter | None:
    """The letter of a referral this user sent (a sending system, say), whether or not they
    may see the person's record: the outcome of their own referral is theirs to know."""
    letter = OutcomeLetter.objects.filter(pk=pk, referral__isnull=False).select_related("referral").first()
    if letter is None:
        return None
    first_sent = redirect_chain(letter.referral)[-1]
    return letter if first_sent.referred_by_id == user.pk else None
