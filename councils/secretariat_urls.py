"""URLs of the secretariat pages."""


urlpatterns: list = []
