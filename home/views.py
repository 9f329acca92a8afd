"""Each person's home page (DESIGN §11): what to do now, in which round, by when."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from assessments.roles import get_roles

from .tasks import load_home


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    roles = get_roles(request.user)
    return render(
        request,
        "home/home.html",
        {"home": load_home(cast(User, request.user), roles) if roles.has_any else None},
    )
