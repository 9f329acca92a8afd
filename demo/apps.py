from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo province of DESIGN §12 (``seed_demo``): the top floor, it reads every app."""

    name = "demo"
    verbose_name = _("Demo province")
