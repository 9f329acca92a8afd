from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from . import scoring, widgets
from .models import Criterion, Round, UnitAssessment, UnitGroup, UnitRole

MAX_WORKBOOK_BYTES = 5 * 1024 * 1024


class CriteriaUploadForm(forms.Form):
    round = forms.ModelChoiceField(
        label=_("Round"),
        queryset=Round.objects.order_by("-year"),
        to_field_name="year",
        empty_label=None,
    )
    group = forms.ModelChoiceField(
        label=_("Unit group"),
        queryset=UnitGroup.objects.all(),
        to_field_name="code",
        empty_label=None,
    )
    file = forms.FileField(
        label=_("Criteria workbook (.xlsx or .csv)"),
        widget=widgets.FileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    replace = forms.BooleanField(
        label=_("Replace the existing criteria of this group (only before the round opens)"),
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            css = "form-check-input" if name == "replace" else "form-select"
            if name == "file":
                css = "form-control"
            field.widget.attrs.setdefault("class", css)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError(_("Choose an .xlsx or .csv file."))
        if upload.size > MAX_WORKBOOK_BYTES:
            raise forms.ValidationError(
                _("The file is larger than 5 MB; a criteria workbook is much smaller.")
            )
        return upload


class ConfirmImportForm(forms.Form):
    payload = forms.CharField(widget=forms.HiddenInput)


class AssignmentForm(forms.Form):
    criterion = forms.ModelChoiceField(
        label=_("Field or criterion"), queryset=Criterion.objects.none()
    )
    assignee = forms.ModelChoiceField(label=_("Assign to"), queryset=User.objects.none())
    due_date = widgets.DateField(label=_("Due date"), required=False)

    def __init__(self, *args: Any, assessment: UnitAssessment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        criteria = assessment.criteria_set.criteria.exclude(method=scoring.SURVEY).order_by(
            "position"
        )
        criterion_field = cast(forms.ModelChoiceField, self.fields["criterion"])
        assignee_field = cast(forms.ModelChoiceField, self.fields["assignee"])
        criterion_field.queryset = criteria
        assignee_field.queryset = User.objects.filter(
            unit_memberships__unit_id=assessment.unit_id,
            unit_memberships__role__in=[UnitRole.CONTRIBUTOR, UnitRole.FOCAL],
        ).order_by("first_name")
        for field in self.fields.values():
            field.widget.attrs.setdefault(
                "class",
                "form-select" if isinstance(field, forms.ModelChoiceField) else "form-control",
            )


class SignOffForm(forms.ModelForm):
    class Meta:
        model = UnitAssessment
        fields = ["difficulties", "recommendations"]
        widgets = {
            "difficulties": forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
            "recommendations": forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
        }


class ExtensionForm(forms.Form):
    # dd/mm/yyyy [hh:mm], typed (no native date picker: it follows the browser's language).
    until = widgets.DeadlineField(label=_("New deadline"), input_formats=["%d/%m/%Y %H:%M"])
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"})
    )


class ReturnForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"})
    )
