"""The day of each user, in a real browser (see conftest.py)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.models import Role
from feedback import services as feedback
from feedback.models import Response
from recovery_at_home import rota
from recovery_at_home import services as rah_services
from recovery_at_home.forms import DispatchForm
from recovery_at_home.models import Shift, Skill, TravelTime, TriageCategory
from referrals.models import Reason, Referral
from tests.e2e.conftest import assert_accessible, screenshot
from tests.factories import PatientFactory, ReferralFactory, UserFactory, valid_nhs_number


def test_a_gp_refers_a_new_patient_correcting_a_mistyped_nhs_number(world, person):
    gp = world.users["gp_a"]
    correct = valid_nhs_number(4242)
    mistyped = correct[:-1] + str((int(correct[-1]) + 1) % 10)  # the check digit no longer agrees
    page = person(gp, through_the_page=True)
    assert_accessible(page)

    page.get_by_role("link", name="Refer a patient").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Refer a patient")
    assert_accessible(page)
    page.get_by_label("NHS number").fill(mistyped)
    page.get_by_label("First name").fill("Edith")
    page.get_by_label("Last name").fill("Armstrong")
    page.get_by_label("Day").fill("12")
    page.get_by_label("Month").fill("4")
    page.get_by_label("Year").fill("1936")
    page.get_by_label("Recovery at Home").check()
    page.get_by_label("Reason").select_option(label="Fall without serious injury")
    page.get_by_label("Clinical summary").fill("Two falls this week, managing at home with help.")
    page.get_by_label("The person (or their representative) agrees to this referral").check()
    page.get_by_label("Your contact number").fill("0191 555 0100")
    page.get_by_role("button", name=re.compile("Send", re.IGNORECASE)).click()

    nhs_number = page.get_by_label("NHS number")
    expect(nhs_number).to_have_value(mistyped)  # what was typed stays
    # The error summary has the focus; its link takes it to the field.
    summary = page.locator(".atb-error-summary")
    expect(summary).to_be_focused()
    summary.get_by_role("link").first.click()
    expect(nhs_number).to_be_focused()
    expect(page.locator("#error_1_id_nhs_number, .invalid-feedback").first).to_be_visible()
    expect(page.get_by_label("Last name")).to_have_value("Armstrong")
    assert not Referral.objects.filter(patient__family_name="Armstrong").exists()
    assert_accessible(page)
    screenshot(page, "referral-form-error")

    nhs_number.fill(correct)
    page.get_by_label("The person (or their representative) agrees to this referral").check()
    page.get_by_role("button", name=re.compile("Send", re.IGNORECASE)).click()
    page.wait_for_url(re.compile(r"/referrals/ATB-\d{4}-\d{6}/$"))
    referral = Referral.objects.get(patient__family_name="Armstrong")
    expect(page.get_by_text(referral.reference).first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Referrals").click()
    expect(page.get_by_role("link", name="My referrals")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("link", name=referral.reference)).to_be_visible()
    assert_accessible(page)
    screenshot(page, "my-referrals")


def test_recovery_at_home_triages_dispatches_and_hands_over_to_the_cit(
    world, person, reference_data, quick_queue
):
    coordinator = person(world.users["rah_coordinator"])
    coordinator.get_by_role("navigation", name="Main").get_by_role("link", name="Queue").click()
    expect(coordinator.get_by_role("heading", level=1)).to_have_text("Recovery at Home queue")
    assert_accessible(coordinator)

    # A GP's referral arrives while the coordinator watches: no reload.
    referral = ReferralFactory(
        service=world.rah, patient=PatientFactory(family_name="Armstrong", practice=world.practice_a)
    )
    row = coordinator.locator(f'tr[data-reference="{referral.reference}"]')
    expect(row).to_be_visible(timeout=10_000)
    expect(row).to_contain_text("Not triaged")
    assert_accessible(coordinator)
    screenshot(coordinator, "queue")

    row.get_by_role("link", name=re.compile("ARMSTRONG")).click()
    coordinator.get_by_label("Triage category").select_option(label="Urgent community response (2 hours)")
    coordinator.get_by_role("button", name="Triage").click()
    expect(coordinator.get_by_text(f"Referral {referral.reference}: triaged.")).to_be_visible()
    responder_user = world.users["rah_responder"]
    as_listed = DispatchForm().fields["responder"].label_from_instance(responder_user)
    coordinator.get_by_label("Responder").select_option(label=as_listed)
    coordinator.get_by_role("button", name="Dispatch", exact=True).click()
    expect(coordinator.get_by_text("dispatched", exact=False).first).to_be_visible()
    assert_accessible(coordinator)

    responder = person(responder_user)
    responder.get_by_role("navigation", name="Main").get_by_role("link", name="My visits").click()
    expect(responder.get_by_text("ARMSTRONG", exact=False).first).to_be_visible()
    assert_accessible(responder)
    responder.get_by_role("button", name="Arrived now").click()
    responder.goto(referral.get_absolute_url())
    assert_accessible(responder)
    responder.get_by_text("Record the outcome and close").click()  # a disclosure (details)
    responder.get_by_label("Outcome").select_option(label="Handed to the Community Integrated Team")
    hand_over_note = responder.get_by_label("Note (for a hand-over: what the team should know)")
    hand_over_note.fill("Needs a care plan review.")
    responder.get_by_role("button", name="Record outcome").click()
    expect(responder.get_by_text("Handed to the Community Integrated Team").first).to_be_visible()
    assert_accessible(responder)

    coordinator.get_by_role("navigation", name="Main").get_by_role("link", name="Queue").click()
    expect(coordinator.locator(f'tr[data-reference="{referral.reference}"]')).to_have_count(0)
    assert_accessible(coordinator)
    referral.refresh_from_db()
    assert referral.episode.handover_referral is not None  # the team's referral, linked


def _handed_over(world):
    """A Recovery at Home referral of a patient of practice A, handed over to team A."""
    from recovery_at_home import services as rah_services
    from recovery_at_home.models import Outcome

    referral = ReferralFactory(
        service=world.rah, patient=PatientFactory(family_name="Armstrong", practice=world.practice_a)
    )
    episode = rah_services.record_outcome(
        referral=referral,
        user=world.users["rah_coordinator"],
        outcome=Outcome.HANDED_TO_CIT,
        note="Needs a care plan review.",
    )
    return episode.handover_referral


def test_a_cit_member_takes_the_hand_over_records_a_visit_and_flags_for_mdt(world, person, reference_data):
    hand_over = _handed_over(world)
    member = world.users["cit_member_a"]
    page = person(member)
    page.goto("/referrals/inbox/")
    assert_accessible(page)
    page.get_by_role("link", name=hand_over.reference).click()
    assert_accessible(page)
    page.get_by_role("link", name="Accept onto the caseload").click()
    assert_accessible(page)
    page.get_by_label("Key worker").select_option(label=str(member))
    page.get_by_role("button", name="Accept onto the caseload").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("ARMSTRONG")
    assert_accessible(page)

    page.get_by_text("Record a contact").click()
    page.get_by_label("Kind of contact").select_option(label="Home visit")
    page.get_by_label("Who made it").select_option(label=str(member))
    page.get_by_label("Duration (minutes)").fill("45")
    page.get_by_label("Notes").fill("Walked with a frame; daughter visiting daily.")
    page.get_by_role("button", name="Record contact").click()
    expect(page.get_by_text("Walked with a frame").first).to_be_visible()
    assert_accessible(page)
    screenshot(page, "caseload-entry")

    page.get_by_role("heading", level=1).get_by_role("link").click()  # the person's record
    page.locator("summary", has_text="Flag for MDT").click()
    page.get_by_label("Why should the MDT discuss this person?").fill("Falls and a new carer strain.")
    page.get_by_role("button", name="Flag for MDT").click()
    expect(page.get_by_text("Falls and a new carer strain.").first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My caseload").click()
    expect(page.get_by_text("ARMSTRONG", exact=False).first).to_be_visible()
    assert_accessible(page)
    screenshot(page, "caseload")


def test_an_mdt_coordinator_builds_publishes_and_records_the_meeting(world, person, reference_data):
    from core.models import Role
    from mdt import services as mdt_services
    from tests.factories import UserFactory, meeting_with_agenda

    coordinator = UserFactory(
        roles=[Role.MDT_COORDINATOR], practices=[world.practice_a], first_name="Mo", last_name="Coordinator"
    )
    flagged = PatientFactory(family_name="Armstrong", given_name="Edith", practice=world.practice_a)
    mdt_services.flag_for_mdt(patient=flagged, user=world.users["gp_a"], reason="Falls and carer strain.")
    meeting, _ = meeting_with_agenda(practice=world.practice_a, coordinator=coordinator, patients=[])
    page = person(coordinator)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="MDT meetings").click()
    assert_accessible(page)
    page.goto(meeting.get_absolute_url())
    expect(page.get_by_text("Flagged for MDT by")).to_be_visible()
    assert_accessible(page)

    screenshot(page, "agenda-builder")
    page.get_by_role("button", name=f"Add {flagged.full_name}").click()
    agenda = page.locator("#agenda")
    expect(agenda).to_contain_text("ARMSTRONG")
    page.get_by_role("button", name="Publish agenda").click()
    expect(page.get_by_role("button", name="Meeting held")).to_be_visible()
    assert_accessible(page)

    agenda.get_by_text("Presenter, question, discussion and outcome").click()
    agenda.get_by_label("Discussion").fill("Two falls; daughter struggling. Physio to assess.")
    agenda.get_by_label("Outcome").select_option(label="Refer to a service")
    agenda.get_by_role("button", name="Save").click()
    agenda.get_by_text("Agree an action").click()
    agenda.get_by_label("Action").fill("Falls clinic referral")
    agenda.get_by_label("Owner (a person)").select_option(label=str(coordinator))
    agenda.get_by_label("Due date").fill((timezone.localdate() + dt.timedelta(days=14)).isoformat())
    agenda.get_by_role("button", name="Add action").click()
    expect(page.locator("#agenda")).to_contain_text("Falls clinic referral")
    assert_accessible(page)
    item = meeting.items.get()
    assert item.outcome == "refer" and item.actions.get().description == "Falls clinic referral"


def test_a_service_manager_sees_the_two_hour_figure_change(world, person, reference_data):
    from datetime import timedelta

    from django.utils import timezone

    from core.models import Role
    from recovery_at_home import services as rah_services
    from recovery_at_home.models import TriageCategory
    from tests.factories import UserFactory

    def two_hour_response(minutes_to_reach: int) -> None:
        received = timezone.now() - timedelta(minutes=minutes_to_reach)
        referral = ReferralFactory(service=world.rah, received_at=received)
        coordinator = world.users["rah_coordinator"]
        urgent = TriageCategory.objects.get(code="urgent")
        rah_services.triage_referral(referral=referral, category=urgent, user=coordinator)
        rah_services.record_arrival(referral=referral, user=coordinator, arrived_at=timezone.now())

    two_hour_response(90)  # in time
    manager = person(UserFactory(roles=[Role.SERVICE_MANAGER]))
    manager.get_by_role("navigation", name="Main").get_by_role("link", name="Performance").click()
    share = manager.locator("#two-hour-share")
    expect(share).to_have_text("100%")
    assert_accessible(manager)

    two_hour_response(150)  # late
    manager.reload()
    expect(share).to_have_text("50%")
    expect(manager.get_by_text("1 of 2")).to_be_visible()
    # The 70% line is drawn across every week the chart names, and a horizontal chart is
    # as tall as its rows, so no label is clipped.
    drawn = manager.evaluate(
        """() => {
          const chart = Chart.getChart("chart-two-hour");
          const line = chart.data.datasets.find((set) => set.type === "line");
          const reasons = Chart.getChart("chart-reason");
          return {
            weeks: chart.data.labels.length,
            line: line.data.filter((value) => value === 70).length,
            lineVisible: line.pointRadius > 0 || chart.data.labels.length > 1,
            perRow: reasons.height / Math.max(reasons.data.labels.length, 3),
          };
        }"""
    )
    assert drawn["weeks"] >= 1 and drawn["line"] == drawn["weeks"] and drawn["lineVisible"]
    assert drawn["perRow"] >= 30, drawn
    assert_accessible(manager)
    screenshot(manager, "dashboard")


def _tab_to(page, name: str, *, value: str | None = None) -> None:
    """Press Tab until the field (and, for radios, the option) has the focus: a keyboard
    user's way through the form. Fails if it cannot be reached within 80 presses."""
    for _ in range(80):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => [document.activeElement.name, document.activeElement.value]")
        if focused[0] == name and (value is None or focused[1] == value):
            return
    raise AssertionError(f"{name} cannot be reached with the keyboard")


