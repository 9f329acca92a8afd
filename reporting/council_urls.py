"""URLs of the council pages."""


urlpatterns: list = []
