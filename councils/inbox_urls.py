"""URLs of the inbox pages."""

from django.urls import path

from . import inbox_views

urlpatterns = [
    path("hop-thu/", inbox_views.inbox_list, name="inbox"),
    path("hop-thu/da-doc/", inbox_views.mark_read, name="inbox_mark_read"),
    path("hop-thu/<int:pk>/mo/", inbox_views.open_notification, name="inbox_open"),
]
