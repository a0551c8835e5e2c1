"""`make bench`'s arithmetic: a page against the floor measured beside it."""

from __future__ import annotations

from django.urls import reverse

from referrals.models import Referral
from tools.benchmarks import Timing, ratio, referral_form


def _timing(median_ms, trivial_view_median_ms=None):
    return Timing(
        requests=100, median_ms=median_ms, p95_ms=median_ms, trivial_view_median_ms=trivial_view_median_ms
    )


def test_the_page_is_compared_with_the_trivial_view_measured_beside_it():
    page, sql, earlier_trivial_view = _timing(12.0, trivial_view_median_ms=3.0), _timing(1.0), _timing(2.0)
    assert ratio(page, sql, earlier_trivial_view) == 3.0  # 12 ÷ (1 + 3), not 12 ÷ (1 + 2)


def test_without_a_view_beside_it_the_separate_measurement_is_the_floor():
    assert ratio(_timing(12.0), _timing(1.0), _timing(2.0)) == 4.0
    assert ratio(_timing(12.0), _timing(3.0)) == 4.0
    assert ratio(_timing(12.0), None) is None


def test_the_benchmarks_referral_is_one_the_form_accepts(world, client_for):
    """make bench posts this form thousands of times: refused, it measures an error page."""
    form = referral_form(practice_id=world.practice_a.pk, service_id=world.rah.pk, family_name="Benchmark")
    response = client_for(world.users["gp_a"]).post(reverse("referrals:create"), form)
    assert response.status_code == 302, response.context["form"].errors
    assert Referral.objects.filter(patient__family_name="Benchmark", service=world.rah).exists()
