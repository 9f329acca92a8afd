from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "dang-nhap/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("dang-xuat/", auth_views.LogoutView.as_view(), name="logout"),
    path("tieu-chi/", views.criteria_index, name="criteria_index"),
    path("tieu-chi/mau-bo-tieu-chi.xlsx", views.criteria_template, name="criteria_template"),
    path("tieu-chi/<int:year>/<str:group>/", views.criteria_detail, name="criteria_detail"),
    path(
        "tieu-chi/<int:year>/<str:group>/tai-ve.xlsx", views.criteria_export, name="criteria_export"
    ),
    path("thu-ky/nhap-tieu-chi/", views.criteria_import, name="criteria_import"),
    path("don-vi/<int:year>/<str:unit>/tai-lieu/", include("assessments.evidence_urls")),
    path("don-vi/<int:year>/<str:unit>/bang-tinh/", include("assessments.workbook_urls")),
]
