from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.models import AuditAction, AuditEvent, Patient
from core.nhs_numbers import format_nhs_number, normalise_nhs_number
from tests.factories import typed_date


@pytest.mark.parametrize(
    "typed", ["9434765919", "943 476 5919", "943-476-5919", "  943 476 5919 ", "943  476 5919"]
)
def test_valid_nhs_numbers_are_normalised_to_ten_digits(typed):
    assert normalise_nhs_number(typed) == "9434765919"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("9434765918", "check digit does not match"),
        ("943476591", "has 10 digits; this has 9"),
        ("94347659190", "has 10 digits; this has 11"),
        ("943 476 59A9", "only digits"),
        ("not known", "only digits"),
    ],
)
def test_invalid_nhs_numbers_are_refused_with_a_message_saying_why(typed, message):
    with pytest.raises(ValidationError) as refused:
        normalise_nhs_number(typed)
    assert message in refused.value.messages[0]


def test_nhs_numbers_are_shown_in_three_groups():
    assert format_nhs_number("9434765919") == "943 476 5919"


def test_the_model_refuses_an_invalid_nhs_number(world):
    patient = world.patient_a
    patient.nhs_number = "9434765918"
    with pytest.raises(ValidationError) as refused:
        patient.full_clean()
    assert "nhs_number" in refused.value.message_dict


def _patient_form(**overrides):
    return {
        "nhs_number": "943 476 5919",
        "given_name": "Doris",
        "family_name": "Bell",
        **typed_date("date_of_birth", "1938-02-11"),
        "address": "12 Tunstall Road, Sunderland",
        "postcode": "sr2 7hn",
        "phone": "0191 555 0100",
        **overrides,
    }


def test_a_gp_registers_a_patient_with_a_spaced_nhs_number(world, client_for):
    client = client_for(world.users["gp_a"])
    response = client.post(reverse("patient_create"), _patient_form(practice=world.practice_a.pk))
    patient = Patient.objects.get(nhs_number="9434765919")
    assert response.status_code == 302
    assert response["Location"] == patient.get_absolute_url()
    assert patient.postcode == "SR2 7HN"
    assert AuditEvent.objects.filter(patient=patient, action=AuditAction.CREATE).count() == 1

    page = client.get(patient.get_absolute_url())
    assert "943 476 5919" in page.content.decode()


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("nhs_number", "943 476 5918", "check digit does not match"),
        ("nhs_number", "943 476 591", "this has 9"),
        ("nhs_number", "943 476 59AB", "only digits"),
        ("date_of_birth", "2099-01-01", "cannot be in the future"),
        ("given_name", "", "Enter the person's first name."),
    ],
)
def test_bad_input_is_refused_beside_the_field_and_the_typed_data_stays(
    world, client_for, field, typed, message
):
    client = client_for(world.users["gp_a"])
    before = Patient.objects.count()
    response = client.post(
        reverse("patient_create"),
        _patient_form(
            practice=world.practice_a.pk,
            **(typed_date(field, typed) if field == "date_of_birth" else {field: typed}),
        ),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in error for error in form.errors[field])
    page = response.content.decode()
    assert 'value="Bell"' in page  # what was typed is still there
    assert "12 Tunstall Road, Sunderland" in page
    if field == "date_of_birth":
        assert form[field].value() == ["1", "1", "2099"]  # the three boxes as typed
    elif typed:
        assert f'value="{typed}"' in page
    assert Patient.objects.count() == before


def test_an_nhs_number_already_registered_is_refused(world, client_for):
    client = client_for(world.users["gp_a"])
    response = client.post(
        reverse("patient_create"),
        _patient_form(practice=world.practice_a.pk, nhs_number=world.patient_b.nhs_number_display),
    )
    assert "already registered" in response.context["form"].errors["nhs_number"][0]


def test_the_nhs_number_may_be_unknown_at_first_contact(world, client_for):
    client = client_for(world.users["gp_a"])
    client.post(reverse("patient_create"), _patient_form(practice=world.practice_a.pk, nhs_number=""))
    client.post(
        reverse("patient_create"),
        _patient_form(practice=world.practice_a.pk, nhs_number="", given_name="Ethel"),
    )
    assert Patient.objects.filter(nhs_number__isnull=True).count() == 2


def test_a_gp_cannot_register_a_patient_at_another_practice(world, client_for):
    client = client_for(world.users["gp_a"])
    response = client.post(reverse("patient_create"), _patient_form(practice=world.practice_b.pk))
    assert "practice" in response.context["form"].errors
    assert not Patient.objects.filter(nhs_number="9434765919").exists()


def test_a_gp_with_one_practice_finds_it_already_chosen(world, client_for):
    response = client_for(world.users["gp_a"]).get(reverse("patient_create"))
    form = response.context["form"]
    assert list(form.fields["practice"].queryset) == [world.practice_a]
    assert form["practice"].value() == world.practice_a.pk


@pytest.mark.parametrize(
    "typed", ["９４３４７６５９１９", "٩٤٣٤٧٦٥٩١٩", "۹۴۳۴۷۶۵۹۱۹", "943\u00a0476\u20135919"]
)
def test_other_scripts_digits_and_separators_fold_to_the_same_ten_ascii_digits(typed):
    assert normalise_nhs_number(typed) == "9434765919"


@pytest.mark.parametrize(
    "typed", ["943476591²", "94347659¹9", "943 476 591⑨", "943\u202e4765919", "943\x004765919"]
)
def test_characters_that_only_look_like_digits_are_refused(typed):
    with pytest.raises(ValidationError) as refused:
        normalise_nhs_number(typed)
    assert "only digits" in refused.value.messages[0]


def test_the_database_refuses_an_nhs_number_in_another_script_whatever_the_door(world):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Patient.objects.filter(pk=world.patient_a.pk).update(nhs_number="９４３４７６５９１９")


def test_a_full_width_search_finds_the_person_by_their_ascii_number(world, client_for):
    patient = world.patient_a
    full_width = "".join(chr(ord(d) + 0xFEE0) for d in patient.nhs_number)
    page = client_for(world.users["gp_a"]).get(reverse("patient_list"), {"q": full_width[:6]})
    assert patient.nhs_number_display in page.content.decode()
