from __future__ import annotations

from django import forms
from django.utils import timezone

from core import time_bounds
from core.forms import EraDateField, EraDateTimeField, StaffChoiceField, StaffSelect, datetime_input
from core.models import BedUnit, Role, User
from recovery_at_home.care import VisitOutcome
from recovery_at_home.models import CareDischarge, Outcome, PlannedVisit, Skill, TriageCategory


class TriageForm(forms.Form):
    category = forms.ModelChoiceField(
        TriageCategory.objects.all(),
        empty_label="Choose a category",
        label="Triage category",
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class AgreedLaterForm(forms.Form):
    due_at = EraDateTimeField(
        label="Agreed time",
        widget=datetime_input(),
    )
    reason = forms.CharField(max_length=300, label="Why (who asked for it)")

    def clean_due_at(self):
        due_at = self.cleaned_data["due_at"]
        if problem := time_bounds.agreed_later_problem(due_at, now=timezone.now()):
            raise forms.ValidationError(problem)
        return due_at


class ArrivalForm(forms.Form):
    arrived_at = EraDateTimeField(
        required=False,
        label="Arrived at (leave empty for now)",
        widget=datetime_input(),
    )
    late_reason = forms.CharField(max_length=300, required=False, label="If recorded later, why")


class ReablementNeedForm(forms.Form):
    in_referral = forms.BooleanField(
        required=False, label="The referral asked for reablement (the 2-day clock starts at receipt)"
    )
    found_at = EraDateTimeField(
        required=False,
        label="Otherwise, found to need it at (leave empty for now)",
        widget=datetime_input(),
    )
    late_reason = forms.CharField(max_length=300, required=False, label="If recorded later, why")


class ReablementStartForm(forms.Form):
    started_at = EraDateTimeField(
        required=False,
        label="Reablement care began at (leave empty for now)",
        widget=datetime_input(),
    )
    late_reason = forms.CharField(max_length=300, required=False, label="If recorded later, why")


class DispatchForm(forms.Form):
    responder = StaffChoiceField(
        User.objects.filter(is_active=True, role_grants__role=Role.RAH_RESPONDER).order_by("last_name"),
        empty_label="Choose a responder",
        widget=StaffSelect(attrs={"class": "form-select"}),
    )
    # How many visits the coordinator saw the responder already had ("Who can go" shows
    # them and sends the count): a visit sent since is said back, not stacked unseen.
    visits_in_hand = forms.IntegerField(
        min_value=0, max_value=50, required=False, initial=0, widget=forms.HiddenInput
    )


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[("", "Choose the outcome"), *Outcome.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    planned_end_date = EraDateField(
        required=False, label="Planned end of short-term care", widget=forms.DateInput(attrs={"type": "date"})
    )
    bed_unit = forms.ModelChoiceField(
        BedUnit.objects.all(), required=False, label="Bed unit", empty_label="Choose a bed unit"
    )
    note = forms.CharField(
        max_length=500, required=False, label="Note (for a hand-over: what the team should know)"
    )

    def clean_planned_end_date(self):
        day = self.cleaned_data["planned_end_date"]
        if day and (problem := time_bounds.planned_end_problem(day, today=timezone.localdate())):
            raise forms.ValidationError(problem)
        return day


class DischargeForm(forms.Form):
    note = forms.CharField(max_length=300, required=False, label="Discharge note")


def _responders():
    return User.objects.filter(is_active=True, role_grants__role=Role.RAH_RESPONDER).order_by("last_name")


class PlanVisitForm(forms.Form):
    """A visit of short-term care (`care.plan_visit` holds the rule)."""

    responder = StaffChoiceField(
        _responders(), empty_label="Choose a responder", widget=StaffSelect(attrs={"class": "form-select"})
    )
    window_start = EraDateTimeField(label="From (UK time)", widget=datetime_input())
    window_end = EraDateTimeField(label="Until (UK time)", widget=datetime_input())
    tasks = forms.CharField(max_length=300, label="Tasks (what the visit is for)")


class PlannedVisitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, visit: PlannedVisit) -> str:
        starts, ends = timezone.localtime(visit.window_start), timezone.localtime(visit.window_end)
        return f"{starts:%a %-d %b %H:%M} to {ends:%H:%M}, {visit.responder}: {visit.tasks}"


class RecordVisitForm(forms.Form):
    """What became of a planned visit (`care.record_visit`)."""

    # Any visit: whether it can still be recorded is care.record_visit's to say (a second
    # tap is told it was recorded, not that the choice is invalid). Pages offer their own.
    visit = PlannedVisitChoiceField(
        PlannedVisit.objects.select_related("responder"),
        empty_label="Choose the visit",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    outcome = forms.ChoiceField(
        choices=[("", "Choose what happened"), *VisitOutcome.CHOICES],
        label="What happened",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    note = forms.CharField(max_length=300, required=False, label="Why (missed or moved)")
    new_start = EraDateTimeField(required=False, label="Moved to: from (UK time)", widget=datetime_input())
    new_end = EraDateTimeField(required=False, label="Moved to: until (UK time)", widget=datetime_input())


class DischargeCareForm(forms.Form):
    """The review's decision (`care.discharge_from_care`)."""

    discharged_to = forms.ChoiceField(
        choices=[("", "Choose where they go on to"), *CareDischarge.choices],
        label="Discharge",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    note = forms.CharField(
        max_length=500, required=False, label="Review note (for a hand-over: what the team should know)"
    )


# The form each clock action reads, at every door (the referral page, the API).
CLOCK_FORMS = {
    "triage": TriageForm,
    "agree-later": AgreedLaterForm,
    "dispatch": DispatchForm,
    "arrival": ArrivalForm,
    "outcome": OutcomeForm,
    "reablement-needed": ReablementNeedForm,
    "reablement-started": ReablementStartForm,
    "plan-visit": PlanVisitForm,
    "record-visit": RecordVisitForm,
    "discharge-care": DischargeCareForm,
}


WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


class ShiftForm(forms.Form):
    """A shift on the rota (`rota.add_shift` holds the rule)."""

    staff = StaffChoiceField(
        User.objects.filter(is_active=True, role_grants__role__in=[Role.RAH_COORDINATOR, Role.RAH_RESPONDER])
        .distinct()
        .order_by("last_name", "first_name"),
        label="Who",
        empty_label="Choose a member of staff",
        widget=StaffSelect(attrs={"class": "form-select"}),
    )
    starts_at = EraDateTimeField(label="Starts (UK time)", widget=datetime_input())
    ends_at = EraDateTimeField(label="Ends (UK time)", widget=datetime_input())
    base = forms.CharField(max_length=100, initial="Leechmere", required=False)
    skills = forms.MultipleChoiceField(
        choices=Skill.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Skills on this shift",
    )
    repeat_weeks = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=12,
        label="Repeat for how many weeks (empty: this shift only)",
    )
    repeat_days = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="On these days too (the first shift's day always)",
    )

    def clean(self):
        data = super().clean()
        if data.get("repeat_days") and not data.get("repeat_weeks"):
            self.add_error("repeat_weeks", "Say for how many weeks the shift repeats on those days.")
        return data


class ShiftChangeForm(forms.Form):
    """A shift's times, base and skills changed (`rota.change_shift`)."""

    starts_at = EraDateTimeField(label="Starts (UK time)", widget=datetime_input())
    ends_at = EraDateTimeField(label="Ends (UK time)", widget=datetime_input())
    base = forms.CharField(max_length=100, required=False)
    skills = forms.MultipleChoiceField(
        choices=Skill.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Skills on this shift",
    )


class WeekForm(forms.Form):
    """Which week of the rota: the one holding this day."""

    day = EraDateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
