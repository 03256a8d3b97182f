"""Forms of the team pages in the admin."""

from django import forms

from team.models import Preferences


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = Preferences
        fields = ("notify_leads", "weekly_digest")


class InviteForm(forms.Form):
    email = forms.EmailField(label="Teammate's e-mail address")
    full_access = forms.BooleanField(
        label="Full access",
        required=False,
        initial=True,
        help_text="Can change settings, carry out data requests and invite others. Without "
        "it the teammate can only view conversations, leads, requests and crawls.",
    )
