"""The append-only audit trail of who saw or changed what.

PostgreSQL itself refuses UPDATE and DELETE on this table (a pgtrigger trigger), so
not even a bulk `queryset.update()` or raw SQL can rewrite history.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models

from core.models.patients import Patient


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed"
    LIST = "list", "Listed"
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    REFUSED = "refused", "Access refused"
    SIGN_IN = "sign_in", "Signed in"
    SIGN_OUT = "sign_out", "Signed out"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    MERGE = "merge", "Records merged"
    BREAK_GLASS = "break_glass", "Emergency access (break-glass)"
    SECOND_FACTOR_FAILED = "otp_failed", "Second factor failed"


# How a record opened under emergency access is recorded: "break-glass: <the reason>".
EMERGENCY_VIEW = "break-glass: "


class AuditEvent(models.Model):
    at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    username = models.CharField(max_length=150, blank=True, help_text="As typed, for failed sign-ins.")
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=500, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # "Who looked at my record": a patient's access log, newest first.
            models.Index(fields=["patient", "-at"], name="audit_patient_at_idx"),
            # An administrator's search by user.
            models.Index(fields=["user", "-at"], name="audit_user_at_idx"),
            models.Index(fields=["-at"], name="audit_at_idx"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="audit_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            )
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.get_action_display()}"

    @property
    def under_emergency_access(self) -> bool:
        """Emergency access granted, or a record opened under it (not a report about them)."""
        return self.action == AuditAction.BREAK_GLASS or self.detail.startswith(EMERGENCY_VIEW)
