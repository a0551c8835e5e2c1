"""Who holds a job that only one process may do at a time (the beat schedulers' lead)."""

from __future__ import annotations

from django.db import models


class Lease(models.Model):
    name = models.CharField(max_length=40, primary_key=True)
    holder = models.CharField(max_length=200, help_text="host:pid of the process that holds it.")
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name}: {self.holder} until {self.expires_at:%H:%M:%S}"
