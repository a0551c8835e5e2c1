from __future__ import annotations

from django.contrib import admin
from rest_framework.authtoken.models import Token

from closed_loop.models import SendingSystem, SystemResponse
from closed_loop.response_delivery import FAILING, FAILING_AFTER


@admin.register(SendingSystem)
class SendingSystemAdmin(admin.ModelAdmin):
    """A system that sends referrals: the account it calls as (its API token is made
    here), where our responses go, and the token it gave us for those calls."""

    list_display = ["name", "account", "endpoint_url", "active"]
    readonly_fields = ["inbound_token"]
    autocomplete_fields = ["account"]

    @admin.display(description="Token for its calls to us")
    def inbound_token(self, system: SendingSystem) -> str:
        if system.pk is None:
            return "Made when the system is saved."
        token, _ = Token.objects.get_or_create(user=system.account)
        return token.key


class FailingFilter(admin.SimpleListFilter):
    title = "delivery"
    parameter_name = "delivery"

    def lookups(self, request, model_admin):
        return [("failing", f"Failing ({FAILING_AFTER} tries or more)"), ("owed", "Not delivered yet")]

    def queryset(self, request, queryset):
        if self.value() == "failing":
            return queryset.filter(FAILING)
        if self.value() == "owed":
            return queryset.filter(delivered_at=None)
        return queryset


@admin.register(SystemResponse)
class SystemResponseAdmin(admin.ModelAdmin):
    """Responses owed and sent: one that keeps failing shows here, with why."""

    list_display = ["referral", "sequence", "system", "created_at", "attempts", "delivered_at", "last_error"]
    list_filter = [FailingFilter, "system"]
    list_select_related = ["referral", "system"]
    search_fields = ["referral__reference"]
    readonly_fields = [field.name for field in SystemResponse._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
