from django.contrib.admin.apps import AdminConfig


class ConsoleAdminConfig(AdminConfig):
    """django.contrib.admin with the console's site (`clopos_admin.admin_site`) as `admin.site`."""

    default_site = "clopos_admin.admin_site.ConsoleAdminSite"
