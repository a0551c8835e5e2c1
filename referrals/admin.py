"""Referrals are not in the admin: browsing them there would bypass the relationship
checks and the audit trail. `make bench` alone (settings.BENCH) registers a plain
changelist, as a team would ship without this product, to compare the pages with."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin

from referrals.models import Referral


class BenchReferralAdmin(admin.ModelAdmin):
    list_display = ["reference", "patient", "service", "team", "status", "received_at"]
    list_filter = ["service", "status", "team", "referring_practice"]
    search_fields = ["reference"]
    date_hierarchy = "received_at"


if settings.BENCH:
    admin.site.register(Referral, BenchReferralAdmin)
