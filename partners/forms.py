from __future__ import annotations

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from core.fields import UKPhoneFormField, UKPostcodeFormField
from core.models import Patient, Service
from partners.models import ONS4_QUESTIONS, Term, Wellbeing
from referrals.models import PARTNER_REASONS, Reason, Referral

NOTE_LIMIT = 2000
SCORE_MESSAGE = "A whole number from 0 to 10."


class ReferOnForm(forms.Form):
    service = forms.ModelChoiceField(
        Service.objects.filter(kind=Service.Kind.PARTNER).select_related("organisation"),
        widget=forms.RadioSelect,
        empty_label=None,
        label="Refer to",
        error_messages={"required": "Choose the partner service."},
    )
    reason = forms.ChoiceField(
        choices=[(r.value, r.label) for r in PARTNER_REASONS],
        error_messages={"required": "Choose what the referral is for."},
    )
    reason_other = forms.CharField(
        label="The other reason",
        required=False,
        max_length=Referral._meta.get_field("reason_other").max_length,
    )
    note = forms.CharField(
        label="What would they like help with?",
        required=False,
        max_length=NOTE_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The partner reads this. Only what they need: not the clinical record.",
    )
    consent_to_referral = forms.BooleanField(
        label="They agree to this referral, and to the partner having their name, address and phone",
        error_messages={"required": "Ask first: a partner referral needs the person's agreement."},
    )

    def __init__(self, *args, service: Service | None = None, **kwargs):
        initial = kwargs.pop("initial", {})
        if service is not None:
            initial.setdefault("service", service.pk)
            initial.setdefault("reason", service.default_reason)
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["service"].label_from_instance = lambda s: f"{s.name}: {s.offers}" if s.offers else s.name

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reason") == Reason.OTHER and not cleaned.get("reason_other", "").strip():
            self.add_error("reason_other", "Say what the other reason is.")
        return cleaned


class CarerForm(forms.Form):
    given_name = forms.CharField(label="Carer's first name", max_length=100)
    family_name = forms.CharField(label="Carer's last name", max_length=100)
    relationship = forms.CharField(max_length=100, help_text="To the person: daughter, husband, neighbour.")
    phone = UKPhoneFormField(label="Carer's phone", required=False)
    address = forms.CharField(
        max_length=300,
        required=False,
        help_text="Leave blank for a wife, husband or partner at the same address.",
    )
    postcode = UKPostcodeFormField(required=False)
    main_carer = forms.BooleanField(label="The main carer", required=False, initial=True)
    consent_to_share = forms.BooleanField(
        label="The carer agrees that this person's care team sees their referrals and what came of them",
        required=False,
    )

    def clean(self):
        cleaned = super().clean()
        name = f"{cleaned.get('given_name', '')} {cleaned.get('family_name', '')}"
        if len(name) > Patient._meta.get_field("carer_name").max_length:
            self.add_error("family_name", "The carer's whole name is too long to record: shorten it.")
        return cleaned


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Why it is declined",
        max_length=NOTE_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why, for the referrer."},
    )


def _terms(kind: str) -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        Term.objects.filter(list=kind, active=True),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=Term.List(kind).label,
    )


class SupportForm(forms.Form):
    needs = _terms(Term.List.NEED)
    support = _terms(Term.List.SUPPORT)
    offered = forms.CharField(
        label="What was offered, in words",
        required=False,
        max_length=NOTE_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("support") and not cleaned.get("offered", "").strip():
            raise forms.ValidationError("Choose the support offered, or say what it was.")
        return cleaned


class WellbeingForm(forms.Form):
    when = forms.ChoiceField(
        choices=Wellbeing.When.choices, widget=forms.RadioSelect, label="Asked", initial=Wellbeing.When.BEFORE
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, question in ONS4_QUESTIONS:
            self.fields[name] = forms.IntegerField(
                label=question,
                widget=forms.NumberInput(attrs={"min": 0, "max": 10}),
                validators=[MinValueValidator(0, SCORE_MESSAGE), MaxValueValidator(10, SCORE_MESSAGE)],
                help_text="0 to 10",
                error_messages={"required": "Give the answer, 0 to 10.", "invalid": SCORE_MESSAGE},
            )


class OutcomeForm(forms.Form):
    outcomes = _terms(Term.List.OUTCOME)
    outcome = forms.CharField(
        label="The outcome, in words",
        required=False,
        max_length=200,
        help_text="The referrer and the person's team read this.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcomes"].required = True
        self.fields["outcomes"].error_messages["required"] = "Choose at least one outcome."
