"""NHS numbers: accept what people type, store ten digits, refuse what cannot be one.

The check itself is the `nhs-number` package's (Modulus 11); this module only turns
its yes/no into a message that tells the person what is wrong.
"""

from __future__ import annotations

import re
import unicodedata

import nhs_number
from django.core.exceptions import ValidationError

ASCII_DIGITS = re.compile(r"[0-9]+")


def fold_digits(text: str) -> str:
    """Other scripts' digits as ASCII ('９４３' and Arabic-Indic '٩٤٣' become '943'), so
    a number typed on another keyboard is the same number. Only decimal digits fold:
    superscripts, fractions and circled numbers stay as they are, and are not digits."""
    return "".join(
        str(unicodedata.decimal(ch)) if not ch.isascii() and unicodedata.category(ch) == "Nd" else ch
        for ch in text
    )


def is_separator(ch: str) -> bool:
    """A space or dash of any script (a pasted number may carry a no-break space)."""
    return ch.isspace() or unicodedata.category(ch) == "Pd"


def nhs_number_digits(text: str) -> str:
    """The ASCII digits of what was typed, separators removed; anything else kept, so the
    result is all ASCII digits only if the typing was a number."""
    return "".join(ch for ch in fold_digits(str(text)) if not is_separator(ch))


def nhs_number_prefix(query: str) -> str | None:
    """The ASCII digits of a search that is (the start of) an NHS number, else None."""
    digits = nhs_number_digits(query)
    return digits if ASCII_DIGITS.fullmatch(digits) else None


def normalise_nhs_number(value: str) -> str:
    """Return the ten ASCII digits of a typed NHS number, or raise ValidationError. Every
    door (forms, the API, FHIR, searches) reads NHS numbers through this."""
    digits = nhs_number_digits(value)
    if not ASCII_DIGITS.fullmatch(digits):
        raise ValidationError(
            "An NHS number has only digits; spaces or dashes between them are fine.",
            code="nhs_number_not_digits",
        )
    if len(digits) != 10:
        raise ValidationError(
            "An NHS number has 10 digits; this has %(count)d.",
            code="nhs_number_length",
            params={"count": len(digits)},
        )
    if not nhs_number.is_valid(nhs_number.standardise_format(digits)):
        raise ValidationError(
            "This is not a valid NHS number: its check digit does not match. "
            "Please check it against the patient's record.",
            code="nhs_number_check_digit",
        )
    return digits


def validate_nhs_number(value: str) -> None:
    """Model validator: the stored value must already be ten valid digits."""
    if normalise_nhs_number(value) != value:
        raise ValidationError("Store NHS numbers as ten digits.", code="nhs_number_format")


def format_nhs_number(digits: str) -> str:
    """'9434765919' -> '943 476 5919', the way NHS numbers are shown."""
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}" if digits else ""
