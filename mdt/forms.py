from __future__ import annotations

from django import forms
from django.utils import timezone

from core import time_bounds
from core.access import CLINICAL_STAFF
from core.forms import EraDateField, EraDateTimeField, StaffChoiceField, date_input, datetime_input
from core.models import Patient, Team, User
from mdt.models import Action, AgendaItem, Attendee, Meeting, MeetingSchedule


def _staff():
    return (
        User.objects.filter(is_active=True, role_grants__role__in=CLINICAL_STAFF)
        .distinct()
        .order_by("last_name", "first_name")
    )


class FlagForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        label="Why should the MDT discuss this person?",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class MeetingForm(forms.ModelForm):
    video_link = forms.URLField(required=False, assume_scheme="https", max_length=200)
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)", min_value=15, max_value=8 * 60, initial=60
    )
    starts_at = EraDateTimeField(
        label="Starts (UK time)",
        widget=datetime_input(),
    )

    class Meta:
        model = Meeting
        fields = ["practice", "starts_at", "duration_minutes", "place", "video_link"]

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practice"].queryset = user.practices.order_by("name")

    def clean_starts_at(self):
        starts_at = self.cleaned_data["starts_at"]
        if starts_at < timezone.now():
            raise forms.ValidationError("A new meeting cannot start in the past.")
        return starts_at


class ScheduleForm(forms.ModelForm):
    video_link = forms.URLField(required=False, assume_scheme="https", max_length=200)
    every_weeks = forms.IntegerField(label="Every (weeks)", min_value=1, max_value=52, initial=4)
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)", min_value=15, max_value=8 * 60, initial=60
    )

    class Meta:
        model = MeetingSchedule
        fields = [
            "practice",
            "first_date",
            "start_time",
            "every_weeks",
            "duration_minutes",
            "place",
            "video_link",
        ]
        field_classes = {"first_date": EraDateField}
        widgets = {
            "first_date": date_input(),
            "start_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        labels = {"every_weeks": "Every (weeks)", "start_time": "Start time (UK)"}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practice"].queryset = user.practices.order_by("name")


class AmendmentMixin(forms.Form):
    """Changing closed minutes needs a reason (the service refuses otherwise)."""

    amendment_reason = forms.CharField(
        max_length=500, required=False, label="Reason for changing closed minutes"
    )


class ItemForm(AmendmentMixin, forms.ModelForm):
    presenter = StaffChoiceField(_staff(), required=False)

    class Meta:
        model = AgendaItem
        fields = ["presenter", "clinical_question", "discussion", "outcome"]
        widgets = {"discussion": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["presenter"].queryset = _staff()


class AddItemForm(AmendmentMixin, forms.Form):
    """A person added to the agenda: one of the meeting's practice's patients."""

    patient = forms.ModelChoiceField(Patient.objects.none(), widget=forms.HiddenInput)
    reason = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, meeting, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = Patient.objects.filter(
            practice=meeting.practice_id, merged_into__isnull=True
        )


class InviteForm(forms.Form):
    staff = StaffChoiceField(_staff(), required=False, label="A portal user", empty_label="Someone else")
    name = forms.CharField(max_length=200, required=False, help_text="For someone without a portal account.")
    email = forms.EmailField(required=False)
    organisation = forms.ChoiceField(choices=Attendee.Organisation.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = _staff()

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("staff") and not cleaned.get("name", "").strip():
            self.add_error("name", "Choose a portal user or give a name.")
        return cleaned


class ActionForm(AmendmentMixin, forms.Form):
    description = forms.CharField(max_length=500, label="Action")
    owner = StaffChoiceField(_staff(), required=False, label="Owner (a person)")
    owner_team = forms.ModelChoiceField(Team.objects.order_by("name"), required=False, label="or a team")
    due_date = EraDateField(widget=date_input())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _staff()

    def clean_due_date(self):
        day = self.cleaned_data["due_date"]
        if problem := time_bounds.plan_date_problem(day, today=timezone.localdate(), what="due date"):
            raise forms.ValidationError(problem)
        return day

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("owner")) == bool(cleaned.get("owner_team")):
            self.add_error("owner", "Choose one owner: a person or a team.")
        return cleaned


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Action.Status.choices)
    note = forms.CharField(max_length=500, required=False)


def share_choices(forms, **field_groups: tuple[str, ...]) -> None:
    """Give many forms on one page the same evaluated choices: one query per kind of
    choice (staff, teams) instead of one per form. Validation still uses the queryset."""
    for names in field_groups.values():
        fields = [form.fields[name] for form in forms for name in names if name in form.fields]
        if fields:
            choices = [choice for choice in fields[0].choices]  # no len(): no COUNT query
            for field in fields:
                field.choices = choices
