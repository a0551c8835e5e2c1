from __future__ import annotations

from django.contrib import admin

from recovery_at_home.models import AlertPolicy, TravelTime, TriageCategory


@admin.register(TriageCategory)
class TriageCategoryAdmin(admin.ModelAdmin):
    """Windows apply to referrals triaged after a change; episodes keep their own."""

    list_display = ["name", "code", "response_minutes", "two_hour_standard", "order"]
    list_editable = ["response_minutes", "order"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(AlertPolicy)
class AlertPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "due_soon_minutes", "escalate_after_minutes"]

    def has_add_permission(self, request):
        return not AlertPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TravelTime)
class TravelTimeAdmin(admin.ModelAdmin):
    """The travel matrix the dispatch suggestion counts on: minutes by road from a
    neighbourhood (or the Leechmere base) to a neighbourhood."""

    list_display = ["origin", "destination", "minutes"]
    empty_value_display = "Leechmere base"  # an empty origin is the base
    list_editable = ["minutes"]
    list_filter = ["origin", "destination"]
    list_select_related = ["origin", "destination"]
