from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from core.models import AuditAction, AuditEvent, Neighbourhood, Service, Team
from recovery_at_home import selectors, services
from recovery_at_home.models import Episode, TriageCategory
from referrals import services as referral_services
from tests.factories import PatientFactory, PracticeFactory, ReferralFactory

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def frozen_clock():
    """Each test, sign-in included, happens at NOW; referrals are made in its past."""
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock


def _referral(world, minutes_ago, code=None, **patient):
    with time_machine.travel(NOW - dt.timedelta(minutes=minutes_ago), tick=False):
        referral = ReferralFactory(service=world.rah, patient=PatientFactory(**patient))
    if code:
        services.triage_referral(
            referral=referral,
            category=TriageCategory.objects.get(code=code),
            user=world.users["rah_coordinator"],
        )
    return referral


def _queue(client, **filters):
    return client.get(reverse("recovery_at_home:queue"), filters)


def _references(response):
    return [row.reference for row in response.context["rows"]]


def test_the_queue_is_ordered_by_due_time_and_a_closed_referral_leaves_it(world, client_for):
    same_day = _referral(world, 10, "same_day")  # due 13:50
    crisis = _referral(world, 5, "crisis")  # due 10:55
    untriaged = _referral(world, 90)  # provisional 2 hours: due 10:30
    coordinator = world.users["rah_coordinator"]
    client = client_for(coordinator)

    references = _references(_queue(client))
    expected = [untriaged.reference, crisis.reference, same_day.reference]
    assert [ref for ref in references if ref in expected] == expected

    referral_services.close_referral(referral=crisis, user=coordinator, outcome="Stayed at home")
    assert crisis.reference not in _references(_queue(client))


def test_each_row_shows_its_state_by_time_left(world, client_for):
    breached = _referral(world, 130, "urgent")  # due 09:50
    due_soon = _referral(world, 100, "urgent")  # due 10:20
    on_time = _referral(world, 10, "urgent")  # due 11:50
    response = _queue(client_for(world.users["rah_coordinator"]))
    states = {row.reference: row.state for row in response.context["rows"]}
    assert states[breached.reference] == "breached"
    assert states[due_soon.reference] == "due_soon"
    assert states[on_time.reference] == "on_time"
    page = response.content.decode()
    assert 'class="atb-queue-breached"' in page and "Breached" in page
    assert "10 min late" in page and "20 min left" in page and "1 h 50 min left" in page


def test_filters_narrow_the_queue_and_are_kept_for_the_next_visit(world, client_for):
    east = PracticeFactory(neighbourhood=world.team_a.neighbourhood)
    in_east = _referral(world, 10, "crisis", practice=east)
    elsewhere = _referral(world, 10, "crisis")
    client = client_for(world.users["rah_coordinator"])
    locality = world.team_a.neighbourhood.code

    filtered = _references(_queue(client, locality=locality))
    assert in_east.reference in filtered and elsewhere.reference not in filtered
    kept = _queue(client)  # no filters in the address: the coordinator's last ones
    assert kept.context["filters"].locality == locality
    assert elsewhere.reference not in _references(kept)
    polled = client.get(
        reverse("recovery_at_home:queue_rows"), {"locality": locality, "category": "", "state": ""}
    )
    assert elsewhere.reference not in polled.content.decode()


def test_untriaged_and_breached_filters(world, client_for):
    untriaged = _referral(world, 10)
    breached = _referral(world, 130, "urgent")
    client = client_for(world.users["rah_coordinator"])
    assert _references(_queue(client, category="untriaged", state="")) == [
        untriaged.reference,
        world.referral_b.reference,
    ]
    assert breached.reference in _references(_queue(client, category="", state="breached"))
    assert untriaged.reference not in _references(_queue(client, category="", state="breached"))


def test_the_rows_refresh_on_their_own(world, client_for):
    page = _queue(client_for(world.users["rah_coordinator"])).content.decode()
    assert f'hx-get="{reverse("recovery_at_home:queue_rows")}"' in page
    assert 'hx-trigger="every 15s"' in page and 'hx-include="#queue-filters"' in page
    assert "js/queue" in page  # the countdown and new-referral chime


@pytest.mark.parametrize("user", ["gp_a", "cit_member_a", "mdt_coordinator_a", "service_manager"])
def test_outside_recovery_at_home_the_queue_does_not_exist(world, client_for, user):
    client = client_for(world.users[user])
    assert client.get(reverse("recovery_at_home:queue")).status_code == 404
    assert client.get(reverse("recovery_at_home:queue_rows")).status_code == 404


