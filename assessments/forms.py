from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Round, UnitGroup

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
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
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
