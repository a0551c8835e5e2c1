"""The referral form as a GP between patients meets it: dates typed as day, month and year
whatever the browser's locale, messages that say what to do, an error summary linking to
each field, the NHS number's check under the number itself, a known patient of the GP's
own filled in from their record (never anyone else's), and the team list only for the
teams."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from core.models import Patient
from referrals.models import Reason, Referral, Source
from tests.factories import typed_date


def _form(world, **overrides):
    return {
        "nhs_number": "",
        "given_name": "Doris",
        "family_name": "Bell",
        **typed_date("date_of_birth", "1942-11-07"),
        "practice": world.practice_a.pk,
        "service": world.rah.pk,
        "team": "",
        "source": Source.GP,
        "reason": Reason.FALL,
        "consent_to_referral": "on",
        "referrer_phone": "0191 555 0101",
        **overrides,
    }


def test_a_date_of_birth_typed_as_day_month_year_is_the_date_meant(world, client_for):
    """7 November, typed 7 / 11 / 1942: never 11 July, whatever the browser's locale."""
    client = client_for(world.users["gp_a"])
    page = client.get(reverse("referrals:create")).content.decode()
    for part in ("day", "month", "year"):
        assert f'name="date_of_birth_{part}"' in page and 'inputmode="numeric"' in page
    assert 'type="date"' not in page

    assert client.post(reverse("referrals:create"), _form(world)).status_code == 302

    assert Patient.objects.get(family_name="Bell").date_of_birth == dt.date(1942, 11, 7)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (("", "", ""), "Enter the person's date of birth."),
        (("7", "", "1942"), "Date of birth must include a month."),
        (("", "", "1942"), "Date of birth must include a day and a month."),
        (("31", "2", "1942"), "Date of birth must be a real date."),
        (("7", "11", "42"), "The year must have 4 numbers, like 1942."),
        (("7", "nov", "1942"), "Date of birth must be a real date, in numbers."),
        (("7", "11", "２０２０"), "Date of birth must be a real date, in numbers."),
    ],
)
def test_a_date_of_birth_that_is_not_one_says_what_is_wrong_and_keeps_what_was_typed(
    world, client_for, typed, message
):
    day, month, year = typed
    data = _form(world, date_of_birth_day=day, date_of_birth_month=month, date_of_birth_year=year)

    response = client_for(world.users["gp_a"]).post(reverse("referrals:create"), data)

    assert response.status_code == 200
    assert response.context["form"].errors["date_of_birth"] == [message]
    assert response.context["form"]["date_of_birth"].value() == [day, month, year]  # kept as typed
    assert not Referral.objects.filter(patient__family_name="Bell").exists()


def test_errors_say_what_to_do_and_the_summary_links_to_each_field(world, client_for):
    data = _form(world, given_name="", reason="", referrer_phone="")

    html = client_for(world.users["gp_a"]).post(reverse("referrals:create"), data).content.decode()

    summary = html[
        html.index('class="alert alert-danger atb-error-summary"') : html.index(
            "</ul>", html.index("atb-error-summary")
        )
    ]
    assert "There is a problem" in summary and 'tabindex="-1"' in html
    links = dict(re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary))
    assert links == {
        "id_given_name": "Enter the person&#x27;s first name.",
        "id_reason": "Choose the reason for the referral.",
        "id_referrer_phone": "Enter a number the team can call you back on.",
    }
    assert "This field is required." not in html


def test_the_team_is_ignored_for_recovery_at_home(world, client_for):
    client = client_for(world.users["gp_a"])
    page = client.get(reverse("referrals:create")).content.decode()
    assert f'data-teams-service="{world.cit.pk}"' in page

    client.post(reverse("referrals:create"), _form(world, team=world.team_b.pk))

    referral = Referral.objects.get(patient__family_name="Bell")
    assert (referral.service, referral.team) == (world.rah, None)


def test_the_check_names_and_offers_only_the_gps_own_patient(world, client_for):
    """gp_a's own patient (practice A) comes back with the name and date of birth to fill
    the form; gp_b's patient, a valid number to gp_a, comes back with nothing of theirs."""
    client = client_for(world.users["gp_a"])
    own, other = world.patient_a, world.patient_b

    known = client.get(
        reverse("referrals:patient_lookup"), {"nhs_number": own.nhs_number_display}
    ).content.decode()
    assert 'data-lookup="known"' in known
    assert f'data-given-name="{escape(own.given_name)}"' in known
    assert f'data-birth-year="{own.date_of_birth.year}"' in known

    stranger = client.get(
        reverse("referrals:patient_lookup"), {"nhs_number": other.nhs_number}
    ).content.decode()
    assert 'data-lookup="valid"' in stranger
    assert escape(other.given_name) not in stranger and escape(other.family_name) not in stranger
    assert "data-birth" not in stranger


def test_the_check_answers_under_the_number_it_is_about(world, client_for):
    html = client_for(world.users["gp_a"]).get(reverse("referrals:create")).content.decode()
    number = html.index('id="id_nhs_number"')
    check = html.index('id="patient-lookup"')
    date_of_birth = html.index('id="id_date_of_birth_0"')
    assert number < check < date_of_birth
