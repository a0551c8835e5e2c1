"""The business rules of a referral: submission, the state machine and its timeline.

Pages, the API and tasks all change referrals through these functions. Each status
change is a conditional UPDATE on the status it expects, so when two people act on the
same referral at once exactly one wins and the other is told what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from core import access
from core.access import referral_scope
from core.audit import record_event
from core.models import AuditAction, Patient, Practice, Role, Service, Team, User
from core.uk_time import uk_when
from referrals.identity import Match, SentPerson, match_patient
from referrals.models import (
    OPEN_STATUSES,
    Reason,
    ReferenceCounter,
    Referral,
    ReferralEvent,
    ReferralVersion,
    Status,
    reasons_for,
)
from referrals.signals import referral_moved, referral_received

# The state machine: which status each action moves from and to.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "accept": ((Status.RECEIVED,), Status.ACCEPTED),
    "decline": ((Status.RECEIVED,), Status.DECLINED),
    "redirect": ((Status.RECEIVED,), Status.REDIRECTED),
    "start": ((Status.ACCEPTED,), Status.IN_PROGRESS),
    "close": ((Status.ACCEPTED, Status.IN_PROGRESS), Status.CLOSED),
    # The sending side's own: only before the receiving service has taken it on.
    "withdraw": ((Status.RECEIVED,), Status.WITHDRAWN),
}
EVENT_FOR_STATUS = {
    Status.ACCEPTED: ReferralEvent.Kind.ACCEPTED,
    Status.DECLINED: ReferralEvent.Kind.DECLINED,
    Status.REDIRECTED: ReferralEvent.Kind.REDIRECTED,
    Status.IN_PROGRESS: ReferralEvent.Kind.STARTED,
    Status.CLOSED: ReferralEvent.Kind.CLOSED,
    Status.WITHDRAWN: ReferralEvent.Kind.WITHDRAWN,
}


# What a referral says about the person's need, as given by the referrer.
REFERRAL_DETAILS = (
    "source",
    "reason",
    "reason_other",
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


class NotTheReceiver(PermissionDenied):
    """Only the receiving side moves a referral along."""


def may_act_on(*, user: User, referral: Referral) -> bool:
    """The receiving side: Recovery at Home's coordinators, a member of the team, or the
    partner service's staff."""
    if referral.service.kind == Service.Kind.PARTNER:
        return referral.service_id in access.partner_services_of(user=user)
    if referral.service.code == Service.Code.RECOVERY_AT_HOME:
        return user.has_role(Role.RAH_COORDINATOR)
    return user.has_role(Role.CIT_MEMBER) and referral.team_id in user.team_ids


def check_receiver(*, referral: Referral, user: User) -> None:
    if not may_act_on(user=user, referral=referral):
        raise NotTheReceiver("Only the receiving team can do that.")


@dataclass(frozen=True)
class Referrer:
    """Who referred: a signed-in user, or someone named (a caller on the phone, a service
    handing over) with the signed-in user who recorded it for them (`recorded_by`): the
    timeline and the audit trail name who did it; only a referring user is told of what
    happens next."""

    user: User | None = None
    practice: Practice | None = None
    name: str = ""
    role: str = ""
    phone: str = ""
    recorded_by: User | None = None

    @property
    def acting_user(self) -> User | None:
        """The signed-in user who sent it: the referrer, or whoever recorded it for them."""
        return self.user or self.recorded_by

    def as_actor(self) -> str:
        """ "Jane Lowes (daughter)", as the timeline names a caller; either part alone."""
        name, role = self.name.strip(), self.role.strip()
        return f"{name} ({role})" if name and role else name or role


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


def route_to_team_of(*, practice: Practice | None) -> Team | None:
    """The CIT of the practice's neighbourhood."""
    if practice is None or practice.pk is None:
        return None
    return Team.objects.filter(neighbourhood__practices=practice.pk).first()


def route_to_team(*, patient: Patient) -> Team | None:
    """The CIT of the patient's practice's neighbourhood."""
    return route_to_team_of(practice=patient.practice)


