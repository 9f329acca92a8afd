from django.urls import path

from . import field_views

# Under don-vi/<year>/<unit>/linh-vuc/ (assessments/urls.py).
urlpatterns = [
    path("<str:code>/", field_views.field_table_view, name="field_table"),
    path("<str:code>/muc/<str:item_code>/", field_views.field_row_save, name="field_row_save"),
]
