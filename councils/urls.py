from django.urls import include, path

from . import views

urlpatterns = [
    path("thu-ky/", views.secretariat_home, name="secretariat_home"),
    path("tham-dinh/", views.appraisal_home, name="appraisal_home"),
    path(
        "tham-dinh/<int:year>/<str:group>/linh-vuc/<str:field>/",
        views.appraisal_field,
        name="appraisal_field",
    ),
    path("tham-dinh/<int:year>/don-vi/<str:unit>/", views.appraisal_unit, name="appraisal_unit"),
    path("tham-dinh/muc/<int:pk>/", views.appraise_item, name="appraise_item"),
    path(
        "tham-dinh/<int:year>/don-vi/<str:unit>/chap-nhan/",
        views.bulk_accept,
        name="appraisal_bulk_accept",
    ),
    path(
        "tham-dinh/<int:year>/don-vi/<str:unit>/ket-thuc/",
        views.finish_round,
        name="appraisal_finish",
    ),
    path(
        "don-vi/<int:year>/<str:unit>/giai-trinh/",
        views.unit_explanations,
        name="unit_explanations",
    ),
    path("", include("councils.secretariat_urls")),
    path("", include("councils.inbox_urls")),
]
