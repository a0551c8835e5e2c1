"""Every field a person or another system can fill in has bounds: text a maximum length,
numbers a range, dates a plausible era. The test walks every form and writable API
serializer of the project, so a new unbounded field fails it."""

from __future__ import annotations

import importlib
import inspect
import re
import sys

import pytest
from django import forms
from django.urls import reverse
from rest_framework import serializers

from core.validators import validate_in_era
from tests.factories import typed_date

APPS = ["core", "referrals", "teams", "recovery_at_home", "mdt", "portal"]


def _classes(module_name: str, base: type) -> list[type]:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        return []
    return [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, base) and cls.__module__ == module_name
    ]


FORMS = [cls for app in APPS for cls in _classes(f"{app}.forms", forms.BaseForm)]


def _takes_input(cls: type) -> bool:
    """A serializer the API reads requests with (the others only write responses)."""
    source = inspect.getsource(sys.modules[cls.__module__])
    name = re.escape(cls.__name__)
    return bool(re.search(rf"\b{name}\(data=|request={name}\b|body={name}\b", source))


SERIALIZERS = [
    cls
    for app in APPS
    for module in (f"{app}.api", f"{app}.fhir_views")
    for cls in _classes(module, serializers.Serializer)
    if _takes_input(cls)
] + [  # the people the API and FHIR messages read, shared by both
    cls for app in APPS for cls in _classes(f"{app}.serializers", serializers.Serializer)
]


def _form_problem(name: str, field: forms.Field) -> str | None:
    if isinstance(field, forms.DateField | forms.DateTimeField) and validate_in_era not in field.validators:
        return f"{name}: a date without the era check"
    if isinstance(field, forms.IntegerField) and (field.min_value is None or field.max_value is None):
        return f"{name}: a number without a range"
    if (
        type(field) in (forms.CharField, forms.EmailField, forms.URLField)
        or isinstance(field, forms.CharField)
        and not isinstance(field, forms.ChoiceField)
    ) and field.max_length is None:
        return f"{name}: text without a maximum length"
    return None


@pytest.mark.parametrize("form_class", FORMS, ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_every_form_field_is_bounded(db, form_class):
    problems = [_form_problem(name, field) for name, field in form_class.base_fields.items()]
    assert not [p for p in problems if p]


def _serializer_problems(serializer: serializers.Serializer, prefix: str = "") -> list[str]:
    problems = []
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        label = prefix + name
        if isinstance(field, serializers.Serializer):
            problems += _serializer_problems(field, f"{label}.")
        elif isinstance(field, serializers.DateField | serializers.DateTimeField):
            if validate_in_era not in field.validators:
                problems.append(f"{label}: a date without the era check")
        elif isinstance(field, serializers.IntegerField):
            if field.min_value is None or field.max_value is None:
                problems.append(f"{label}: a number without a range")
        elif isinstance(field, serializers.CharField) and field.max_length is None:
            problems.append(f"{label}: text without a maximum length")
    return problems


@pytest.mark.parametrize("serializer_class", SERIALIZERS, ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_every_writable_api_field_is_bounded(db, serializer_class):
    assert not _serializer_problems(serializer_class())


def test_the_walk_finds_the_forms_and_serializers():
    names = {cls.__name__ for cls in FORMS + SERIALIZERS}
    assert {
        "ReferralForm",
        "ContactForm",
        "ReferralCreateSerializer",
        "BreakGlassForm",
        "NoteSerializer",
    } <= names
    assert "ReferralSerializer" not in names  # responses only


SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_html_typed_into_notes_is_shown_as_text(world, client_for):
    from referrals import services

    referral = world.referral_b
    referral.clinical_summary = SCRIPT
    referral.save()
    services.add_note(referral=referral, user=world.users["rah_coordinator"], note=SCRIPT)
    client = client_for(world.users["rah_coordinator"])
    for page in (
        reverse("referral_detail", args=[referral.reference]),
        reverse("patient_detail", args=[referral.patient_id]),
    ):
        html = client.get(page).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_a_year_out_of_era_is_explained_beside_the_field(world, client_for):
    client = client_for(world.users["gp_a"])
    response = client.post(
        reverse("referrals:create"), {"given_name": "Doris", **typed_date("date_of_birth", "0202-02-11")}
    )
    assert "Check the year" in " ".join(response.context["form"].errors["date_of_birth"])
    assert 'value="Doris"' in response.content.decode()
