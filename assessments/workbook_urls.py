"""URLs under /don-vi/<year>/<unit>/ for the unit's workbook pages."""

urlpatterns: list = []
