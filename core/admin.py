"""Django admin for reference data and users.

Patients are deliberately not registered: browsing records here would bypass the
relationship checks and the audit trail. Nor is the audit trail, which names patients: it
is searched on its own audited page (core.audit_views).
"""

from __future__ import annotations

import zoneinfo

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django_celery_beat import admin as celery_beat_admin
from django_celery_beat.models import CrontabSchedule
from timezone_field.forms import TimeZoneFormField

from core.models import (
    BedUnit,
    Neighbourhood,
    Organisation,
    OutboundEmail,
    Practice,
    RoleGrant,
    Service,
    Team,
    User,
)

_django_response_action = admin.ModelAdmin.response_action


def _response_action_on_real_ids(self, request, queryset):
    """Django's bulk actions filter by the ticked ids as sent: one that is not an id of the
    model (a crafted request) raised a server error. Such ids tick nothing. Every
    ModelAdmin, the installed apps' included, goes through this."""
    ticked = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
    pk = queryset.model._meta.pk

    def is_id(value: str) -> bool:
        try:
            pk.run_validators(pk.to_python(value))  # the database's range too
        except (ValidationError, ValueError, TypeError):
            return False
        return True

    if not all(is_id(value) for value in ticked):
        request.POST = request.POST.copy()
        request.POST.setlist(helpers.ACTION_CHECKBOX_NAME, [value for value in ticked if is_id(value)])
    return _django_response_action(self, request, queryset)


admin.ModelAdmin.response_action = _response_action_on_real_ids


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "ods_code"]
    search_fields = ["name", "short_name", "ods_code"]


@admin.register(Neighbourhood)
class NeighbourhoodAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "population"]
    list_editable = ["population"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "neighbourhood", "base", "phone"]
    list_select_related = ["neighbourhood"]


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin):
    list_display = ["name", "ods_code", "neighbourhood", "phone"]
    list_filter = ["neighbourhood"]
    list_select_related = ["neighbourhood"]
    search_fields = ["name", "ods_code", "postcode"]


class BedUnitInline(admin.TabularInline):
    model = BedUnit
    extra = 0


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    """A partner service is added here: kind "partner", its organisation, what it offers,
    the reason a referral to it starts with; then its staff are given the partner role and
    the service (on the user)."""

    list_display = ["name", "code", "kind", "organisation", "social_prescribing"]
    list_filter = ["kind"]
    list_select_related = ["organisation"]
    inlines = [BedUnitInline]


@admin.register(BedUnit)
class BedUnitAdmin(admin.ModelAdmin):
    list_display = ["name", "service", "beds"]
    list_select_related = ["service"]


class RoleGrantInline(admin.TabularInline):
    model = RoleGrant
    extra = 1
    fields = ["role"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [RoleGrantInline]
    list_display = ["username", "first_name", "last_name", "organisation", "discipline", "is_active"]
    list_filter = ["role_grants__role", "organisation", "discipline", "is_active", "is_staff"]
    list_select_related = ["organisation"]
    filter_horizontal = ["practices", "teams", "partner_services", "groups", "user_permissions"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        (
            "Work",
            {
                "fields": [
                    "job_title",
                    "discipline",
                    "phone",
                    "organisation",
                    "practices",
                    "teams",
                    "partner_services",
                ]
            },
        ),
    )


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """Administrators see what could not be sent, and why."""

    list_display = ["created_at", "to", "subject", "status", "attempts", "last_error", "sent_at"]
    list_filter = ["status"]
    search_fields = ["to", "subject", "key"]
    readonly_fields = [field.name for field in OutboundEmail._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _known_time_zone(name: str):
    """A time zone by its IANA name. timezone-field's own lookup hands any text to
    ZoneInfo, which reads it as a file name: 10,000 characters were a server error."""
    if name not in zoneinfo.available_timezones():
        raise ValidationError(f"Unknown time zone: {name[:60]}")
    return zoneinfo.ZoneInfo(name)


class CrontabScheduleForm(forms.ModelForm):
    timezone = TimeZoneFormField(coerce=_known_time_zone)

    class Meta:
        model = CrontabSchedule
        fields = ["minute", "hour", "day_of_month", "month_of_year", "day_of_week", "timezone"]


admin.site.unregister(CrontabSchedule)


@admin.register(CrontabSchedule)
class CrontabScheduleAdmin(celery_beat_admin.CrontabScheduleAdmin):
    form = CrontabScheduleForm
