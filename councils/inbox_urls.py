"""URLs of the inbox pages."""


urlpatterns: list = []
