"""The forms of the composed pages: a patient's record, emergency access, the dashboard's period."""

from __future__ import annotations

from datetime import timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Fieldset, Layout, Submit
from django import forms
from django.utils import timezone

from core.fields import NHSNumberFormField
from core.forms import CareDetailsMixin, EraDateField, MemorableDateField, check_period
from core.models import BreakGlassReason, Neighbourhood, Patient
from portal.performance import Period


class PatientForm(CareDetailsMixin, forms.ModelForm):
    """Register or correct a patient. The practice list holds only the practices the
    user serves, so a person they register stays within their relationship."""

    class Meta:
        model = Patient
        fields = [
            "nhs_number",
            "given_name",
            "family_name",
            "date_of_birth",
            "practice",
            "address",
            "postcode",
            "phone",
            "gender",
            "lives_alone",
            "care_home",
            "carer_name",
            "carer_relationship",
            "carer_phone",
            "carers_centre_offered",
            "next_of_kin_name",
            "next_of_kin_relationship",
            "next_of_kin_phone",
            "communication_needs",
            "interpreter_needed",
            "preferred_language",
            "key_safety_information",
        ]
        field_classes = {"date_of_birth": MemorableDateField}
        error_messages = {
            "given_name": {"required": "Enter the person's first name."},
            "family_name": {"required": "Enter the person's last name."},
            "practice": {"required": "Choose the person's GP practice."},
        }
        widgets = {
            "communication_needs": forms.Textarea(attrs={"rows": 2}),
            "key_safety_information": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, practices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practice"].queryset = practices
        self.fields["practice"].required = True
        if not self.instance.pk and len(practices) == 1:
            self.fields["practice"].initial = practices[0]  # most GPs work at one practice
        self.fields["nhs_number"].help_text = "10 digits, e.g. 943 476 5919. Leave empty if not known yet."
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Fieldset(
                "The person",
                Div(
                    Div("nhs_number", css_class="col-md-4"),
                    Div("date_of_birth", css_class="col-md-4"),
                    css_class="row",
                ),
                Div(
                    Div("given_name", css_class="col-md-6"),
                    Div("family_name", css_class="col-md-6"),
                    css_class="row",
                ),
                "practice",
                Div(
                    Div("address", css_class="col-md-8"),
                    Div("postcode", css_class="col-md-4"),
                    css_class="row",
                ),
                Div(
                    Div("phone", css_class="col-md-6"),
                    Div("gender", css_class="col-md-6"),
                    css_class="row",
                ),
                "lives_alone",
                "care_home",
            ),
            Fieldset(
                "Main carer",
                Div(
                    Div("carer_name", css_class="col-md-5"),
                    Div("carer_relationship", css_class="col-md-3"),
                    Div("carer_phone", css_class="col-md-4"),
                    css_class="row",
                ),
                "carers_centre_offered",
            ),
            Fieldset(
                "Next of kin",
                self.next_of_kin_row(),
            ),
            Fieldset(
                "For visiting staff",
                "communication_needs",
                self.interpreter_row(),
                "key_safety_information",
            ),
            Submit("save", "Save patient"),
        )

    def clean(self):
        cleaned = super().clean()
        self.check_interpreter(cleaned)
        return cleaned


class PeriodForm(forms.Form):
    """The dashboard's period (UK days) and locality."""

    start = EraDateField(
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")
    )
    end = EraDateField(
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")
    )
    locality = forms.ModelChoiceField(
        Neighbourhood.objects.order_by("name"),
        required=False,
        empty_label="All",
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    @staticmethod
    def default_period():
        today = timezone.localdate()
        return Period(start=today - timedelta(weeks=8), end=today)

    def clean(self):
        cleaned = super().clean()
        check_period(self, "start", "end", longest_days=366 * 2)
        return cleaned

    def period(self):
        return Period(
            start=self.cleaned_data["start"],
            end=self.cleaned_data["end"],
            locality=self.cleaned_data.get("locality"),
        )


class BreakGlassForm(forms.Form):
    """Emergency access asks for the person's full NHS number (no browsing by name) and
    a reason an auditor can judge later."""

    nhs_number = NHSNumberFormField(label="The person's NHS number")
    reason = forms.ChoiceField(choices=BreakGlassReason.choices, widget=forms.RadioSelect)
    explanation = forms.CharField(
        label="Why you need the record now",
        min_length=10,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Administrators review every emergency access. At least 10 characters.",
    )

    def clean(self):
        cleaned = super().clean()
        nhs_number = cleaned.get("nhs_number")
        if nhs_number:
            patient = Patient.objects.filter(nhs_number=nhs_number).first()
            if patient is None:
                self.add_error("nhs_number", "No patient with this NHS number is registered in the portal.")
            else:
                cleaned["patient"] = patient.merged_into or patient
        return cleaned
