"""One date input and one file input for every form; refused fields marked (DESIGN §11)."""

from __future__ import annotations

import datetime
import importlib
import pkgutil
import re
from typing import Any

import pytest
from django import forms
from django.utils import timezone, translation

from assessments import widgets
from assessments.forms import CriteriaUploadForm, ExtensionForm
from reporting.forms import ApprovalForm

APPS = ("assessments", "councils", "reporting", "home")


def all_forms() -> list[type[forms.BaseForm]]:
    """Every form class of the portal's apps (their modules imported, then Form's subclasses)."""
    for app in APPS:
        try:
            package = importlib.import_module(app)
        except ImportError:
            continue
        for module in pkgutil.iter_modules(package.__path__):
            if not module.ispkg and not module.name.startswith(("test", "migrations")):
                importlib.import_module(f"{app}.{module.name}")
    found: list[type[forms.BaseForm]] = []
    todo: list[type[forms.BaseForm]] = [forms.Form, forms.ModelForm]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if sub.__module__.split(".")[0] in APPS:
                found.append(sub)
    return found


def form_fields(form_class: type[forms.BaseForm]) -> dict[str, forms.Field]:
    return dict(getattr(form_class, "base_fields", {}))


def test_the_form_census_finds_the_forms() -> None:
    names = {cls.__name__ for cls in all_forms()}
    assert {"ApprovalForm", "AssignmentForm", "CriteriaUploadForm", "ExtensionForm"} <= names


@pytest.mark.parametrize("form_class", all_forms(), ids=lambda cls: cls.__qualname__)
def test_every_date_and_file_field_uses_the_portal_widget(form_class: type[Any]) -> None:
    for name, field in form_fields(form_class).items():
        where = f"{form_class.__module__}.{form_class.__qualname__}.{name}"
        if isinstance(field, forms.DateField):
            assert isinstance(field.widget, widgets.DateInput), where
        if isinstance(field, forms.DateTimeField):
            assert isinstance(field.widget, widgets.DateTimeInput), where
        if isinstance(field, forms.FileField):
            assert isinstance(field.widget, widgets.FileInput), where
        assert field.widget.attrs.get("type") not in {"date", "datetime-local"}, where


def test_the_date_input_is_a_text_box_for_dd_mm_yyyy() -> None:
    html = str(ApprovalForm()["date"])
    assert 'type="text"' in html and 'inputmode="numeric"' in html
    assert 'placeholder="dd/mm/yyyy"' in html
    assert f'pattern="{widgets.DATE_PATTERN}"' in html
    assert 'type="date"' not in html
    assert re.fullmatch(widgets.DATE_PATTERN, "05/12/2026")
    assert not re.fullmatch(widgets.DATE_PATTERN, "2026-12-05")


@pytest.mark.parametrize("language", ["vi", "en"])
def test_05_12_2026_means_the_5th_of_december_in_every_language(language: str) -> None:
    with translation.override(language):
        form = ApprovalForm(
            {"number": "312/QĐ-UBND", "date": "05/12/2026", "signer": "Huỳnh Văn Lộc"}
        )
        assert form.is_valid(), form.errors
    assert form.cleaned_data["date"] == datetime.date(2026, 12, 5)


def test_a_date_shows_as_dd_mm_yyyy() -> None:
    form = ApprovalForm(initial={"date": datetime.date(2026, 12, 5)})
    assert 'value="05/12/2026"' in str(form["date"])


def test_a_month_first_date_is_refused_with_the_format_named() -> None:
    form = ApprovalForm({"number": "1", "date": "12/25/2026", "signer": "A"})
    assert not form.is_valid()
    assert "dd/mm/yyyy" in str(form.errors["date"])


def test_the_extension_deadline_is_typed_dd_mm_yyyy_and_a_date_means_its_end() -> None:
    zone = timezone.get_current_timezone()
    form = ExtensionForm({"until": "05/12/2026", "reason": "Lý do"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["until"] == datetime.datetime(2026, 12, 5, 23, 59, tzinfo=zone)
    form = ExtensionForm({"until": "05/12/2026 17:00", "reason": "Lý do"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["until"] == datetime.datetime(2026, 12, 5, 17, 0, tzinfo=zone)
    html = str(ExtensionForm()["until"])
    assert 'type="text"' in html and "datetime-local" not in html


def test_the_file_input_speaks_vietnamese_and_stays_focusable() -> None:
    with translation.override("vi"):
        html = str(CriteriaUploadForm()["file"])
    assert "Chọn tệp" in html and "Chưa chọn tệp" in html
    assert "Choose File" not in html
    assert re.search(r'<label class="btn [^"]*portal-file-button"><input type="file"', html)
    input_tag = re.search(r"<input [^>]*>", html)
    assert input_tag
    assert 'class="portal-file-input visually-hidden"' in input_tag.group()
    assert 'accept=".xlsx,.csv"' in input_tag.group() and 'id="id_file"' in input_tag.group()
    assert "tabindex" not in input_tag.group()  # reached with Tab like any input


def test_a_small_file_input_keeps_a_small_button() -> None:
    html = str(ApprovalForm()["signed_pdf"])
    assert "btn-sm" in html and 'accept="application/pdf,.pdf"' in html


def test_a_refused_field_is_marked_and_points_at_its_message() -> None:
    form = ApprovalForm({"number": "", "date": "31/02/2026", "signer": "A"})
    assert not form.is_valid()
    html = str(form["date"])
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_date_error"' in html
    assert re.search(r'class="[^"]*form-control[^"]*is-invalid', html)
    assert 'id="id_date_error"' in str(form["date"].errors)
    assert getattr(form["date"], "error_id", None) == "id_date_error"
    # A valid field is not marked.
    assert "aria-invalid" not in str(form["signer"])
    assert "is-invalid" not in str(form["signer"])


def test_a_refused_file_marks_the_button() -> None:
    form = CriteriaUploadForm({}, {})
    assert not form.is_valid()
    html = str(form["file"])
    assert 'aria-invalid="true"' in html and "border-danger" in html


@pytest.mark.django_db
def test_a_refused_login_marks_both_inputs_and_names_the_message(client: Any) -> None:
    response = client.post("/dang-nhap/", {"username": "ai-do", "password": "sai"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('aria-invalid="true"') == 2
    assert html.count('aria-describedby="login-error"') == 2
    assert 'id="login-error"' in html
