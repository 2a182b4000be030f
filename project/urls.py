from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("tasks_app.urls")),
]

# A lost database is answered 503, not 500 (tasks_app/unavailable.py).
handler500 = "tasks_app.unavailable.server_error"
