"""What a partner's staff see: the referrals to their services, each at its minimum.

The page is given a `PartnerReferral`, never the records behind it, so nothing beyond
the minimum can reach a template: who the person is, how to reach them safely, what is
asked and by whom, and the partner's own work. Not the NHS number, not the clinical
summary of any other referral, not the person's other referrals or their record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Prefetch, QuerySet

from core.access import partner_referral_scope
from core.models import CaringRelationship, Patient, User
from core.models.patients import age_today
from partners.models import PartnerWork, Wellbeing
from referrals.models import OPEN_STATUSES, Referral, ReferralEvent
from referrals.selectors import refusal_of

# The person's details a partner needs to make contact and visit safely.
MINIMUM_PERSON = (
    "given_name",
    "family_name",
    "date_of_birth",
    "address",
    "postcode",
    "phone",
    "communication_needs",
    "interpreter_needed",
    "preferred_language",
    "key_safety_information",
)
# The lines of the referral's timeline that are the partner's own business.
PARTNER_EVENTS = (
    ReferralEvent.Kind.SUBMITTED,
    ReferralEvent.Kind.ACCEPTED,
    ReferralEvent.Kind.DECLINED,
    ReferralEvent.Kind.STARTED,
    ReferralEvent.Kind.SUPPORT_OFFERED,
    ReferralEvent.Kind.WELLBEING,
    ReferralEvent.Kind.CLOSED,
    ReferralEvent.Kind.WITHDRAWN,
    ReferralEvent.Kind.CORRECTED,
)


@dataclass(frozen=True)
class Person:
    given_name: str
    family_name: str
    date_of_birth: date | None  # for the age: the page shows no date of birth
    address: str
    postcode: str
    phone: str
    communication_needs: str
    interpreter_needed: bool
    preferred_language: str
    key_safety_information: str
    cares_for: list[str]  # "mother", for a carer: the relationship, not who

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def age(self) -> int | None:
        return age_today(self.date_of_birth)


@dataclass(frozen=True)
class PartnerReferral:
    pk: int
    patient_id: int  # for the audit trail, never shown
    reference: str
    service: str
    social_prescribing: bool  # the service records wellbeing before and after
    status: str
    status_label: str
    received_at: datetime
    reason: str
    note: str
    referrer: str
    referrer_phone: str
    outcome: str
    person: Person
    work: PartnerWork | None
    wellbeing: list[Wellbeing]
    events: list[ReferralEvent]


def partner_inbox(*, user: User, show: str = "open") -> QuerySet[Referral]:
    """The referrals to the user's partner services, newest first: open ones, or all."""
    referrals = Referral.objects.filter(partner_referral_scope(user=user))
    if show != "all":
        referrals = referrals.filter(status__in=OPEN_STATUSES)
    return (
        referrals.select_related("service")
        .only("reference", "status", "received_at", "reason", "reason_other", "service__name", "patient_id")
        .prefetch_related(Prefetch("patient", queryset=Patient.objects.only(*MINIMUM_PERSON)))
        .order_by("-received_at", "-id")
    )


# Once a referral is no longer open, the partner has no need to reach the person: their
# address, phone and what visitors must know are not shown (the record may have changed).
CONTACT = ("address", "postcode", "phone", "key_safety_information")


def _person(patient: Patient, *, still_open: bool) -> Person:
    cares_for = [link.relationship for link in patient.cares_for.all()]
    shown = {name: getattr(patient, name) for name in MINIMUM_PERSON}
    if not still_open:
        shown.update({name: "" for name in CONTACT})
    return Person(**shown, cares_for=cares_for)


def partner_referral(*, user: User, reference: str) -> PartnerReferral:
    """The referral at its minimum, if it was sent to the user's partner service; else a
    refusal (404, audited)."""
    referral = (
        Referral.objects.filter(partner_referral_scope(user=user), reference=reference)
        .select_related("service", "patient")
        .prefetch_related(
            Prefetch(
                "patient__cares_for", queryset=CaringRelationship.objects.only("relationship", "carer_id")
            ),
            Prefetch(
                "events",
                queryset=ReferralEvent.objects.filter(kind__in=PARTNER_EVENTS).select_related("user"),
            ),
        )
        .first()
    )
    if referral is None:
        raise refusal_of(reference=reference)
    work = (
        PartnerWork.objects.filter(referral=referral).prefetch_related("needs", "support", "outcomes").first()
    )
    return PartnerReferral(
        pk=referral.pk,
        patient_id=referral.patient_id,
        reference=referral.reference,
        service=referral.service.name,
        social_prescribing=referral.service.social_prescribing,
        status=referral.status,
        status_label=referral.get_status_display(),
        received_at=referral.received_at,
        reason=referral.reason_shown,
        note=referral.clinical_summary,
        referrer=", ".join(part for part in (referral.referrer_name, referral.referrer_role) if part),
        referrer_phone=referral.referrer_phone,
        outcome=referral.outcome,
        person=_person(referral.patient, still_open=referral.is_open),
        work=work,
        wellbeing=list(work.wellbeing.all()) if work else [],
        events=list(referral.events.all()),
    )
