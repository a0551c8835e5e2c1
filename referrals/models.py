"""A referral, from "someone is worried about this person" to closure, and its timeline."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.fields import UKPhoneField
from core.models import Patient, Practice, Service, Team
from referrals.identity import SentPerson
from referrals.signals import referral_event_recorded


class Source(models.TextChoices):
    GP = "gp", "GP practice"
    COMMUNITY_NURSING = "community_nursing", "Community nursing"
    SOCIAL_CARE = "social_care", "Social care"
    HOSPITAL_DISCHARGE = "hospital_discharge", "Hospital discharge"
    NHS_111 = "nhs_111", "NHS 111"
    AMBULANCE = "ambulance", "Ambulance service"
    CARE_HOME = "care_home", "Care home"
    SELF = "self", "Self-referral"
    FAMILY_CARER = "family_carer", "Family or carer"
    OTHER_PROFESSIONAL = "other_professional", "Other professional"
    RECOVERY_AT_HOME = "recovery_at_home", "Recovery at Home hand-over"


PHONE_IN_SOURCES = {Source.SELF, Source.FAMILY_CARER}


class Reason(models.TextChoices):
    # Recovery at Home: the urgent community response conditions.
    FALL = "fall", "Fall without serious injury"
    FRAILTY = "frailty", "Frailty decompensation"
    REDUCED_FUNCTION = "reduced_function", "Reduced function or deconditioning"
    PALLIATIVE = "palliative", "Palliative or end of life crisis"
    EQUIPMENT = "equipment", "Urgent equipment"
    DELIRIUM = "delirium", "Confusion or delirium"
    CATHETER = "catheter", "Urgent catheter care"
    DIABETES = "diabetes", "Urgent diabetes support"
    CARER_BREAKDOWN = "carer_breakdown", "Unpaid carer breakdown"
    # Community Integrated Teams.
    LONG_TERM_CONDITION = "long_term_condition", "Long-term condition management"
    FRAILTY_REVIEW = "frailty_review", "Frailty review and care planning"
    WOUND_CARE = "wound_care", "Wound care"
    MEDICATION = "medication", "Medication support"
    SOCIAL_ISOLATION = "social_isolation", "Social isolation or loneliness"
    CARER_SUPPORT = "carer_support", "Support for the carer"
    DISCHARGE_FOLLOW_UP = "discharge_follow_up", "Follow-up after hospital discharge"
    # Partner services: the Carers Centre, Age UK, social prescribing.
    CARERS_ASSESSMENT = "carers_assessment", "Carer's assessment and support"
    LIVING_WELL = "living_well", "Living well: practical help, activities, company"
    DISCHARGE_SUPPORT = "discharge_support", "Help settling home after a hospital stay"
    SOCIAL_PRESCRIBING = "social_prescribing", "Social prescribing: what matters to the person"
    OTHER = "other", "Other (say what)"


def shown_reason(reason: str, reason_other: str) -> str:
    """The reason as pages show it: an "other" reason in the referrer's words."""
    if reason == Reason.OTHER and reason_other:
        return f"Other: {reason_other}"
    return Reason(reason).label if reason in Reason.values else reason


REASONS_BY_SERVICE = {
    Service.Code.RECOVERY_AT_HOME: [
        Reason.FALL,
        Reason.FRAILTY,
        Reason.REDUCED_FUNCTION,
        Reason.PALLIATIVE,
        Reason.EQUIPMENT,
        Reason.DELIRIUM,
        Reason.CATHETER,
        Reason.DIABETES,
        Reason.CARER_BREAKDOWN,
        # The nine conditions are "not meant to be exhaustive or used to exclude patients"
        # (NHS England, urgent community response guidance).
        Reason.OTHER,
    ],
    Service.Code.COMMUNITY_INTEGRATED_TEAMS: [
        Reason.LONG_TERM_CONDITION,
        Reason.FRAILTY_REVIEW,
        Reason.WOUND_CARE,
        Reason.MEDICATION,
        Reason.SOCIAL_ISOLATION,
        Reason.CARER_SUPPORT,
        Reason.DISCHARGE_FOLLOW_UP,
        Reason.FALL,
        Reason.OTHER,
    ],
}
# Any partner service, whichever an administrator adds: what the voluntary sector offers.
PARTNER_REASONS = [
    Reason.CARERS_ASSESSMENT,
    Reason.CARER_BREAKDOWN,
    Reason.LIVING_WELL,
    Reason.DISCHARGE_SUPPORT,
    Reason.SOCIAL_PRESCRIBING,
    Reason.SOCIAL_ISOLATION,
    Reason.OTHER,
]


def reasons_for(service: Service) -> list[Reason]:
    """The reasons a service responds to: its own, or every partner service's."""
    if service.kind == Service.Kind.PARTNER:
        return PARTNER_REASONS
    return REASONS_BY_SERVICE.get(service.code, [])


class Status(models.TextChoices):
    RECEIVED = "received", "Received"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    REDIRECTED = "redirected", "Redirected"
    IN_PROGRESS = "in_progress", "In progress"
    CLOSED = "closed", "Closed"
    WITHDRAWN = "withdrawn", "Withdrawn"


