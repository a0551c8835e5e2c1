"""The business rules of a referral: submission, the state machine and its timeline.

Pages, the API and tasks all change referrals through these functions. Each status
change is a conditional UPDATE on the status it expects, so when two people act on the
same referral at once exactly one wins and the other is told what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from atb.models import Patient, Practice, Service, Team, User
from atb.notifications import portal_link, queue_email
from referrals.models import (
    OPEN_STATUSES,
    REASONS_BY_SERVICE,
    ReferenceCounter,
    Referral,
    ReferralEvent,
    Status,
)
from referrals.signals import referral_moved

# The state machine: which status each action moves from and to.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "accept": ((Status.RECEIVED,), Status.ACCEPTED),
    "decline": ((Status.RECEIVED,), Status.DECLINED),
    "redirect": ((Status.RECEIVED,), Status.REDIRECTED),
    "start": ((Status.ACCEPTED,), Status.IN_PROGRESS),
    "close": ((Status.ACCEPTED, Status.IN_PROGRESS), Status.CLOSED),
}
EVENT_FOR_STATUS = {
    Status.ACCEPTED: ReferralEvent.Kind.ACCEPTED,
    Status.DECLINED: ReferralEvent.Kind.DECLINED,
    Status.REDIRECTED: ReferralEvent.Kind.REDIRECTED,
    Status.IN_PROGRESS: ReferralEvent.Kind.STARTED,
    Status.CLOSED: ReferralEvent.Kind.CLOSED,
}


# What a referral says about the person's need, as given by the referrer.
REFERRAL_DETAILS = (
    "source",
    "reason",
    "clinical_summary",
    "carer_breakdown",
    "safeguarding_concern",
    "key_safe",
    "consent_to_referral",
    "consent_to_share",
)
# Who referred; a redirected referral keeps both.
REFERRER_FIELDS = ("referred_by", "referring_practice", "referrer_name", "referrer_role", "referrer_phone")


class TransitionRefused(Exception):
    """The referral is not in a state that allows this; the message says why."""


class PatientMismatch(Exception):
    """What was typed contradicts the record of a known patient."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Referrer:
    """Who referred: a signed-in user, or a caller on the phone."""

    user: User | None = None
    practice: Practice | None = None
    name: str = ""
    role: str = ""
    phone: str = ""


def referring_practice(*, user: User, candidate: Practice | None) -> Practice | None:
    """The practice a referral is made from: the patient's, if the referrer works there,
    else the referrer's own first practice (None for users with no practice)."""
    practices = list(user.practices.all())
    if candidate in practices:
        return candidate
    return practices[0] if practices else None


def allocate_reference(*, at: datetime) -> str:
    """The next `ATB-YYYY-NNNNNN`. Call inside the submitting transaction: the counter
    row stays locked until it commits, so no two referrals get the same number."""
    year = timezone.localtime(at).year
    ReferenceCounter.objects.get_or_create(year=year)
    counter = ReferenceCounter.objects.select_for_update().get(year=year)
    counter.last_number = F("last_number") + 1
    counter.save(update_fields=["last_number"])
    counter.refresh_from_db(fields=["last_number"])
    return f"ATB-{year}-{counter.last_number:06d}"


def route_to_team(*, patient: Patient) -> Team | None:
    """The CIT of the patient's practice's neighbourhood."""
    if patient.practice_id is None:
        return None
    return Team.objects.filter(neighbourhood__practices=patient.practice_id).first()


def resolve_patient(
    *, nhs_number: str | None, given_name: str, family_name: str, date_of_birth: date | None, **details
) -> Patient:
    """The known patient this referral is about, or a new (unsaved) one.

    By NHS number first, refusing a date of birth that contradicts the record; without
    one, by exact name and date of birth when exactly one known patient matches.
    """
    known = None
    if nhs_number:
        known = Patient.objects.filter(nhs_number=nhs_number).first()
        if known and date_of_birth and known.date_of_birth and known.date_of_birth != date_of_birth:
            raise PatientMismatch(
                "date_of_birth", "This is not the date of birth recorded with that NHS number; check both."
            )
    elif date_of_birth:
        matches = list(
            Patient.objects.filter(
                given_name__iexact=given_name.strip(),
                family_name__iexact=family_name.strip(),
                date_of_birth=date_of_birth,
                merged_into__isnull=True,
            )[:2]
        )
        known = matches[0] if len(matches) == 1 else None
    if known:
        return known
    details["postcode"] = details.get("postcode", "").strip().upper()
    return Patient(
        nhs_number=nhs_number or None,
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        date_of_birth=date_of_birth,
        **details,
    )


