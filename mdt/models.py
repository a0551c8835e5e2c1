"""Multi-disciplinary team meetings. Flags arrive first: any team may ask for a person to
be discussed at their practice's next MDT."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.models import Patient, Practice, Team


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


class MeetingSchedule(models.Model):
    """A practice's recurring MDT (every N weeks on a weekday at a UK time); it generates
    the next meetings so the coordinator only adjusts exceptions."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="mdt_schedules")
    coordinator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    first_date = models.DateField(
        help_text="The date of the first meeting; its weekday is the series' weekday."
    )
    start_time = models.TimeField(help_text="UK time.")
    duration_minutes = models.PositiveSmallIntegerField(default=60)
    every_weeks = models.PositiveSmallIntegerField(default=4)
    place = models.CharField(max_length=200, blank=True)
    video_link = models.URLField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(every_weeks__gte=1, every_weeks__lte=52), name="schedule_every_weeks"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.practice}: every {self.every_weeks} weeks at {self.start_time:%H:%M}"


class Meeting(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        PUBLISHED = "published", "Agenda published"
        HELD = "held", "Held"
        CLOSED = "closed", "Minutes closed"

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="mdt_meetings")
    schedule = models.ForeignKey(
        MeetingSchedule, on_delete=models.SET_NULL, null=True, blank=True, related_name="meetings"
    )
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=60)
    place = models.CharField(max_length=200, blank=True)
    video_link = models.URLField(blank=True)
    coordinator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNED)
    published_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["practice", "starts_at"], name="meeting_practice_idx")]
        constraints = [
            # A schedule run twice (or by two workers) cannot make the same meeting twice.
            models.UniqueConstraint(fields=["practice", "starts_at"], name="meeting_once_per_time"),
        ]

    def __str__(self) -> str:
        return f"MDT {self.practice.name} {timezone.localtime(self.starts_at):%d %b %Y %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("mdt:meeting", args=[self.pk])

    @property
    def has_minutes(self) -> bool:
        """Held (minutes being written) or closed: the printout is the minutes, not the agenda."""
        return self.status in (self.Status.HELD, self.Status.CLOSED)

    @property
    def ends_at(self):
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED


class MeetingEvent(models.Model):
    """The meeting's own record: published, held, closed, amended after closing (with why)."""

    class Kind(models.TextChoices):
        PUBLISHED = "published", "Agenda published"
        HELD = "held", "Meeting held"
        CLOSED = "closed", "Minutes closed"
        AMENDED = "amended", "Amended after closing"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return self.get_kind_display()


class Outcome(models.TextChoices):
    CONTINUE = "continue", "Continue on the caseload"
    REFER = "refer", "Refer to a service"
    DISCHARGE = "discharge", "Discharge"
    ESCALATE = "escalate", "Escalate"
    DISCUSS_AGAIN = "discuss_again", "Discuss again"
    NO_ACTION = "no_action", "No further action"


class AgendaItem(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="items")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="mdt_items")
    position = models.PositiveIntegerField()
    reason = models.CharField(max_length=500, help_text="Why the person is on the agenda.")
    presenter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    clinical_question = models.CharField(max_length=500, blank=True)
    discussion = models.TextField(max_length=4000, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["meeting", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "patient"], name="agenda_patient_once_per_meeting"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.patient}"


class Attendee(models.Model):
    class Organisation(models.TextChoices):
        PRACTICE = "practice", "GP practice"
        CIT = "cit", "Community Integrated Team"
        RAH = "rah", "Recovery at Home"
        SOCIAL_CARE = "social_care", "Social care"
        MENTAL_HEALTH = "mental_health", "Mental health"
        AGE_UK = "age_uk", "Age UK"
        OTHER = "other", "Other"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendees")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    organisation = models.CharField(max_length=20, choices=Organisation.choices)
    attended = models.BooleanField(null=True, blank=True, help_text="Recorded at the meeting.")

    class Meta:
        ordering = ["organisation", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "user"], condition=Q(user__isnull=False), name="attendee_user_once"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Action(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    item = models.ForeignKey(AgendaItem, on_delete=models.PROTECT, related_name="actions")
    description = models.CharField(max_length=500)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="mdt_actions"
    )
    owner_team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="mdt_actions"
    )
    due_date = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [
            # The daily overdue sweep and "my MDT actions".
            models.Index(fields=["due_date"], condition=Q(status="open"), name="action_open_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(owner__isnull=False, owner_team__isnull=True)
                | Q(owner__isnull=True, owner_team__isnull=False),
                name="action_has_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def owner_display(self) -> str:
        return str(self.owner or self.owner_team)


class ActionEvent(models.Model):
    """An action's history: opened, done, reopened, cancelled."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=Action.Status.choices)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return self.get_status_display()


class OverdueNotice(models.Model):
    """At most one overdue notice per action per day (the unique constraint), however
    often the sweep runs."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="overdue_notices")
    for_date = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["action", "for_date"], name="overdue_notice_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.action} overdue on {self.for_date}"


class CaseFindingSettings(models.Model):
    """The thresholds of the case-finding list (`mdt.case_finding`): one row, edited by an
    administrator, so each alliance decides how wide the net is cast."""

    months = models.PositiveSmallIntegerField(
        default=12, help_text="How far back referrals and admissions count."
    )
    rah_referrals = models.PositiveSmallIntegerField(
        "Recovery at Home referrals", default=2, help_text="This many or more in the period."
    )
    admissions = models.PositiveSmallIntegerField(
        default=1, help_text="Hospital or bed unit admissions: this many or more in the period."
    )
    teams = models.PositiveSmallIntegerField(
        default=2, help_text="On the open caseloads of this many teams or more at once."
    )
    care_home_review_months = models.PositiveSmallIntegerField(
        default=6, help_text="Care home residents not discussed at an MDT or reviewed by a team in this long."
    )

    class Meta:
        verbose_name = "case-finding thresholds"
        verbose_name_plural = "case-finding thresholds"
        constraints = [
            models.CheckConstraint(condition=models.Q(months__gte=1), name="casefinding_months_positive"),
            models.CheckConstraint(
                condition=models.Q(
                    rah_referrals__gte=1, admissions__gte=1, teams__gte=2, care_home_review_months__gte=1
                ),
                name="casefinding_thresholds_sensible",
            ),
        ]

    def __str__(self) -> str:
        return "Case-finding thresholds"

    @classmethod
    def current(cls) -> CaseFindingSettings:
        return cls.objects.first() or cls()
