"""Invitations to answer the Friends and Family Test, and the answers: neither names nor
links to the person (only the service, the neighbourhood and when), so every report is
anonymous; a comment is seen by managers before anyone else."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.models import Neighbourhood, Service, Team


class Answer(models.TextChoices):
    """The FFT question's standard answers (NHS England, FFT guidance)."""

    VERY_GOOD = "very_good", "Very good"
    GOOD = "good", "Good"
    NEITHER = "neither", "Neither good nor poor"
    POOR = "poor", "Poor"
    VERY_POOR = "very_poor", "Very poor"
    DONT_KNOW = "dont_know", "Don't know"


POSITIVE = (Answer.VERY_GOOD, Answer.GOOD)
NEGATIVE = (Answer.POOR, Answer.VERY_POOR)


class Invitation(models.Model):
    """One offer of the question after a discharge: answered once, before it expires. Only
    a hash of its token is kept; the token itself is in the link (or opened on a tablet)."""

    token_hash = models.CharField(max_length=64, unique=True)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    neighbourhood = models.ForeignKey(
        Neighbourhood, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The discharge it follows, by its referral's id alone: so that one discharge is
    # offered once, never to say who answered (reports never join it).
    occasion = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["neighbourhood", "created_at"], name="invitation_month_idx")]

    def __str__(self) -> str:
        return f"Invitation {self.pk} ({self.service})"


class Response(models.Model):
    class Channel(models.TextChoices):
        LINK = "link", "By the link sent"
        TABLET = "tablet", "On a responder's tablet"
        PAPER = "paper", "Typed in from paper"

    class Review(models.TextChoices):
        PENDING = "pending", "Waiting for a manager"
        SHOWN = "shown", "Shown"
        WITHHELD = "withheld", "Withheld (identifies someone, or abusive)"

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    neighbourhood = models.ForeignKey(
        Neighbourhood, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answer = models.CharField(max_length=12, choices=Answer.choices)
    comment = models.TextField(max_length=2000, blank=True)
    review = models.CharField(max_length=10, choices=Review.choices, default=Review.SHOWN)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # The month alone (its first day): an exact time could be matched to a discharge.
    month = models.DateField()

    class Meta:
        indexes = [
            models.Index(fields=["neighbourhood", "month"], name="response_month_idx"),
            models.Index(fields=["month"], name="response_to_review_idx", condition=Q(review="pending")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(comment="") | ~Q(review="pending"), name="response_review_needs_comment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_answer_display()} ({self.service})"


class Likert(models.IntegerChoices):
    STRONGLY_DISAGREE = 1, "Strongly disagree"
    DISAGREE = 2, "Disagree"
    NEITHER = 3, "Neither agree nor disagree"
    AGREE = 4, "Agree"
    STRONGLY_AGREE = 5, "Strongly agree"


class PulseSubmission(models.Model):
    """That a member of staff answered a month's pulse: kept apart from the answer, which
    names nobody, so each answers once and no answer can be traced to them."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "month"], name="pulse_once_a_month")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.month:%Y-%m}"


class PulseAnswer(models.Model):
    """The workforce's own view, monthly, by team (a Community Integrated Team) or service
    (Recovery at Home): the alliance's second measure of success."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    month = models.DateField()
    supported = models.PositiveSmallIntegerField(choices=Likert.choices)
    equipped = models.PositiveSmallIntegerField(choices=Likert.choices)
    recommend = models.CharField(max_length=12, choices=Answer.choices)
    comment = models.TextField(max_length=2000, blank=True)
    review = models.CharField(max_length=10, choices=Response.Review.choices, default=Response.Review.SHOWN)

    class Meta:
        indexes = [models.Index(fields=["month", "service", "team"], name="pulse_month_idx")]

    def __str__(self) -> str:
        return f"Pulse {self.month:%Y-%m} ({self.team or self.service})"
