"""URLs of the public pages (DESIGN §10: `/cong-khai/`, published rounds only)."""

from django.urls import path

from . import public_views

# The open-data files come before `<str:unit>/`, which would otherwise match "ket-qua.json".
urlpatterns = [
    path("", public_views.public_index, name="public_index"),
    path("<int:year>/", public_views.public_round, name="public_round"),
    path("<int:year>/ket-qua.json", public_views.public_json, name="public_json"),
    path("<int:year>/ket-qua.csv", public_views.public_csv, name="public_csv"),
    path("<int:year>/<str:unit>/", public_views.public_unit, name="public_unit"),
]
