"""Merging two records of one person.

Everything that points at the duplicate (referrals, caseload entries, MDT flags, and
whatever later apps add) moves to the kept record in one transaction. The duplicate stays
as a tombstone pointing at the kept record, because the audit trail, which PostgreSQL
will not let anyone rewrite, names the record that was seen at the time.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from closed_loop.models import ContactConsent
from core.models import AuditEvent, Patient, User
from mdt.models import MdtFlag
from teams.models import CaseloadEntry

# Filled in on the kept record when it has no value of its own.
DEMOGRAPHICS = (
    "date_of_birth",
    "address",
    "postcode",
    "phone",
    "practice",
    "care_home",
    "carer_name",
    "carer_relationship",
    "carer_phone",
    "gender",
    "next_of_kin_name",
    "next_of_kin_relationship",
    "next_of_kin_phone",
    "communication_needs",
    "interpreter_needed",
    "preferred_language",
    "key_safety_information",
)


class MergeRefused(Exception):
    """The two records cannot be merged; the message says why."""


@dataclass
class MergeResult:
    kept: Patient
    moved: dict[str, int]  # what moved, per kind of record


def _relations_to_move():
    """Every one-to-many relation to a patient but the audit trail and the tombstones."""
    for relation in Patient._meta.related_objects:
        if relation.one_to_many and relation.related_model not in (AuditEvent, Patient):
            yield relation


def _refuse_clashes(keep: Patient, duplicate: Patient) -> None:
    if keep.pk == duplicate.pk:
        raise MergeRefused("Choose two different records.")
    if keep.merged_into_id or duplicate.merged_into_id:
        raise MergeRefused("One of these records was already merged into another.")
    if keep.nhs_number and duplicate.nhs_number and keep.nhs_number != duplicate.nhs_number:
        raise MergeRefused("The records have different NHS numbers: they are two people.")

    clash = (
        CaseloadEntry.objects.filter(patient__in=[keep, duplicate], closed_at__isnull=True)
        .values("team__name")
        .annotate(entries=Count("pk"))
        .filter(entries__gt=1)
        .order_by("team__name")
        .first()
    )
    if clash:
        raise MergeRefused(
            f"Both records are open on the caseload of {clash['team__name']}: discharge one entry first."
        )


@transaction.atomic
def merge_patients(*, keep: Patient, duplicate: Patient, user: User) -> MergeResult:
    locked = {p.pk: p for p in Patient.objects.select_for_update().filter(pk__in=[keep.pk, duplicate.pk])}
    keep, duplicate = locked[keep.pk], locked[duplicate.pk]
    _refuse_clashes(keep, duplicate)

    if MdtFlag.objects.filter(patient=keep, cleared_at__isnull=True).exists():
        MdtFlag.objects.filter(patient=duplicate, cleared_at__isnull=True).update(
            cleared_at=timezone.now(), cleared_by=user, cleared_note=f"Record merged into #{keep.pk}."
        )

    # One consent to messages a person (not a one-to-many relation, so moved here): the one
    # recorded last stands, on the record kept.
    consents = ContactConsent.objects.filter(patient__in=[keep, duplicate]).order_by("-recorded_at")
    for older in list(consents)[1:]:
        older.delete()
    ContactConsent.objects.filter(patient=duplicate).update(patient=keep)

    moved = {}
    for relation in _relations_to_move():
        try:
            with transaction.atomic():
                count = relation.related_model._base_manager.filter(
                    **{relation.field.name: duplicate}
                ).update(**{relation.field.name: keep})
        except IntegrityError:  # e.g. both records in a bed at once: one of them must end first
            what = relation.related_model._meta.verbose_name_plural
            raise MergeRefused(
                f"Both records have open {what}, which one person can only have once."
            ) from None
        if count:
            moved[relation.related_model._meta.verbose_name_plural] = count

    nhs_number = duplicate.nhs_number
    changed = [field for field in DEMOGRAPHICS if not getattr(keep, field) and getattr(duplicate, field)]
    Patient.objects.filter(pk=duplicate.pk).update(
        nhs_number=None, merged_into=keep, merged_at=timezone.now(), updated_at=timezone.now()
    )
    for field in changed:
        setattr(keep, field, getattr(duplicate, field))
    if nhs_number and not keep.nhs_number:
        keep.nhs_number = nhs_number
        changed.append("nhs_number")
    if duplicate.lives_alone and not keep.lives_alone:
        keep.lives_alone = True
        changed.append("lives_alone")
    keep.save()
    return MergeResult(kept=keep, moved=moved)


def duplicate_candidates() -> list[list[Patient]]:
    """Records that look like one person: the same name and date of birth (an NHS number
    typed late on one of them is the usual cause). Groups of two or more, oldest first."""
    twins = (
        Patient.objects.filter(merged_into__isnull=True, date_of_birth__isnull=False)
        .annotate(given=Lower("given_name"), family=Lower("family_name"))
        .values("given", "family", "date_of_birth")
        .annotate(records=Count("pk"))
        .filter(records__gt=1)
    )
    if not twins:
        return []
    match = Q(pk__in=[])
    for twin in twins:
        match |= Q(
            given_name__iexact=twin["given"],
            family_name__iexact=twin["family"],
            date_of_birth=twin["date_of_birth"],
        )
    groups: dict[tuple, list[Patient]] = {}
    records: QuerySet[Patient] = (
        Patient.objects.filter(match, merged_into__isnull=True)
        .select_related("practice")
        .annotate(referral_count=Count("referrals", distinct=True))
        .order_by(Lower("family_name"), Lower("given_name"), "date_of_birth", "created_at", "pk")
    )
    for patient in records:
        key = (patient.given_name.lower(), patient.family_name.lower(), patient.date_of_birth)
        groups.setdefault(key, []).append(patient)
    return list(groups.values())
