from django.apps import AppConfig


class TasksAppConfig(AppConfig):
    name = "tasks_app"
    verbose_name = "Tasks"

    def ready(self) -> None:
        from tasks_app import checks, conf
        from tasks_app.access import credential_changes
        from tasks_app.db import connections

        conf.apply_defaults()
        checks.require_channel_layer()

        connections.connect()
        credential_changes.connect()
