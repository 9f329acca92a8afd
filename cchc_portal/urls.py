from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("home.urls")),
    path("", include("assessments.urls")),
    path("", include("councils.urls")),
    path("", include("reporting.urls")),
]

# Vietnamese error pages in the portal's layout (DESIGN §11); 403 and 404 are Django's own
# views with templates/403.html and 404.html.
handler400 = "cchc_portal.views.bad_request"
handler500 = "cchc_portal.views.server_error"