def test_a_gp_completes_the_referral_with_the_keyboard_alone(world, person):
    page = person(world.users["gp_a"])
    page.goto("/referrals/new/")
    page.keyboard.press("Tab")  # from the top of the page
    _tab_to(page, "nhs_number")
    page.keyboard.type(valid_nhs_number(4343))
    _tab_to(page, "date_of_birth_day")
    page.keyboard.type("12")
    _tab_to(page, "date_of_birth_month")
    page.keyboard.type("12")
    _tab_to(page, "date_of_birth_year")
    page.keyboard.type("1936")
    _tab_to(page, "given_name")
    page.keyboard.type("Edith")
    _tab_to(page, "family_name")
    page.keyboard.type("Keyboard")
    _tab_to(page, "service")
    page.keyboard.press("ArrowDown")  # from the first choice to Recovery at Home
    expect(page.get_by_label("Recovery at Home")).to_be_checked()
    _tab_to(page, "reason")
    page.keyboard.type("Fall")  # typing picks the option
    _tab_to(page, "clinical_summary")
    page.keyboard.type("Fell twice; keyboard-only referral.")
    _tab_to(page, "consent_to_referral")
    page.keyboard.press("Space")
    _tab_to(page, "referrer_phone")
    page.keyboard.type("0191 555 0100")
    _tab_to(page, "submit")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/referrals/ATB-\d{4}-\d{6}/$"))
    referral = Referral.objects.get(patient__family_name="Keyboard")
    expect(page.get_by_text(referral.reference).first).to_be_visible()
    assert referral.reason == "fall" and referral.service == world.rah
    assert referral.patient.date_of_birth.isoformat() == "1936-12-12"


