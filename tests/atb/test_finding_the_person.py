"""Finding and seeing the person: Recovery at Home searches for the people referred to it
(by name, reference or the number a carer rings back from), and every page about one
person carries the same patient banner."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from core.models import Patient, Role
from recovery_at_home import services as rah_services
from recovery_at_home.models import Outcome
from referrals.models import Referral
from teams import services as team_services
from tests.factories import ReferralFactory, UserFactory, typed_date


@pytest.fixture
def doris(world):
    """patient_b, referred to Recovery at Home by gp_b, with a full record."""
    Patient.objects.filter(pk=world.patient_b.pk).update(
        given_name="Doris",
        family_name="Bell",
        address="12 Tunstall Road, Sunderland",
        postcode="SR2 7HN",
        phone="0191 498 0123",
        carer_phone="0191 498 0456",
        key_safety_information="Large dog: ring first.",
    )
    world.referral_b.referrer_phone = "0191 498 0789"  # the daughter who rang
    world.referral_b.save()
    world.patient_b.refresh_from_db()
    return world.patient_b


@pytest.mark.parametrize("username", ["rah_coordinator", "rah_responder"])
@pytest.mark.parametrize(
    "query",
    ["bell", "BELL, Doris", "{reference}", "01914980456", "+44 191 498 0789", "0191 498 0123"],
    ids=["name", "written-as-shown", "reference", "carer-phone", "caller-phone", "own-phone"],
)
def test_recovery_at_home_finds_the_people_referred_to_it(world, client_for, doris, username, query):
    client = client_for(world.users[username])
    assert reverse("patient_list") in client.get(reverse("home"), follow=True).content.decode()  # in the nav

    page = client.get(reverse("patient_list"), {"q": query.format(reference=world.referral_b.reference)})

    assert doris.get_absolute_url() in page.content.decode()


def test_recovery_at_home_does_not_find_people_never_referred_to_it(world, client_for, doris):
    Patient.objects.filter(pk=world.patient_a.pk).update(family_name="Bell")
    page = client_for(world.users["rah_coordinator"]).get(reverse("patient_list"), {"q": "Bell"})
    assert world.patient_a.get_absolute_url() not in page.content.decode()
    assert doris.get_absolute_url() in page.content.decode()


def _banner(html: str) -> str:
    start = html.index('<section class="atb-patient-banner')
    return html[start : html.index("</section>", start)]


@pytest.fixture
def pages_about_doris(world, doris):
    """Her record, the referral that handed her to her team and her caseload entry; and a
    member of that team, who may open all three."""
    member = UserFactory(username="cit_member_b", roles=[Role.CIT_MEMBER], teams=[world.team_b])
    handover = rah_services.record_outcome(
        referral=world.referral_b, user=world.users["rah_coordinator"], outcome=Outcome.HANDED_TO_CIT
    ).handover_referral
    entry = team_services.accept_onto_caseload(referral=handover, user=member, key_worker=member)
    return member, [
        doris.get_absolute_url(),
        handover.get_absolute_url(),
        reverse("teams:entry", args=[entry.pk]),
    ]


def test_every_page_about_her_carries_the_same_banner(world, client_for, doris, pages_about_doris):
    member, urls = pages_about_doris
    client = client_for(member)
    banners = [_banner(client.get(url).content.decode()) for url in urls]

    for banner in banners:
        assert "BELL, Doris" in banner
        assert doris.date_of_birth.strftime("%-d %b %Y") in banner and f"({doris.age} y)" in banner
        assert doris.nhs_number_display in banner
        assert "12 Tunstall Road, Sunderland, SR2 7HN" in banner
        assert '<a href="tel:+441914980123">0191 498 0123</a>' in banner
        assert "Large dog: ring first." in banner
    as_read = {" ".join(re.sub(r"<[^>]+>", " ", banner).split()) for banner in banners}
    assert len(as_read) == 1, "the same banner on every page"


def test_a_sender_without_a_relationship_sees_only_what_they_sent_in_the_banner(world, client_for, doris):
    """gp_a refers Doris (of practice B) as they know her: their banner shows what they
    typed, never her record's address, phone or safety information."""
    referral = ReferralFactory(
        patient=doris, service=world.rah, referred_by=world.users["gp_a"], referring_practice=world.practice_a
    )
    sent = {"given_name": "Doris", "family_name": "Bell", "address": "Sent address", "postcode": ""}
    Referral.objects.filter(pk=referral.pk).update(person_as_sent=sent)
    banner = _banner(client_for(world.users["gp_a"]).get(referral.get_absolute_url()).content.decode())

    assert "BELL, Doris" in banner and "(as sent)" in banner and "Sent address" in banner
    assert "Tunstall Road" not in banner and "0191 498 0123" not in banner and "Large dog" not in banner


def test_recovery_at_home_corrects_a_persons_phone_keeping_their_practice(world, client_for, doris):
    """A coordinator has no practice of their own: the record's form offers the person's
    own, so the correction saves and the practice stays as it was."""
    client = client_for(world.users["rah_coordinator"])
    form = client.get(reverse("patient_update", args=[doris.pk])).context["form"]
    assert list(form.fields["practice"].queryset) == [doris.practice]
    data = {name: value for name, value in form.initial.items() if value is not None and name in form.fields}
    data.update(phone="0191 498 0999", **typed_date("date_of_birth", doris.date_of_birth.isoformat()))
    data = {name: value for name, value in data.items() if value is not False}

    response = client.post(reverse("patient_update", args=[doris.pk]), data)

    assert response.status_code == 302, response.context["form"].errors
    doris.refresh_from_db()
    assert (doris.phone, doris.practice) == ("0191 498 0999", world.practice_b)
