from __future__ import annotations

from django import template

from core import uk_time

register = template.Library()


@register.filter
def uk_when(moment) -> str:
    """A time with its date unless it is today (`core.uk_time.uk_when`)."""
    return uk_time.uk_when(moment)


@register.filter
def spoken(length) -> str:
    """A timedelta as a person says it (`core.uk_time.spoken_duration`); empty for none."""
    return uk_time.spoken_duration(length) if length else ""