@pytest.mark.parametrize("width", [1366, 820, 390], ids=["desk", "tablet", "phone"])
def test_the_queue_stops_and_says_so_when_signed_out_in_another_tab(
    world, person, reference_data, quick_queue, width
):
    """The coordinator signs out in a second tab; the queue's poll (every second here) is
    told it is signed out: a notice with a way back, in view at every width, no sign-in
    page inside the table or the navigation bar, and no more polling."""
    queue = person(world.users["rah_coordinator"], width=width)
    queue.goto("/recovery-at-home/queue/")
    polls = []
    queue.on("request", lambda request: polls.append(request.url) if "/queue/rows/" in request.url else None)
    queue.wait_for_timeout(1500)
    assert polls, "the queue polls"

    other_tab = queue.context.new_page()
    other_tab.goto("/referrals/inbox/")
    _sign_out(other_tab)
    queue.bring_to_front()  # back to the queue's tab, as the coordinator would

    notice = queue.locator("#atb-signed-out")
    expect(notice).to_be_visible(timeout=10_000)
    expect(notice).to_contain_text("You have been signed out")
    expect(notice.get_by_role("link", name="Sign in again")).to_have_attribute(
        "href", "/accounts/login/?next=/recovery-at-home/queue/"
    )
    expect(queue.locator("#queue-rows")).not_to_contain_text("Sign in")
    expect(queue.locator("main form input[name=password]")).to_have_count(0)
    expect(notice).to_be_in_viewport()
    assert queue.evaluate("() => document.documentElement.scrollWidth") <= width
    assert_accessible(queue)
    stopped_at = len(polls)
    queue.wait_for_timeout(2500)  # two more poll intervals
    assert len(polls) == stopped_at, "the poll stopped"


