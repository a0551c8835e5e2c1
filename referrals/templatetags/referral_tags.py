from __future__ import annotations

from django import template

from referrals.models import ReferralEvent

register = template.Library()


@register.filter
def event_label(kind: str | None) -> str:
    """'redirected_in' -> 'Received by redirection' (lists annotate only the kind)."""
    if not kind:
        return ""
    try:
        return ReferralEvent.Kind(kind).label
    except ValueError:
        return kind
