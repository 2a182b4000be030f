"""The two roles of the control room, as groups a staff user can be put in: Operators watch and
steer tasks, Viewers only watch (docs/operations.md)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW = [
    "view_task",
    "view_taskevent",
    "view_taskfile",
    "view_dataset",
]
GROUPS = {
    "Operators": [*VIEW, "cancel_task", "retry_task", "fail_task"],
    "Viewers": VIEW,
}


def create_groups(apps, schema_editor):
    # Permissions are otherwise made after every migration has run; the groups need them now.
    app_config = apps.get_app_config("tasks_app")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _created = group_model.objects.get_or_create(name=name)
        group.permissions.add(
            *permission_model.objects.filter(content_type__app_label="tasks_app", codename__in=codenames)
        )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_app", "0009_task_action_permissions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
