"""Who may open what. The matrix has a row for every URL name outside the admin (which
has its own staff permissions); a new URL without a row fails `test_every_url_is_in_the_matrix`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from closed_loop.models import OutcomeLetter
from core.models import AuditAction, AuditEvent
from recovery_at_home.models import Shift
from recovery_at_home.rota import add_shift
from tests.urls import walk

PUBLIC = {"login", "admin:login", "healthz"}  # the two sign-in pages and the health check
# The person's feedback link needs no sign-in; a made-up one finds nothing.
PUBLIC_NOT_FOUND = {"feedback:answer"}
# The API authenticates by token or session and answers 401 JSON, not a sign-in page;
# its browsable docs are a page for people, behind the sign-in page.
API_401 = {name for name, _ in walk() if name.startswith(("api:", "fhir:")) and name != "api:docs"}

ROLES = [
    "gp_a",
    "gp_b",
    "rah_coordinator",
    "rah_responder",
    "cit_member_a",
    "mdt_coordinator_a",
    "service_manager",
    "administrator",
    "partner_staff",
]


# url name -> (args from the world, {role: expected status}); roles not listed get `default`.
# patient_a is registered at practice A (neighbourhood A): gp_a, cit_member_a and
# mdt_coordinator_a have a relationship with them; nobody else does.
def _patient_a(world):
    return [world.patient_a.pk]


def _referral_a(world):
    return [world.referral_a.reference]


def _team_a(world):
    return [world.team_a.pk]


def _entry_a(world):
    """referral_a accepted onto team A's caseload (cit_member_a is its key worker)."""
    from teams.services import accept_onto_caseload

    member = world.users["cit_member_a"]
    return [accept_onto_caseload(referral=world.referral_a, key_worker=member, user=member).pk]


def _shift(world):
    """Tomorrow's day shift for the responder (the one already made, when asked again)."""
    existing = Shift.objects.filter(staff=world.users["rah_responder"]).first()
    if existing is not None:
        return [existing.pk]
    start = timezone.localtime().replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(days=1)
    lead = world.users["rah_coordinator"]
    return [
        add_shift(
            staff=world.users["rah_responder"],
            starts_at=start,
            ends_at=start + timedelta(hours=12),
            user=lead,
        ).pk
    ]


def _entry_a_and(*more):
    return lambda world: [*_entry_a(world), *more]


def _letter_a(world):
    """An outcome letter about patient_a (team A's discharge of referral_a)."""
    letter, _ = OutcomeLetter.objects.get_or_create(
        key="matrix-letter-a",
        defaults={
            "patient": world.patient_a,
            "practice": world.practice_a,
            "referral": world.referral_a,
            "occasion": OutcomeLetter.Occasion.CASELOAD_DISCHARGE,
            "title": "Team A: outcome",
            "what_was_done": "Four visits.",
            "outcome": "Goals met",
            "written_by": world.users["cit_member_a"],
        },
    )
    return [letter.pk]


CIT_ONLY = {"cit_member_a": 200}
MDT_A = {"mdt_coordinator_a": 200}


def _meeting_a(world, *more):
    """A planned MDT of practice A (mdt_coordinator_a's) with patient_a on the agenda."""
    from tests.factories import meeting_with_agenda

    meeting, items = meeting_with_agenda(
        practice=world.practice_a, coordinator=world.users["mdt_coordinator_a"], patients=[world.patient_a]
    )
    return [meeting.pk, *([items[0].pk] if more else [])]


def _meeting_item_a(world):
    return _meeting_a(world, "item")


def _partner_referral_a(world):
    """cit_member_a's referral of patient_a on to the Carers Centre (partner_staff's)."""
    from partners.services import refer_to_partner

    referral = world.patient_a.referrals.filter(service=world.carers_centre).first() or refer_to_partner(
        person=world.patient_a,
        service=world.carers_centre,
        user=world.users["cit_member_a"],
        reason="carers_assessment",
        consent_to_referral=True,
    )
    return [referral.reference]


# Who refers patient_a on to a partner: those who work with them; others with the role
# find no such person; other roles may not.
REFER_ON_A = {"gp_a": 200, "cit_member_a": 200, "gp_b": 404, "rah_coordinator": 404, "rah_responder": 404}

