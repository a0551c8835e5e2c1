from __future__ import annotations

from django import forms

from closed_loop.models import ContactConsent, UpdateKind


class UpdateSettingsForm(forms.Form):
    emailed = forms.MultipleChoiceField(
        choices=UpdateKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Email me too when my referral is…",
        help_text="Every update is in the portal. An email gives the reference and a link, "
        "never anything about the person.",
    )


class ContactConsentForm(forms.Form):
    """What the person, or their representative, agreed to be told by the portal."""

    recipient = forms.ChoiceField(choices=ContactConsent.Recipient.choices, label="Who is told")
    channel = forms.ChoiceField(choices=ContactConsent.Channel.choices, label="How")
    email = forms.EmailField(required=False, max_length=254, help_text="For email only.")
    opted_out = forms.BooleanField(
        required=False, label="They do not want messages from the portal (nothing is sent)"
    )
