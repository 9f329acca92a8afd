"""Input parsing of the secretariat pages (no queries: choices come from the page loader)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from assessments.models import Criterion, Unit

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def person(user: User) -> str:
    return user.get_full_name() or user.username


class AppraiserAssignmentForm(forms.Form):
    """Give an appraiser a field of one criteria set, for every unit of the group or some."""

    field = forms.TypedChoiceField(label=_("Field"), coerce=int)
    appraiser = forms.TypedChoiceField(label=_("Appraiser"), coerce=int)
    units = forms.TypedMultipleChoiceField(
        label=_("Only these units"),
        coerce=int,
        required=False,
        help_text=_("Leave empty to cover every unit of the group."),
    )

    def __init__(
        self,
        *args: Any,
        fields: Sequence[Criterion],
        appraisers: Sequence[User],
        units: Sequence[Unit],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._fields = {c.pk: c for c in fields}
        self._appraisers = {u.pk: u for u in appraisers}
        self._units = {u.pk: u for u in units}
        choice = cast(dict[str, forms.ChoiceField], self.fields)
        choice["field"].choices = [("", _("Choose a field"))] + [
            (c.pk, f"{c.code}. {c.title}") for c in fields
        ]
        choice["appraiser"].choices = [("", _("Choose an appraiser"))] + [
            (u.pk, person(u)) for u in appraisers
        ]
        choice["units"].choices = [(u.pk, f"{u.code} – {u.name}") for u in units]
        for name in ("field", "appraiser"):
            choice[name].widget.attrs["class"] = "form-select form-select-sm"
        choice["units"].widget.attrs.update(
            {"class": "form-select form-select-sm", "size": str(min(max(len(units), 3), 8))}
        )

    def clean_field(self) -> Criterion:
        return self._fields[self.cleaned_data["field"]]

    def clean_appraiser(self) -> User:
        return self._appraisers[self.cleaned_data["appraiser"]]

    def clean_units(self) -> list[Unit]:
        return [self._units[pk] for pk in self.cleaned_data["units"]]