MATRIX = {
    "home": (None, {}, 302),
    "login": (None, {}, 302),  # signed in already: sent on to their work
    "logout": (None, {}, 405),  # only POST signs out
    "stay_signed_in": (None, {}, 405),  # only POST renews
    "password_change": (None, {}, 200),
    "password_change_done": (None, {}, 200),
    "healthz": (None, {}, 200),
    # Anyone may add an authenticator app; the code page sends on whoever needs none now.
    "two_factor_setup": (None, {}, 200),
    "two_factor_verify": (None, {}, 302),
    "patient_list": (
        None,
        {
            "gp_a": 200,
            "gp_b": 200,
            "cit_member_a": 200,
            "mdt_coordinator_a": 200,
            "rah_coordinator": 200,
            "rah_responder": 200,
        },
        403,
    ),
    "patient_create": (None, {"gp_a": 200, "gp_b": 200}, 403),
    "patient_detail": (_patient_a, {"gp_a": 200, "cit_member_a": 200, "mdt_coordinator_a": 200}, 404),
    "patient_update": (_patient_a, {"gp_a": 200, "cit_member_a": 200, "mdt_coordinator_a": 200}, 404),
    "service_overview": (None, {"service_manager": 200, "administrator": 200}, 403),
    "performance": (
        None,
        {"service_manager": 200, "administrator": 200, "cit_member_a": 200, "rah_coordinator": 200},
        403,
    ),
    # The referrals behind a national figure: Recovery at Home's coordinators, not managers.
    "performance_figure": (lambda world: ["two_hour_met"], {"rah_coordinator": 200}, 403),
    "duplicate_patients": (None, {"administrator": 200}, 404),  # lists people: administrators only
    # Emergency access is for clinical roles; managers and administrators work with aggregates.
    # Partner staff have no break-glass: they see the people referred to them, no one else.
    "break_glass": (None, {"service_manager": 403, "administrator": 403, "partner_staff": 403}, 200),
    "audit_search": (None, {"administrator": 200}, 404),
    "patient_access_log": (_patient_a, {"administrator": 200}, 404),
    "break_glass_report": (None, {"administrator": 200}, 404),
    "merge_patients": (lambda world: [world.patient_a.pk, world.patient_b.pk], {"administrator": 200}, 404),
    "referrals:home": (None, {"gp_a": 200, "gp_b": 200}, 403),
    "referrals:practice": (None, {"gp_a": 200, "gp_b": 200}, 403),
    "referrals:inbox": (None, {"rah_coordinator": 200, "rah_responder": 200, "cit_member_a": 200}, 403),
    "referrals:create": (None, {"gp_a": 200, "gp_b": 200, "cit_member_a": 200, "rah_coordinator": 200}, 403),
    "referrals:phone_in": (None, {"rah_coordinator": 200}, 403),
    "referral_export": (None, {"service_manager": 200, "administrator": 200}, 403),  # no patient identifiers
    "referrals:patient_lookup": (
        None,
        {"gp_a": 200, "gp_b": 200, "cit_member_a": 200, "rah_coordinator": 200},
        403,
    ),
    # referral_a: gp_a's referral of patient_a to team A's CIT.
    "referral_detail": (_referral_a, {"gp_a": 200, "cit_member_a": 200, "mdt_coordinator_a": 200}, 404),
    "referrals:act": (lambda world: [world.referral_a.reference, "accept"], {}, 405),  # POST only
    "referrals:identity": (lambda world: [world.referral_a.reference, "confirm"], {}, 405),  # POST only
    "referrals:withdraw": (_referral_a, {}, 405),  # POST only
    # Only the referrer corrects; those who see the referral but did not send it are refused.
    "referrals:correct": (_referral_a, {"gp_a": 200, "cit_member_a": 403, "mdt_coordinator_a": 403}, 404),
    # A referrer's own updates: the list is theirs alone, whoever else signs in.
    "contact_consent": (_referral_a, {}, 405),  # POST only
    "mdt:case_finding": (None, MDT_A, 404),
    # Feedback: a made-up link finds nothing, for anyone; the staff's pages by role.
    "feedback:answer": (lambda world: ["made-up-link-made-up-link-made-up-link-made"], {}, 404),
    "feedback:paper": (
        None,
        {"rah_coordinator": 200, "rah_responder": 200, "cit_member_a": 200, "service_manager": 200},
        403,
    ),
    "feedback:review": (None, {"service_manager": 200}, 403),  # comments before anyone else
    "feedback:pulse": (None, {"rah_coordinator": 200, "rah_responder": 200, "cit_member_a": 200}, 403),
    "feedback:decide": (lambda world: [1, "show"], {}, 405),  # POST only
    "feedback:decide_pulse": (lambda world: [1, "show"], {}, 405),
    "feedback:figures": (
        None,
        {"service_manager": 200, "administrator": 200, "rah_coordinator": 200, "cit_member_a": 200},
        403,
    ),
    # Partners: the inbox and a referral's minimum page for the partner's staff alone.
    "partners:inbox": (None, {"partner_staff": 200}, 404),
    "partners:referral": (_partner_referral_a, {"partner_staff": 200}, 404),
    "partners:act": (lambda world: [*_partner_referral_a(world), "accept"], {}, 405),  # POST only
    "partners:refer_on": (_patient_a, REFER_ON_A, 403),
    "partners:add_carer": (_patient_a, REFER_ON_A, 403),
    "partners:figures": (
        None,
        {"service_manager": 200, "administrator": 200, "rah_coordinator": 200, "cit_member_a": 200},
        403,
    ),
    "feedback_on_tablet": (
        _referral_a,
        {},
        405,
    ),  # POST only  # lists people: MDT coordinators of a practice only
    "closed_loop:updates": (None, {"gp_a": 200, "gp_b": 200}, 403),
    "closed_loop:updates_rows": (None, {"gp_a": 200, "gp_b": 200}, 403),
    "closed_loop:update_settings": (None, {"gp_a": 200, "gp_b": 200}, 403),
    "api:referral-list": (None, {}, 200),  # everyone gets the list of what they may see
    "api:referral-detail": (_referral_a, {"gp_a": 200, "cit_member_a": 200, "mdt_coordinator_a": 200}, 404),
    "api:referral-accept": (_referral_a, {}, 405),  # transitions are POST only
    "api:referral-decline": (_referral_a, {}, 405),
    "api:referral-redirect": (_referral_a, {}, 405),
    "api:referral-start": (_referral_a, {}, 405),
    "api:referral-close": (_referral_a, {}, 405),
    "api:referral-notes": (_referral_a, {}, 405),
    "api:referral-withdraw": (_referral_a, {}, 405),
    "api:referral-correct": (_referral_a, {}, 405),
    "api:referral-confirm-identity": (_referral_a, {}, 405),
    "api:referral-separate-identity": (_referral_a, {}, 405),
    # The clock's actions and the caseload entry's: POST only, like the pages' forms.
    **{
        f"api:rah-{action}": (lambda world: [world.referral_b.reference], {}, 405)
        for action in (
            "triage",
            "agree-later",
            "dispatch",
            "arrival",
            "outcome",
            "reablement-needed",
            "reablement-started",
            "plan-visit",
            "record-visit",
            "discharge-care",
        )
    },
    # The visit, bed and alert actions: POST only too.
    **{
        f"api:rah-{name}": (lambda world: [1], {}, 405)
        for name in ("bed-discharge", "on-the-way", "visit-arrival", "acknowledge")
    },
    **{
        f"api:entry-{action}": (_entry_a, {}, 405)
        for action in ("contacts", "goals", "reviews", "key-worker", "discharge")
    },
    "api:rah-queue": (None, {"rah_coordinator": 200, "rah_responder": 200}, 404),
    "api:rah-visits": (None, {"rah_responder": 200}, 404),
    "api:rah-beds": (None, {"rah_coordinator": 200, "rah_responder": 200}, 404),
    "api:rah-capacity": (None, {"rah_coordinator": 200, "rah_responder": 200}, 404),  # counts only
    "api:rah-shifts": (None, {"rah_coordinator": 200, "rah_responder": 200}, 404),  # staff, no people
    "api:rah-care-visits": (None, {"rah_responder": 200}, 404),
    "api:rah-who-can-go": (lambda world: [world.referral_b.reference], {"rah_coordinator": 200}, 404),
    "api:schema": (None, {}, 200),
    "fhir:patient": (_patient_a, {"gp_a": 200, "cit_member_a": 200, "mdt_coordinator_a": 200}, 404),
    "fhir:service-request": (_referral_a, {"gp_a": 200, "cit_member_a": 200, "mdt_coordinator_a": 200}, 404),
    "fhir:process-message": (None, {}, 405),  # POST only
    # Outcome letters: the people the user may see (the practice, the team), else 404.
    "fhir:document-reference": (_letter_a, {"gp_a": 200, "cit_member_a": 200, "mdt_coordinator_a": 200}, 404),
    # gp_a also made referral_a: its own referrer may read the letter as it sent the person.
    "fhir:binary": (_letter_a, {"gp_a": 200, "cit_member_a": 200, "mdt_coordinator_a": 200}, 404),
    "closed_loop:letter": (_letter_a, {"gp_a": 200, "cit_member_a": 200, "mdt_coordinator_a": 200}, 404),
    "closed_loop:letter_pdf": (_letter_a, {"gp_a": 200, "cit_member_a": 200, "mdt_coordinator_a": 200}, 404),
    "closed_loop:letters": (None, {"gp_a": 200, "gp_b": 200, "mdt_coordinator_a": 200}, 403),
    "api:docs": (None, {}, 200),
    "recovery_at_home:home": (None, {"rah_coordinator": 200, "rah_responder": 200}, 403),
    # The queue shows people: outside Recovery at Home it does not exist.
    "recovery_at_home:queue": (None, {"rah_coordinator": 200, "rah_responder": 200}, 404),
    "recovery_at_home:queue_rows": (None, {"rah_coordinator": 200, "rah_responder": 200}, 404),
    "recovery_at_home:queue_capacity": (None, {"rah_coordinator": 200, "rah_responder": 200}, 404),
    "referral_clock_action": (lambda world: [world.referral_b.reference, "triage"], {}, 405),  # POST only
    "recovery_at_home:my_visits": (None, {"rah_responder": 200}, 403),
    "recovery_at_home:acknowledge": (lambda world: [1], {}, 405),  # POST only
    "recovery_at_home:alert_count": (None, {"rah_coordinator": 200, "rah_responder": 200}, 404),
    "recovery_at_home:beds": (None, {"rah_coordinator": 200, "rah_responder": 200}, 404),  # shows people
    "recovery_at_home:rota": (None, {"rah_coordinator": 200, "rah_responder": 200}, 403),  # staff, no people
    "recovery_at_home:shift_change": (_shift, {"rah_coordinator": 200}, 403),  # the rota's keeper
    "recovery_at_home:shift_remove": (_shift, {}, 405),  # POST only
    "recovery_at_home:discharge": (lambda world: [1], {}, 405),
    "recovery_at_home:on_the_way": (lambda world: [1], {}, 405),  # POST only
    "recovery_at_home:visit_arrival": (lambda world: [1], {}, 405),
    "recovery_at_home:record_planned_visit": (lambda world: [1], {}, 405),  # POST only
    "teams:home": (None, {"cit_member_a": 302}, 403),  # a member of one team goes to it
    "teams:dashboard": (_team_a, CIT_ONLY, 403),  # counts and staff names only
    # The pages that show people do not exist for other roles.
    "teams:caseload": (_team_a, CIT_ONLY, 404),
    "teams:reassign": (_team_a, {"cit_member_a": 405}, 404),  # POST only
    "teams:my_caseload": (None, CIT_ONLY, 404),
    "teams:accept": (_referral_a, CIT_ONLY, 404),
    "teams:entry": (_entry_a, CIT_ONLY, 404),
    "teams:record_contact": (_entry_a, {"cit_member_a": 405}, 404),
    "teams:add_goal": (_entry_a, {"cit_member_a": 405}, 404),
    "teams:goal_status": (_entry_a_and(1), {"cit_member_a": 405}, 404),
    "teams:review": (_entry_a, {"cit_member_a": 405}, 404),
    "teams:change_key_worker": (_entry_a, {"cit_member_a": 405}, 404),
    "teams:discharge": (_entry_a, {"cit_member_a": 405}, 404),
    "api:team-caseload": (_team_a, CIT_ONLY, 404),
    "api:team-accept": (_referral_a, {}, 405),  # POST only
    "api:my-caseload": (None, CIT_ONLY, 404),
    "api:performance": (None, {"service_manager": 200, "administrator": 200, "cit_member_a": 200}, 403),
    "api:patient-list": (
        None,
        {
            "gp_a": 200,
            "gp_b": 200,
            "cit_member_a": 200,
            "mdt_coordinator_a": 200,
            "rah_coordinator": 200,
            "rah_responder": 200,
        },
        403,
    ),
    "api:mdt-meetings": (None, MDT_A, 404),
    "api:mdt-agenda": (_meeting_a, MDT_A, 404),
    "api:mdt-actions": (None, {}, 200),  # everyone's own actions (none here)
    "mdt:home": (None, {"mdt_coordinator_a": 200}, 403),
    "mdt:flag": (_patient_a, {}, 405),  # POST only
    "mdt:create_meeting": (None, {"mdt_coordinator_a": 405}, 403),  # POST only
    "mdt:create_schedule": (None, {"mdt_coordinator_a": 405}, 403),
    # A meeting's pages exist only for its practice's coordinators.
    "mdt:meeting": (_meeting_a, MDT_A, 404),
    "mdt:print": (_meeting_a, MDT_A, 404),
    "mdt:add_item": (_meeting_a, {"mdt_coordinator_a": 405}, 404),
    "mdt:update_item": (_meeting_item_a, {"mdt_coordinator_a": 405}, 404),
    "mdt:remove_item": (_meeting_item_a, {"mdt_coordinator_a": 405}, 404),
    "mdt:move_item": (_meeting_item_a, {"mdt_coordinator_a": 405}, 404),
    "mdt:add_action": (_meeting_item_a, {"mdt_coordinator_a": 405}, 404),
    "mdt:invite": (_meeting_a, {"mdt_coordinator_a": 405}, 404),
    "mdt:attendance": (_meeting_a, {"mdt_coordinator_a": 405}, 404),
    "mdt:step": (lambda world: [*_meeting_a(world), "publish"], {"mdt_coordinator_a": 405}, 404),
    # Everyone's own actions (professional roles); status changes are POST only.
    "mdt:my_actions": (
        None,
        {
            "gp_a": 200,
            "gp_b": 200,
            "rah_coordinator": 200,
            "rah_responder": 200,
            "cit_member_a": 200,
            **MDT_A,
        },
        403,
    ),
    "mdt:action_status": (
        lambda world: [1],
        {
            role: 405
            for role in [
                "gp_a",
                "gp_b",
                "rah_coordinator",
                "rah_responder",
                "cit_member_a",
                "mdt_coordinator_a",
            ]
        },
        403,
    ),
}

