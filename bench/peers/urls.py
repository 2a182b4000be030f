"""The peers' HTTP routes beside the project's: celery-progress's status view and
django-eventstream's stream, each mounted as its README shows."""

import django_eventstream

from django.urls import include, path

from project.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("celery-progress/", include("celery_progress.urls")),
    path("events/<task_id>/", include(django_eventstream.urls), {"format-channels": ["task-{task_id}"]}),
    *project_urlpatterns,
]
