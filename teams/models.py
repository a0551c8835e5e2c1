"""A Community Integrated Team's caseload: who the team looks after, who leads for each
person (the key worker), the contacts made and the care plan.

An entry is opened by accepting a referral to the team, so a person's time on a
caseload always starts from a referral's timeline.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.models import Patient, Team
from referrals.models import Referral


class DischargeReason(models.TextChoices):
    GOALS_MET = "goals_met", "Goals met"
    TRANSFERRED = "transferred", "Transferred to another team or service"
    ADMITTED_LONG_TERM = "admitted_long_term", "Moved into long-term care"
    DECLINED = "declined", "Declined further support"
    MOVED_AWAY = "moved_away", "Moved out of the area"
    DIED = "died", "Died"
    OTHER = "other", "Other"


class CaseloadEntry(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="caseload_entries")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="caseload_entries")
    referral = models.OneToOneField(
        Referral,
        on_delete=models.PROTECT,
        related_name="caseload_entry",
        help_text="The accepted referral that opened this entry.",
    )
    key_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="caseload_entries"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    review_due = models.DateField(null=True, blank=True, help_text="When the care plan is next reviewed.")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    discharge_reason = models.CharField(max_length=30, choices=DischargeReason.choices, blank=True)
    discharge_note = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name_plural = "caseload entries"
        ordering = ["-opened_at", "-id"]
        indexes = [
            # The team's open caseload, by key worker and by review date (its filters and sorts).
            models.Index(
                fields=["team", "key_worker"], condition=Q(closed_at__isnull=True), name="caseload_open_idx"
            ),
            models.Index(
                fields=["team", "review_due"],
                condition=Q(closed_at__isnull=True),
                name="caseload_review_due_idx",
            ),
            models.Index(
                fields=["key_worker"], condition=Q(closed_at__isnull=True), name="caseload_mine_idx"
            ),
        ]
        constraints = [
            # One open entry per person per team: a second acceptance cannot add another.
            models.UniqueConstraint(
                fields=["patient", "team"],
                condition=Q(closed_at__isnull=True),
                name="caseload_one_open_entry",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | ~Q(discharge_reason=""),
                name="caseload_discharge_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} on {self.team}"

    def get_absolute_url(self) -> str:
        return reverse("teams:entry", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def days_on_caseload(self) -> int:
        """Whole UK days from opening to discharge (or today)."""
        end = timezone.localdate(self.closed_at) if self.closed_at else timezone.localdate()
        return (end - timezone.localdate(self.opened_at)).days


class CaseloadEvent(models.Model):
    """The entry's timeline: opened, key worker changed, reviewed, discharged..."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Opened on the caseload"
        KEY_WORKER = "key_worker", "Key worker changed"
        CONTACT = "contact", "Contact recorded"
        GOAL = "goal", "Care plan goal"
        REVIEWED = "reviewed", "Care plan reviewed"
        FLAGGED = "flagged", "Flagged for MDT"
        DISCHARGED = "discharged", "Discharged from the caseload"

    entry = models.ForeignKey(CaseloadEntry, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["entry", "at"], name="caseloadevent_timeline_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


class Contact(models.Model):
    class Kind(models.TextChoices):
        VISIT = "visit", "Home visit"
        PHONE = "phone", "Phone call"
        CARE_HOME_VISIT = "care_home_visit", "Care home visit"

    entry = models.ForeignKey(CaseloadEntry, on_delete=models.PROTECT, related_name="contacts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="contacts_made",
        help_text="Who made the contact.",
    )
    at = models.DateTimeField("when")
    duration_minutes = models.PositiveSmallIntegerField("duration (minutes)")
    attended = models.BooleanField(
        default=True, help_text="Untick if the visit or call did not happen (no answer, not at home)."
    )
    notes = models.TextField(max_length=4000, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["entry", "-at"], name="contact_last_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=0, duration_minutes__lte=24 * 60),
                name="contact_duration_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


class CarePlanGoal(models.Model):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        ACHIEVED = "achieved", "Achieved"
        NOT_ACHIEVED = "not_achieved", "Not achieved"
        NO_LONGER_RELEVANT = "no_longer_relevant", "No longer relevant"

    OPEN_STATUSES = (Status.NOT_STARTED, Status.IN_PROGRESS)

    entry = models.ForeignKey(CaseloadEntry, on_delete=models.CASCADE, related_name="goals")
    description = models.CharField(max_length=500)
    target_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NOT_STARTED)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["target_date", "id"]

    def __str__(self) -> str:
        return self.description


class CarePlanReview(models.Model):
    entry = models.ForeignKey(CaseloadEntry, on_delete=models.CASCADE, related_name="reviews")
    reviewed_on = models.DateField()
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(max_length=2000, blank=True)
    next_review_due = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-reviewed_on", "-id"]

    def __str__(self) -> str:
        return f"Reviewed {self.reviewed_on:%d %b %Y}"
