from __future__ import annotations

from django.contrib import admin

from mdt.models import CaseFindingSettings


@admin.register(CaseFindingSettings)
class CaseFindingSettingsAdmin(admin.ModelAdmin):
    """The case-finding list's thresholds: one row (the defaults until one is saved)."""

    list_display = ["__str__", "months", "rah_referrals", "admissions", "teams", "care_home_review_months"]

    def has_add_permission(self, request):
        return not CaseFindingSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
