"""The app's URLs, which a host project includes at its root: the API, SSE, task files and
/metrics. The WebSocket routes are in realtime/routing.py."""

from django.urls import path

from tasks_app import api, views
from tasks_app.realtime import sse

urlpatterns = [
    path("metrics", views.metrics_page, name="metrics"),
    path("tasks/<str:task_id>/files/<str:name>", views.task_file, name="task-file"),
    path("sse/tasks/<str:task_id>/", sse.task_events, name="sse-task"),
    path("api/tasks/", api.tasks_collection, name="api-tasks"),
    path("api/tasks/<str:task_id>/", api.task_detail, name="api-task"),
    path("api/tasks/<str:task_id>/events/", api.task_events, name="api-task-events"),
    path("api/tasks/<str:task_id>/cancel/", api.task_cancel, name="api-task-cancel"),
]
