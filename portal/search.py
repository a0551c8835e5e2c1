"""Finding a person: the one search behind the page and the API, within the people the
user may see (`core.access`). It is the portal's, as it reads referrals as well as records."""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet

from core.contact_details import phone_or_none
from core.models import Patient, User
from core.nhs_numbers import nhs_number_prefix
from core.selectors import patients_visible_to
from referrals.models import Referral

REFERENCE = re.compile(r"ATB-\d{4}-\d{6}", re.IGNORECASE)


def search_patients(*, user: User, query: str) -> QuerySet[Patient]:
    """Visible patients matching a referral's reference, a phone number (theirs, their
    carer's, their next of kin's or a caller's about them), an NHS number (any spacing) or
    part of a name."""
    patients = patients_visible_to(user=user)
    query = query.strip()
    if not query:
        return patients
    if REFERENCE.fullmatch(query):
        return patients.filter(pk__in=Referral.objects.filter(reference=query.upper()).values("patient"))
    # An NHS number never starts with 0 or +; a phone number written nationally always does.
    if query.startswith(("0", "+")) and (number := phone_or_none(query)):
        by_phone = Q(phone=number) | Q(carer_phone=number) | Q(next_of_kin_phone=number)
        called_about = Referral.objects.filter(referrer_phone=number).values("patient")
        return patients.filter(by_phone | Q(pk__in=called_about))
    digits = nhs_number_prefix(query)
    if digits:
        return patients.filter(nhs_number__startswith=digits)
    # "SMITH, Marc" is how the portal writes a name (and NHS systems with it): a comma
    # separates words as a space does.
    for word in query.replace(",", " ").split():
        patients = patients.filter(Q(given_name__icontains=word) | Q(family_name__icontains=word))
    return patients
