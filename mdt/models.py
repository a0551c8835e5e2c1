"""Multi-disciplinary team meetings. Flags arrive first: any team may ask for a person to
be discussed at their practice's next MDT."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from atb.models import Patient, Team


class MdtFlag(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="mdt_flags")
    reason = models.CharField(max_length=500)
    flagged_at = models.DateTimeField(default=timezone.now)
    flagged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The flagger's team.",
    )
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cleared_note = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = "MDT flag"
        ordering = ["-flagged_at", "-id"]
        constraints = [
            # One open flag per person: a second request adds nothing the first didn't say.
            models.UniqueConstraint(
                fields=["patient"], condition=Q(cleared_at__isnull=True), name="mdtflag_one_open_per_patient"
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient} flagged for MDT"
