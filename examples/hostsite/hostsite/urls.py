from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import include, path

from shop import views

urlpatterns = [
    path("", views.orders, name="orders"),
    path("exports/", views.start_export, name="start-export"),
    path("exports/regions/", views.start_regional_export, name="start-regional-export"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("admin/", admin.site.urls),
    path("", include("tasks_app.urls")),
    *staticfiles_urlpatterns(),  # DEBUG only: served by Django, as in development
]
