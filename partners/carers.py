"""Carers: people of their own, with a record, linked to the people they care for.

Who may see a carer's referrals through the person they care for is this module's rule:
the person's care team (whoever may open the person) sees the carer's referrals to
partner services and their outcomes, when the carer agreed to share them."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Prefetch

from core.access import PARTNER_REFERRING_ROLES, patient_scope
from core.audit import record_event
from core.models import AuditAction, CaringRelationship, Patient, Service, User
from referrals.models import Reason, Referral


class CarerRefused(Exception):
    """The carer cannot be linked as asked; the message says why."""


def carers_centre() -> Service | None:
    """The partner service that takes carers' assessments (the Carers Centre)."""
    return (
        Service.objects.filter(kind=Service.Kind.PARTNER, default_reason=Reason.CARERS_ASSESSMENT)
        .order_by("pk")
        .first()
    )


def needs_carer_support(referral: Referral) -> bool:
    """A referral saying the carer is breaking down: the Carers Centre is offered at once."""
    return referral.reason == Reason.CARER_BREAKDOWN or referral.carer_breakdown


@transaction.atomic
def add_carer(
    *,
    cared_for: Patient,
    user: User,
    given_name: str,
    family_name: str,
    relationship: str,
    phone: str = "",
    address: str = "",
    postcode: str = "",
    main_carer: bool = True,
    consent_to_share: bool = False,
) -> CaringRelationship:
    """Register the carer as a person and link them. A main carer also becomes the
    person's record's main carer, so every page naming the carer names them. Only someone
    who works with the person (and may refer on) adds their carer."""
    if not user.has_role(*PARTNER_REFERRING_ROLES) or known_through(person=cared_for, user=user) is None:
        raise CarerRefused("You can add the carer only of someone you work with.")
    # The person locked: two main carers added at once, the second is told.
    Patient.objects.select_for_update().filter(pk=cared_for.pk).first()
    if len(f"{given_name} {family_name}") > Patient._meta.get_field("carer_name").max_length:
        raise CarerRefused("The carer's name is too long to record.")
    carer = Patient.objects.create(
        given_name=given_name,
        family_name=family_name,
        phone=phone,
        address=address or (cared_for.address if _lives_with(relationship) else ""),
        postcode=postcode or (cared_for.postcode if _lives_with(relationship) else ""),
    )
    if main_carer:  # the new main carer takes over from the last
        CaringRelationship.objects.filter(cared_for=cared_for, main_carer=True).update(main_carer=False)
    link = CaringRelationship.objects.create(
        carer=carer,
        cared_for=cared_for,
        relationship=relationship,
        main_carer=main_carer,
        consent_to_share=consent_to_share,
        recorded_by=user,
    )
    if main_carer:
        cared_for.carer_name, cared_for.carer_relationship = carer.full_name, relationship
        cared_for.carer_phone = phone
        cared_for.save(update_fields=["carer_name", "carer_relationship", "carer_phone", "updated_at"])
    record_event(
        action=AuditAction.CREATE,
        user=user,
        patient=carer,
        obj=link,
        detail=f"carer of patient {cared_for.pk}",
    )
    record_event(action=AuditAction.UPDATE, user=user, patient=cared_for, obj=link, detail="carer linked")
    return link


def _lives_with(relationship: str) -> bool:
    # Only a spouse or partner is taken to share the address; anyone else gives their own.
    return relationship.strip().lower() in {"wife", "husband", "partner", "spouse", "civil partner"}


@dataclass(frozen=True)
class CarerRow:
    link: CaringRelationship
    referrals: list[Referral]  # empty when the carer has not agreed to share


def carers_of(*, patient: Patient) -> list[CarerRow]:
    """The person's carers, each with their referrals to partner services (as the carer
    agreed): two queries whatever the number."""
    partner_referrals = Referral.objects.filter(service__kind=Service.Kind.PARTNER).select_related(
        "service", "partner_work"
    )
    links = (
        CaringRelationship.objects.filter(cared_for=patient)
        .select_related("carer")
        .prefetch_related(Prefetch("carer__referrals", queryset=partner_referrals))
    )
    return [
        CarerRow(link=link, referrals=list(link.carer.referrals.all()) if link.consent_to_share else [])
        for link in links
    ]


def known_through(*, person: Patient, user: User) -> Patient | None:
    """The person whose record the user may open through whom they know `person`: the
    person themselves, or someone they care for. None: the user does not know them."""
    visible = Patient.objects.filter(patient_scope(user=user))
    if visible.filter(pk=person.pk).exists():
        return person
    return visible.filter(carers__carer=person).order_by("pk").first()


def may_refer_on(*, user: User, person: Patient) -> bool:
    """Whether the user may refer this person on to a partner: someone whose record they
    may open, or the carer of such a person."""
    return known_through(person=person, user=user) is not None
