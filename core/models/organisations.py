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
    """A service a referral can be sent to; its base is where coordinators work.

    The two NHS services have codes the portal knows (their clocks, teams and reasons).
    Partner services (the Carers Centre, Age UK, social prescribing) are data: an
    administrator adds one, its staff are linked to it, and referrals reach it through
    the same machinery, seen by its staff at the minimum the referral needs."""

    class Code(models.TextChoices):
        RECOVERY_AT_HOME = "rah", "Recovery at Home"
        COMMUNITY_INTEGRATED_TEAMS = "cit", "Community Integrated Teams"

    class Kind(models.TextChoices):
        NHS = "nhs", "NHS and council service"
        PARTNER = "partner", "Partner service (voluntary sector)"

    code = models.SlugField(
        max_length=40,
        unique=True,
        help_text="Short and fixed: 'rah', 'cit', or a partner's, e.g. 'carers-centre'.",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.NHS, db_default=Kind.NHS)
    name = models.CharField(max_length=120)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="services",
        help_text="Who runs it: a partner service's organisation.",
    )
    offers = models.CharField(
        max_length=300, blank=True, help_text="What it offers, in a line, as referrers choose it."
    )
    default_reason = models.CharField(
        max_length=30, blank=True, help_text="The reason a referral on to it starts with (a partner's)."
    )
    social_prescribing = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Records what the social prescribing information standard asks: needs, support, "
        "outcomes and wellbeing before and after.",
    )
    base = models.CharField(max_length=120, blank=True)
    base_address = models.CharField(max_length=300, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    hours = models.CharField(max_length=60, blank=True, help_text="e.g. 24 hours, 7 days")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_partner(self) -> bool:
        return self.kind == self.Kind.PARTNER


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
