from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HomeConfig(AppConfig):
    """Each person's home page (DESIGN §11): what to do now, in which round, by when. It reads
    every workflow app, so it sits above ``reporting`` (and below ``demo``)."""

    name = "home"
    verbose_name = _("Home pages")
