"""URLs of the PDF reports (under /bao-cao/pdf/)."""

from django.urls import path

from . import pdf_views

# The round-wide files come before `<str:unit>/`.
urlpatterns = [
    path(
        "<int:year>/bao-cao-tinh.pdf",
        pdf_views.pdf_province_report,
        name="pdf_province_report",
    ),
    path(
        "<int:year>/phu-luc-quyet-dinh.pdf",
        pdf_views.pdf_decision_annex,
        name="pdf_decision_annex",
    ),
    path("<int:year>/tat-ca-don-vi.zip", pdf_views.pdf_all_units_zip, name="pdf_all_units_zip"),
    path(
        "<int:year>/<str:unit>/tu-danh-gia.pdf",
        pdf_views.pdf_self_assessment,
        name="pdf_self_assessment",
    ),
    path(
        "<int:year>/<str:unit>/phieu-ket-qua.pdf",
        pdf_views.pdf_scorecard,
        name="pdf_scorecard",
    ),
]
