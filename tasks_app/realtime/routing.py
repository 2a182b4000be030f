import uuid

from django.urls import path

from tasks_app.realtime import consumers

websocket_urlpatterns = [
    path("ws/tasks/<str:task_id>/", consumers.TaskConsumer.as_asgi()),
    path("ws/stream/", consumers.StreamConsumer.as_asgi()),
]


def task_socket_path(task_id: uuid.UUID) -> str:
    return f"/ws/tasks/{task_id}/"
