"""The person the portal exists for."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone

from core.fields import NHSNumberField, UKPhoneField, UKPostcodeField
from core.models.organisations import Practice
from core.nhs_numbers import format_nhs_number
from core.validators import ERA, validate_in_era


def validate_not_in_future(value: date) -> None:
    if value > timezone.localdate():
        raise ValidationError("The date of birth cannot be in the future.", code="future_date")


class StatedGender(models.TextChoices):
    """PERSON STATED GENDER CODE (NHS Data Dictionary), as the Community Services Data Set
    carries it."""

    MALE = "1", "Male"
    FEMALE = "2", "Female"
    INDETERMINATE = "9", "Indeterminate (unable to be classified as either male or female)"
    NOT_KNOWN = "X", "Not known"


class Patient(models.Model):
    """One person; many referrals. The NHS number may be unknown at first contact."""

    nhs_number = NHSNumberField(
        "NHS number",
        null=True,
        blank=True,
        unique=True,
        error_messages={
            "unique": "A patient with this NHS number is already registered. If this is the same person, "
            "ask an administrator to merge the two records."
        },
    )
    given_name = models.CharField("first name", max_length=100)
    family_name = models.CharField("last name", max_length=100)
    date_of_birth = models.DateField(
        null=True, blank=True, validators=[validate_in_era, validate_not_in_future]
    )
    gender = models.CharField(
        "gender",
        max_length=1,
        choices=StatedGender.choices,
        blank=True,
        default="",
        db_default="",
        help_text="As the person states it.",
    )
    address = models.CharField(max_length=300, blank=True)
    postcode = UKPostcodeField(max_length=10, blank=True)
    phone = UKPhoneField(max_length=30, blank=True)
    practice = models.ForeignKey(
        Practice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="patients",
        verbose_name="registered GP practice",
    )
    lives_alone = models.BooleanField(default=False)
    care_home = models.CharField(
        max_length=200, blank=True, help_text="Name of the care home, if the person lives in one."
    )
    carer_name = models.CharField("main carer's name", max_length=200, blank=True)
    carer_relationship = models.CharField("carer's relationship", max_length=100, blank=True)
    carer_phone = UKPhoneField("carer's phone", max_length=30, blank=True)
    carers_centre_offered = models.BooleanField("Carers Centre referral offered", default=False)
    # Database defaults as well: bulk loads (scale data, imports) that name only the
    # older columns still make whole rows.
    next_of_kin_name = models.CharField(
        "next of kin's name", max_length=200, blank=True, default="", db_default=""
    )
    next_of_kin_relationship = models.CharField(
        "next of kin's relationship", max_length=100, blank=True, default="", db_default=""
    )
    next_of_kin_phone = UKPhoneField(
        "next of kin's phone", max_length=30, blank=True, default="", db_default=""
    )
    communication_needs = models.TextField(
        blank=True, max_length=2000, help_text="Hearing, sight, speech, memory, how best to explain."
    )
    interpreter_needed = models.BooleanField(default=False, db_default=False)
    preferred_language = models.CharField(
        max_length=100,
        blank=True,
        default="",
        db_default="",
        help_text="e.g. Polish, Bengali, British Sign Language.",
    )
    key_safety_information = models.TextField(
        blank=True,
        max_length=2000,
        help_text="What visiting staff must know: dogs, key safe, risks at the address.",
    )
    # A duplicate record merged into another stays as a tombstone, so the audit trail
    # (which PostgreSQL will not let anyone rewrite) still names the record that was seen.
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_records"
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        indexes = [
            # A practice's people (the MDT agenda builder's suggestions and the practice's
            # lists): read from the index alone, not from 5,000 heap pages of a big practice.
            models.Index(
                fields=["practice", "id"],
                condition=Q(merged_into__isnull=True),
                name="patient_practice_live_idx",
            ),
            # Patient search by name and date of birth.
            models.Index(fields=["family_name", "given_name", "date_of_birth"], name="patient_name_dob_idx"),
            # "Is this person already known?" on every referral of someone without an NHS
            # number: names match whatever their case (a scan of 300,000 patients without it).
            models.Index(
                Upper("family_name"),
                Upper("given_name"),
                F("date_of_birth"),
                name="patient_name_dob_match_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | Q(nhs_number__isnull=True),
                name="patient_merged_has_no_nhs_number",
            ),
            # Whatever door a record comes in by: ten ASCII digits (never another script's,
            # which would make a second record beside the person's real one).
            models.CheckConstraint(
                condition=Q(nhs_number__isnull=True) | Q(nhs_number__regex=r"^[0-9]{10}$"),
                name="patient_nhs_number_ten_digits",
            ),
            models.CheckConstraint(
                condition=Q(date_of_birth__isnull=True)
                | Q(date_of_birth__gte=date(ERA[0], 1, 1), date_of_birth__lte=date(ERA[1], 12, 31)),
                name="patient_date_of_birth_in_era",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return reverse("patient_detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def nhs_number_display(self) -> str:
        return format_nhs_number(self.nhs_number or "")

    @property
    def age(self) -> int | None:
        return age_today(self.date_of_birth)


def age_today(date_of_birth: date | None) -> int | None:
    """Age in whole years, today in the UK (None when the date of birth is not known)."""
    if not date_of_birth:
        return None
    today = timezone.localdate()
    return (
        today.year
        - date_of_birth.year
        - ((today.month, today.day) < (date_of_birth.month, date_of_birth.day))
    )


class CaringRelationship(models.Model):
    """A carer, a person of their own with their own record, and someone they care for.

    The carer's consent is theirs: with it, the cared-for person's care team sees the
    carer's referrals to partner services and what came of them beside the person's own."""

    carer = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cares_for")
    cared_for = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="carers")
    relationship = models.CharField(max_length=100, help_text="e.g. daughter, husband, neighbour.")
    main_carer = models.BooleanField(default=True)
    consent_to_share = models.BooleanField(
        "the carer agrees to share",
        default=False,
        help_text="The carer agrees that the person's care team sees their referrals and outcomes.",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-main_carer", "recorded_at"]
        constraints = [
            models.UniqueConstraint(fields=["carer", "cared_for"], name="caring_once_per_pair"),
            models.CheckConstraint(condition=~Q(carer=F("cared_for")), name="caring_not_for_oneself"),
            models.UniqueConstraint(
                fields=["cared_for"], condition=Q(main_carer=True), name="caring_one_main_carer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carer} ({self.relationship}) cares for {self.cared_for}"
