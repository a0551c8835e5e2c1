"""MDT business rules shared by the pages of every team."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format

from atb.models import Patient, Team, User
from mdt.models import MdtFlag
from teams.models import CaseloadEntry, CaseloadEvent


class FlagRefused(Exception):
    """The person is already flagged; the message says by whom and why."""


def open_flag(*, patient: Patient) -> MdtFlag | None:
    return (
        MdtFlag.objects.filter(patient=patient, cleared_at__isnull=True).select_related("flagged_by").first()
    )


def flag_for_mdt(*, patient: Patient, user: User, reason: str, team: Team | None = None) -> MdtFlag:
    """Ask for the person to be discussed at their practice's next MDT. One open flag per
    person (a database constraint): a second asks nothing new and is refused with the first."""
    reason = reason.strip()
    if not reason:
        raise FlagRefused("Say why the person should be discussed.")
    try:
        with transaction.atomic():
            flag = MdtFlag.objects.create(patient=patient, reason=reason, flagged_by=user, team=team)
            CaseloadEvent.objects.bulk_create(
                CaseloadEvent(entry=entry, kind=CaseloadEvent.Kind.FLAGGED, user=user, note=reason)
                for entry in CaseloadEntry.objects.filter(patient=patient, closed_at__isnull=True)
            )
            return flag
    except IntegrityError:
        existing = open_flag(patient=patient)
        when = date_format(timezone.localtime(existing.flagged_at), "j M Y") if existing else "just now"
        who = existing.flagged_by if existing else "a colleague"
        raise FlagRefused(f"Already flagged for the MDT by {who} on {when}.") from None