def open_duplicates(*, patient: Patient, service: Service) -> QuerySet[Referral]:
    """Open referrals of this patient to this service (the duplicate guard)."""
    if patient.pk is None:
        return Referral.objects.none()
    return Referral.objects.filter(patient=patient, service=service, status__in=OPEN_STATUSES)


def reason_fits_service(*, reason: str, service: Service) -> bool:
    return reason in REASONS_BY_SERVICE.get(service.code, [])


def _start_clock_if_recovery_at_home(referral: Referral) -> None:
    """A referral reaching Recovery at Home starts its response clock at once."""
    if referral.service.code == Service.Code.RECOVERY_AT_HOME:
        from recovery_at_home.services import open_episode  # the RaH app builds on referrals

        open_episode(referral=referral)


@transaction.atomic
def submit_referral(
    *,
    patient: Patient,
    service: Service,
    team: Team | None,
    referrer: Referrer,
    source: str,
    reason: str,
    clinical_summary: str = "",
    carer_breakdown: bool = False,
    safeguarding_concern: bool = False,
    key_safe: bool = False,
    consent_to_referral: bool,
    consent_to_share: bool = False,
    received_at: datetime | None = None,
) -> Referral:
    """Create the referral (and the patient, if new) with its first timeline event."""
    if patient.pk is None:
        patient.save()
    if service.code == Service.Code.COMMUNITY_INTEGRATED_TEAMS and team is None:
        team = route_to_team(patient=patient)
    received_at = received_at or timezone.now()
    referral = Referral.objects.create(
        reference=allocate_reference(at=received_at),
        patient=patient,
        service=service,
        team=team if service.code == Service.Code.COMMUNITY_INTEGRATED_TEAMS else None,
        source=source,
        reason=reason,
        clinical_summary=clinical_summary,
        carer_breakdown=carer_breakdown,
        safeguarding_concern=safeguarding_concern,
        key_safe=key_safe,
        consent_to_referral=consent_to_referral,
        consent_to_share=consent_to_share,
        referred_by=referrer.user,
        referring_practice=referrer.practice,
        referrer_name=referrer.name,
        referrer_role=referrer.role,
        referrer_phone=referrer.phone,
        received_at=received_at,
        status_changed_at=received_at,
        status_changed_by=referrer.user,
    )
    _start_clock_if_recovery_at_home(referral)
    ReferralEvent.objects.create(
        referral=referral,
        kind=ReferralEvent.Kind.SUBMITTED,
        at=received_at,
        user=referrer.user,
        actor="" if referrer.user else f"{referrer.name} ({referrer.role})".strip(" ()"),
        note=f"To {referral.team or referral.service}",
    )
    return referral


ACTION_DONE = {
    "accept": "accepted",
    "decline": "declined",
    "redirect": "redirected",
    "start": "started",
    "close": "closed",
}


def _refusal(referral: Referral, action: str) -> TransitionRefused:
    """Explain a refused action from the referral's current state."""
    current = Referral.objects.select_related("status_changed_by").get(pk=referral.pk)
    status = current.get_status_display().lower()
    if current.status == TRANSITIONS[action][1]:
        who = current.status_changed_by or "another user"
        when = date_format(timezone.localtime(current.status_changed_at), "H:i")
        return TransitionRefused(f"This referral was already {status} by {who} at {when}.")
    return TransitionRefused(f"A referral that is {status} cannot be {ACTION_DONE[action]}.")


def _transition(*, referral: Referral, user: User, action: str, note: str = "", **fields) -> Referral:
    """Move the referral if, and only if, it is still in a status the action allows."""
    from_statuses, to_status = TRANSITIONS[action]
    now = timezone.now()
    changed = Referral.objects.filter(pk=referral.pk, status__in=from_statuses).update(
        status=to_status, status_changed_at=now, status_changed_by=user, **fields
    )
    if changed != 1:
        raise _refusal(referral, action)
    ReferralEvent.objects.create(
        referral=referral, kind=EVENT_FOR_STATUS[to_status], at=now, user=user, note=note
    )
    referral.refresh_from_db()
    referral_moved.send(sender=Referral, referral=referral)
    return referral


