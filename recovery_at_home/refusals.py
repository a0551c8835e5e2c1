"""What Recovery at Home's actions refuse with: the clock's (`services`) and the care's
(`care`) alike, so that pages and the API answer every refusal one way."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied


class ClockRefused(Exception):
    """The change cannot be made; the message says why, and `field` names the form field
    it is about (the page shows it beside that field), if one."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotYoursToDo(PermissionDenied):
    """The user's role does not include this action on the clock."""
