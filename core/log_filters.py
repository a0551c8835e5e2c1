"""Filters for the portal's log: what an operator reading it at 3 a.m. needs, once."""

from __future__ import annotations

import logging


class RefusalWithoutTraceback(logging.Filter):
    """A refused request (403) is the portal working as designed, and it is already in
    the audit trail with who, what and from where: Django's one-line warning says so, the
    traceback of the `PermissionDenied` that produced it would only bury real errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
