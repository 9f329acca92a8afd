"""URLs under /don-vi/<year>/<unit>/ for the unit's workbook pages."""

from django.urls import path

from . import workbook_views

urlpatterns = [
    path("tai-ve.xlsx", workbook_views.download, name="unit_workbook_download"),
    path("nhap/", workbook_views.upload, name="unit_workbook_upload"),
]
