from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils import timezone

from core import time_bounds
from core.forms import EraDateField, EraDateTimeField, StaffChoiceField, date_input, datetime_input
from core.models import Discipline, Practice, Team, User
from teams.models import CarePlanGoal, CaseloadEntry, Contact, DischargeReason
from teams.services import key_workers_for


class AcceptForm(forms.Form):
    key_worker = StaffChoiceField(User.objects.none(), label="Key worker")
    review_due = EraDateField(
        label="First care plan review",
        required=False,
        widget=date_input(),
        help_text="Six weeks if left empty.",
    )

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key_worker"].queryset = key_workers_for(team=team)

    def clean_review_due(self):
        review_due = self.cleaned_data["review_due"]
        if review_due and review_due < timezone.localdate():
            raise forms.ValidationError("The first review cannot be in the past.")
        return review_due


class ContactForm(forms.Form):
    kind = forms.ChoiceField(choices=Contact.Kind.choices, label="Kind of contact")
    staff = StaffChoiceField(User.objects.none(), label="Who made it")
    at = EraDateTimeField(
        label="When (UK time)",
        widget=datetime_input(),
    )
    duration_minutes = forms.IntegerField(label="Duration (minutes)", min_value=1, max_value=24 * 60)
    attended = forms.BooleanField(
        label="It happened (the person was seen or spoken to)", required=False, initial=True
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000, required=False)

    def __init__(self, *args, team: Team, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = key_workers_for(team=team)
        self.fields["staff"].initial = user.pk if user else None

    def clean_at(self):
        at = self.cleaned_data["at"]
        if problem := time_bounds.contact_time_problem(at, now=timezone.now()):
            raise forms.ValidationError(problem)
        return at


class GoalForm(forms.Form):
    description = forms.CharField(max_length=500, label="Goal")
    target_date = EraDateField(required=False, widget=date_input())

    def clean_target_date(self):
        day = self.cleaned_data["target_date"]
        if day and (
            problem := time_bounds.plan_date_problem(day, today=timezone.localdate(), what="target date")
        ):
            raise forms.ValidationError(problem)
        return day


class GoalStatusForm(forms.Form):
    status = forms.ChoiceField(choices=CarePlanGoal.Status.choices)


class ReviewForm(forms.Form):
    reviewed_on = EraDateField(widget=date_input(), label="Reviewed on")
    next_review_due = EraDateField(widget=date_input(), required=False, label="Next review")
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)

    def clean(self):
        cleaned = super().clean()
        reviewed_on, next_review = cleaned.get("reviewed_on"), cleaned.get("next_review_due")
        if reviewed_on and reviewed_on > timezone.localdate():
            self.add_error("reviewed_on", "A review cannot be recorded for a future date.")
        if reviewed_on and next_review and next_review <= reviewed_on:
            self.add_error("next_review_due", "The next review must be after this one.")
        return cleaned


class DischargeForm(forms.Form):
    reason = forms.ChoiceField(choices=[("", "Choose a reason"), *DischargeReason.choices])
    note = forms.CharField(max_length=500, required=False)


class KeyWorkerForm(forms.Form):
    key_worker = StaffChoiceField(User.objects.none(), label="New key worker")

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key_worker"].queryset = key_workers_for(team=team)


class ReassignForm(KeyWorkerForm):
    entries = forms.TypedMultipleChoiceField(coerce=int, choices=[], error_messages={"required": ""})

    def __init__(self, *args, entry_ids: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entries"].choices = [(pk, pk) for pk in entry_ids]
        self.fields["entries"].error_messages["required"] = "Tick at least one person to reassign."


REVIEW_CHOICES = [("", "Any"), ("overdue", "Overdue"), ("due", "Due in the next 14 days")]
SORT_CHOICES = [
    ("review_due", "Next review"),
    ("patient", "Patient"),
    ("key_worker", "Key worker"),
    ("opened", "Longest on caseload"),
    ("-opened", "Newest on caseload"),
    ("last_contact", "Longest since contact"),
]


class CaseloadFilterForm(forms.Form):
    key_worker = StaffChoiceField(User.objects.none(), required=False, empty_label="Anyone")
    discipline = forms.ChoiceField(choices=[("", "Any"), *Discipline.choices], required=False)
    practice = forms.ModelChoiceField(Practice.objects.none(), required=False, empty_label="Any")
    review = forms.ChoiceField(choices=REVIEW_CHOICES, required=False, label="Review")
    flagged = forms.BooleanField(required=False, label="Flagged for MDT")
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False)

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key_worker"].queryset = key_workers_for(team=team)
        # The team's neighbourhood, and any other practice of a person on its caseload.
        on_caseload = CaseloadEntry.objects.filter(team=team, closed_at__isnull=True)
        self.fields["practice"].queryset = Practice.objects.filter(
            Q(neighbourhood=team.neighbourhood_id) | Q(pk__in=on_caseload.values("patient__practice"))
        ).order_by("name")
