"""Form and model fields for NHS numbers, UK postcodes and phone numbers."""

from __future__ import annotations

from django import forms
from django.db import models

from core.contact_details import uk_phone, uk_postcode
from core.nhs_numbers import normalise_nhs_number, validate_nhs_number


class NHSNumberFormField(forms.CharField):
    """Accepts '943 476 5919', '943-476-5919' or '9434765919'; cleans to ten digits."""

    def __init__(self, **kwargs):
        kwargs["max_length"] = 20  # room for the spaces people type
        kwargs.setdefault("help_text", "10 digits, e.g. 943 476 5919.")
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"inputmode": "numeric", "autocomplete": "off"})
        return attrs

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return value
        return normalise_nhs_number(value)


class NHSNumberField(models.CharField):
    """Ten digits, validated with the Modulus 11 check; empty means not yet known."""

    default_validators = [validate_nhs_number]

    def __init__(self, *args, **kwargs):
        kwargs["max_length"] = 10
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        del kwargs["max_length"]
        return name, path, args, kwargs

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": NHSNumberFormField, **kwargs})


class _NormalisingFormField(forms.CharField):
    """Checks what was typed and cleans it to the one way it is kept."""

    normalise = staticmethod(str)
    input_attrs: dict[str, str] = {}

    def widget_attrs(self, widget):
        return {**super().widget_attrs(widget), **self.input_attrs}

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return value
        return self.normalise(value)


class UKPostcodeFormField(_NormalisingFormField):
    """ "sr13ab" → "SR1 3AB"; refuses what is not a UK postcode."""

    normalise = staticmethod(uk_postcode)
    input_attrs = {"autocomplete": "postal-code", "autocapitalize": "characters", "spellcheck": "false"}

    def __init__(self, **kwargs):
        kwargs["max_length"] = 10
        super().__init__(**kwargs)


class UKPhoneFormField(_NormalisingFormField):
    """A phone number in the national format ("0191 498 0123"); refuses words."""

    normalise = staticmethod(uk_phone)
    input_attrs = {"type": "tel", "autocomplete": "tel"}

    def __init__(self, **kwargs):
        kwargs["max_length"] = 30
        super().__init__(**kwargs)


def validate_uk_postcode(value: str) -> None:
    if value:
        uk_postcode(value)


def validate_uk_phone(value: str) -> None:
    if value:
        uk_phone(value)


class UKPostcodeField(models.CharField):
    """A UK postcode as the Royal Mail writes it; empty when not known."""

    default_validators = [validate_uk_postcode]

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": UKPostcodeFormField, **kwargs})


class UKPhoneField(models.CharField):
    """A phone number in the national format; empty when not known."""

    default_validators = [validate_uk_phone]

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": UKPhoneFormField, **kwargs})