CELLS = [(name, role) for name in MATRIX for role in ROLES]


def _url(world, name):
    args = MATRIX[name][0]
    return reverse(name, args=args(world) if args else [])


def test_every_url_is_in_the_matrix():
    names = {name for name, _ in walk() if not name.startswith("admin:")}
    assert names - set(MATRIX) == set(), "add these URLs to MATRIX"
    assert set(MATRIX) - names == set(), "MATRIX names URLs that no longer exist"


@pytest.mark.parametrize(("name", "role"), CELLS)
def test_each_role_gets_what_the_matrix_says(world, client_for, name, role):
    """And every refusal (a role's 403, a 404 out of the relationship) is in the trail."""
    _, statuses, default = MATRIX[name]
    path = _url(world, name)
    response = client_for(world.users[role]).get(path)
    assert response.status_code == statuses.get(role, default)
    refusals = AuditEvent.objects.filter(user=world.users[role], action=AuditAction.REFUSED, path=path)
    assert refusals.count() == (1 if response.status_code in (403, 404) else 0)


def _is_sign_in(location: str) -> bool:
    return location.startswith((reverse("login") + "?next=", reverse("admin:login") + "?next="))


@pytest.mark.parametrize(("name", "path"), list(walk()))
def test_anonymous_requests_are_sent_to_sign_in(db, client, name, path):
    response = client.get(path)
    if name in PUBLIC:
        assert response.status_code == 200
    elif name in PUBLIC_NOT_FOUND:
        assert response.status_code == 404
    elif name in API_401:
        assert response.status_code == 401, f"{path} answered {response.status_code}"
        assert response["WWW-Authenticate"] == "Token"
    else:
        assert response.status_code == 302, f"{path} answered {response.status_code}"
        assert _is_sign_in(response["Location"]), f"{path} redirected to {response['Location']}"


def test_static_files_are_served_without_signing_in(db, client):
    response = client.get(settings.STATIC_URL + "css/atb.css")
    assert response.status_code == 200


def test_a_role_page_refused_does_not_say_more_than_it_must(world, client_for):
    response = client_for(world.users["gp_a"]).get(reverse("service_overview"))
    assert response.status_code == 403
    assert "not available to you" in response.content.decode()
