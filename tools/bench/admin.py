"""A plain changelist of referrals, as a team would ship without this product, for the
pages to be measured against. Only the benchmark installs it: the portal's own admin
holds no patient data (browsing referrals there would bypass the relationship checks
and the audit trail)."""

from __future__ import annotations

from django.contrib import admin

from referrals.models import Referral


@admin.register(Referral)
class BenchReferralAdmin(admin.ModelAdmin):
    list_display = ["reference", "patient", "service", "team", "status", "received_at"]
    list_filter = ["service", "status", "team", "referring_practice"]
    search_fields = ["reference"]
    date_hierarchy = "received_at"
