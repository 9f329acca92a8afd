"""Input parsing of the council pages (DESIGN §5.3); the rules themselves live in the services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from assessments import widgets

SMALL = {"class": "form-control form-control-sm"}


class ApprovalForm(forms.Form):
    """The chair's approval decision: number, date (dd/mm/yyyy), signer, optional signed PDF."""

    number = forms.CharField(
        label=_("Decision number"), max_length=100, widget=forms.TextInput(attrs=SMALL)
    )
    date = widgets.DateField(
        label=_("Decision date"),
        error_messages={"invalid": _("Enter the date as dd/mm/yyyy, for example 28/02/2016.")},
        widget=widgets.DateInput(attrs=SMALL),
    )
    signer = forms.CharField(
        label=_("Signed by"), max_length=200, widget=forms.TextInput(attrs=SMALL)
    )
    signed_pdf = forms.FileField(
        label=_("Signed decision (PDF, optional)"),
        required=False,
        widget=widgets.FileInput(attrs={**SMALL, "accept": "application/pdf,.pdf"}),
    )


class ReasonForm(forms.Form):
    """A reason: for a correction of the results, or for sending a unit back."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={**SMALL, "rows": 2}),
    )


class OpinionForm(forms.Form):
    """A council member agrees or disagrees with a unit's result; the service requires the
    note of a disagreement."""

    agrees = forms.TypedChoiceField(
        label=_("Your opinion"),
        choices=[("1", _("I agree with the appraised result")), ("0", _("I disagree"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=2000,
        required=False,
        help_text=_("Required when you disagree."),
        widget=forms.Textarea(attrs={**SMALL, "rows": 2}),
    )
