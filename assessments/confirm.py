"""Irreversible acts ask first (DESIGN §11).

A view that performs an irreversible act (submit, withdraw, finish an appraisal round, submit
explanations, approve, publish, correct, delete a document) acts only when the POST carries
``CONFIRM_FIELD``. Without it the view answers with :func:`ask`: a page that states what will
happen, in numbers, and posts the same fields back with the confirmation added. It is an ordinary
form, so it works without JavaScript; nothing is changed until the second POST.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

CONFIRM_FIELD = "xac_nhan"
# Fields never carried over to the confirmation form.
_NOT_CARRIED = {"csrfmiddlewaretoken", CONFIRM_FIELD}


@dataclass(frozen=True)
class Confirmation:
    """What the confirmation page says; ``consequences`` are sentences with the numbers in them."""

    title: str
    consequences: Sequence[str]
    button: str
    cancel_url: str
    # Rows the user should look at before confirming: (label, url or "") pairs.
    items: Sequence[tuple[str, str]] = field(default_factory=tuple)
    items_heading: str = ""
    # A blocking problem turns the page into an explanation without the confirm button.
    blocked: bool = False
    danger: bool = False


def confirmed(request: HttpRequest) -> bool:
    """Whether this POST is the confirmed second step."""
    return request.method == "POST" and request.POST.get(CONFIRM_FIELD) == "1"


def ask(request: HttpRequest, confirmation: Confirmation, *, status: int = 200) -> HttpResponse:
    """The confirmation page: the consequences and a form re-posting the same fields."""
    carried = [
        (name, value)
        for name in request.POST
        if name not in _NOT_CARRIED
        for value in request.POST.getlist(name)
    ]
    return render(
        request,
        "confirm.html",
        {
            "confirmation": confirmation,
            "carried": carried,
            "confirm_field": CONFIRM_FIELD,
            "action": request.get_full_path(),
        },
        status=status,
    )
