"""Property tests (Hypothesis): whatever a browser or another system sends as a referral,
the portal answers with a clear refusal or a whole referral, never a server error and
never half a referral.

`make test` runs a bounded, repeatable set of examples; `make fuzz-api` explores many
more (FUZZ_EXAMPLES).
"""

from __future__ import annotations

import datetime as dt
import os

from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.models import Patient
from referrals.models import Reason, Referral, ReferralEvent, Source
from tests.factories import typed_date, valid_nhs_number

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
PROPERTY_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize="FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

any_text = st.text(max_size=300)
long_text = st.text(max_size=6000)
nhs_numbers = st.one_of(
    st.integers(min_value=1, max_value=5000).map(valid_nhs_number),
    st.from_regex(r"\A[0-9 \-]{0,14}\Z"),
    any_text,
)
dates = st.one_of(
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)).map(dt.date.isoformat),
    st.dates(min_value=dt.date(1890, 1, 1), max_value=dt.date(2030, 1, 1)).map(dt.date.isoformat),
    any_text,
)
numbers = st.one_of(st.integers(), st.integers(min_value=-(2**70), max_value=2**70).map(str), any_text)
choices = lambda values: st.one_of(st.sampled_from(values), any_text)  # noqa: E731


def _some_of(values: dict):
    return st.lists(st.sampled_from(sorted(values)), min_size=1, max_size=3, unique=True).flatmap(
        lambda names: st.fixed_dictionaries({name: values[name] for name in names})
    )


def _counts() -> tuple[int, ...]:
    return (
        Referral.objects.count(),
        Patient.objects.count(),
        ReferralEvent.objects.count(),
    )


def _assert_whole_or_nothing(before, after, created: bool):
    referrals, patients, events = (a - b for a, b in zip(after, before, strict=True))
    if created:
        assert referrals == 1 and patients in (0, 1) and events >= 1
    else:
        assert (referrals, patients, events) == (0, 0, 0), "a refused referral left something behind"


def _valid_form(world) -> dict:
    return {
        "nhs_number": "",
        "given_name": "Doris",
        "family_name": "Bell",
        **typed_date("date_of_birth", "1938-02-11"),
        "practice": world.practice_a.pk,
        "address": "4 Front Street",
        "postcode": "SR1 1AA",
        "phone": "0191 555 0100",
        "service": world.rah.pk,
        "team": "",
        "source": Source.GP,
        "reason": Reason.FALL,
        "clinical_summary": "Fell twice this week.",
        "consent_to_referral": "on",
        "referrer_phone": "0191 565 6256",
    }


FORM_VALUES = {
    "nhs_number": nhs_numbers,
    "given_name": any_text,
    "family_name": any_text,
    "date_of_birth_day": st.one_of(numbers, any_text),
    "date_of_birth_month": st.one_of(numbers, any_text),
    "date_of_birth_year": st.one_of(numbers, any_text),
    "practice": numbers,
    "address": any_text,
    "postcode": any_text,
    "phone": any_text,
    "service": numbers,
    "team": numbers,
    "source": choices(Source.values),
    "reason": choices(Reason.values),
    "clinical_summary": long_text,
    "consent_to_referral": st.sampled_from(["on", "", "false", "yes"]),
    "referrer_phone": any_text,
}
# A valid referral with a few fields replaced by anything at all, so that odd values
# reach every layer (the patient match, the save) and not only the first check.


def test_the_referral_form_never_fails_and_never_half_saves(world, client_for):
    client = client_for(world.users["gp_a"])
    outcomes = []

    @PROPERTY_SETTINGS
    @given(changes=_some_of(FORM_VALUES))
    def submit(changes):
        before = _counts()
        response = client.post(reverse("referrals:create"), {**_valid_form(world), **changes})
        if any("\x00" in str(value) for value in changes.values()):
            # No field takes a NUL: the whole request is refused, with nothing saved.
            assert response.status_code == 400
            assert _counts() == before
            return
        assert response.status_code in (200, 302)
        created = response.status_code == 302
        _assert_whole_or_nothing(before, _counts(), created=created)
        if not created:
            assert response.context["form"].errors or response.context["form"].non_field_errors()
        outcomes.append(created)

    submit()
    assert True in outcomes and False in outcomes  # both paths were really exercised


def _valid_payload(world) -> dict:
    return {
        "patient": {
            "nhs_number": None,
            "given_name": "Doris",
            "family_name": "Bell",
            "date_of_birth": "1938-02-11",
            "practice": world.practice_a.ods_code,
            "postcode": "SR1 1AA",
        },
        "service": "rah",
        "team": None,
        "source": Source.GP,
        "reason": Reason.FALL,
        "clinical_summary": "Fell twice this week.",
        "consent_to_referral": True,
        "referrer_phone": "0191 565 6256",
        "confirm_duplicate": True,
    }


PATIENT_VALUES = {
    "nhs_number": st.one_of(st.none(), nhs_numbers),
    "given_name": st.one_of(any_text, numbers, st.none()),
    "family_name": any_text,
    "date_of_birth": st.one_of(st.none(), dates, numbers),
    "practice": st.one_of(st.none(), any_text, numbers),
    "postcode": any_text,
}
PAYLOAD_VALUES = {
    "patient": st.one_of(any_text, numbers, st.none(), st.lists(any_text, max_size=2)),
    "service": choices(["rah", "cit"]),
    "team": st.one_of(st.none(), numbers),
    "source": choices(Source.values),
    "reason": choices(Reason.values),
    "clinical_summary": st.one_of(long_text, numbers, st.none()),
    "consent_to_referral": st.one_of(st.booleans(), any_text, numbers),
    "referrer_phone": any_text,
    "confirm_duplicate": st.one_of(st.booleans(), any_text),
}


def test_the_referral_api_never_fails_and_never_half_saves(world):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=world.users["gp_a"])
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    outcomes = []

    @PROPERTY_SETTINGS
    @given(patient_changes=st.one_of(st.just({}), _some_of(PATIENT_VALUES)), changes=_some_of(PAYLOAD_VALUES))
    def send(patient_changes, changes):
        payload = _valid_payload(world)
        payload["patient"] = {**payload["patient"], **patient_changes}
        payload.update(changes)
        before = _counts()
        response = client.post("/api/referrals/", payload, format="json")
        assert response.status_code in (201, 400), response.content[:500]
        created = response.status_code == 201
        _assert_whole_or_nothing(before, _counts(), created=created)
        if not created:
            assert isinstance(response.json(), dict) and response.json()  # field messages, as JSON
        outcomes.append(created)

    send()
    assert True in outcomes and False in outcomes
