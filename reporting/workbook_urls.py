"""URLs of the round workbook downloads (under /bao-cao/)."""

from django.urls import path

from . import workbook_views

urlpatterns = [
    path("<int:year>/ket-qua.xlsx", workbook_views.round_workbook, name="round_workbook"),
    path(
        "<int:year>/cong-khai.xlsx",
        workbook_views.public_round_workbook,
        name="public_round_workbook",
    ),
]
