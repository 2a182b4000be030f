from django.contrib import admin
from django.urls import include, path

from project import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("webhooks/", views.webhooks, name="webhooks"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("tasks_app.urls")),
]

# A lost database is answered 503, not 500 (tasks_app/unavailable.py).
handler500 = "tasks_app.unavailable.server_error"
