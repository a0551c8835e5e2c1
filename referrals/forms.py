from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Fieldset, Layout, Submit
from django import forms
from django.urls import reverse
from django.utils import timezone

from core.fields import NHSNumberFormField, UKPhoneFormField, UKPostcodeFormField
from core.forms import (
    CareDetailsMixin,
    EraDateField,
    EraDateTimeField,
    MemorableDateField,
    check_period,
    date_input,
    datetime_input,
)
from core.models import Discipline, Practice, Service, StatedGender, Team, User
from core.models.patients import validate_not_in_future
from referrals import services
from referrals.identity import CARE_DETAILS, SentPerson
from referrals.models import REASONS_BY_SERVICE, Source, Status, reasons_for


def _reason_choices():
    grouped = [("", "Choose the reason")]
    for code, reasons in REASONS_BY_SERVICE.items():
        grouped.append((Service.Code(code).label, [(r.value, r.label) for r in reasons]))
    return grouped


class ReferralForm(CareDetailsMixin, forms.Form):
    """A referral with its patient: found among known patients, or new.

    Professionals get defaults from their account (practice, phone, source); a phone-in
    (`phone_in=True`) adds the caller, who may be the person or their family.
    """

    # The person.
    nhs_number = NHSNumberFormField(label="NHS number", required=False)
    given_name = forms.CharField(
        label="First name", max_length=100, error_messages={"required": "Enter the person's first name."}
    )
    family_name = forms.CharField(
        label="Last name", max_length=100, error_messages={"required": "Enter the person's last name."}
    )
    date_of_birth = MemorableDateField(
        label="Date of birth",
        help_text="For example, 15 3 1942.",
        validators=[validate_not_in_future],
        error_messages={"required": "Enter the person's date of birth."},
    )
    practice = forms.ModelChoiceField(
        Practice.objects.select_related("neighbourhood"),
        label="Registered GP practice",
        error_messages={"required": "Choose the person's GP practice."},
    )
    gender = forms.ChoiceField(
        choices=[("", "Not asked"), *StatedGender.choices],
        required=False,
        help_text="As the person states it.",
    )
    address = forms.CharField(max_length=300, required=False)
    postcode = UKPostcodeFormField(required=False)
    phone = UKPhoneFormField(label="Patient's phone", required=False)
    lives_alone = forms.BooleanField(required=False)
    communication_needs = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
        help_text="Hearing, sight, speech, memory, how best to explain.",
    )
    interpreter_needed = forms.BooleanField(label="Needs an interpreter", required=False)
    preferred_language = forms.CharField(
        max_length=100, required=False, help_text="e.g. Polish, Bengali, British Sign Language."
    )
    next_of_kin_name = forms.CharField(label="Next of kin's name", max_length=200, required=False)
    next_of_kin_relationship = forms.CharField(label="Relationship", max_length=100, required=False)
    next_of_kin_phone = UKPhoneFormField(label="Next of kin's phone", required=False)

    # The referral.
    # Referrals on to a partner service are made from the person's page (`partners`).
    service = forms.ModelChoiceField(
        Service.objects.filter(kind=Service.Kind.NHS),
        widget=forms.RadioSelect,
        empty_label=None,
        label="Refer to",
        error_messages={"required": "Choose the service to refer to."},
    )
    team = forms.ModelChoiceField(
        Team.objects.all(),
        required=False,
        label="Community Integrated Team",
        help_text="Leave empty to send it to the team of the patient's practice. Only for the teams.",
    )
    source = forms.ChoiceField(
        choices=Source.choices, error_messages={"required": "Choose who the referral comes from."}
    )
    reason = forms.ChoiceField(
        choices=_reason_choices, error_messages={"required": "Choose the reason for the referral."}
    )
    reason_other = forms.CharField(
        label="If other, say what",
        max_length=200,
        required=False,
        help_text="With the reason 'Other': what it is.",
    )
    clinical_summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        required=False,
        help_text="What has changed, and what you would like the team to do.",
    )
    carer_breakdown = forms.BooleanField(label="Carer breakdown", required=False)
    safeguarding_concern = forms.BooleanField(label="Safeguarding concern", required=False)
    key_safe = forms.BooleanField(label="Key safe at the property", required=False)
    consent_to_referral = forms.BooleanField(
        label="The person (or their representative) agrees to this referral",
        error_messages={"required": "A referral needs the person's consent, or their representative's."},
    )
    consent_to_share = forms.BooleanField(
        label="They agree to information being shared between ATB partners", required=False
    )
    referrer_phone = UKPhoneFormField(
        label="Your contact number",
        error_messages={"required": "Enter a number the team can call you back on."},
    )
    confirm_duplicate = forms.BooleanField(
        label="Refer anyway: this is a new concern", required=False, widget=forms.HiddenInput
    )

    CALLER_FIELDS = ("caller_name", "caller_relationship", "caller_phone")

    def __init__(self, *args, user: User, phone_in: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.phone_in = phone_in
        self.person: SentPerson | None = None
        self.duplicates = []
        if phone_in:
            self.fields["caller_name"] = forms.CharField(
                label="Caller's name", max_length=200, error_messages={"required": "Enter the caller's name."}
            )
            self.fields["caller_relationship"] = forms.CharField(
                label="Caller's relationship or role",
                max_length=100,
                help_text="e.g. the person themself, daughter, neighbour, district nurse",
                error_messages={"required": "Say who the caller is to the person."},
            )
            self.fields["caller_phone"] = UKPhoneFormField(
                label="Caller's number",
                error_messages={"required": "Enter the number to call the caller back on."},
            )
            # The clock starts with the call, not when the form is saved after it.
            self.fields["call_started_at"] = EraDateTimeField(
                label="Call started (UK time)",
                widget=datetime_input(),
                help_text="The response clock starts here.",
                error_messages={"required": "Enter when the call started."},
            )
            self.initial.setdefault("call_started_at", timezone.localtime().replace(second=0, microsecond=0))
            self.fields["date_of_birth"].required = False
            self.fields["practice"].required = False
            del self.fields["referrer_phone"]
            self.initial.setdefault(
                "service", Service.objects.filter(code=Service.Code.RECOVERY_AT_HOME).first()
            )
            self.initial.setdefault("source", Source.FAMILY_CARER)
        else:
            own_practices = list(user.practices.all()[:2])
            if len(own_practices) == 1:
                self.initial.setdefault("practice", own_practices[0])
            self.initial.setdefault("referrer_phone", user.phone)
            self.initial.setdefault(
                "source",
                Source.GP
                if user.discipline in (Discipline.GP, Discipline.PRACTICE_NURSE)
                else Source.OTHER_PROFESSIONAL,
            )
        if self.data.get("confirm_duplicate") or self.data.get("duplicates_shown"):
            self.fields["confirm_duplicate"].widget = forms.CheckboxInput()
        # The team list is for a referral to the teams alone (referral_form.js disables it
        # for any other service, and clean() ignores it).
        self.fields["team"].widget.attrs["data-teams-service"] = (
            Service.objects.filter(code=Service.Code.COMMUNITY_INTEGRATED_TEAMS)
            .values_list("pk", flat=True)
            .first()
        )
        self.helper = self._layout()

    def _layout(self) -> FormHelper:
        helper = FormHelper()
        helper.form_tag = False
        caller = (
            [
                Fieldset(
                    "The caller",
                    Div(*(Div(name, css_class="col-md-4") for name in self.CALLER_FIELDS), css_class="row"),
                    Div(Div("call_started_at", css_class="col-md-4"), css_class="row"),
                )
            ]
            if self.phone_in
            else []
        )
        helper.layout = Layout(
            *caller,
            Fieldset(
                "The person",
                Div(
                    Div(
                        Field("nhs_number", **self._lookup_attrs()),
                        # The live check's answer, under the number it is about.
                        Div(
                            css_id="patient-lookup",
                            css_class="mb-3",
                            role="status",
                            **{"aria-live": "polite"},
                        ),
                        css_class="col-md-6",
                    ),
                    Div("date_of_birth", css_class="col-md-6"),
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
                    Div("phone", css_class="col-md-4"),
                    Div("gender", css_class="col-md-4"),
                    Div("lives_alone", css_class="col-md-4 pt-md-4"),
                    css_class="row",
                ),
                "communication_needs",
                self.interpreter_row(),
                self.next_of_kin_row(),
            ),
            Fieldset(
                "The referral",
                Div(
                    Div(Field("service"), css_class="col-md-4"),
                    Div("team", css_class="col-md-8"),
                    css_class="row",
                ),
                Div(
                    Div("source", css_class="col-md-4"), Div("reason", css_class="col-md-8"), css_class="row"
                ),
                "reason_other",
                "clinical_summary",
                Div(
                    Div("carer_breakdown", css_class="col-md-4"),
                    Div("safeguarding_concern", css_class="col-md-4"),
                    Div("key_safe", css_class="col-md-4"),
                    css_class="row",
                ),
                "consent_to_referral",
                "consent_to_share",
                *([] if self.phone_in else ["referrer_phone"]),
                "confirm_duplicate",
            ),
            Submit("submit", "Send referral"),
        )
        return helper

    @staticmethod
    def _lookup_attrs() -> dict:
        return {
            "hx-get": reverse("referrals:patient_lookup"),
            "hx-trigger": "input changed delay:500ms, change",
            "hx-target": "#patient-lookup",
        }

    def clean(self):
        cleaned = super().clean()
        service, reason = cleaned.get("service"), cleaned.get("reason")
        if service and service.code != Service.Code.COMMUNITY_INTEGRATED_TEAMS:
            cleaned["team"] = None
        if service and reason and "reason_other" in cleaned:
            problems = services.reason_problems(
                reason=reason, reason_other=cleaned["reason_other"], service=service
            )
            for field, problem in problems.items():
                self.add_error(field, problem)
        self.check_interpreter(cleaned)
        if cleaned.get("call_started_at") and (
            problem := services.call_start_problem(started_at=cleaned["call_started_at"], now=timezone.now())
        ):
            self.add_error("call_started_at", problem)
        if self.errors:
            return cleaned
        self.person = SentPerson(
            nhs_number=cleaned.get("nhs_number"),
            given_name=cleaned["given_name"],
            family_name=cleaned["family_name"],
            date_of_birth=cleaned.get("date_of_birth"),
            practice=cleaned.get("practice"),
            address=cleaned.get("address", ""),
            postcode=cleaned.get("postcode", ""),
            phone=cleaned.get("phone", ""),
            lives_alone=cleaned.get("lives_alone", False),
            **{name: cleaned[name] for name in CARE_DETAILS},
        )
        if (
            service.code == Service.Code.COMMUNITY_INTEGRATED_TEAMS
            and not cleaned.get("team")
            and services.route_to_team_of(practice=self.person.practice) is None
        ):
            self.add_error("team", "Choose the team: the person's GP practice is not known.")
        self.duplicates = list(
            services.open_duplicates(person=self.person, service=service, user=self.user)[:3]
        )
        if self.duplicates and not cleaned.get("confirm_duplicate"):
            self.fields["confirm_duplicate"].widget = forms.CheckboxInput()
            raise forms.ValidationError(
                "This person already has an open referral to %(service)s. Open it below, or tick "
                "'Refer anyway' if this is a new concern.",
                code="duplicate",
                params={"service": service},
            )
        return cleaned

    def referrer(self) -> services.Referrer:
        if self.phone_in:
            return services.Referrer(
                name=self.cleaned_data["caller_name"],
                role=self.cleaned_data["caller_relationship"],
                phone=self.cleaned_data["caller_phone"],
                recorded_by=self.user,
            )
        return services.Referrer(
            user=self.user,
            practice=services.referring_practice(user=self.user, candidate=self.cleaned_data.get("practice")),
            name="",
            role=self.user.job_title or self.user.get_discipline_display(),
            phone=self.cleaned_data["referrer_phone"],
        )


class ReferralFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any status"), *Status.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    received_from = EraDateField(
        required=False, widget=forms.DateInput(attrs={"type": "date", "class": "form-control"})
    )
    received_to = EraDateField(
        required=False, widget=forms.DateInput(attrs={"type": "date", "class": "form-control"})
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label="Why is it declined?"
    )


