"""The app's URLs, which a host project includes at its root: the API, SSE, task files and
/metrics, the JavaScript translations. The WebSocket routes are in realtime/routing.py."""

from django.urls import path
from django.views.i18n import JavaScriptCatalog

from tasks_app import api, views
from tasks_app.realtime import sse
from tasks_app.webhooks import api as webhooks_api

urlpatterns = [
    path("metrics", views.metrics_page, name="metrics"),
    # The widget's strings and, merged in, the host's own LOCALE_PATHS catalogs (djangojs).
    path("taskpulse/jsi18n/", JavaScriptCatalog.as_view(packages=["tasks_app"]), name="taskpulse-jsi18n"),
    path("tasks/<str:task_id>/files/<str:name>", views.task_file, name="task-file"),
    path("sse/tasks/<str:task_id>/", sse.task_events, name="sse-task"),
    path("api/tasks/", api.tasks_collection, name="api-tasks"),
    path("api/tasks/<str:task_id>/", api.task_detail, name="api-task"),
    path("api/tasks/<str:task_id>/events/", api.task_events, name="api-task-events"),
    path("api/tasks/<str:task_id>/cancel/", api.task_cancel, name="api-task-cancel"),
    path("api/webhooks/", webhooks_api.endpoints_collection, name="api-webhooks"),
    path("api/webhooks/secret/", webhooks_api.secret, name="api-webhooks-secret"),
    path("api/webhooks/<int:endpoint_id>/", webhooks_api.endpoint_detail, name="api-webhook"),
]
