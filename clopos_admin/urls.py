from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from clopos_admin import views

urlpatterns = [
    path("accounts/login/", views.ConsoleLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.language_set, name="set-language"),
    path("admin/", admin.site.urls),
    path("status/", views.clopos_status, name="clopos-status"),
    path("preferences/theme/", views.theme_set, name="theme-set"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("", include("audit.urls")),
    path("", include("orders.urls")),
]

handler403 = "clopos_admin.views.permission_denied"
handler500 = "clopos_admin.views.server_error"