class RedirectForm(forms.Form):
    service = forms.ModelChoiceField(
        Service.objects.filter(kind=Service.Kind.NHS), empty_label=None, label="Redirect to"
    )
    team = forms.ModelChoiceField(Team.objects.all(), required=False, label="Team (for CIT)")
    note = forms.CharField(max_length=1000, required=False)


class CloseForm(forms.Form):
    outcome = forms.CharField(max_length=300, label="Outcome")


class NoteForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)


class ExportForm(forms.Form):
    EXTRACTS = [
        ("flat", "All referrals, one row each"),
        ("cyp101", "CSDS CYP101: referrals"),
        ("cyp104", "CSDS CYP104: waiting-time clocks (2-hour UCR, 2-day reablement)"),
    ]
    received_from = EraDateField(widget=date_input())
    received_to = EraDateField(widget=date_input())
    extract = forms.ChoiceField(
        choices=EXTRACTS,
        required=False,
        initial="flat",
        help_text="CSDS rows link by SERVICE REQUEST IDENTIFIER; a clock is in the period it started.",
    )

    def clean(self):
        cleaned = super().clean()
        check_period(self, "received_from", "received_to")
        return cleaned


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        label="Why are you withdrawing it?",
        error_messages={"required": "Say why the referral is withdrawn."},
    )


