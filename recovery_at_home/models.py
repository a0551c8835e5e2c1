"""The Recovery at Home response clock: triage categories and each referral's episode."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import ExpressionWrapper, F, Q
from django.utils import timezone

from core.models import BedUnit, Neighbourhood, Patient
from referrals.models import Referral


class TriageCategory(models.Model):
    """How fast Recovery at Home must reach the person. Editable by administrators; a
    change applies to referrals triaged afterwards (each episode keeps its own window)."""

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=100)
    response_minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(15), MaxValueValidator(24 * 60)],
        help_text="Minutes from receiving the referral to reaching the person.",
    )
    two_hour_standard = models.BooleanField(
        default=False, help_text="Counts towards the national 2-hour urgent community response standard."
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "response_minutes"]
        verbose_name_plural = "triage categories"

    def __str__(self) -> str:
        return self.name


class Outcome(models.TextChoices):
    REMAINED_AT_HOME = "remained_at_home", "Remained at home with short-term care"
    BED_UNIT = "bed_unit", "Admitted to a bed unit"
    HOSPITAL = "hospital", "Admitted to hospital"
    HANDED_TO_CIT = "handed_to_cit", "Handed to the Community Integrated Team"
    DECLINED = "declined", "Declined by the person"
    DIED = "died", "Died"


# The queue's order: running clocks (false) before those reached (true). One expression for
# the queue and its index, which PostgreSQL uses only when the two are the same. It takes no
# parameters: a prepared statement's plan can then be reused (with CASE ... THEN $1 the
# planner could not match the index without the values, and planned every query anew).
REACHED_LAST = ExpressionWrapper(Q(arrived_at__isnull=False), output_field=models.BooleanField())


class Episode(models.Model):
    """One Recovery at Home referral's response: the clock starts when the referral was
    received and stops at the first face-to-face contact."""

    referral = models.OneToOneField(Referral, on_delete=models.CASCADE, related_name="episode")
    category = models.ForeignKey(
        TriageCategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="episodes",
        help_text="Empty until a coordinator triages the referral.",
    )
    window_minutes = models.PositiveIntegerField(help_text="The response window this episode was given.")
    response_due_at = models.DateTimeField()
    triaged_at = models.DateTimeField(null=True, blank=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    agreed_later_reason = models.CharField(
        max_length=300,
        blank=True,
        help_text="Why the person or their carer asked for a later visit; it moved the due time.",
    )
    arrived_at = models.DateTimeField(null=True, blank=True, help_text="First face-to-face contact.")
    arrival_recorded_at = models.DateTimeField(null=True, blank=True)
    arrival_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    arrival_late_reason = models.CharField(
        max_length=300, blank=True, help_text="Why the arrival was recorded later than it happened."
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    outcome_note = models.CharField(max_length=500, blank=True)
    outcome_recorded_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the outcome was recorded (and the referral closed with it).",
    )
    planned_end_date = models.DateField(
        null=True, blank=True, help_text="When short-term care at home is planned to end."
    )
    queue_open = models.BooleanField(
        default=True,
        editable=False,
        help_text="While the referral is open. A copy of its status kept here so that the queue "
        "reads a partial index of the few open episodes, not every episode ever.",
    )
    # The 2-day reablement clock (`recovery_at_home.clock`): set when the person is found to
    # need reablement, on a referral from a source that has that clock.
    reablement_clock_start = models.DateTimeField(
        null=True, blank=True, help_text="When the 2-day reablement clock started."
    )
    reablement_care_started_at = models.DateTimeField(
        null=True, blank=True, help_text="When reablement care began (the 2-day clock stopped)."
    )
    handover_referral = models.OneToOneField(
        Referral,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handed_over_from",
        help_text="The CIT referral this episode handed the person on to.",
    )

    class Meta:
        indexes = [
            # The live queue: the open episodes alone (a few thousand of millions), in the
            # queue's own order (running clocks by due time, then those reached), so that a
            # page of it is read from the index rather than sorted.
            # It carries the columns the queue's counts read, so they are counted from the
            # index alone (an index-only scan) instead of visiting every open episode's row.
            models.Index(
                REACHED_LAST,
                "response_due_at",
                "id",
                name="episode_open_queue_idx",
                condition=Q(queue_open=True),
                include=["arrived_at", "category"],
            ),
            # How episodes ended, by when: the MDT's "admitted to hospital since the last
            # meeting" reads a month of one outcome (a few hundred of millions) from here,
            # with the referral to reach the person through.
            models.Index(
                fields=["outcome", "outcome_recorded_at"],
                name="episode_outcome_idx",
                condition=~Q(outcome=""),
                include=["referral"],
            ),
            # The CSDS extract and the dashboard: the 2-day clocks that started in a period.
            models.Index(
                fields=["reablement_clock_start"],
                name="episode_reablement_clock_idx",
                condition=Q(reablement_clock_start__isnull=False),
            ),
            # The alert sweep: running clocks, soonest due first.
            models.Index(
                fields=["response_due_at"],
                name="episode_running_clock_idx",
                condition=Q(arrived_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(reablement_care_started_at__isnull=True)
                | Q(
                    reablement_clock_start__isnull=False,
                    reablement_care_started_at__gte=F("reablement_clock_start"),
                ),
                name="episode_reablement_after_clock_start",
            ),
            models.CheckConstraint(
                condition=Q(arrived_at__isnull=True) | Q(arrival_recorded_at__isnull=False),
                name="episode_arrival_recorded",
            ),
            models.CheckConstraint(
                condition=Q(outcome="", outcome_recorded_at__isnull=True)
                | (~Q(outcome="") & Q(outcome_recorded_at__isnull=False)),
                name="episode_outcome_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.referral_id}: due {self.response_due_at:%Y-%m-%d %H:%M}"

    @property
    def is_triaged(self) -> bool:
        return self.category_id is not None

    @property
    def clock_running(self) -> bool:
        return self.arrived_at is None

    @property
    def agreed_later(self) -> bool:
        return bool(self.agreed_later_reason)


class Dispatch(models.Model):
    """A responder sent to the person. Several may go (a nurse and a therapist)."""

    class State(models.TextChoices):
        DISPATCHED = "dispatched", "Dispatched"
        ON_THE_WAY = "on_the_way", "On the way"
        ARRIVED = "arrived", "Arrived"
        STOOD_DOWN = "stood_down", "Stood down"

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="dispatches")
    responder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="dispatches"
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.DISPATCHED)
    dispatched_at = models.DateTimeField()
    dispatched_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    on_the_way_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dispatched_at", "pk"]
        constraints = [
            # A responder is sent to a person once at a time.
            models.UniqueConstraint(
                fields=["episode", "responder"],
                name="dispatch_once_per_responder",
                condition=~Q(state="stood_down"),
            ),
        ]
        indexes = [
            # A responder's own visits, newest first.
            models.Index(fields=["responder", "-dispatched_at"], name="dispatch_responder_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.responder} to {self.episode.referral_id} ({self.get_state_display()})"

    @property
    def state_since(self):
        """When the visit reached its present state; None when stood down (that time is not
        kept, and the time it was sent would read as the time it was stood down)."""
        if self.state == self.State.STOOD_DOWN:
            return None
        reached = {self.State.ARRIVED: self.arrived_at, self.State.ON_THE_WAY: self.on_the_way_at}
        return reached.get(self.state) or self.dispatched_at


class BedStay(models.Model):
    """A person in a community bed. Occupancy is the count of stays not yet discharged."""

    bed_unit = models.ForeignKey(BedUnit, on_delete=models.PROTECT, related_name="stays")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="bed_stays")
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="bed_stays")
    admitted_at = models.DateTimeField()
    admitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    discharged_at = models.DateTimeField(null=True, blank=True)
    discharged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    discharge_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["admitted_at"]
        constraints = [
            # A person holds one bed at a time.
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(discharged_at__isnull=True),
                name="bedstay_one_bed_per_patient",
            ),
        ]
        indexes = [
            # The bed board and occupancy: current stays per unit.
            models.Index(
                fields=["bed_unit"], condition=Q(discharged_at__isnull=True), name="bedstay_current_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} in {self.bed_unit}"


class AlertPolicy(models.Model):
    """The alert thresholds. One row, editable by administrators."""

    due_soon_minutes = models.PositiveIntegerField(
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(120)],
        help_text="Warn this many minutes before a response is due.",
    )
    escalate_after_minutes = models.PositiveIntegerField(
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(120)],
        help_text="Escalate to the service managers when a breach is not acknowledged in this time.",
    )

    class Meta:
        verbose_name_plural = "alert policy"

    def __str__(self) -> str:
        return f"Due soon {self.due_soon_minutes} min, escalate after {self.escalate_after_minutes} min"

    @classmethod
    def current(cls) -> AlertPolicy:
        return cls.objects.order_by("pk").first() or cls()


class Alert(models.Model):
    """Raised once per episode, kind and due time: the unique constraint makes a second
    raise impossible, and a moved due time (an agreed later time) re-arms the alerts."""

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", "Due soon"
        BREACHED = "breached", "Breached"
        ESCALATED = "escalated", "Escalated"
        # A planned care visit missed, or not recorded once its window is past: for_due_at
        # is the end of the visit's window (recovery_at_home.care).
        VISIT_MISSED = "missed", "Care visit missed"

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    for_due_at = models.DateTimeField(help_text="The due time the alert was raised for.")
    due_at = models.DateTimeField(help_text="When the alert should have been raised.")
    raised_at = models.DateTimeField()
    late = models.BooleanField(default=False, help_text="Raised by a catch-up sweep after an outage.")
    notified_at = models.DateTimeField(null=True, blank=True, help_text="When its emails were queued.")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["episode", "kind", "for_due_at"], name="alert_once_per_due_time"),
        ]
        indexes = [
            # The banner and the escalation sweep: alerts nobody has acknowledged yet.
            models.Index(
                fields=["raised_at"],
                condition=Q(acknowledged_at__isnull=True),
                name="alert_unacknowledged_idx",
            ),
            # The delivery step: alerts whose emails are not queued yet.
            models.Index(
                fields=["raised_at"], condition=Q(notified_at__isnull=True), name="alert_unnotified_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.episode.referral_id}"


class Skill(models.TextChoices):
    """What a responder on a shift can do that not every responder can (the rota's)."""

    CATHETER_CARE = "catheter_care", "Catheter care"
    FALLS_ASSESSMENT = "falls_assessment", "Falls assessment"
    PRESCRIBING = "prescribing", "Prescribing"
    MOVING_AND_HANDLING = "moving_and_handling", "Moving and handling"
    END_OF_LIFE = "end_of_life", "End-of-life care"


class Shift(models.Model):
    """One person's time on the Recovery at Home rota: who is on duty comes from these
    (`recovery_at_home.rota`)."""

    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shifts")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    base = models.CharField(max_length=100, default="Leechmere")
    # A list of Skill values (JSON: the demo's SQLite has no arrays).
    skills = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "staff__last_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="shift_ends_after_it_starts"
            ),
        ]
        indexes = [models.Index(fields=["starts_at", "ends_at"], name="shift_time_idx")]

    def __str__(self) -> str:
        starts, ends = timezone.localtime(self.starts_at), timezone.localtime(self.ends_at)
        return f"{self.staff}, {starts:%a %-d %b %H:%M} to {ends:%H:%M}"


