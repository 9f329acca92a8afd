"""The in-app inbox: every user's notifications, marking them read, opening their links."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import inbox


@login_required
@require_GET
def inbox_list(request: HttpRequest) -> HttpResponse:
    """The user's notifications, newest first, 50 a page. Any signed-in user has an inbox,
    even without a role: there is nothing in it that is not theirs."""
    paginator = Paginator(inbox.notifications_for(request.user), inbox.PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "councils/inbox.html",
        {"page": page, "page_numbers": paginator.get_elided_page_range(page.number)},
    )


def back_to_inbox(request: HttpRequest) -> HttpResponse:
    """The inbox page the user came from (a page number only, never a URL from the form)."""
    page = request.POST.get("page", "")
    url = reverse("inbox")
    if page.isdigit() and page != "1":
        url += f"?page={page}"
    return redirect(url)


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    """Mark every notification read, or only the one whose ``id`` is posted."""
    raw = request.POST.get("id", "")
    if raw:
        if not raw.isdigit():
            raise Http404
        notification = inbox.get_notification_for_user(request.user, int(raw))
        inbox.mark_read(request.user, pk=notification.pk)
    else:
        count = inbox.mark_read(request.user)
        if count:
            messages.success(request, _("Every notification is marked as read."))
    return back_to_inbox(request)


@login_required
@require_http_methods(["GET", "POST"])
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the notification read and follow its link, which must be a path on this site."""
    notification = inbox.get_notification_for_user(request.user, pk)
    inbox.mark_read(request.user, pk=notification.pk)
    if not notification.url:
        return redirect("inbox")
    url = inbox.safe_local_url(notification.url)
    if url is None:
        messages.error(
            request,
            _(
                "The link of this notification does not lead to a page of the portal, so it was not opened. Tell the secretariat if you think it should."
            ),
        )
        return redirect("inbox")
    return redirect(url)
