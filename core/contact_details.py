"""How to reach and talk with a person. UK postcodes and phone numbers are checked at
every door, kept in one form, shown in the national format and dialled from the tablet;
phone numbers follow Google's libphonenumber (the `phonenumbers` package), so a number is
one some network would connect. An interpreter is booked for a language."""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError

# The Royal Mail's shapes (outward code, a space, inward code), as the NHS's own
# Data Dictionary writes them; "GIR 0AA" is the one the pattern cannot describe.
POSTCODE = re.compile(r"^(?:GIR 0AA|[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2})$")
POSTCODE_MESSAGE = "Enter a UK postcode, like SR1 3AB."
PHONE_MESSAGE = "Enter a phone number, like 0191 498 0123 (start one from outside the UK with its + code)."


def uk_postcode(value: str) -> str:
    """ "sr13ab", "SR1  3AB" → "SR1 3AB"; anything else is refused."""
    squeezed = "".join(value.split()).upper()
    postcode = f"{squeezed[:-3]} {squeezed[-3:]}" if len(squeezed) > 3 else squeezed
    if not POSTCODE.match(postcode):
        raise ValidationError(POSTCODE_MESSAGE, code="postcode")
    return postcode


def _parsed(value: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def uk_phone(value: str) -> str:
    """A number as the UK writes it ("0191 498 0123"), or in the international format for
    one abroad ("+33 1 42 68 53 00"); words, short codes and impossible numbers are refused."""
    number = _parsed(value)
    if number is None:
        raise ValidationError(PHONE_MESSAGE, code="phone")
    national = number.country_code == 44
    return phonenumbers.format_number(
        number,
        phonenumbers.PhoneNumberFormat.NATIONAL if national else phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    )


def tel_uri(value: str) -> str:
    """ "tel:+441914980123" for a number a tablet can dial; "" for anything else (a number
    stored before the check, or words)."""
    number = _parsed(value)
    if number is None:
        return ""
    return "tel:" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def interpreter_problem(*, interpreter_needed: bool, preferred_language: str) -> str | None:
    """An interpreter is booked for a language: the one detail that makes the need usable."""
    if interpreter_needed and not preferred_language.strip():
        return "Say which language the interpreter is for."
    return None


def phone_or_none(value: str) -> str | None:
    """The number as `uk_phone` keeps it, or None when it is not a phone number (a search)."""
    try:
        return uk_phone(value)
    except ValidationError:
        return None
