from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

urlpatterns = [
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
    path("don-vi/<int:year>/<str:unit>/", views.unit_workspace, name="unit_workspace"),
    path("don-vi/<int:year>/<str:unit>/muc/<str:code>/", views.item_edit, name="item_edit"),
    path(
        "don-vi/<int:year>/<str:unit>/muc/<str:code>/xem-truoc/",
        views.item_preview,
        name="item_preview",
    ),
    path("don-vi/<int:year>/<str:unit>/phan-cong/", views.assignments, name="assignments"),
    path("don-vi/<int:year>/<str:unit>/ky-nop/", views.sign_off, name="sign_off"),
    path("don-vi/<int:year>/<str:unit>/thoi-han/", views.unit_deadline, name="unit_deadline"),
    path("don-vi/<int:year>/<str:unit>/tai-lieu/", include("assessments.evidence_urls")),
    path("don-vi/<int:year>/<str:unit>/bang-tinh/", include("assessments.workbook_urls")),
    path("don-vi/<int:year>/<str:unit>/linh-vuc/", include("assessments.field_urls")),
    path(
        "don-vi/<int:year>/<str:unit>/muc/<str:code>/lich-su/",
        views.item_history_view,
        name="item_history",
    ),
]
