"""NHS numbers: accept what people type, store ten digits, refuse what cannot be one.

The check itself is the `nhs-number` package's (Modulus 11); this module only turns
its yes/no into a message that tells the person what is wrong.
"""

from __future__ import annotations

import re

import nhs_number
from django.core.exceptions import ValidationError

SEPARATORS = re.compile(r"[\s-]+")


def normalise_nhs_number(value: str) -> str:
    """Return the ten digits of a typed NHS number, or raise ValidationError."""
    typed = str(value).strip()
    digits = nhs_number.standardise_format(typed) or SEPARATORS.sub("", typed)
    if not digits.isdigit():
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
    if not nhs_number.is_valid(digits):
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
