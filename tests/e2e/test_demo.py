"""The filled demo, as each of its users first sees it, in a real browser: the README's
screenshots (`make screenshots` copies them to docs/screenshots/)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from core.models import User
from mdt.models import Meeting
from tests.e2e.conftest import assert_accessible, screenshot
from tools.demo_data import DEMO_PASSWORD

DESK, TABLET = 1366, 820


@pytest.fixture
def demo(transactional_db, reference_data):
    """Eight weeks of the demo's history (the dashboard's default period), then today's."""
    call_command("seed_demo", patients=300, days=56, stdout=StringIO())


def sign_in(person, username: str, width: int = DESK, through_the_page: bool = False):
    user = User.objects.get(username=username)
    return person(user, password=DEMO_PASSWORD, width=width, through_the_page=through_the_page)


def test_each_demo_user_starts_on_their_own_work(demo, person):
    gp = sign_in(person, "gp.a", through_the_page=True)  # the demo's password works
    expect(gp.get_by_role("heading", level=1)).to_have_text("My referrals")
    expect(gp.locator("tbody tr")).not_to_have_count(0)
    assert_accessible(gp)
    screenshot(gp, "demo-my-referrals")

    coordinator = sign_in(person, "rah.coordinator")
    expect(coordinator.locator("#queue-rows tr").first).to_be_visible()
    assert_accessible(coordinator)
    screenshot(coordinator, "demo-queue")
    coordinator.goto("/recovery-at-home/rota/")
    expect(coordinator.get_by_text("No responder on shift")).to_be_visible()  # the demo's gap
    assert_accessible(coordinator)
    screenshot(coordinator, "demo-rota")

    responder = sign_in(person, "rah.responder", width=TABLET)
    expect(responder.locator("article.card").first).to_be_visible()
    assert_accessible(responder)
    screenshot(responder, "demo-my-visits")

    member = sign_in(person, "cit.member")
    expect(member.get_by_role("heading", level=1)).to_have_text("My caseload")
    expect(member.locator("tbody tr")).not_to_have_count(0)
    assert_accessible(member)
    screenshot(member, "demo-caseload")

    mdt = sign_in(person, "mdt.coordinator")
    expect(mdt.get_by_text("Minutes closed").first).to_be_visible()  # the meetings held
    next_meeting = Meeting.objects.filter(starts_at__gt=timezone.now(), items__isnull=False).earliest(
        "starts_at"
    )
    mdt.goto(next_meeting.get_absolute_url())
    expect(mdt.locator("#agenda")).not_to_be_empty()
    expect(mdt.get_by_role("heading", name="Suggested for this meeting")).to_be_visible()
    assert_accessible(mdt)
    screenshot(mdt, "demo-agenda-builder")

    manager = sign_in(person, "manager")
    expect(manager.get_by_role("heading", level=1)).to_have_text("Performance")
    weeks_charted = manager.evaluate('() => Chart.getChart("chart-two-hour").data.datasets[0].data')
    assert len(weeks_charted) >= 8 and all(share is not None for share in weeks_charted[1:-1]), weeks_charted
    # Every row of a horizontal chart keeps its label (Chart.js skips some when crowded).
    labelled = manager.evaluate(
        """() => ["chart-source", "chart-reason", "chart-locality", "chart-outcomes", "chart-caseloads"]
          .map((id) => Chart.getChart(id)).filter(Boolean)
          .map((chart) => [chart.canvas.id, chart.scales.y.ticks.length, chart.data.labels.length])"""
    )
    assert len(labelled) == 5 and all(shown == rows for _, shown, rows in labelled), labelled
    assert_accessible(manager)
    screenshot(manager, "demo-dashboard")