def test_polling_records_each_patient_once_per_quarter_hour(world, client_for, frozen_clock):
    referral = _referral(world, 10, "urgent")
    client = client_for(world.users["rah_coordinator"])
    for minutes in (0, 1, 1, 14):  # at 10:00, 10:01, 10:02 and 10:16
        frozen_clock.shift(dt.timedelta(minutes=minutes))
        client.get(reverse("recovery_at_home:queue_rows"))
    listed = AuditEvent.objects.filter(action=AuditAction.LIST, patient=referral.patient)
    assert listed.count() == 2


def test_a_second_screen_of_the_same_coordinator_does_not_record_the_patients_again(
    world, client_for, frozen_clock
):
    """The session remembers what its own polls recorded; another session (the wallboard,
    a second device) finds the records in the audit trail itself."""
    referral = _referral(world, 10, "urgent")
    desk, wallboard = client_for(world.users["rah_coordinator"]), client_for(world.users["rah_coordinator"])
    listed = AuditEvent.objects.filter(action=AuditAction.LIST, patient=referral.patient)
    desk.get(reverse("recovery_at_home:queue_rows"))
    frozen_clock.shift(dt.timedelta(minutes=5))
    wallboard.get(reverse("recovery_at_home:queue_rows"))
    desk.get(reverse("recovery_at_home:queue_rows"))
    assert listed.count() == 1
    frozen_clock.shift(dt.timedelta(minutes=11))  # 16 minutes after the record
    wallboard.get(reverse("recovery_at_home:queue_rows"))
    desk.get(reverse("recovery_at_home:queue_rows"))
    assert listed.count() == 2


def test_the_api_records_each_patient_once_per_quarter_hour_without_a_session(world, frozen_clock):
    from django.contrib.sessions.models import Session

    referral = _referral(world, 10, "urgent")
    sessions = Session.objects.count()
    api = _api(world, "rah_coordinator")
    for minutes in (0, 5, 11):  # at 10:00, 10:05 and 10:16
        frozen_clock.shift(dt.timedelta(minutes=minutes))
        assert api.get("/api/rah/queue/").status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.LIST, patient=referral.patient).count() == 2
    assert Session.objects.count() == sessions  # a token's calls keep no session


@pytest.mark.parametrize("count", [10, 1000])
@pytest.mark.parametrize("url_name", ["recovery_at_home:queue", "recovery_at_home:queue_rows"])
def test_the_queue_runs_a_constant_number_of_queries(
    world, client_for, django_assert_max_num_queries, count, url_name
):
    with time_machine.travel(NOW - dt.timedelta(minutes=20), tick=False):
        ReferralFactory.create_batch(count, service=world.rah, patient=world.patient_b)
    client = client_for(world.users["rah_coordinator"])
    # session, user with roles, counts, a page of the queue with patients and categories, its
    # dispatches, recent audit, audit insert, waiting alerts, [the navigation's alert count,
    # categories, localities for the page], the first renewal of the session (3)
    with django_assert_max_num_queries(14):
        response = client.get(reverse(url_name))
    assert len(response.context["rows"]) == min(count + 1, selectors.QUEUE_PAGE_SIZE)
    assert response.context["page"].counts.open == count + 1


