"""URLs of the council pages (under /hoi-dong/)."""

from django.urls import path

from . import council_views

urlpatterns = [
    path("", council_views.council_home, name="council_home"),
    path("<int:year>/", council_views.council_round, name="council_round"),
    path("<int:year>/phe-duyet/", council_views.council_approve, name="council_approve"),
    path(
        "<int:year>/quyet-dinh.pdf",
        council_views.council_decision_pdf,
        name="council_decision_pdf",
    ),
    path("<int:year>/<str:unit>/", council_views.council_unit, name="council_unit"),
]