@pytest.mark.parametrize("width", [1366, 820, 390], ids=["desk", "tablet", "phone"])
def test_a_warning_comes_before_the_idle_timeout_and_stay_signed_in_renews(world, person, settings, width):
    """With a 10-second idle timeout: the warning at 5 seconds, in view at every width,
    then 'Stay signed in' keeps the session past the first timeout."""
    settings.SESSION_COOKIE_AGE = 10
    settings.SESSION_RENEW_SECONDS = 0
    gp = person(world.users["gp_a"], width=width)
    gp.goto("/referrals/")
    warning = gp.locator("#atb-idle-warning")
    expect(warning).to_be_hidden()
    expect(warning).to_be_visible(timeout=8_000)
    expect(warning).to_contain_text("You will be signed out at")
    expect(warning.get_by_role("button", name="Stay signed in")).to_be_in_viewport()
    assert_accessible(gp)
    gp.get_by_role("button", name="Stay signed in").click()
    expect(warning).to_be_hidden()
    if width == 1366:  # the renewal is the server's, whatever the width: waited for once
        gp.wait_for_timeout(6_000)  # past the first timeout: renewed, still signed in
        gp.reload()
        expect(gp.get_by_role("heading", level=1)).to_have_text("My referrals")


@pytest.mark.parametrize("width", [1366, 820, 390], ids=["desk", "tablet", "phone"])
def test_a_gp_refers_their_own_known_patient_without_retyping_them(world, person, width):
    """The number of one of the GP's own patients fills the empty name and date of birth
    from the record, the check answering under the number; Recovery at Home greys out the
    team list; on a phone nothing runs off the side."""
    patient = world.patient_a  # registered at gp_a's practice
    page = person(world.users["gp_a"], width=width)
    page.goto("/referrals/new/")

    page.get_by_label("NHS number").fill(patient.nhs_number_display)
    lookup = page.locator("#patient-lookup")
    expect(lookup).to_contain_text("Known patient")
    expect(page.get_by_label("First name")).to_have_value(patient.given_name)
    expect(page.get_by_label("Last name")).to_have_value(patient.family_name)
    expect(page.get_by_label("Year")).to_have_value(str(patient.date_of_birth.year))
    expect(lookup).to_contain_text("filled in from it")
    number_box = page.get_by_label("NHS number").bounding_box()
    assert lookup.bounding_box()["y"] > number_box["y"]  # under the number, not beside the date

    team = page.get_by_label("Community Integrated Team", exact=True)
    page.get_by_label("Recovery at Home").check()
    expect(team).to_be_disabled()
    page.get_by_label("Community Integrated Teams", exact=True).check()
    expect(team).to_be_enabled()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    assert_accessible(page)
    screenshot(page, f"referral-form-known-patient-{width}")


@pytest.mark.parametrize("width", [1366, 820, 390], ids=["desk", "tablet", "phone"])
def test_the_queue_fits_a_desk_a_tablet_and_a_phone(world, person, reference_data, width):
    """The coordinator's queue at each width: nothing runs off the side (it was 941 px wide
    on a 390 px phone), and on a tablet or phone each referral reads as labelled lines."""
    referral = ReferralFactory(
        service=world.rah, patient=PatientFactory(family_name="Armstrong", practice=world.practice_a)
    )
    page = person(world.users["rah_coordinator"], width=width)
    page.goto("/recovery-at-home/queue/")
    row = page.locator(f'tr[data-reference="{referral.reference}"]')
    expect(row).to_contain_text("Not triaged")

    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    assert row.bounding_box()["width"] <= width
    if width < 992:
        label = page.evaluate(
            "(row) => getComputedStyle(row.querySelector('td:nth-child(3)'), '::before').content",
            row.element_handle(),
        )
        assert label == '"Patient"'
    assert_accessible(page)
    screenshot(page, f"queue-{width}")


@pytest.mark.parametrize("width", [1366, 820, 390], ids=["desk", "tablet", "phone"])
def test_a_coordinator_finds_the_person_a_carer_rings_back_about(world, person, reference_data, width):
    """A daughter rings back from the number she gave: the coordinator searches it, opens
    the person, and the banner gives who they are, how to reach them and what visiting
    staff must know, at a desk, on a tablet and on a phone."""
    from core.models import Patient

    Patient.objects.filter(pk=world.patient_b.pk).update(
        family_name="Bell", address="12 Tunstall Road", postcode="SR2 7HN", phone="0191 498 0123",
        key_safety_information="Large dog: ring first.",
    )  # fmt: skip
    world.referral_b.referrer_phone = "0191 498 0789"
    world.referral_b.save()
    page = person(world.users["rah_coordinator"], width=width)
    page.goto("/")
    _go_by_navigation(page, "Find a patient")  # the navbar folds away on a tablet and a phone
    page.get_by_role("searchbox").fill("01914980789")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=re.compile("BELL")).click()

    banner = page.get_by_role("region", name="Patient")
    expect(banner).to_contain_text("12 Tunstall Road, SR2 7HN")
    expect(banner).to_contain_text(world.patient_b.nhs_number_display)
    expect(banner).to_contain_text("Large dog: ring first.")
    expect(banner.get_by_role("link", name="0191 498 0123")).to_have_attribute("href", "tel:+441914980123")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    assert_accessible(page)
    screenshot(page, f"patient-banner-{width}")


