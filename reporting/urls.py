from django.urls import include, path

urlpatterns = [
    path("cong-khai/", include("reporting.public_urls")),
    path("hoi-dong/", include("reporting.council_urls")),
    path("bao-cao/pdf/", include("reporting.pdf_urls")),
    path("bao-cao/", include("reporting.workbook_urls")),
]
