from django.apps import AppConfig


class TasksAppConfig(AppConfig):
    name = "tasks_app"
    verbose_name = "Tasks"

    def ready(self) -> None:
        from tasks_app import credential_changes, db_connections

        db_connections.connect()
        credential_changes.connect()