class TravelTime(models.Model):
    """Minutes by road from a place (a neighbourhood, or the Leechmere base) to a
    neighbourhood: what the dispatch suggestion (`recovery_at_home.reach`) counts on.
    Reference data an administrator edits; the demo's minutes are invented."""

    origin = models.ForeignKey(
        Neighbourhood,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Where the responder is. Empty: the Leechmere base.",
    )
    destination = models.ForeignKey(Neighbourhood, on_delete=models.CASCADE, related_name="+")
    minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(180)])

    class Meta:
        ordering = ["origin__name", "destination__name"]
        constraints = [
            # One figure per pair: the base's row apart, as NULLs are distinct in a unique key.
            models.UniqueConstraint(
                fields=["origin", "destination"], condition=Q(origin__isnull=False), name="travel_time_once"
            ),
            models.UniqueConstraint(
                fields=["destination"], condition=Q(origin__isnull=True), name="travel_time_from_base_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.origin or 'Leechmere base'} to {self.destination}: {self.minutes} min"


class CareDischarge(models.TextChoices):
    CIT = "cit", "To the Community Integrated Team"
    SOCIAL_CARE = "social_care", "To social care"
    NO_FURTHER_SERVICE = "none", "No further service"


class CareEpisode(models.Model):
    """The short-term care that follows "remained at home": planned visits over days or
    weeks, then review and discharge. The referral stays open until the discharge
    (`recovery_at_home.care` holds the rules)."""

    episode = models.OneToOneField(Episode, on_delete=models.CASCADE, related_name="care")
    started_at = models.DateTimeField()
    planned_end_date = models.DateField()
    discharged_at = models.DateTimeField(null=True, blank=True)
    discharged_to = models.CharField(max_length=12, choices=CareDischarge.choices, blank=True)
    discharge_note = models.CharField(max_length=500, blank=True)
    discharged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handover_referral = models.ForeignKey(
        Referral, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(discharged_at__isnull=True, discharged_to="")
                | Q(discharged_at__isnull=False) & ~Q(discharged_to=""),
                name="care_discharged_with_destination",
            ),
        ]

    def __str__(self) -> str:
        return f"Short-term care for {self.episode.referral_id}"

    @property
    def is_open(self) -> bool:
        return self.discharged_at is None

    def length_days(self, now=None) -> int:
        """Days of care so far, or in all once discharged (the start day counts as one)."""
        end = self.discharged_at or now or timezone.now()
        return (timezone.localdate(end) - timezone.localdate(self.started_at)).days + 1


class PlannedVisit(models.Model):
    """One visit of short-term care: when (a window), what (tasks), who; then whether it was
    done, missed (with a reason) or moved to another time."""

    class State(models.TextChoices):
        PLANNED = "planned", "Planned"
        DONE = "done", "Done"
        MISSED = "missed", "Missed"
        RESCHEDULED = "rescheduled", "Rescheduled"
        CANCELLED = "cancelled", "Cancelled at discharge"

    care = models.ForeignKey(CareEpisode, on_delete=models.CASCADE, related_name="visits")
    responder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="planned_visits"
    )
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    tasks = models.CharField(max_length=300)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PLANNED)
    planned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    planned_at = models.DateTimeField()
    recorded_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True, help_text="Why it was missed or moved.")
    rescheduled_as = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="rescheduled_from"
    )

    class Meta:
        ordering = ["window_start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_end__gt=F("window_start")), name="visit_window_ends_after_it_starts"
            ),
            models.CheckConstraint(condition=~Q(state="missed") | ~Q(note=""), name="missed_visit_says_why"),
        ]
        indexes = [
            # A responder's day ("My visits").
            models.Index(fields=["responder", "window_start"], name="plannedvisit_responder_idx"),
            # The sweep: visits still planned, by the end of their window.
            models.Index(
                fields=["window_end"], condition=Q(state="planned"), name="plannedvisit_planned_idx"
            ),
        ]

    def __str__(self) -> str:
        starts, ends = timezone.localtime(self.window_start), timezone.localtime(self.window_end)
        return f"{self.responder}, {starts:%a %-d %b %H:%M} to {ends:%H:%M}"
