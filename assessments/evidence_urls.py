"""URLs under /don-vi/<year>/<unit>/ for the unit's evidence pages."""

urlpatterns: list = []
