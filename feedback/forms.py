from __future__ import annotations

from django import forms

from core.forms import EraDateField, date_input
from core.models import Neighbourhood, Service, Team
from feedback.models import Answer, Likert
from feedback.services import COMMENT_LIMIT

QUESTION = "Overall, how was your experience of our service?"
FREE_TEXT = "Please tell us why you gave that answer, or anything we could do better."


class AnswerForm(forms.Form):
    answer = forms.ChoiceField(
        choices=Answer.choices,
        widget=forms.RadioSelect,
        label=QUESTION,
        error_messages={"required": "Choose one answer."},
    )
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=COMMENT_LIMIT,
        required=False,
        label=FREE_TEXT,
        help_text="Optional. Please do not write names: your answer is anonymous.",
    )


class PaperForm(AnswerForm):
    service = forms.ModelChoiceField(Service.objects.filter(kind=Service.Kind.NHS), empty_label=None)
    team = forms.ModelChoiceField(Team.objects.all(), required=False, label="Team (for a team's discharge)")
    neighbourhood = forms.ModelChoiceField(Neighbourhood.objects.all(), required=False)
    month = EraDateField(
        widget=date_input(), label="When it was filled in", help_text="Any day of the month."
    )


class PulseForm(forms.Form):
    supported = forms.TypedChoiceField(
        choices=Likert.choices,
        coerce=int,
        widget=forms.RadioSelect,
        label="I feel supported by my team.",
        error_messages={"required": "Choose an answer to this statement."},
    )
    equipped = forms.TypedChoiceField(
        choices=Likert.choices,
        coerce=int,
        widget=forms.RadioSelect,
        label="I have what I need to do my job well.",
        error_messages={"required": "Choose an answer to this statement."},
    )
    recommend = forms.ChoiceField(
        choices=Answer.choices,
        widget=forms.RadioSelect,
        label=(
            "If a friend or relative needed similar care, "
            "how good would you expect this service to be for them?"
        ),
        error_messages={"required": "Choose one answer."},
    )
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=COMMENT_LIMIT,
        required=False,
        label="Anything you would like your managers to hear?",
        help_text="Anonymous: your answer is kept apart from the fact that you answered.",
    )