@pytest.mark.parametrize("count", [10, 200])
def test_the_queue_poll_runs_at_most_8_queries(world, client_for, django_assert_max_num_queries, count):
    """The partial every coordinator's screen fetches every few seconds, once the session is
    renewed: session, user with roles, the alert policy's window, counts, page, its
    dispatches, the rows already audited as listed, waiting alerts."""
    with time_machine.travel(NOW - dt.timedelta(minutes=20), tick=False):
        ReferralFactory.create_batch(count, service=world.rah, patient=world.patient_b)
    client = client_for(world.users["rah_coordinator"])
    client.get(reverse("recovery_at_home:queue"))
    with django_assert_max_num_queries(8):
        response = client.get(reverse("recovery_at_home:queue_rows"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response.context["page"].counts.open == count + 1


def test_a_long_queue_shows_the_soonest_due_page_by_page(world, client_for):
    """30 open referrals and the world's: the first page shows the 25 soonest due and the
    counts of all; the next page starts after the last row shown, and its poll stays there."""
    referrals = [_referral(world, minutes_ago) for minutes_ago in range(60, 0, -2)]  # soonest due first
    client = client_for(world.users["rah_coordinator"])
    first = _queue(client)
    page = first.context["page"]
    on_first = _references(first)
    assert len(on_first) == 25 and page.counts.open == 31  # and the world's own referral
    text = first.content.decode()
    assert "Showing 1 to 25 of 31, soonest due first." in text
    assert "Later in the queue" in text and "Soonest due</a>" not in text

    second = client.get(reverse("recovery_at_home:queue"), {"after": page.next.encode()})
    on_second = _references(second)
    assert len(on_second) == 6 and not set(on_second) & set(on_first)
    soonest_due = Episode.objects.filter(queue_open=True).order_by("response_due_at", "pk")
    assert on_first + on_second == [episode.referral.reference for episode in soonest_due]
    assert {r.reference for r in referrals} < set(on_first + on_second)
    text = second.content.decode()
    assert "Showing 26 to 31 of 31, soonest due first." in text
    assert "Soonest due</a>" in text and "Later in the queue" not in text
    assert f"?after={page.next.encode()}" in text  # the poll asks for the same page

    polled = client.get(
        reverse("recovery_at_home:queue_rows"), {"after": page.next.encode()}, HTTP_HX_REQUEST="true"
    )
    assert _references(polled) == on_second


def test_the_queue_counts_the_whole_filtered_queue(world, client_for, frozen_clock):
    _referral(world, 130)  # untriaged, provisional 2 hours: breached 10 minutes ago
    _referral(world, 100)  # untriaged: due in 20 minutes
    _referral(world, 30, "same_day")
    reached = _referral(world, 40, "urgent")
    services.record_arrival(referral=reached, user=world.users["rah_responder"], arrived_at=None)
    counts = _queue(_client := client_for(world.users["rah_coordinator"])).context["page"].counts
    world_referral_untriaged = world.referral_b.episode.category_id is None
    assert counts.open == 5
    assert counts.breached >= 1 and counts.due_soon >= 1 and counts.arrived == 1
    assert counts.untriaged == 2 + world_referral_untriaged
    text = _queue(_client).content.decode()
    assert "<strong>5</strong> open" in text and "<strong>1</strong> reached" in text


@pytest.mark.parametrize("cursor", ["", "garbage", "1.2", "0.99999999999999999999.1", "2.1.1", "-1.5.5"])
def test_a_hand_edited_page_link_shows_the_first_page(world, client_for, cursor):
    _referral(world, 30)
    response = client_for(world.users["rah_coordinator"]).get(
        reverse("recovery_at_home:queue"), {"after": cursor}
    )
    assert response.status_code == 200 and response.context["page"].after is None
    assert len(response.context["rows"]) == 2


@pytest.mark.parametrize(
    "end",
    [
        lambda referral, user: referral_services.decline_referral(
            referral=referral, user=user, reason="Not frail"
        ),
        lambda referral, user: referral_services.redirect_referral(
            referral=referral,
            user=user,
            service=Service.objects.get(code="cit"),
            team=Team.objects.first(),
            note="Not urgent",
        ),
        lambda referral, user: referral_services.close_referral(
            referral=referral_services.accept_referral(referral=referral, user=user),
            user=user,
            outcome="Done",
        ),
    ],
    ids=["declined", "redirected", "closed"],
)
def test_an_ended_referral_leaves_the_queue_index(world, end):
    """The queue reads Episode.queue_open: every way a referral ends must clear it."""
    referral = _referral(world, 30)
    end(referral, world.users["rah_coordinator"])
    referral.episode.refresh_from_db()
    assert referral.episode.queue_open is False
    assert referral.reference not in [
        row.reference
        for row in selectors.queue_page(filters=selectors.QueueFilters(), now=dt.datetime.now(dt.UTC)).rows
    ]


def test_a_coordinator_triages_from_the_referral_page(world, client_for):
    referral = _referral(world, 30)
    client = client_for(world.users["rah_coordinator"])
    page = client.get(referral.get_absolute_url()).content.decode()
    assert "Response clock" in page and "Not triaged yet" in page
    crisis = TriageCategory.objects.get(code="crisis")
    response = client.post(
        reverse("referral_clock_action", args=[referral.reference, "triage"]),
        {"category": crisis.pk},
        follow=True,
    )
    assert "triaged" in response.content.decode()
    referral.episode.refresh_from_db()
    assert timezone_local(referral.episode.response_due_at) == "10:30"  # received 09:30 + 1 hour


def test_a_responder_records_arrival_and_the_row_shows_it(world, client_for):
    referral = _referral(world, 30, "urgent")
    client = client_for(world.users["rah_responder"])
    response = client.post(
        reverse("referral_clock_action", args=[referral.reference, "arrival"]), {}, follow=True
    )
    assert "arrival recorded" in response.content.decode()
    rows = _queue(client).context["rows"]
    assert {row.reference: row.state for row in rows}[referral.reference] == "arrived"


def test_a_gp_sending_an_empty_triage_is_refused_not_told_to_finish_the_form(world, client_for):
    """Who may act is settled before what they sent is read, at the page and the API."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    gp = world.users["gp_b"]
    page = client_for(gp).post(
        reverse("referral_clock_action", args=[world.referral_b.reference, "triage"]), {}
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=gp)[0].key}")
    answer = api.post(f"/api/rah/referrals/{world.referral_b.reference}/triage/", {}, format="json")
    assert (page.status_code, answer.status_code) == (403, 403)


def test_a_gp_cannot_triage(world, client_for):
    response = client_for(world.users["gp_b"]).post(
        reverse("referral_clock_action", args=[world.referral_b.reference, "triage"]),
        {"category": TriageCategory.objects.get(code="crisis").pk},
    )
    assert response.status_code == 403
    world.referral_b.episode.refresh_from_db()
    assert world.referral_b.episode.category is None


def timezone_local(moment):
    from django.utils import timezone

    return timezone.localtime(moment).strftime("%H:%M")


def _api(world, username):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=world.users[username]).key}")
    return client


def test_the_queue_is_served_by_the_api_in_the_same_order(world):
    crisis = _referral(world, 5, "crisis")  # due 10:55
    breached = _referral(world, 130, "urgent")  # due 09:50
    body = _api(world, "rah_coordinator").get("/api/rah/queue/", {"state": ""}).json()
    entries = {entry["reference"]: entry for entry in body["results"]}
    references = [entry["reference"] for entry in body["results"]]
    assert references.index(breached.reference) < references.index(crisis.reference)
    assert entries[breached.reference]["state"] == "breached"
    assert entries[breached.reference]["seconds_left"] == -10 * 60
    assert entries[crisis.reference]["category"] == "crisis"


@pytest.mark.parametrize("user", ["gp_b", "cit_member_a"])
def test_outside_recovery_at_home_the_queue_api_answers_404(world, user):
    assert _api(world, user).get("/api/rah/queue/").status_code == 404


@pytest.mark.parametrize("count", [10, 1000])
def test_the_queue_api_runs_a_constant_number_of_queries(world, django_assert_max_num_queries, count):
    with time_machine.travel(NOW - dt.timedelta(minutes=20), tick=False):
        ReferralFactory.create_batch(count, service=world.rah, patient=world.patient_b)
    client = _api(world, "rah_coordinator")
    # token and user, role grants, count, page of the queue, recent audit, audit insert
    with django_assert_max_num_queries(7):
        response = client.get("/api/rah/queue/")
    assert response.json()["count"] == count + 1


def test_triaging_a_referral_outside_the_service_answers_404_and_is_audited(world, client_for):
    response = client_for(world.users["rah_coordinator"]).post(
        reverse("referral_clock_action", args=[world.referral_a.reference, "triage"]),  # a CIT referral
        {"category": TriageCategory.objects.get(code="crisis").pk},
    )
    assert response.status_code == 404
    refused = AuditEvent.objects.get(action=AuditAction.REFUSED)
    assert (refused.user, refused.patient) == (world.users["rah_coordinator"], world.patient_a)


def test_the_filters_follow_the_localities_and_categories_administrators_edit(world, client_for):
    """The filters' choices are cached; a change to the reference data shows at once."""
    client = client_for(world.users["rah_coordinator"])
    assert "Hetton" not in _queue(client).content.decode()  # the choices are now cached

    hetton = Neighbourhood.objects.create(name="Hetton", code="hetton")
    urgent = TriageCategory.objects.get(code="urgent")
    urgent.name = "Urgent (2 hours)"
    urgent.save()
    page = _queue(client).content.decode()
    assert '<option value="hetton">Hetton</option>' in page
    assert '<option value="urgent">Urgent (2 hours)</option>' in page

    hetton.delete()
    assert "Hetton" not in _queue(client).content.decode()


def test_names_typed_into_the_portal_are_printed_as_text_in_the_queue(world, client_for):
    referral = _referral(
        world, 10, "urgent", given_name="<script>alert(1)</script>", family_name="O'Neil & Co"
    )
    responder = world.users["rah_responder"]
    responder.first_name, responder.last_name = "<b>Bold</b>", "Responder"
    responder.save()
    services.dispatch_responder(referral=referral, responder=responder, user=world.users["rah_coordinator"])

    page = _queue(client_for(world.users["rah_coordinator"])).content.decode()
    assert "<script>alert(1)</script>" not in page and "<b>Bold</b>" not in page
    assert "O&#x27;NEIL &amp; CO, &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '&lt;b&gt;Bold&lt;/b&gt; Responder <span class="small text-muted">(dispatched)</span>' in page


def test_only_those_who_take_phone_ins_are_offered_the_button(world, client_for):
    coordinator = client_for(world.users["rah_coordinator"]).get(reverse("recovery_at_home:queue"))
    responder = client_for(world.users["rah_responder"]).get(reverse("recovery_at_home:queue"))
    phone_in = reverse("referrals:phone_in")
    assert phone_in in coordinator.content.decode()
    assert phone_in not in responder.content.decode()
    assert client_for(world.users["rah_responder"]).get(phone_in).status_code == 403  # as it was
