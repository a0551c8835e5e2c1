"""Emergency ("break-glass") access to a record outside one's relationship."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.models.patients import Patient


class BreakGlassReason(models.TextChoices):
    URGENT_CARE = "urgent_care", "Urgent care: I am treating or about to treat this person"
    COVERING = "covering", "Covering for a colleague or another team"
    SAFEGUARDING = "safeguarding", "Safeguarding concern"
    OTHER = "other", "Other (explain below)"


class BreakGlassAccess(models.Model):
    """One user's emergency access to one patient, for one signed-in session only.

    The grant is tied to the session key: signing out, the idle timeout or the 12-hour
    limit all end the session, and a new session never matches an old grant.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="break_glass")
    reason = models.CharField(max_length=20, choices=BreakGlassReason.choices)
    explanation = models.CharField(max_length=500)
    session_key = models.CharField(max_length=40)
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(help_text="The session's absolute limit; earlier if it ends first.")
    ended_at = models.DateTimeField(null=True, blank=True, help_text="When the user signed out.")

    class Meta:
        ordering = ["-granted_at", "-id"]
        verbose_name = "break-glass access"
        verbose_name_plural = "break-glass accesses"
        indexes = [
            models.Index(fields=["user", "patient", "session_key"], name="breakglass_lookup_idx"),
            models.Index(fields=["-granted_at"], name="breakglass_granted_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → patient {self.patient_id} ({self.get_reason_display()})"

    @property
    def reason_text(self) -> str:
        return f"{self.get_reason_display()}: {self.explanation}"
