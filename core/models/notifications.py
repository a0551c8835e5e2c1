"""The outbox: an email is a row first, sent by a worker, retried until it goes."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class OutboundEmail(models.Model):
    """At least once: a row is marked sent only after the send succeeded; its key stops
    the same message being queued twice."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to send"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (gave up)"

    key = models.CharField(max_length=200, unique=True, help_text="Idempotency key.")
    to = models.EmailField()
    subject = models.CharField(max_length=250)
    body = models.TextField()
    # One text attachment at most (an iCalendar invitation): kept with the message, so a
    # retry sends exactly what was queued.
    attachment_name = models.CharField(max_length=100, blank=True)
    attachment_type = models.CharField(max_length=100, blank=True)
    attachment = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The retry sweep: unsent emails, oldest first.
            models.Index(
                fields=["created_at"],
                name="outboundemail_unsent_idx",
                condition=Q(status__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} to {self.to} ({self.get_status_display()})"