OPEN_STATUSES = [Status.RECEIVED, Status.ACCEPTED, Status.IN_PROGRESS]


def to_nhs_services() -> Q:
    """Over Referral: referrals to the NHS services. The dashboard, the exports and the
    Community Services Data Set count these; partner services report on their own page."""
    return Q(service__in=Service.objects.filter(kind=Service.Kind.NHS).values("pk"))


class Referral(models.Model):
    reference = models.CharField(max_length=20, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="referrals")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="referrals")
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
        help_text="The Community Integrated Team, for CIT referrals.",
    )
    source = models.CharField(max_length=30, choices=Source.choices)
    reason = models.CharField(max_length=30, choices=Reason.choices)
    reason_other = models.CharField(
        "the other reason", max_length=200, blank=True, help_text="With the reason 'other': what it is."
    )
    clinical_summary = models.TextField(max_length=4000, blank=True)
    carer_breakdown = models.BooleanField("carer breakdown", default=False)
    safeguarding_concern = models.BooleanField(default=False)
    key_safe = models.BooleanField("key safe at the property", default=False)
    consent_to_referral = models.BooleanField(default=False)
    consent_to_share = models.BooleanField("consent to share information", default=False)

    # Who referred: a signed-in user, or the caller on a phoned-in referral.
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals_made",
    )
    referring_practice = models.ForeignKey(
        Practice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals_made",
    )
    referrer_name = models.CharField(max_length=200, blank=True)
    referrer_role = models.CharField(
        max_length=100, blank=True, help_text="Job, or relationship to the person."
    )
    referrer_phone = UKPhoneField(max_length=30, blank=True)

    received_at = models.DateTimeField(default=timezone.now, help_text="The clock starts here.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    status_changed_at = models.DateTimeField(default=timezone.now)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decline_reason = models.TextField(max_length=2000, blank=True)
    withdrawal_reason = models.TextField(max_length=2000, blank=True)
    outcome = models.CharField(max_length=300, blank=True)
    # The person as the sender described them, kept whatever record the referral was
    # matched to: what a sender without a relationship to that record is shown.
    person_as_sent = models.JSONField(default=dict, blank=True)
    identity_to_confirm = models.BooleanField(
        default=False,
        help_text="The details sent disagree with the record the NHS number matched: the "
        "receiving service confirms who this is.",
    )
    redirected_from = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="redirected_to",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            # A service's or team's inbox: newest first, filtered by status. It carries the
            # patient and the reason so that the MDT's "Recovery at Home since the last
            # meeting" (every status, by day) is read from the index alone.
            models.Index(
                fields=["service", "status", "-received_at"],
                name="referral_inbox_idx",
                include=["patient", "reason"],
            ),
            models.Index(fields=["team", "status", "-received_at"], name="referral_team_inbox_idx"),
            # "My referrals" and "My practice's referrals".
            models.Index(fields=["referred_by", "-received_at"], name="referral_referrer_idx"),
            models.Index(fields=["referring_practice", "-received_at"], name="referral_practice_idx"),
            # Everything a user may see, newest first (the API's list): the scope's terms
            # are ORed, so no one of the indexes above gives that order; this one does.
            models.Index(fields=["-received_at", "-id"], name="referral_newest_idx"),
            # The duplicate guard: open referrals of a patient to a service.
            models.Index(
                fields=["patient", "service"],
                name="referral_open_by_patient_idx",
                condition=Q(status__in=["received", "accepted", "in_progress"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""),
                name="referral_declined_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | ~Q(outcome=""),
                name="referral_closed_has_outcome",
            ),
            models.CheckConstraint(condition=Q(consent_to_referral=True), name="referral_has_consent"),
            models.CheckConstraint(
                condition=~Q(status="withdrawn") | ~Q(withdrawal_reason=""),
                name="referral_withdrawn_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("referral_detail", args=[self.reference])

    @property
    def reason_shown(self) -> str:
        return shown_reason(self.reason, self.reason_other)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def shows_record(self) -> bool:
        """Whether this viewer sees the person's record (`record_visible`, set by the
        selectors from `core.access`); without it, only what was sent."""
        return getattr(self, "record_visible", False)

    @property
    def person(self):
        """The person as this viewer may see them: the record, or what was sent."""
        return self.patient if self.shows_record else SentPerson.from_stored(self.person_as_sent)

    def events_for_viewer(self):
        """The timeline as this viewer may see it: a sender without a relationship to the
        person sees the events meant for the referrer."""
        events = self.events.all()
        if self.shows_record:
            return events
        receiver = str(self.team or self.service)
        return [
            ReferralEvent(
                referral=self,
                kind=event.kind,
                at=event.at,
                # Who sent it is the sender's own; who acted on it is the service.
                user=event.user if event.kind == ReferralEvent.Kind.SUBMITTED else None,
                actor=event.actor if event.kind == ReferralEvent.Kind.SUBMITTED else receiver,
                note=event.note if event.kind in ReferralEvent.NOTES_FOR_REFERRER else "",
            )
            for event in events
            if event.kind in ReferralEvent.FOR_REFERRER
        ]

    @property
    def referrer_display(self) -> str:
        if self.referred_by_id and not self.referrer_name:
            return str(self.referred_by)
        return self.referrer_name


class ReferralEvent(models.Model):
    """One line of the timeline: who did what, when."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        VIEWED = "viewed", "Viewed by the receiving team"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        REDIRECTED = "redirected", "Redirected"
        REDIRECTED_IN = "redirected_in", "Received by redirection"
        STARTED = "started", "Work started"
        TRIAGED = "triaged", "Triaged"
        AGREED_LATER = "agreed_later", "Later time agreed"
        DISPATCHED = "dispatched", "Responder dispatched"
        ON_THE_WAY = "on_the_way", "Responder on the way"
        ARRIVED = "arrived", "Arrived (clock stopped)"
        OUTCOME = "outcome", "Outcome recorded"
        REABLEMENT_NEEDED = "reablement_needed", "Needs reablement (2-day clock started)"
        REABLEMENT_STARTED = "reablement_started", "Reablement care began"
        VISIT_PLANNED = "visit_planned", "Care visit planned"
        VISIT_RECORDED = "visit_recorded", "Care visit recorded"
        CARE_DISCHARGED = "care_discharged", "Discharged from short-term care"
        BED_ADMITTED = "bed_admitted", "Admitted to a bed unit"
        BED_DISCHARGED = "bed_discharged", "Discharged from the bed unit"
        ALERT = "alert", "Alert raised"
        ALERT_ACKNOWLEDGED = "alert_acknowledged", "Alert acknowledged"
        IDENTITY_CONFIRMED = "identity_confirmed", "Identity confirmed"
        IDENTITY_SEPARATED = "identity_separated", "Not the person on record: registered as sent"
        SUPPORT_OFFERED = "support_offered", "Support offered"
        WELLBEING = "wellbeing", "Wellbeing recorded"
        NOTE = "note", "Note"
        CLOSED = "closed", "Closed"
        WITHDRAWN = "withdrawn", "Withdrawn by the referrer"
        CORRECTED = "corrected", "Corrected by the referrer"

    # What the sender of a referral is told of it: where it is, not the work on it.
    FOR_REFERRER = frozenset(
        {
            Kind.SUBMITTED,
            Kind.ACCEPTED,
            Kind.DECLINED,
            Kind.REDIRECTED,
            Kind.REDIRECTED_IN,
            Kind.STARTED,
            Kind.ARRIVED,
            Kind.OUTCOME,
            Kind.CLOSED,
            Kind.WITHDRAWN,
            Kind.CORRECTED,
        }
    )

    # Whose notes the sender reads: why it was declined, where it went, how it ended.
    NOTES_FOR_REFERRER = frozenset(
        {Kind.DECLINED, Kind.REDIRECTED, Kind.OUTCOME, Kind.CLOSED, Kind.WITHDRAWN, Kind.CORRECTED}
    )

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor = models.CharField(max_length=200, blank=True, help_text="Who, when not a signed-in user.")
    note = models.TextField(max_length=4000, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["referral", "at"], name="referralevent_timeline_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.kind} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs) -> None:
        adding = self._state.adding
        super().save(*args, **kwargs)
        if adding:
            referral_event_recorded.send(sender=ReferralEvent, event=self)

    @property
    def who(self) -> str:
        """As the timeline names who did it: a caller or a service (`actor`) with the user
        who recorded it for them, a user, or the portal itself."""
        if self.actor and self.user_id:
            return f"{self.actor}, recorded by {self.user}"
        return str(self.user or self.actor or "the portal")


class ReferenceCounter(models.Model):
    """The last reference number allocated in a year; its row lock serialises allocation."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class InboundMessage(models.Model):
    """A referral message received from another system (BaRS), by its message id: the same
    message sent again finds its referral instead of making a second. A referral made by
    a message has its request, then any cancellation or updates the sender sent."""

    class Kind(models.TextChoices):
        REQUEST = "request", "Referral"
        UPDATE = "update", "Update (correction)"
        CANCEL = "cancel", "Cancellation (withdrawal)"

    message_id = models.CharField(max_length=200, unique=True)
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="inbound_messages")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.REQUEST)
    # The sender's own id of its ServiceRequest: how its later cancel or update names it.
    service_request_id = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["sender", "service_request_id"], name="inboundmessage_request_idx"),
        ]

    def __str__(self) -> str:
        return self.message_id


class ReferralVersion(models.Model):
    """What a referral said before the referrer corrected it: every version is kept, and
    the timeline's "Corrected" line says which details changed."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField(help_text="1 is the referral as first sent.")
    details = models.JSONField(help_text="The referral's details as they stood in this version.")
    replaced_at = models.DateTimeField(default=timezone.now)
    replaced_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["referral", "number"]
        constraints = [
            models.UniqueConstraint(fields=["referral", "number"], name="referralversion_once"),
        ]

    def __str__(self) -> str:
        return f"{self.referral_id} version {self.number}"
