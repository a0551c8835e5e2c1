"""Form and model fields for NHS numbers."""

from __future__ import annotations

from django import forms
from django.db import models

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
