"""Users, their roles and where they work.

A user may hold several roles (a GP can be a referrer and attend MDTs); what they may
see follows their memberships of practices and teams, never the role alone.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.functional import cached_property

from core.models.organisations import Organisation, Practice, Service, Team


def person_name(*, first_name: str, last_name: str, username: str) -> str:
    """A user as the portal names them: their full name, else their username. From the
    columns alone, for lists read as values."""
    return f"{first_name} {last_name}".strip() or username


class Role(models.TextChoices):
    REFERRER = "referrer", "Referrer"
    RAH_COORDINATOR = "rah_coordinator", "Recovery at Home coordinator"
    RAH_RESPONDER = "rah_responder", "Recovery at Home responder"
    CIT_MEMBER = "cit_member", "Community Integrated Team member"
    MDT_COORDINATOR = "mdt_coordinator", "MDT coordinator"
    SERVICE_MANAGER = "service_manager", "Service manager"
    ADMINISTRATOR = "administrator", "Administrator"
    PARTNER_STAFF = "partner_staff", "Partner service staff"


class Discipline(models.TextChoices):
    GP = "gp", "GP"
    PRACTICE_NURSE = "practice_nurse", "Practice nurse"
    DISTRICT_NURSE = "district_nurse", "District nurse"
    COMMUNITY_MATRON = "community_matron", "Community matron"
    NURSE = "nurse", "Nurse"
    PARAMEDIC = "paramedic", "Paramedic"
    PHYSIOTHERAPIST = "physiotherapist", "Physiotherapist"
    OCCUPATIONAL_THERAPIST = "occupational_therapist", "Occupational therapist"
    SOCIAL_WORKER = "social_worker", "Social worker"
    SOCIAL_CARE = "social_care", "Social care worker"
    HEALTHCARE_ASSISTANT = "healthcare_assistant", "Healthcare assistant"
    MENTAL_HEALTH = "mental_health", "Mental health practitioner"
    LINK_WORKER = "link_worker", "Age UK living well link worker"
    DISCHARGE_WORKER = "discharge_worker", "Age UK hospital discharge worker"
    CARERS_SUPPORT = "carers_support", "Carers support worker"
    ADMIN = "admin", "Administrative staff"


class User(AbstractUser):
    phone = models.CharField(max_length=30, blank=True)
    job_title = models.CharField(max_length=120, blank=True)
    discipline = models.CharField(max_length=40, choices=Discipline.choices, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        help_text="Employing organisation.",
    )
    practices = models.ManyToManyField(Practice, blank=True, related_name="staff")
    teams = models.ManyToManyField(Team, blank=True, related_name="members")
    partner_services = models.ManyToManyField(
        Service,
        blank=True,
        related_name="partner_staff",
        limit_choices_to={"kind": "partner"},
        help_text="For partner staff: the partner services whose referrals they receive.",
    )

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self) -> str:
        return person_name(first_name=self.first_name, last_name=self.last_name, username=self.username)

    @cached_property
    def role_codes(self) -> frozenset[str]:
        if hasattr(self, "preloaded_roles"):  # core.auth.PortalBackend, on PostgreSQL
            return frozenset(self.preloaded_roles or ())
        return frozenset(self.role_grants.values_list("role", flat=True))

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_codes.intersection(roles))

    # Memberships as plain ids, fetched once per request: filtering a million referrals by
    # `IN (1, 2)` lets PostgreSQL walk the right index, where `IN (SELECT ...)` may not.
    @cached_property
    def practice_ids(self) -> list[int]:
        return list(self.practices.values_list("pk", flat=True))

    @cached_property
    def team_ids(self) -> list[int]:
        return list(self.teams.values_list("pk", flat=True))

    @cached_property
    def partner_service_ids(self) -> list[int]:
        return list(self.partner_services.values_list("pk", flat=True))


class RoleGrant(models.Model):
    """One role held by one user."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(max_length=30, choices=Role.choices)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="rolegrant_once_per_user")]
        indexes = [models.Index(fields=["role"], name="rolegrant_role_idx")]

    def __str__(self) -> str:
        return self.get_role_display()
