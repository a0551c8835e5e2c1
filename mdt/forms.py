from __future__ import annotations

from django import forms


class FlagForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        label="Why should the MDT discuss this person?",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
