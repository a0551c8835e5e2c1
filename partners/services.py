"""The partner's side of a referral: referring on, and recording what was offered, the
person's wellbeing and the outcome. Pages call these; each checks who acts, writes the
timeline and the audit trail in the same transaction."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from core.access import PARTNER_REFERRING_ROLES
from core.audit import record_event
from core.models import AuditAction, Patient, Role, Service, User
from partners import carers
from partners.models import ONS4_FIELDS, PartnerWork, Term, Wellbeing
from referrals import services as referral_services
from referrals.identity import SentPerson
from referrals.models import OPEN_STATUSES, Referral, ReferralEvent, Source, Status


class PartnerRefused(Exception):
    """Not allowed, or not now; the message says why."""


SOURCE_FOR_ROLE = [
    (Role.CIT_MEMBER, Source.COMMUNITY_NURSING),
    (Role.RAH_COORDINATOR, Source.RECOVERY_AT_HOME),
    (Role.RAH_RESPONDER, Source.RECOVERY_AT_HOME),
    (Role.REFERRER, Source.GP),
]


def _source_of(user: User) -> str:
    return next(
        (source for role, source in SOURCE_FOR_ROLE if user.has_role(role)), Source.OTHER_PROFESSIONAL
    )


@transaction.atomic
def refer_to_partner(
    *,
    person: Patient,
    service: Service,
    user: User,
    reason: str,
    reason_other: str = "",
    note: str = "",
    consent_to_referral: bool,
) -> Referral:
    """Refer a person (or their carer) on to a partner service: a referral like any
    other, about the record the user holds, from the user."""
    if not user.has_role(*PARTNER_REFERRING_ROLES) or not carers.may_refer_on(user=user, person=person):
        raise PartnerRefused("You can refer on only the people you work with, and their carers.")
    if not service.is_partner:
        raise PartnerRefused(f"{service} is not a partner service: refer to it from the referral form.")
    if not consent_to_referral:
        raise PartnerRefused("Ask the person first: a partner referral needs their agreement.")
    # The person's row locked: of two sending at once (a double click, two colleagues),
    # the second finds the first's referral and is told.
    Patient.objects.select_for_update().filter(pk=person.pk).first()
    if open_one := Referral.objects.filter(patient=person, service=service, status__in=OPEN_STATUSES).first():
        raise PartnerRefused(
            f"{person.full_name} already has an open referral to {service}: {open_one.reference} "
            f"({open_one.get_status_display().lower()})."
        )
    return referral_services.submit_referral(
        person=SentPerson.of_record(person),
        of_record=person,
        service=service,
        team=None,
        referrer=referral_services.Referrer(
            user=user,
            practice=referral_services.referring_practice(user=user, candidate=person.practice),
            name=str(user),
            role=user.job_title or user.get_discipline_display(),
            phone=user.phone,
        ),
        source=_source_of(user),
        reason=reason,
        reason_other=reason_other,
        clinical_summary=note,
        consent_to_referral=True,
        consent_to_share=True,
        to_partner=True,
    )


def _open_work(*, referral: Referral, user: User) -> tuple[Referral, PartnerWork]:
    """The referral locked, and its partner record: only the partner's staff, and only
    once it is accepted and until it closes."""
    referral_services.check_receiver(referral=referral, user=user)
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    if locked.status not in (Status.ACCEPTED, Status.IN_PROGRESS):
        raise PartnerRefused(
            f"This referral is {locked.get_status_display().lower()}: "
            + ("accept it first." if locked.status == Status.RECEIVED else "it can no longer be changed.")
        )
    work, _ = PartnerWork.objects.get_or_create(referral=locked, defaults={"updated_by": user})
    return locked, work


def _terms(ids, kind: str) -> list[Term]:
    terms = list(Term.objects.filter(pk__in=[t.pk if isinstance(t, Term) else t for t in ids], list=kind))
    if len(terms) != len(set(ids)):
        raise PartnerRefused("Choose from the lists as they are now.")
    return terms


@transaction.atomic
def record_support(*, referral: Referral, user: User, needs, support, offered: str = "") -> PartnerWork:
    """What the person needs and what was offered; the first record starts the work."""
    locked, work = _open_work(referral=referral, user=user)
    work.needs.set(_terms(needs, Term.List.NEED))
    work.support.set(_terms(support, Term.List.SUPPORT))
    work.offered, work.updated_by, work.updated_at = offered.strip(), user, timezone.now()
    work.save()
    if locked.status == Status.ACCEPTED:
        referral_services.start_referral(referral=locked, user=user)
    labels = ", ".join(term.label for term in work.support.all()) or "none yet"
    ReferralEvent.objects.create(
        referral=locked, kind=ReferralEvent.Kind.SUPPORT_OFFERED, user=user, note=f"Support offered: {labels}"
    )
    record_event(
        action=AuditAction.UPDATE, user=user, patient=locked.patient, obj=work, detail="support offered"
    )
    return work


@transaction.atomic
def record_wellbeing(*, referral: Referral, user: User, when: str, **scores: int) -> Wellbeing:
    """The four wellbeing answers at the start or the end; asked again, the newer stands."""
    if not referral.service.social_prescribing:
        raise PartnerRefused(f"{referral.service} does not record wellbeing.")
    if when not in Wellbeing.When.values or set(scores) != set(ONS4_FIELDS):
        raise PartnerRefused("Give all four answers, at the start or at the end.")
    if any(not isinstance(value, int) or not 0 <= value <= 10 for value in scores.values()):
        raise PartnerRefused("Each answer is a whole number from 0 to 10.")
    locked, work = _open_work(referral=referral, user=user)
    wellbeing, _ = Wellbeing.objects.update_or_create(
        work=work, when=when, defaults={**scores, "recorded_by": user, "recorded_at": timezone.now()}
    )
    ReferralEvent.objects.create(
        referral=locked,
        kind=ReferralEvent.Kind.WELLBEING,
        user=user,
        note=f"Wellbeing {wellbeing.get_when_display().lower()} recorded",
    )
    record_event(
        action=AuditAction.UPDATE, user=user, patient=locked.patient, obj=wellbeing, detail="wellbeing"
    )
    return wellbeing


@transaction.atomic
def record_outcome(*, referral: Referral, user: User, outcomes, outcome: str) -> Referral:
    """The outcome, coded and in words, and the referral closed: the referrer is told
    (closed loop) and the person's care team sees it on their page."""
    locked, work = _open_work(referral=referral, user=user)
    chosen = _terms(outcomes, Term.List.OUTCOME)
    if not chosen:
        raise PartnerRefused("Choose at least one outcome.")
    work.outcomes.set(chosen)
    work.updated_by, work.updated_at = user, timezone.now()
    work.save()
    # The referral's outcome line, as the referrer and the person's team read it.
    shown = "; ".join(term.label for term in chosen) + (f". {outcome.strip()}" if outcome.strip() else "")
    closed = referral_services.close_referral(
        referral=locked, user=user, outcome=shown[: Referral._meta.get_field("outcome").max_length]
    )
    record_event(action=AuditAction.UPDATE, user=user, patient=locked.patient, obj=work, detail="outcome")
    return closed
