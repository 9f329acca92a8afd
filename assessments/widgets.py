"""The portal's date and file inputs, used by every form (DESIGN §11).

Native ``<input type="date">`` and ``<input type="file">`` follow the browser's language: an
English browser shows "mm/dd/yyyy" (typing 05/12/2026 would mean 12 May) and "Choose File /
No file chosen". The portal's inputs are the same whatever the browser: a date is typed as
dd/mm/yyyy in a text box and parsed on the server; a file is chosen with a Vietnamese button.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

DATE_FORMAT = "%d/%m/%Y"
# d/m/yyyy or dd/mm/yyyy; the server parses it (a typing slip gets a message, not a guess).
DATE_PATTERN = r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}"


class DateInput(forms.DateInput):
    """A date typed as dd/mm/yyyy: a text box with a numeric keyboard on phones."""

    input_type = "text"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        base = {
            "class": "form-control",
            "inputmode": "numeric",
            "autocomplete": "off",
            "placeholder": _("dd/mm/yyyy"),
            "pattern": DATE_PATTERN,
            "title": _("Type the date as dd/mm/yyyy, for example 05/12/2026."),
        }
        super().__init__(attrs={**base, **(attrs or {})}, format=DATE_FORMAT)


class DateField(forms.DateField):
    """A date field that reads only dd/mm/yyyy, whatever the language, with the portal's
    widget and a message that names the format."""

    widget = DateInput
    default_error_messages = {
        "invalid": _("Type the date as dd/mm/yyyy, for example 05/12/2026."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", [DATE_FORMAT])
        super().__init__(**kwargs)


class DateTimeInput(forms.DateTimeInput):
    """A moment typed as dd/mm/yyyy hh:mm (the time may be left out: see DeadlineField)."""

    input_type = "text"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        base = {
            "class": "form-control",
            "inputmode": "numeric",
            "autocomplete": "off",
            "placeholder": _("dd/mm/yyyy hh:mm"),
            "pattern": DATE_PATTERN + r"( [0-9]{1,2}:[0-9]{2})?",
            "title": _("Type the date as dd/mm/yyyy, optionally with the time: 05/12/2026 17:00."),
        }
        super().__init__(attrs={**base, **(attrs or {})}, format=f"{DATE_FORMAT} %H:%M")


class DeadlineField(forms.DateTimeField):
    """A deadline typed as dd/mm/yyyy hh:mm; a date alone means the end of that day (23:59)."""

    widget = DateTimeInput
    default_error_messages = {
        "invalid": _("Type the date as dd/mm/yyyy, optionally with the time: 05/12/2026 17:00."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", [f"{DATE_FORMAT} %H:%M"])
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and re.fullmatch(DATE_PATTERN, value.strip()):
            value = f"{value.strip()} 23:59"
        return super().to_python(value)


class FileInput(forms.FileInput):
    """A file input with a Vietnamese button ("Chọn tệp") and the chosen name beside it.

    The native input stays in the page, visually hidden but focusable and labelled by the
    field's label; the visible button is a second label of it. static/js/portal.js writes the
    chosen file's name in place of "Chưa chọn tệp"."""

    template_name = "includes/widgets/file.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        classes = str(widget["attrs"].get("class", "")).split()
        widget["invalid"] = "is-invalid" in classes
        widget["small"] = any(c.endswith("-sm") for c in classes)
        widget["attrs"]["class"] = "portal-file-input visually-hidden"
        return context
