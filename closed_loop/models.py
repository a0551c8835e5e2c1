"""What closing the loop keeps: each referrer's updates and their choices, the sending
systems and the responses owed to them, messages to the person or carer, outcome letters."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.models import Patient, Practice
from referrals.models import Referral, ReferralEvent


class UpdateKind(models.TextChoices):
    """The status changes a referrer hears of (BaRS: interim and full responses)."""

    RECEIVED = "received", "Received"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    REDIRECTED = "redirected", "Redirected"
    FIRST_CONTACT = "first_contact", "First contact made"
    OUTCOME = "outcome", "Outcome"
    CLOSED = "closed", "Closed"
    WITHDRAWN = "withdrawn", "Withdrawn"
    CORRECTED = "corrected", "Corrected"


class ReferrerUpdate(models.Model):
    """One status change of a referral, for the user who sent it: a line of "What happened
    to my referrals", unread until they open the list."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(ReferralEvent, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=UpdateKind.choices)
    at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    emailed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="referrerupdate_once"),
        ]
        indexes = [
            models.Index(fields=["user", "-at", "-id"], name="referrerupdate_list_idx"),
            # The unread count in every page's navigation.
            models.Index(fields=["user"], name="referrerupdate_unread_idx", condition=Q(read_at=None)),
        ]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.kind} for {self.user_id}"


class UpdatePreference(models.Model):
    """A referrer's choice for one kind of update: in the portal only, or by email too. No
    row: the default (`referrer_updates.EMAILED_BY_DEFAULT`)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=UpdateKind.choices)
    by_email = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="updatepreference_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {'email' if self.by_email else 'in-app'}"


class SendingSystem(models.Model):
    """Another system that sends referrals as BaRS messages (NHS 111, the ambulance service,
    a discharge team): the account it calls us as, and where we post our responses."""

    name = models.CharField(max_length=200)
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="sending_system",
        help_text="The account (and its API token) the system calls the portal as.",
    )
    endpoint_url = models.URLField(
        "endpoint URL", max_length=500, help_text="Where servicerequest-response messages are posted."
    )
    outbound_token = models.CharField(
        "token for our calls",
        max_length=500,
        blank=True,
        help_text="Sent as a bearer token with each response; the system gives it.",
    )
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name


class SystemResponse(models.Model):
    """A servicerequest-response owed to a sending system, one per status change: kept
    until delivered (at least once), sent in order for each referral, each with its own
    idempotency key (the response message's id) so the receiver can drop a repeat."""

    system = models.ForeignKey(SendingSystem, on_delete=models.PROTECT, related_name="responses")
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="+")
    # The referral the system's message made: a redirected one's responses follow its own.
    thread = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(ReferralEvent, on_delete=models.CASCADE, related_name="+")
    sequence = models.PositiveIntegerField(help_text="Order among the thread's responses.")
    key = models.UUIDField(default=uuid.uuid4, unique=True, help_text="Idempotency key and message id.")
    bundle = models.JSONField(help_text="The FHIR message as it stood at the change.")
    created_at = models.DateTimeField(default=timezone.now)
    # Due to be tried; claiming a response moves it forward by the claim's timeout, so a
    # worker that dies mid-send leaves it due again then.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["thread", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["system", "event"], name="systemresponse_once"),
            models.UniqueConstraint(fields=["system", "thread", "sequence"], name="systemresponse_order"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="systemresponse_due_idx",
                condition=Q(delivered_at=None),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.referral_id} #{self.sequence} to {self.system_id}"


class ContactConsent(models.Model):
    """Whether, and how, the person or their named carer may be told by the portal that
    Recovery at Home is on its way or a visit has changed. No row, or opted out: never."""

    class Recipient(models.TextChoices):
        PERSON = "person", "The person"
        CARER = "carer", "Their named carer"

    class Channel(models.TextChoices):
        SMS = "sms", "Text message"
        EMAIL = "email", "Email"

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="contact_consent")
    recipient = models.CharField(max_length=10, choices=Recipient.choices, default=Recipient.PERSON)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.SMS)
    # A text goes to the phone on the record (the person's, or the carer's); an email here.
    email = models.EmailField(blank=True)
    opted_out = models.BooleanField(default=False)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return (
            f"{self.patient_id}: {self.recipient} by {self.channel}{' (opted out)' if self.opted_out else ''}"
        )


class PersonMessage(models.Model):
    """A message to the person or carer through GOV.UK Notify: queued in the transaction of
    the change, sent by a worker, its delivery status kept. Never clinical details."""

    class Kind(models.TextChoices):
        ON_THE_WAY = "on_the_way", "Recovery at Home is on its way"
        VISIT_CHANGED = "visit_changed", "A planned visit changed"
        FEEDBACK = "feedback", "Asked for feedback"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent to Notify"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Not sent: no longer applied"

    key = models.CharField(max_length=200, unique=True, help_text="Idempotency key.")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=ContactConsent.Channel.choices)
    to = models.CharField(max_length=254)
    # The moments the message is about; its words are made when it is sent.
    personalisation = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # Due to be tried; a claim moves it forward, so a worker that dies leaves it due again.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    notify_id = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="personmessage_due_idx",
                condition=Q(status__in=["queued", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.patient_id} ({self.status})"


class OutcomeLetter(models.Model):
    """A one-page summary for the GP practice when care ends or after an MDT discussion:
    what was done, the outcome, actions for the practice. Written once, as it stood."""

    class Occasion(models.TextChoices):
        RAH_DISCHARGE = "rah_discharge", "Recovery at Home episode closed"
        CASELOAD_DISCHARGE = "caseload_discharge", "Discharged from a team's caseload"
        MDT_DISCUSSION = "mdt_discussion", "Discussed at the MDT"

    key = models.CharField(max_length=200, unique=True)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey(
        Practice, on_delete=models.PROTECT, related_name="outcome_letters", null=True, blank=True
    )
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    occasion = models.CharField(max_length=30, choices=Occasion.choices)
    title = models.CharField(max_length=200)
    what_was_done = models.TextField()
    outcome = models.TextField()
    actions_for_practice = models.TextField(blank=True)
    written_at = models.DateTimeField(default=timezone.now)
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-written_at", "-id"]
        indexes = [models.Index(fields=["practice", "-written_at"], name="outcomeletter_practice_idx")]

    def __str__(self) -> str:
        return self.title