def _tell_referrer(referral: Referral, what: str) -> None:
    referrer = referral.referred_by
    if referrer is None or not referrer.email:
        return
    queue_email(
        key=f"referral-{referral.pk}-{referral.status}",
        to=referrer.email,
        subject=f"Referral {referral.reference} {what}",
        body=(
            f"Your referral {referral.reference} to {referral.team or referral.service} "
            f"was {what} by {referral.status_changed_by} at "
            f"{date_format(timezone.localtime(referral.status_changed_at), 'j M Y H:i')}.\n\n"
            f"{referral.decline_reason or ''}\n"
            "See the referral and its timeline in the ATB Portal: "
            f"{portal_link(reverse('referrals:detail', args=[referral.reference]))}"
        ).replace("\n\n\n", "\n\n"),
    )


@transaction.atomic
def accept_referral(*, referral: Referral, user: User, note: str = "") -> Referral:
    referral = _transition(referral=referral, user=user, action="accept", note=note)
    _tell_referrer(referral, "accepted")
    return referral


@transaction.atomic
def decline_referral(*, referral: Referral, user: User, reason: str) -> Referral:
    reason = reason.strip()
    if not reason:
        raise TransitionRefused("Say why the referral is declined.")
    referral = _transition(referral=referral, user=user, action="decline", note=reason, decline_reason=reason)
    _tell_referrer(referral, "declined")
    return referral


@transaction.atomic
def redirect_referral(
    *, referral: Referral, user: User, service: Service, team: Team | None = None, note: str = ""
) -> Referral:
    """Close this referral as redirected and open one to the other service, linked to it,
    so both timelines keep the whole history."""
    if service.code == Service.Code.COMMUNITY_INTEGRATED_TEAMS:
        team = team or route_to_team(patient=referral.patient)
        if team is None:
            raise TransitionRefused("Choose the Community Integrated Team to redirect to.")
    else:
        team = None
    if service == referral.service and team == referral.team:
        raise TransitionRefused("The referral is already with that service.")
    destination = str(team or service)
    referral = _transition(
        referral=referral, user=user, action="redirect", note=f"To {destination}. {note}".strip()
    )
    now = timezone.now()
    redirected = Referral.objects.create(
        reference=allocate_reference(at=now),
        patient=referral.patient,
        service=service,
        team=team,
        received_at=now,
        status_changed_at=now,
        status_changed_by=user,
        redirected_from=referral,
        **{name: getattr(referral, name) for name in (*REFERRAL_DETAILS, *REFERRER_FIELDS)},
    )
    _start_clock_if_recovery_at_home(redirected)
    ReferralEvent.objects.create(
        referral=redirected,
        kind=ReferralEvent.Kind.REDIRECTED_IN,
        at=now,
        user=user,
        note=f"From {referral.team or referral.service} ({referral.reference}). {note}".strip(),
    )
    _tell_referrer(referral, f"redirected to {destination}")
    return redirected


@transaction.atomic
def start_referral(*, referral: Referral, user: User) -> Referral:
    return _transition(referral=referral, user=user, action="start")


@transaction.atomic
def close_referral(*, referral: Referral, user: User, outcome: str) -> Referral:
    outcome = outcome.strip()
    if not outcome:
        raise TransitionRefused("Record the outcome to close the referral.")
    return _transition(referral=referral, user=user, action="close", note=outcome, outcome=outcome)


def add_note(*, referral: Referral, user: User, note: str) -> ReferralEvent:
    note = note.strip()
    if not note:
        raise TransitionRefused("The note is empty.")
    return ReferralEvent.objects.create(referral=referral, kind=ReferralEvent.Kind.NOTE, user=user, note=note)


def record_viewed_by_receiver(*, referral: Referral, user: User) -> bool:
    """The first time the receiving team opens a new referral goes on the timeline."""
    if referral.status != Status.RECEIVED:
        return False
    if referral.events.filter(kind=ReferralEvent.Kind.VIEWED).exists():
        return False
    ReferralEvent.objects.create(referral=referral, kind=ReferralEvent.Kind.VIEWED, user=user)
    return True
