"""`make bench` adds a referral changelist to the admin, a trivial view and a query-count
header (settings.BENCH). None of them may exist in the portal as deployed."""

from __future__ import annotations

import pytest
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
