from django.apps import AppConfig


class TasksAppConfig(AppConfig):
    name = "tasks_app"
    verbose_name = "Tasks"

    def ready(self) -> None:
        from tasks_app.access import credential_changes
        from tasks_app.db import connections

        connections.connect()
        credential_changes.connect()