def open_duplicates(*, person: SentPerson, service: Service, user: User) -> QuerySet[Referral]:
    """The duplicate guard: open referrals of this person to this service, among those
    the user may see (another sender's referral is the receiving service's to spot: the
    guard must not tell a sender what the portal holds)."""
    patient = match_patient(person=person).patient
    if patient.pk is None:
        return Referral.objects.none()
    return Referral.objects.filter(
        referral_scope(user=user), patient=patient, service=service, status__in=OPEN_STATUSES
    )


# A phoned-in referral's clock starts when the call did: the coordinator gives the time
# while recording it, within a shift of the call.
CALL_RECORDED_WITHIN = timedelta(hours=12)


def call_start_problem(*, started_at: datetime, now: datetime) -> str:
    """What is wrong with the time a phoned-in referral's call started ("" when nothing)."""
    if started_at > now:
        return "The call cannot have started in the future."
    if now - started_at > CALL_RECORDED_WITHIN:
        return "Record a phone-in within 12 hours of the call: give the time it started."
    return ""


def reason_problems(*, reason: str, reason_other: str, service: Service) -> dict[str, str]:
    """What is wrong with the reason given, by field (empty when nothing): the form, the
    API and submission itself all ask here."""
    if reason not in reasons_for(service):
        return {"reason": f"Choose a reason that {service} responds to."}
    if reason == Reason.OTHER and not reason_other.strip():
        return {"reason_other": "Say what the other reason is."}
    return {}


@transaction.atomic
def submit_referral(
    *,
    person: SentPerson,
    of_record: Patient | None = None,
    service: Service,
    team: Team | None,
    referrer: Referrer,
    source: str,
    reason: str,
    reason_other: str = "",
    clinical_summary: str = "",
    carer_breakdown: bool = False,
    safeguarding_concern: bool = False,
    key_safe: bool = False,
    consent_to_referral: bool,
    consent_to_share: bool = False,
    received_at: datetime | None = None,
    to_partner: bool = False,
) -> Referral:
    """Create the referral with its first timeline event, about the record the person
    sent matches (`referrals.identity`; a new record if none), and audit it: the form,
    the API and FHIR messages all come here. A service handing over a person whose record
    it holds names it (`of_record`). A partner service is referred to only by someone who
    works with the person, through `partners.services.refer_to_partner` (`to_partner`),
    which checks that relationship and the person's agreement."""
    if service.is_partner != to_partner:
        raise TransitionRefused(
            f"Refer on to {service} from the person's page."
            if service.is_partner
            else f"{service} is not a partner service."
        )
    if problems := reason_problems(reason=reason, reason_other=reason_other, service=service):
        raise TransitionRefused(" ".join(problems.values()))
    match = Match(patient=of_record) if of_record is not None else match_patient(person=person)
    patient = match.patient
    if patient.pk is None:
        patient.full_clean(validate_unique=False)
        patient.save()
        record_event(
            action=AuditAction.CREATE,
            user=referrer.acting_user,
            patient=patient,
            detail="registered with a referral",
        )
    if service.code == Service.Code.COMMUNITY_INTEGRATED_TEAMS and team is None:
        # The practice the sender named (never the record's, which the destination they
        # are told would give away).
        team = route_to_team_of(practice=person.practice)
        if team is None:
            raise TransitionRefused("Choose the team: the person's GP practice is not known.")
    received_at = received_at or timezone.now()
    referral = Referral.objects.create(
        reference=allocate_reference(at=received_at),
        patient=patient,
        service=service,
        team=team if service.code == Service.Code.COMMUNITY_INTEGRATED_TEAMS else None,
        source=source,
        reason=reason,
        reason_other=reason_other.strip() if reason == Reason.OTHER else "",
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
        status_changed_by=referrer.acting_user,
        person_as_sent=person.stored(),
        identity_to_confirm=match.identity_to_confirm,
    )
    referral_received.send(sender=Referral, referral=referral)
    ReferralEvent.objects.create(
        referral=referral,
        kind=ReferralEvent.Kind.SUBMITTED,
        at=received_at,
        user=referrer.acting_user,
        actor="" if referrer.user else referrer.as_actor(),
        note=f"To {referral.team or referral.service}",
    )
    detail = "referral"
    if match.identity_to_confirm:
        differences = " and ".join(match.disagreements)
        ReferralEvent.objects.create(
            referral=referral,
            kind=ReferralEvent.Kind.NOTE,
            at=received_at,
            note=f"Identity to confirm: the {differences} sent differ from the record of that NHS number.",
        )
        detail = f"referral matched by NHS number; identity to confirm ({differences} differ)"
    record_event(
        action=AuditAction.CREATE, user=referrer.acting_user, patient=patient, obj=referral, detail=detail
    )
    return referral


