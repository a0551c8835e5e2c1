"""Bounds shared by forms, the API and models."""

from __future__ import annotations

from django.core.exceptions import ValidationError

ERA = (1900, 2100)


def validate_in_era(value) -> None:
    """Dates people type are of this era: a year like 0202 or 20266 is a slip of the finger."""
    if not ERA[0] <= value.year <= ERA[1]:
        raise ValidationError(
            "Check the year: choose a date between %(first)s and %(last)s.",
            code="date_out_of_era",
            params={"first": ERA[0], "last": ERA[1]},
        )
