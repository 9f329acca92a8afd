"""URLs under /don-vi/<year>/<unit>/ for the unit's evidence pages."""

from django.urls import path

from . import evidence_views

urlpatterns = [
    path("", evidence_views.evidence_library, name="evidence_library"),
    path("<int:pk>/tai-ve/", evidence_views.evidence_download, name="evidence_download"),
    path("<int:pk>/xoa/", evidence_views.evidence_delete, name="evidence_delete"),
    path("chuyen-tu-nam-truoc/", evidence_views.evidence_carry_over, name="evidence_carry_over"),
    path("muc/<str:code>/lien-ket/", evidence_views.evidence_link, name="evidence_link"),
    path(
        "muc/<str:code>/bo-lien-ket/<int:link_pk>/",
        evidence_views.evidence_unlink,
        name="evidence_unlink",
    ),
]