@transaction.atomic
def confirm_identity(*, referral: Referral, user: User, note: str = "") -> Referral:
    """The receiving service has checked: the referral is about the person on record."""
    check_receiver(referral=referral, user=user)
    if not Referral.objects.filter(pk=referral.pk, identity_to_confirm=True).update(
        identity_to_confirm=False
    ):
        raise TransitionRefused("This referral's identity is already settled.")
    ReferralEvent.objects.create(
        referral=referral, kind=ReferralEvent.Kind.IDENTITY_CONFIRMED, user=user, note=note.strip()
    )
    record_event(
        action=AuditAction.UPDATE,
        user=user,
        patient=referral.patient,
        obj=referral,
        detail="identity confirmed",
    )
    referral.refresh_from_db()
    return referral


@transaction.atomic
def separate_identity(*, referral: Referral, user: User, note: str = "") -> Referral:
    """The receiving service has checked: the referral is not about the person whose
    NHS number was sent. It moves to a new record made from what was sent, without that
    number (it belongs to someone else)."""
    check_receiver(referral=referral, user=user)
    # Work already recorded against the person's record stays with it: settle first.
    working = Q(caseload_entry__isnull=False) | Q(episode__bed_stays__isnull=False)
    if Referral.objects.filter(working, pk=referral.pk).exists():
        raise TransitionRefused("Work on this referral is already on the record: ask an administrator.")
    if not Referral.objects.filter(pk=referral.pk, identity_to_confirm=True).update(
        identity_to_confirm=False
    ):
        raise TransitionRefused("This referral's identity is already settled.")
    person = SentPerson.from_stored(referral.person_as_sent)
    patient = person.new_record(with_nhs_number=False)
    patient.practice = Practice.objects.filter(ods_code=person.practice_ods_code).first()
    patient.save()
    was = referral.patient
    Referral.objects.filter(pk=referral.pk).update(patient=patient)
    referral_moved.send(sender=Referral, referral=referral)
    ReferralEvent.objects.create(
        referral=referral, kind=ReferralEvent.Kind.IDENTITY_SEPARATED, user=user, note=note.strip()
    )
    record_event(
        action=AuditAction.UPDATE,
        user=user,
        patient=was,
        obj=referral,
        detail="not this person: referral moved",
    )
    record_event(
        action=AuditAction.CREATE, user=user, patient=patient, obj=referral, detail="registered as sent"
    )
    referral.refresh_from_db()
    return referral


ACTION_DONE = {
    "accept": "accepted",
    "decline": "declined",
    "redirect": "redirected",
    "start": "started",
    "close": "closed",
    "withdraw": "withdrawn",
}


def _refusal(referral: Referral, action: str) -> TransitionRefused:
    """Explain a refused action from the referral's current state."""
    current = Referral.objects.select_related("status_changed_by").get(pk=referral.pk)
    status = current.get_status_display().lower()
    if current.status == TRANSITIONS[action][1]:
        who = current.status_changed_by or "another user"
        when = uk_when(current.status_changed_at)
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


@transaction.atomic
def accept_referral(*, referral: Referral, user: User, note: str = "") -> Referral:
    return _transition(referral=referral, user=user, action="accept", note=note)


@transaction.atomic
def decline_referral(*, referral: Referral, user: User, reason: str) -> Referral:
    reason = reason.strip()
    if not reason:
        raise TransitionRefused("Say why the referral is declined.")
    return _transition(referral=referral, user=user, action="decline", note=reason, decline_reason=reason)


