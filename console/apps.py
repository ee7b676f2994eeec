from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    """The console's cross-cutting layer: permissions and roles, the access gate, middleware,
    context processors and template tags. No models; it imports no other app of ours."""

    name = "console"
    verbose_name = _("Console")

    def ready(self) -> None:
        from console import checks  # noqa: F401 - registers the system checks
