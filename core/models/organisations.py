"""Reference data: who works where, and which team serves which practice."""

from __future__ import annotations

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models


class Organisation(models.Model):
    """A partner organisation that employs staff (an NHS trust, the council, Age UK...)."""

    name = models.CharField(max_length=200, unique=True)
    short_name = models.CharField(max_length=60, blank=True)
    ods_code = models.CharField("ODS code", max_length=10, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Neighbourhood(models.Model):
    """A locality of the city; each has one Community Integrated Team."""

    name = models.CharField(max_length=100, unique=True)
    code = models.SlugField(max_length=40, unique=True)
    population = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Residents: reference data for the dashboard's rate of referrals per 100,000 people.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A Community Integrated Team (CIT): the locality multi-disciplinary team."""

    name = models.CharField(max_length=120, unique=True)
    neighbourhood = models.OneToOneField(Neighbourhood, on_delete=models.PROTECT, related_name="team")
    base = models.CharField(max_length=120, blank=True, help_text="Where the team is based.")
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


ods_practice_code = RegexValidator(
    r"^[A-Z]\d{5}$", "A GP practice ODS code is a capital letter and five digits, e.g. A89001."
)


class Practice(models.Model):
    """A GP practice; its neighbourhood decides which CIT serves its patients."""

    ods_code = models.CharField("ODS code", max_length=6, unique=True, validators=[ods_practice_code])
    name = models.CharField(max_length=200)
    neighbourhood = models.ForeignKey(Neighbourhood, on_delete=models.PROTECT, related_name="practices")
    address = models.CharField(max_length=300, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(
        blank=True, help_text="Where MDT minutes summaries are sent (an nhs.net address)."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.ods_code})"


class Service(models.Model):
    """A service a referral can be sent to; its base is where coordinators work."""

    class Code(models.TextChoices):
        RECOVERY_AT_HOME = "rah", "Recovery at Home"
        COMMUNITY_INTEGRATED_TEAMS = "cit", "Community Integrated Teams"

    code = models.CharField(max_length=10, choices=Code.choices, unique=True)
    name = models.CharField(max_length=120)
    base = models.CharField(max_length=120, blank=True)
    base_address = models.CharField(max_length=300, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    hours = models.CharField(max_length=60, blank=True, help_text="e.g. 24 hours, 7 days")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BedUnit(models.Model):
    """A community bed unit run by a service (Houghton, Town End Farm)."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="bed_units")
    name = models.CharField(max_length=120, unique=True)
    address = models.CharField(max_length=300, blank=True)
    beds = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