def _open_folded_navigation(page) -> None:
    """On a tablet or a phone, open the navigation and wait until it has finished opening
    (Bootstrap's `show`, after the sliding `collapsing`): a tap while it slides can miss."""
    menu = page.get_by_role("button", name="Show navigation")
    if menu.is_visible():
        menu.click()
        expect(page.locator("#atb-nav")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))


def _sign_out(page) -> None:
    _open_folded_navigation(page)
    with page.expect_navigation():  # the sign-out has been answered, not only clicked
        page.get_by_role("button", name="Sign out").click()


def _go_by_navigation(page, name) -> None:
    """Follow a link of the main navigation, opening it first where it folds away."""
    _open_folded_navigation(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


@pytest.mark.parametrize("width", [1366, 820, 390], ids=["desk", "tablet", "phone"])
def test_no_dead_ends_for_the_gp_the_responder_the_coordinator_and_the_admin(
    world, person, reference_data, settings, width
):
    """Each way that led to a 404, a 403 or a refused button now goes somewhere: the GP
    follows their patient's hand-over to the team and reaches their MDT actions; a
    responder comes to the queue through Alerts and is offered no phone-in; closed minutes
    offer no moving or removing; the administrator reaches the audit trail and the
    break-glass report. At a desk, on a tablet and on a phone."""
    from core.models import Role
    from mdt import services as mdt_services
    from recovery_at_home import services as rah_services
    from recovery_at_home.models import Outcome
    from tests.factories import UserFactory, meeting_with_agenda

    settings.ADMIN_TWO_FACTOR = False  # the administrator's sign-in has its own journey
    handover = rah_services.record_outcome(
        referral=world.referral_b, user=world.users["rah_coordinator"], outcome=Outcome.HANDED_TO_CIT
    ).handover_referral

    gp = person(world.users["gp_b"], width=width)  # who referred referral_b
    gp.goto(world.referral_b.get_absolute_url())
    gp.get_by_role("link", name=handover.reference).click()
    expect(gp.get_by_role("heading", level=1)).to_contain_text(handover.reference)
    assert_accessible(gp)
    _go_by_navigation(gp, "MDT actions")
    expect(gp.get_by_role("heading", level=1)).to_have_text("My MDT actions")

    responder = person(world.users["rah_responder"], width=width)
    _go_by_navigation(responder, re.compile(r"^Alerts"))
    expect(responder.get_by_role("heading", level=1)).to_have_text("Recovery at Home queue")
    expect(responder.get_by_role("link", name="Phone-in referral")).to_have_count(0)
    assert responder.evaluate("() => document.documentElement.scrollWidth") <= width

    coordinator = UserFactory(roles=[Role.MDT_COORDINATOR], practices=[world.practice_a])
    meeting, _ = meeting_with_agenda(
        practice=world.practice_a,
        coordinator=coordinator,
        patients=[world.patient_a],
        starts_at=timezone.now() - dt.timedelta(days=1),
    )
    for step in (mdt_services.publish_agenda, mdt_services.mark_held, mdt_services.close_minutes):
        step(meeting=meeting, user=coordinator)
    minutes = person(coordinator, width=width)
    minutes.goto(meeting.get_absolute_url())
    expect(minutes.get_by_text("The minutes are closed")).to_be_visible()
    expect(minutes.locator("#agenda")).to_contain_text(world.patient_a.family_name.upper())
    expect(minutes.get_by_role("button", name=re.compile(r"^(Remove|Move) "))).to_have_count(0)
    assert_accessible(minutes)

    admin = person(world.users["administrator"], width=width)
    expect(admin.get_by_role("heading", level=1)).to_have_text("Audit trail")  # where they start
    _go_by_navigation(admin, "Administration")
    admin.get_by_role("link", name="Break-glass report").click()  # from Django's admin, back
    expect(admin.get_by_role("heading", level=1)).to_contain_text("Break-glass")
    assert admin.evaluate("() => document.documentElement.scrollWidth") <= width
    assert_accessible(admin)


@pytest.mark.parametrize("width", [1366, 820, 390], ids=["desk", "tablet", "phone"])
def test_a_responder_goes_from_on_my_way_to_the_outcome_on_the_visit_card(
    world, person, reference_data, width
):
    """'On my way' says it was recorded; once arrived, the card's own button opens the
    outcome form; the card fits the screen."""
    from recovery_at_home import services as rah_services
    from recovery_at_home.models import TriageCategory

    coordinator, responder = world.users["rah_coordinator"], world.users["rah_responder"]
    referral = ReferralFactory(
        service=world.rah, patient=PatientFactory(family_name="Armstrong", practice=world.practice_a)
    )
    urgent = TriageCategory.objects.get(code="urgent")
    rah_services.triage_referral(referral=referral, category=urgent, user=coordinator)
    rah_services.dispatch_responder(referral=referral, responder=responder, user=coordinator)

    page = person(responder, width=width)
    card = page.locator("article.card", has_text="ARMSTRONG")
    card.get_by_role("button", name="On my way").click()
    expect(page.get_by_role("status")).to_contain_text("On your way to")
    expect(card).to_contain_text("On the way")
    card.get_by_role("button", name="Arrived now").click()
    expect(card).to_contain_text("Arrived")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    assert_accessible(page)
    screenshot(page, f"my-visits-{width}")

    card.get_by_role("link", name="Record the outcome").click()
    expect(page.get_by_label("Outcome")).to_be_visible()
    assert_accessible(page)


@pytest.mark.parametrize("width", [1366, 820, 390], ids=["desk", "tablet", "phone"])
def test_the_mdt_minutes_print_and_lead_back_to_the_meeting(world, person, reference_data, width):
    from core.models import Role
    from mdt import services as mdt_services
    from tests.factories import UserFactory, meeting_with_agenda

    coordinator = UserFactory(roles=[Role.MDT_COORDINATOR], practices=[world.practice_a])
    meeting, (item,) = meeting_with_agenda(
        practice=world.practice_a,
        coordinator=coordinator,
        patients=[world.patient_a],
        starts_at=timezone.now() - dt.timedelta(hours=2),
    )
    mdt_services.publish_agenda(meeting=meeting, user=coordinator)
    mdt_services.mark_held(meeting=meeting, user=coordinator)
    mdt_services.update_item(item=item, user=coordinator, discussion="Two falls; physio to assess.")
    mdt_services.close_minutes(meeting=meeting, user=coordinator)

    page = person(coordinator, width=width)
    page.goto(meeting.get_absolute_url())
    page.get_by_role("link", name="Print minutes").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("MDT minutes")
    expect(page.get_by_text("Two falls; physio to assess.")).to_be_visible()
    assert_accessible(page)
    page.evaluate("() => { window.print = () => { window.atbPrinted = true; }; }")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("() => window.atbPrinted === true")
    page.get_by_role("link", name="Back to the meeting").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("MDT: ")


def _typed(moment: dt.datetime) -> str:
    """A moment as a datetime-local box takes it: UK time."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_a_coordinator_builds_the_rota_dispatches_by_the_suggestion_and_discharges_the_care(
    world, person, reference_data
):
    """Issue 22's journey: tomorrow's rota built; today's fall dispatched to the responder
    "Who can go" puts first; the first visit and two follow-on care visits recorded on a
    tablet; the care discharged to the team. axe on every page."""
    coordinator, lead = world.users["rah_coordinator"], world.users["rah_coordinator"]
    now = timezone.now()
    fay = UserFactory(roles=[Role.RAH_RESPONDER], first_name="Fay", last_name="Falls", discipline="nurse")
    nat = UserFactory(roles=[Role.RAH_RESPONDER], first_name="Nat", last_name="Near", discipline="nurse")
    rota.add_shift(
        staff=fay,
        starts_at=now - dt.timedelta(hours=2),
        ends_at=now + dt.timedelta(hours=8),
        user=lead,
        skills=[Skill.FALLS_ASSESSMENT],
    )
    rota.add_shift(
        staff=nat, starts_at=now - dt.timedelta(hours=2), ends_at=now + dt.timedelta(hours=8), user=lead
    )
    TravelTime.objects.create(origin=None, destination=world.practice_b.neighbourhood, minutes=15)
    referral = ReferralFactory(
        service=world.rah,
        patient=PatientFactory(family_name="Armstrong", practice=world.practice_b),
        reason=Reason.FALL,
    )
    rah_services.triage_referral(
        referral=referral, category=TriageCategory.objects.get(code="urgent"), user=coordinator
    )

    # Tomorrow's rota: Fay on the day shift.
    page = person(coordinator)
    page.goto("/recovery-at-home/rota/")
    assert_accessible(page)
    tomorrow = timezone.localtime(now).replace(hour=8, minute=0, second=0, microsecond=0) + dt.timedelta(
        days=1
    )
    form = page.locator("form", has=page.get_by_role("button", name="Add shift"))
    form.get_by_label("Who").select_option(label=DispatchForm().fields["responder"].label_from_instance(fay))
    form.get_by_label("Starts (UK time)").fill(_typed(tomorrow))
    form.get_by_label("Ends (UK time)").fill(_typed(tomorrow + dt.timedelta(hours=12)))
    form.get_by_label("Falls assessment").check()
    form.get_by_role("button", name="Add shift").click()
    expect(page.get_by_role("status").first).to_contain_text("On the rota:")
    assert Shift.objects.filter(staff=fay, starts_at=tomorrow).exists()
    assert_accessible(page)

    # The fall: Fay has the falls assessment, so she comes first; the coordinator sends her.
    page.goto(referral.get_absolute_url())
    suggestions = page.locator(".atb-who-can-go > li")
    expect(suggestions.first).to_contain_text("Fay Falls")
    expect(suggestions.nth(1)).to_contain_text("No falls assessment on this shift")
    assert_accessible(page)
    suggestions.first.get_by_role("button", name="Dispatch Fay Falls").click()
    expect(page.get_by_role("status").first).to_contain_text("responder dispatched")

    # On a tablet, Fay goes, arrives and records that the person stays at home with care.
    tablet = person(fay, width=820)
    card = tablet.locator("article.card", has_text="ARMSTRONG")
    card.get_by_role("button", name="On my way").click()
    card.get_by_role("button", name="Arrived now").click()
    expect(card).to_contain_text("Arrived")
    card.get_by_role("link", name="Record the outcome").click()
    tablet.get_by_label("Outcome").select_option(label="Remained at home with short-term care")
    tablet.get_by_label("Planned end of short-term care").fill(
        (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    )
    tablet.get_by_role("button", name="Record outcome").click()
    expect(tablet.get_by_role("heading", name="Short-term care")).to_be_visible()
    assert_accessible(tablet)

    # She plans the two visits that follow, and records each as done from her day.
    for tasks, start in (("Help with washing", now - dt.timedelta(minutes=30)), ("Medication prompt", now)):
        tablet.get_by_text("Plan a visit", exact=True).click()
        plan = tablet.locator("form", has=tablet.get_by_role("button", name="Plan the visit"))
        plan.get_by_label("Responder").select_option(
            label=DispatchForm().fields["responder"].label_from_instance(fay)
        )
        plan.get_by_label("From (UK time)").fill(_typed(start))
        plan.get_by_label("Until (UK time)").fill(_typed(start + dt.timedelta(hours=1)))
        plan.get_by_label("Tasks (what the visit is for)").fill(tasks)
        plan.get_by_role("button", name="Plan the visit").click()
        expect(tablet.get_by_role("status").first).to_contain_text("care visit planned")
    tablet.goto("/recovery-at-home/visits/")
    assert_accessible(tablet)
    for tasks in ("Help with washing", "Medication prompt"):
        tablet.locator("article.card", has_text=tasks).get_by_role("button", name="Visit done").click()
        expect(tablet.get_by_role("status").first).to_contain_text("recorded: done")
    assert tablet.evaluate("() => document.documentElement.scrollWidth") <= 820
    assert_accessible(tablet)

    # The coordinator reviews and discharges the care to the team: the referral closes.
    page.goto(referral.get_absolute_url())
    page.get_by_text("Review and discharge", exact=True).click()
    page.get_by_label("Discharge").select_option(label="To the Community Integrated Team")
    page.get_by_role("button", name="Discharge from short-term care").click()
    expect(page.get_by_role("status").first).to_contain_text("discharged from short-term care")
    assert_accessible(page)
    referral.refresh_from_db()
    assert referral.status == "closed" and "then to the community integrated team" in referral.outcome
    assert Referral.objects.filter(service__code="cit", patient=referral.patient).exists()


@pytest.mark.parametrize("width", [1366, 820, 390], ids=["desk", "tablet", "phone"])
def test_the_rota_week_and_day_fit_a_desk_a_tablet_and_a_phone(world, person, width):
    """The rota's tables scroll within themselves: their hidden "Change" labels once
    widened a phone's page to 609 px."""
    lead = world.users["rah_coordinator"]
    start = timezone.localtime().replace(hour=8, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    for person_on_shift in (world.users["rah_responder"], lead):
        rota.add_shift(
            staff=person_on_shift, starts_at=start, ends_at=start + dt.timedelta(hours=12), user=lead
        )
    page = person(lead, width=width)
    for path in (
        f"/recovery-at-home/rota/?day={start.date()}",
        f"/recovery-at-home/rota/?view=day&day={start.date()}",
    ):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_contain_text("Rota")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        assert_accessible(page)


def _refer_to_recovery_at_home(page, *, family_name: str) -> Referral:
    page.goto("/referrals/")
    page.get_by_role("link", name="Refer a patient").first.click()
    page.get_by_label("First name").fill("Alma")
    page.get_by_label("Last name").fill(family_name)
    page.get_by_label("Day").fill("3")
    page.get_by_label("Month").fill("9")
    page.get_by_label("Year").fill("1939")
    page.get_by_label("Recovery at Home").check()
    page.get_by_label("Reason").select_option(label="Fall without serious injury")
    page.get_by_label("The person (or their representative) agrees to this referral").check()
    page.get_by_label("Your contact number").fill("0191 555 0100")
    page.get_by_role("button", name=re.compile("Send", re.IGNORECASE)).click()
    page.wait_for_url(re.compile(r"/referrals/ATB-\d{4}-\d{6}/$"))
    return Referral.objects.get(patient__family_name=family_name)


def test_a_gp_sees_the_referral_progress_to_the_outcome_letter_and_withdraws_another(
    world, person, reference_data, settings
):
    settings.UPDATES_POLL_SECONDS = 1
    gp, coordinator, responder = (
        world.users["gp_a"],
        world.users["rah_coordinator"],
        world.users["rah_responder"],
    )
    page = person(gp)
    followed = _refer_to_recovery_at_home(page, family_name="Lindqvist")
    second = _refer_to_recovery_at_home(page, family_name="Okafor")

    page.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile("^Updates")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What happened to my referrals")
    rows = page.locator("#update-rows")
    # Recovery at Home acts; the GP's page shows each step as it happens, without a reload.
    rah_services.triage_referral(
        referral=followed, category=TriageCategory.objects.get(code="urgent"), user=coordinator
    )
    expect(rows.get_by_text("Accepted by Recovery at Home")).to_be_visible(timeout=10_000)
    expect(rows.get_by_text("New").first).to_be_visible()
    rah_services.record_arrival(referral=followed, user=responder)
    expect(rows.get_by_text("First contact made by Recovery at Home")).to_be_visible(timeout=10_000)
    rah_services.record_outcome(
        referral=followed, user=responder, outcome="hospital", note="Hip pain on standing"
    )
    expect(rows.get_by_text("Closed by Recovery at Home")).to_be_visible(timeout=10_000)
    assert_accessible(page)
    screenshot(page, "referrer-updates")

    rows.get_by_role("link", name=followed.reference).first.click()
    page.get_by_role("link", name="Outcome letter to the practice").click()
    expect(page.get_by_role("heading", name="What was done")).to_be_visible()
    expect(page.get_by_text("Hip pain on standing")).to_be_visible()
    expect(page.get_by_role("link", name="Download as PDF")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "outcome-letter")

    # The second is not accepted yet: the GP withdraws it, saying why.
    page.goto(second.get_absolute_url())
    page.get_by_text("Withdraw it", exact=True).click()
    page.get_by_label("Why are you withdrawing it?").fill("Admitted to hospital overnight")
    page.get_by_role("button", name="Withdraw the referral").click()
    expect(page.get_by_text(f"Referral {second.reference}: withdrawn.")).to_be_visible()
    expect(page.get_by_text("Admitted to hospital overnight").first).to_be_visible()
    assert_accessible(page)
    second.refresh_from_db()
    assert second.status == "withdrawn"


def test_a_person_answers_the_friends_and_family_test_on_a_phone(world, browser, live_server):
    feedback.invite(occasion="journey", service=world.rah, team=None, neighbourhood=None)
    token = feedback.reissue(occasion="journey")
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        locale="en-GB",
        timezone_id="Europe/London",
    )
    page = context.new_page()
    page.goto(f"/feedback/f/{token}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Your feedback on {world.rah}")
    assert_accessible(page)
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_text("Choose one answer.").first).to_be_visible()  # said beside the question
    page.get_by_label("Very good").check()
    page.get_by_label(re.compile("Please tell us why")).fill("They came within the hour and stayed calm.")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    assert_accessible(page)
    screenshot(page, "feedback-phone")
    assert Response.objects.get().answer == "very_good"
    page.goto(f"/feedback/f/{token}/")  # the same link again: used
    expect(page.get_by_text("used already")).to_be_visible()
    context.close()