@transaction.atomic
def redirect_referral(
    *, referral: Referral, user: User, service: Service, team: Team | None = None, note: str = ""
) -> Referral:
    """Close this referral as redirected and open one to the other service, linked to it,
    so both timelines keep the whole history. Not to a partner service: what the referral
    says was written for a clinical service (refer the person on from their page)."""
    if service.is_partner:
        raise TransitionRefused(f"Refer on to {service} from the person's page, not by redirecting.")
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
        person_as_sent=referral.person_as_sent,
        identity_to_confirm=referral.identity_to_confirm,
        **{name: getattr(referral, name) for name in (*REFERRAL_DETAILS, *REFERRER_FIELDS)},
    )
    referral_received.send(sender=Referral, referral=redirected)
    ReferralEvent.objects.create(
        referral=redirected,
        kind=ReferralEvent.Kind.REDIRECTED_IN,
        at=now,
        user=user,
        note=f"From {referral.team or referral.service} ({referral.reference}). {note}".strip(),
    )
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


ACTIONS = ("accept", "decline", "redirect", "start", "close")


@transaction.atomic
def act_on_referral(*, referral: Referral, user: User, action: str, **fields) -> Referral:
    """What the page's buttons and the API's operations do: one of ACTIONS, by the
    receiving side, audited with the change. A team's referral is accepted onto the
    caseload (with a key worker, `teams.services.accept_onto_caseload`), and once its
    work is on the caseload it is started and closed there (by contacts and discharge),
    so the caseload entry never outlives its referral; Recovery at Home's short-term care
    likewise closes its referral at its own discharge."""
    check_receiver(referral=referral, user=user)
    if action == "accept" and referral.team_id is not None:
        raise TransitionRefused(
            "Accept a team's referral onto the caseload, with a key worker "
            f"(the team's accept page, or POST /api/teams/referrals/{referral.reference}/accept/)."
        )
    if (
        action in ("start", "close")
        and Referral.objects.filter(pk=referral.pk, caseload_entry__isnull=False).exists()
    ):
        raise TransitionRefused(
            "This referral's work is on the caseload: record contacts or discharge there."
        )
    if (
        action == "close"
        and Referral.objects.filter(pk=referral.pk, episode__care__discharged_at__isnull=True)
        .exclude(episode__care=None)
        .exists()
    ):
        raise TransitionRefused(
            "This person is in short-term care: its review and discharge closes the referral."
        )
    perform = {
        "accept": accept_referral,
        "decline": decline_referral,
        "redirect": redirect_referral,
        "start": start_referral,
        "close": close_referral,
    }[action]
    result = perform(referral=referral, user=user, **fields)
    record_event(action=AuditAction.UPDATE, user=user, patient=referral.patient, obj=referral, detail=action)
    return result


@transaction.atomic
def add_note(*, referral: Referral, user: User, note: str) -> ReferralEvent:
    note = note.strip()
    if not note:
        raise TransitionRefused("The note is empty.")
    event = ReferralEvent.objects.create(
        referral=referral, kind=ReferralEvent.Kind.NOTE, user=user, note=note
    )
    record_event(action=AuditAction.UPDATE, user=user, patient=referral.patient, obj=referral, detail="note")
    return event


def record_viewed_by_receiver(*, referral: Referral, user: User) -> bool:
    """The first time the receiving team opens a new referral goes on the timeline."""
    if referral.status != Status.RECEIVED:
        return False
    if referral.events.filter(kind=ReferralEvent.Kind.VIEWED).exists():
        return False
    ReferralEvent.objects.create(referral=referral, kind=ReferralEvent.Kind.VIEWED, user=user)
    return True


# --- The sending side: withdraw or correct a referral not yet taken on ------------------

# What a referrer may correct: the need as they described it (not who it is about, where
# it came from or the consent to refer, which would make it another referral).
CORRECTABLE = tuple(name for name in REFERRAL_DETAILS if name not in ("source", "consent_to_referral"))


