"""URLs of the secretariat pages."""

from django.urls import path

from . import secretariat_views

urlpatterns = [
    path(
        "thu-ky/<int:year>/",
        secretariat_views.secretariat_dashboard,
        name="secretariat_dashboard",
    ),
    path(
        "thu-ky/<int:year>/tham-dinh-vien/",
        secretariat_views.appraiser_assignments,
        name="appraiser_assignments",
    ),
    path(
        "thu-ky/<int:year>/tham-dinh-vien/<int:pk>/bo-phan-cong/",
        secretariat_views.appraiser_unassign,
        name="appraiser_unassign",
    ),
]
