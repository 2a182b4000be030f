"""The control room's roles read webhook deliveries and endpoints; Operators also redeliver
(docs/operations.md)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW = ["view_webhookdelivery", "view_webhookendpoint"]
GROUPS = {"Operators": [*VIEW, "redeliver_webhookdelivery"], "Viewers": VIEW}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("tasks_app")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    permission_model = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.add(
            *permission_model.objects.filter(content_type__app_label="tasks_app", codename__in=GROUPS[group.name])
        )


def revoke(apps, schema_editor):
    permission_model = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.remove(
            *permission_model.objects.filter(content_type__app_label="tasks_app", codename__in=GROUPS[group.name])
        )


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0012_webhooks")]

    operations = [migrations.RunPython(grant, revoke)]
