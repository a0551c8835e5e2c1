from __future__ import annotations

from django import forms

from closed_loop.models import UpdateKind


class UpdateSettingsForm(forms.Form):
    emailed = forms.MultipleChoiceField(
        choices=UpdateKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Email me too when my referral is…",
        help_text="Every update is in the portal. An email gives the reference and a link, "
        "never anything about the person.",
    )
