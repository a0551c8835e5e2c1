"""The API reads an action's JSON through the same Django form as the page that offers
it, so both doors have one set of fields, bounds and messages: errors answer 400 JSON
naming the field."""

from __future__ import annotations

from django import forms
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

SCALARS = (str, int, float, bool, type(None))


def form_data(request: Request, *, lists: tuple[str, ...] = ()) -> dict:
    """The body as a form's data: a JSON object of plain values (a form field reads text,
    numbers or yes/no; a list or an object in their place is refused, naming the field).
    The fields named in `lists` (a form's several choices) take a list of plain values,
    or one value alone."""
    data = request.data
    if hasattr(data, "getlist"):  # a form-encoded body: each of the several choices, not the last
        data = {name: data.getlist(name) if name in lists else data.get(name) for name in data}
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["Send a JSON object of the action's fields."]})
    wrong = {}
    for name, value in data.items():
        if name in lists and isinstance(value, list):
            if not all(isinstance(item, SCALARS) and item is not None for item in value):
                wrong[name] = ["Send a list of texts or numbers."]
        elif not isinstance(value, SCALARS):
            wrong[name] = ["Send a text, a number or true/false."]
    if wrong:
        raise ValidationError(wrong)
    # As a browser would send them: text (a form's date fields, say, read only text).
    return {
        name: _as_form_value(value, several=name in lists)
        for name, value in data.items()
        if value is not None
    }


def _as_form_value(value, *, several: bool):
    if several:
        return [_as_text(item) for item in (value if isinstance(value, list) else [value])]
    return _as_text(value)


def _as_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def cleaned(form: forms.Form) -> dict:
    """The form's cleaned data, or a 400 with each field's messages."""
    if not form.is_valid():
        raise ValidationError(
            {name: [str(error) for error in errors] for name, errors in form.errors.items()}
        )
    return form.cleaned_data


def _schema_field(field: forms.Field) -> serializers.Field:
    kwargs = {"required": field.required, "help_text": str(field.label or "")}
    if isinstance(field, forms.ModelChoiceField):
        return serializers.IntegerField(**kwargs)
    if isinstance(field, forms.ChoiceField):
        return serializers.ChoiceField(choices=[c for c in field.choices if c[0] != ""], **kwargs)
    if isinstance(field, forms.DateTimeField):
        return serializers.DateTimeField(**kwargs)
    if isinstance(field, forms.DateField):
        return serializers.DateField(**kwargs)
    if isinstance(field, forms.IntegerField):
        return serializers.IntegerField(min_value=field.min_value, max_value=field.max_value, **kwargs)
    if isinstance(field, forms.BooleanField):
        return serializers.BooleanField(**kwargs)
    return serializers.CharField(max_length=getattr(field, "max_length", None), **kwargs)


def form_schema(name: str, form_class: type[forms.Form], **form_kwargs) -> serializers.Serializer:
    """The OpenAPI description of a form's fields (for the docs and the schema's clients)."""
    form = form_class(**form_kwargs)
    return inline_serializer(
        name, {field_name: _schema_field(field) for field_name, field in form.fields.items()}
    )
