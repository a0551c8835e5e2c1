"""`make bench` adds a referral changelist to the admin, a trivial view and a query-count
header (tools.bench.settings). None of them may exist in the portal as deployed, and the
admin holds no patient data at all."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse


def test_the_admin_does_not_list_referrals_outside_the_benchmark(world, client_for):
    client = client_for(world.users["administrator"])
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/referrals/referral/").status_code == 404
    assert "referrals/referral" not in client.get("/admin/").content.decode()


def test_no_benchmark_view_or_header_outside_the_benchmark(world, client_for):
    with pytest.raises(NoReverseMatch):
        reverse("bench_floor")
    response = client_for(world.users["gp_a"]).get(reverse("referrals:home"))
    assert response.status_code == 200 and "X-Query-Count" not in response


def _about_a_person(model) -> bool:
    return model._meta.label == "atb.Patient" or any(
        field.is_relation
        and field.related_model is not None
        and field.related_model._meta.label == "atb.Patient"
        for field in model._meta.get_fields()
        if not field.auto_created or field.concrete
    )


def test_the_admin_registers_no_model_that_holds_a_person():
    registered = [model._meta.label for model in admin.site._registry if _about_a_person(model)]
    assert registered == []
    assert "atb.AuditEvent" not in [model._meta.label for model in admin.site._registry]