class NotTheReferrer(PermissionDenied):
    """Only the sending side withdraws or corrects a referral."""


def may_change_as_referrer(*, user: User, referral: Referral) -> bool:
    """The user who sent it (a GP, or a sending system's account), or a referrer at the
    practice it was sent from."""
    if referral.referred_by_id == user.pk:
        return True
    return (
        referral.referring_practice_id is not None
        and user.has_role(Role.REFERRER)
        and user.practices.filter(pk=referral.referring_practice_id).exists()
    )


def _check_referrer(*, referral: Referral, user: User) -> None:
    if not may_change_as_referrer(user=user, referral=referral):
        raise NotTheReferrer("Only the referrer can withdraw or correct a referral.")


@transaction.atomic
def withdraw_referral(*, referral: Referral, user: User, reason: str) -> Referral:
    """The referrer no longer needs it (the person went to hospital, another plan was
    made): only while nobody has accepted it; the receiving service sees it leave its
    inbox with the reason."""
    _check_referrer(referral=referral, user=user)
    reason = reason.strip()
    if not reason:
        raise TransitionRefused("Say why the referral is withdrawn.")
    referral = _transition(
        referral=referral, user=user, action="withdraw", note=reason, withdrawal_reason=reason
    )
    record_event(
        action=AuditAction.UPDATE, user=user, patient=referral.patient, obj=referral, detail="withdraw"
    )
    return referral


def _shown(name: str, value) -> str:
    """A detail's value as the "Corrected" line says it."""
    if name == "reason":
        return Reason(value).label
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "(empty)" if value == "" else str(value) if len(str(value)) <= 60 else "changed"


@transaction.atomic
def correct_referral(*, referral: Referral, user: User, **changes) -> Referral:
    """The referrer corrects what they sent, while nobody has accepted it. The version it
    replaces is kept, and the timeline says which details changed, so the receiving
    service sees what it is now reading differently."""
    _check_referrer(referral=referral, user=user)
    unknown = set(changes) - set(CORRECTABLE)
    if unknown:
        raise TransitionRefused(f"These cannot be corrected: {', '.join(sorted(unknown))}.")
    locked = Referral.objects.select_for_update().select_related("service").get(pk=referral.pk)
    if locked.status == Status.WITHDRAWN:
        raise TransitionRefused("This referral was withdrawn: it cannot be corrected; make a new referral.")
    if locked.status != Status.RECEIVED:
        raise TransitionRefused(
            f"A referral that is {locked.get_status_display().lower()} cannot be corrected: "
            f"contact {locked.team or locked.service}."
        )
    before = {name: getattr(locked, name) for name in CORRECTABLE}
    after = {**before, **changes}
    after["reason_other"] = after["reason_other"].strip() if after["reason"] == Reason.OTHER else ""
    if problems := reason_problems(
        reason=after["reason"], reason_other=after["reason_other"], service=locked.service
    ):
        raise TransitionRefused(" ".join(problems.values()))
    changed = [name for name in CORRECTABLE if after[name] != before[name]]
    if not changed:
        raise TransitionRefused("Nothing was changed.")
    number = locked.versions.count() + 1
    ReferralVersion.objects.create(referral=locked, number=number, details=before, replaced_by=user)
    Referral.objects.filter(pk=locked.pk).update(**{name: after[name] for name in changed})
    labels = {name: Referral._meta.get_field(name).verbose_name for name in changed}
    ReferralEvent.objects.create(
        referral=locked,
        kind=ReferralEvent.Kind.CORRECTED,
        user=user,
        note="Changed: "
        + "; ".join(
            f"{labels[name]} ({_shown(name, before[name])} → {_shown(name, after[name])})"
            if name not in ("clinical_summary", "reason_other")
            else labels[name]
            for name in changed
        )
        + f". Version {number} kept.",
    )
    record_event(
        action=AuditAction.UPDATE,
        user=user,
        patient=locked.patient,
        obj=locked,
        detail=f"corrected: {', '.join(changed)}",
    )
    referral.refresh_from_db()
    return referral
