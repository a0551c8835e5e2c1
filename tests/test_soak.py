"""The soak test's short version (`make soak` runs the same for ten minutes): see
`tests/soak.py`. Faults at random moments; at the end, nothing a user would miss."""

from __future__ import annotations

import importlib
import os

import pytest
from django.apps import apps as django_apps

from tests.soak import Soak

pytestmark = pytest.mark.django_db(transaction=True)

SECONDS = float(os.environ.get("SOAK_SECONDS", "60"))
REDIS_DOWN = float(os.environ.get("SOAK_REDIS_DOWN_SECONDS", "20"))
SWEEP_SECONDS = int(os.environ.get("SOAK_SWEEP_SECONDS", "10"))


@pytest.fixture
def schedules():
    """The triage categories the migration makes (a transactional test before this one may
    have emptied the table); the soak makes its own schedule."""
    module = importlib.import_module("recovery_at_home.migrations.0002_default_triage_categories")
    module.create_categories(django_apps, None)


def test_through_every_fault_nothing_is_lost_missed_or_doubled(schedules, tmp_path):
    soak = Soak(seconds=SECONDS, log_dir=tmp_path, sweep_seconds=SWEEP_SECONDS, redis_down=REDIS_DOWN)
    try:
        report = soak.run()
    finally:
        soak.processes.stop_all()
        if soak.redis is not None and soak.redis.poll() is None:
            soak.redis.kill()
    print("\n" + "\n".join(report.lines()))
    (tmp_path / "report.txt").write_text("\n".join(report.lines()))
    assert len(report.faults) == 5, report.faults
    assert report.referrals_accepted > 0 and report.referrals_lost == []
    assert report.alerts_due > 0
    assert (report.alerts_missed, report.alerts_doubled, report.alerts_undelivered) == (0, 0, 0), (
        report.lines()
    )
    assert report.emails_queued > 0 and report.emails_delivered == report.emails_queued, report.lines()
    assert report.emails_doubled_past_key == 0 and report.left_claimed == 0, report.lines()
