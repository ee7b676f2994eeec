from django.utils.functional import SimpleLazyObject

from staff.access import has_console_access


def console(request):
    """`console_access`: whether to offer the order lookup (evaluated only if a template asks)."""
    return {"console_access": SimpleLazyObject(lambda: has_console_access(request.user))}