def test_a_cit_member_refers_a_carer_to_the_carers_centre_who_accept_and_record_the_outcome(
    world, person, reference_data
):
    """The carer becomes a person, is referred in two clicks from the person's page, the
    Centre's worker sees only the referral's minimum, accepts, records what was offered
    and the outcome; the team sees it beside the person. axe on every page."""
    member, worker = world.users["cit_member_a"], world.users["partner_staff"]
    page = person(member)
    page.goto(world.patient_a.get_absolute_url())
    page.get_by_role("link", name="Add a carer").click()
    assert_accessible(page)
    page.get_by_label("Carer's first name").fill("Jean")
    page.get_by_label("Carer's last name").fill("Hallworth")
    page.get_by_label("Relationship").fill("wife")
    page.get_by_label("Carer's phone").fill("0191 514 0000")
    page.get_by_label("The carer agrees that this person's care team sees their referrals").check()
    page.get_by_role("button", name="Add the carer").click()
    expect(page.get_by_text("Jean Hallworth is recorded as")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Refer Jean to Sunderland Carers Centre").click()  # click one
    assert_accessible(page)
    expect(page.get_by_label("Sunderland Carers Centre: Carer's assessment and support")).to_be_checked()
    page.get_by_label("What would they like help with?").fill("Nights are hard; would like a break.")
    page.get_by_label("They agree to this referral").check()
    page.get_by_role("button", name="Send the referral").click()  # click two
    expect(page.get_by_text("is sent to Sunderland Carers Centre")).to_be_visible()
    referral = Referral.objects.get(service=world.carers_centre)

    centre = person(worker)
    centre.goto("/partners/")
    assert_accessible(centre)
    centre.get_by_role("link", name="HALLWORTH, Jean").click()
    expect(centre.get_by_text("Nights are hard; would like a break.")).to_be_visible()
    expect(centre.get_by_text("the wife of the person they care for")).to_be_visible()
    expect(centre.locator("body")).not_to_contain_text(world.patient_a.family_name)
    assert_accessible(centre)
    centre.get_by_role("button", name="Accept").click()
    expect(centre.get_by_text("Accepted: the referrer is told.")).to_be_visible()
    assert_accessible(centre)
    centre.get_by_label("Caring for someone").check()
    centre.get_by_label("Carer's assessment", exact=True).check()
    centre.get_by_label("What was offered, in words").fill("Sitting service on Thursdays.")
    centre.get_by_role("button", name="Record what was offered").click()
    expect(centre.get_by_text("Recorded what was offered.")).to_be_visible()
    centre.get_by_label("Break for the carer arranged").check()
    centre.get_by_label("The outcome, in words").fill("Thursdays booked")
    centre.get_by_role("button", name="Record the outcome and close").click()
    expect(centre.locator("#status")).to_have_text("Closed")
    assert_accessible(centre)
    screenshot(centre, "partner-referral")

    page.goto(world.patient_a.get_absolute_url())
    expect(page.locator("#carers")).to_contain_text("Break for the carer arranged. Thursdays booked")
    assert_accessible(page)
    referral.refresh_from_db()
    assert referral.status == "closed"