class CorrectionForm(forms.Form):
    """The referrer's correction of the need they described (`services.CORRECTABLE`),
    started from the referral as it stands."""

    reason = forms.ChoiceField(error_messages={"required": "Choose the reason for the referral."})
    reason_other = ReferralForm.base_fields["reason_other"]
    clinical_summary = ReferralForm.base_fields["clinical_summary"]
    carer_breakdown = ReferralForm.base_fields["carer_breakdown"]
    safeguarding_concern = ReferralForm.base_fields["safeguarding_concern"]
    key_safe = ReferralForm.base_fields["key_safe"]
    consent_to_share = ReferralForm.base_fields["consent_to_share"]

    def __init__(self, *args, referral, **kwargs):
        initial = {name: getattr(referral, name) for name in services.CORRECTABLE}
        super().__init__(*args, initial=initial, **kwargs)
        self.referral = referral
        offered = reasons_for(referral.service)
        self.fields["reason"].choices = [(r.value, r.label) for r in offered]

    def clean(self):
        cleaned = super().clean()
        if "reason" in cleaned and "reason_other" in cleaned:
            for field, problem in services.reason_problems(
                reason=cleaned["reason"], reason_other=cleaned["reason_other"], service=self.referral.service
            ).items():
                self.add_error(field, problem)
        return cleaned
