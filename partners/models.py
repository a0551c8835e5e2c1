"""What a partner service did for a person: coded needs, support and outcomes (lists an
administrator edits) and the person's wellbeing before and after (ONS4)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from referrals.models import Referral


class Term(models.Model):
    """One entry of a coded list: a need or concern, a kind of support, an outcome.

    Labels are plain words an administrator edits; a term in use is retired (not active),
    never deleted, so what was recorded keeps its meaning."""

    class List(models.TextChoices):
        NEED = "need", "Needs and concerns"
        SUPPORT = "support", "Support offered"
        OUTCOME = "outcome", "Outcomes"

    list = models.CharField(max_length=10, choices=List.choices)
    label = models.CharField(max_length=120)
    active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["list", "order", "label"]
        constraints = [models.UniqueConstraint(fields=["list", "label"], name="term_once_per_list")]

    def __str__(self) -> str:
        return self.label


class PartnerWork(models.Model):
    """A partner's record of a referral it accepted: what it found, offered and achieved."""

    referral = models.OneToOneField(Referral, on_delete=models.PROTECT, related_name="partner_work")
    needs = models.ManyToManyField(
        Term, blank=True, related_name="+", limit_choices_to={"list": Term.List.NEED}
    )
    support = models.ManyToManyField(
        Term, blank=True, related_name="+", limit_choices_to={"list": Term.List.SUPPORT}
    )
    outcomes = models.ManyToManyField(
        Term, blank=True, related_name="+", limit_choices_to={"list": Term.List.OUTCOME}
    )
    offered = models.TextField("what was offered", max_length=2000, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Partner work on {self.referral}"


ONS4_QUESTIONS = [
    ("satisfied", "Overall, how satisfied are you with your life nowadays?"),
    ("worthwhile", "Overall, to what extent do you feel that the things you do in your life are worthwhile?"),
    ("happy", "Overall, how happy did you feel yesterday?"),
    # The one where less is better.
    (
        "anxious",
        "On a scale where 0 is 'not at all anxious' and 10 is 'completely anxious', overall, "
        "how anxious did you feel yesterday?",
    ),
]
ONS4_FIELDS = [name for name, _ in ONS4_QUESTIONS]
_score = [MinValueValidator(0), MaxValueValidator(10)]


class Wellbeing(models.Model):
    """The four ONS personal wellbeing answers (0 to 10), at the start of support and at
    its end."""

    class When(models.TextChoices):
        BEFORE = "before", "At the start"
        AFTER = "after", "At the end"

    work = models.ForeignKey(PartnerWork, on_delete=models.CASCADE, related_name="wellbeing")
    when = models.CharField(max_length=10, choices=When.choices)
    satisfied = models.PositiveSmallIntegerField(validators=_score)
    worthwhile = models.PositiveSmallIntegerField(validators=_score)
    happy = models.PositiveSmallIntegerField(validators=_score)
    anxious = models.PositiveSmallIntegerField(validators=_score)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["work", "when"]
        constraints = [
            models.UniqueConstraint(fields=["work", "when"], name="wellbeing_once_each"),
            models.CheckConstraint(
                condition=Q(satisfied__lte=10, worthwhile__lte=10, happy__lte=10, anxious__lte=10),
                name="wellbeing_scores_0_to_10",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_when_display()}: {self.satisfied}/{self.worthwhile}/{self.happy}/{self.anxious}"
