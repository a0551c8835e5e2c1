from __future__ import annotations

import re
from datetime import date

from crispy_forms.layout import Div
from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from core.contact_details import interpreter_problem
from core.fields import NHSNumberFormField
from core.models import AuditAction, Discipline
from core.models.users import person_name
from core.validators import validate_in_era


class EraDateField(forms.DateField):
    default_validators = [validate_in_era]


class EraDateTimeField(forms.DateTimeField):
    default_validators = [validate_in_era]


def date_input() -> forms.DateInput:
    """A browser date picker that shows and sends ISO dates."""
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def datetime_input() -> forms.DateTimeInput:
    """A browser date-and-time picker that shows and sends ISO local times (UK time)."""
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class MemorableDateWidget(forms.MultiWidget):
    """Day, month and year as three numeric boxes (the NHS design system's date input)."""

    template_name = "atb/widgets/memorable_date.html"
    PARTS = (("day", "Day", 2), ("month", "Month", 2), ("year", "Year", 4))

    def __init__(self, attrs=None):
        widgets = {
            part: forms.TextInput(
                attrs={
                    "inputmode": "numeric",
                    "maxlength": size,
                    "class": f"form-control atb-date-{part}",
                    "autocomplete": "off",
                }
            )
            for part, _, size in self.PARTS
        }
        super().__init__(widgets, attrs)

    def decompress(self, value):
        if isinstance(value, date):
            return [str(value.day), str(value.month), str(value.year)]
        return [None, None, None]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        for subwidget, (part, label, _) in zip(context["widget"]["subwidgets"], self.PARTS, strict=True):
            subwidget["part"], subwidget["part_label"] = part, label
            # Bootstrap's invalid style belongs on each box, as the field's class says.
            if "is-invalid" in (context["widget"]["attrs"].get("class") or ""):
                subwidget["attrs"]["class"] += " is-invalid"
        return context

    def id_for_label(self, id_):
        return f"{id_}_0" if id_ else id_  # the day's box (MultiWidget numbers its boxes)


class MemorableDateField(forms.Field):
    """A date a person knows (a date of birth), typed as day, month and year. Its messages
    are the NHS design system's: what is missing, or that it is not a real date."""

    widget = MemorableDateWidget
    default_validators = [validate_in_era]

    def to_python(self, value):
        day, month, year = (str(part or "").strip() for part in (value or [None, None, None]))
        if not (day or month or year):
            return None
        label = (self.label or "The date").capitalize()
        missing = [name for name, typed in (("day", day), ("month", month), ("year", year)) if not typed]
        if missing:
            raise ValidationError(f"{label} must include a {' and a '.join(missing)}.", code="incomplete")
        if not all(re.fullmatch(r"[0-9]+", part) for part in (day, month, year)):
            raise ValidationError(f"{label} must be a real date, in numbers.", code="invalid")
        if len(year) != 4:
            raise ValidationError("The year must have 4 numbers, like 1942.", code="invalid")
        if len(day) > 2 or len(month) > 2:
            raise ValidationError(f"{label} must be a real date.", code="invalid")
        try:
            return date(int(year), int(month), int(day))
        except ValueError:
            raise ValidationError(f"{label} must be a real date.", code="invalid") from None


DISCIPLINES = dict(Discipline.choices)


def staff_label(*, first_name: str, last_name: str, username: str, discipline: str) -> str:
    """ "Emma Forster (District nurse)": a member of staff named with their discipline."""
    name = person_name(first_name=first_name, last_name=last_name, username=username)
    label = DISCIPLINES.get(discipline, discipline)
    return f"{name} ({label})" if label else name


class StaffSelect(forms.Select):
    """A select of every member of staff (hundreds of options, several on one page), its
    options written in one pass: the stock widget renders two templates per option, which
    for an agenda of ten people came to thousands of template renders a page."""

    template_name = "atb/widgets/staff_select.html"

    def optgroups(self, name, value, attrs=None):
        return []  # written by get_context as one piece of HTML instead

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        selected = set(context["widget"]["value"])
        context["widget"]["options"] = format_html_join(
            "\n",
            '<option value="{}"{}>{}</option>',
            (
                (option_value, mark_safe(" selected") if str(option_value) in selected else "", label)
                for option_value, label in self.choices
            ),
        )
        return context


class StaffChoiceIterator(forms.models.ModelChoiceIterator):
    """Choices from the staff's names and disciplines alone, not from whole users."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        columns = ("pk", "first_name", "last_name", "username", "discipline")
        for pk, *names in self.queryset.values_list(*columns):
            yield (pk, staff_label(**dict(zip(columns[1:], names, strict=True))))


class StaffChoiceField(forms.ModelChoiceField):
    """A member of staff, named with their discipline ("Emma Forster (District nurse)")."""

    iterator = StaffChoiceIterator
    widget = StaffSelect

    def label_from_instance(self, user) -> str:
        return staff_label(
            first_name=user.first_name,
            last_name=user.last_name,
            username=user.username,
            discipline=user.discipline,
        )


def check_period(
    form: forms.Form, start_field: str, end_field: str, *, longest_days: int | None = None
) -> None:
    """A reporting period: real dates of this era, the end on or after the start."""
    start, end = form.cleaned_data.get(start_field), form.cleaned_data.get(end_field)
    for name, value in ((start_field, start), (end_field, end)):
        if value and not 2000 <= value.year <= 2100:
            form.add_error(name, "Choose a date between 2000 and 2100.")
    if start and end and end < start:
        form.add_error(end_field, "The end of the period must be on or after its start.")
    elif start and end and longest_days and (end - start).days > longest_days:
        form.add_error(end_field, "Choose a period of two years at most.")


class BreakGlassReportForm(forms.Form):
    """A period of UK days, either end open."""

    start = EraDateField(label="From", required=False, widget=date_input())
    end = EraDateField(label="To", required=False, widget=date_input())

    def clean(self):
        cleaned = super().clean()
        check_period(self, "start", "end")
        return cleaned


class AuditSearchForm(BreakGlassReportForm):
    """An administrator's search of the audit trail (every field optional)."""

    nhs_number = NHSNumberFormField(label="Patient's NHS number", required=False)
    username = forms.CharField(label="User name", max_length=150, required=False)
    action = forms.ChoiceField(choices=[("", "Any")] + list(AuditAction.choices), required=False)


class TokenForm(forms.Form):
    token = forms.CharField(
        label="6-digit code from your authenticator app",
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
    )

    def clean_token(self):
        token = self.cleaned_data["token"].strip()
        if not token.isdigit():
            raise forms.ValidationError("The code has 6 digits.")
        return token


class CareDetailsMixin:
    """What a referral and a patient's record both ask about the person's care (who to
    call, an interpreter): the same rows on both forms, and the same check."""

    @staticmethod
    def interpreter_row() -> Div:
        return Div(
            Div("interpreter_needed", css_class="col-md-4 pt-md-4"),
            Div("preferred_language", css_class="col-md-8"),
            css_class="row",
        )

    @staticmethod
    def next_of_kin_row() -> Div:
        return Div(
            Div("next_of_kin_name", css_class="col-md-4"),
            Div("next_of_kin_relationship", css_class="col-md-4"),
            Div("next_of_kin_phone", css_class="col-md-4"),
            css_class="row",
        )

    def check_interpreter(self, cleaned: dict) -> None:
        """An interpreter needs a language to book: said beside the language."""
        if problem := interpreter_problem(
            interpreter_needed=cleaned.get("interpreter_needed", False),
            preferred_language=cleaned.get("preferred_language", ""),
        ):
            self.add_error("preferred_language", problem)
