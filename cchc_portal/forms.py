"""How every form of the portal renders (settings.FORM_RENDERER), written once, not per form.

A refused field is marked for everyone (DESIGN §11): ``aria-invalid="true"``,
``aria-describedby`` naming its error message (``<id>_error``, the id Django gives the error
list of ``{{ field.errors }}``; a template that writes the messages itself gives its element
``id="{{ field.auto_id }}_error"``, see templates/includes/field_errors.html) and Bootstrap's
``is-invalid`` class on its control.
"""

from __future__ import annotations

from typing import Any

from django.forms.boundfield import BoundField
from django.forms.renderers import TemplatesSetting
from django.forms.widgets import Widget

# Classes of Bootstrap controls that show their invalid state with `is-invalid`.
CONTROLS = ("form-control", "form-select", "form-check-input")


class PortalBoundField(BoundField):
    def build_widget_attrs(self, attrs: dict[str, Any], widget: Widget | None = None) -> Any:
        attrs = super().build_widget_attrs(attrs, widget)
        widget = widget or self.field.widget
        if self.errors and not widget.is_hidden:
            attrs["aria-invalid"] = "true"
            classes = str(attrs.get("class", widget.attrs.get("class", ""))).split()
            if any(c.startswith(CONTROLS) for c in classes) and "is-invalid" not in classes:
                attrs["class"] = " ".join([*classes, "is-invalid"])
        return attrs

    @property
    def error_id(self) -> str:
        """The id of this field's error message, which the control's aria-describedby names."""
        return f"{self.auto_id}_error" if self.auto_id else ""


class FormRenderer(TemplatesSetting):
    """Django's renderer through the project's template settings (so templates/includes/widgets
    are found), with the bound field above."""

    bound_field_class = PortalBoundField
