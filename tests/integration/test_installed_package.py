"""The app installed as a package into a new project, as docs/adding-to-your-project.md says:
built from this repository into a wheel, installed into a folder of its own (nothing of this
repository on the path), added to a project made by `django-admin startproject`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SETTINGS = """
INSTALLED_APPS = ["daphne", *INSTALLED_APPS, "channels", "tasks_app"]
MIDDLEWARE += [
    "tasks_app.access.token_middleware.api_token_middleware",
    "tasks_app.unavailable.database_unavailable_middleware",
]
ASGI_APPLICATION = "mysite.asgi.application"
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "tasks_app.realtime.redis_layers.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:6379/0", "socket_timeout": None}]},
    }
}
REDIS_URL = "redis://127.0.0.1:6379/0"
CELERY_BROKER_TRANSPORT = "tasks_app.worker.redis_transport:Transport"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
from tasks_app.conf import BEAT_SCHEDULE as TASKPULSE_BEAT_SCHEDULE  # noqa: E402

CELERY_BEAT_SCHEDULE = {**TASKPULSE_BEAT_SCHEDULE}
"""
URLS = """
from django.urls import include

urlpatterns += [path("", include("tasks_app.urls"))]
"""
ASGI = """
from django.core.asgi import get_asgi_application

from tasks_app.asgi import taskpulse_application

application = taskpulse_application(get_asgi_application())
"""


@pytest.fixture
def new_project(tmp_path, installed_package):
    """`django-admin startproject mysite` with the documented lines added; returns a function
    that runs its manage.py."""
    django_admin = Path(sys.executable).parent / "django-admin"
    subprocess.run([str(django_admin), "startproject", "mysite", str(tmp_path)], check=True)
    package = tmp_path / "mysite"
    with (package / "settings.py").open("a") as settings:
        settings.write(SETTINGS)
    with (package / "urls.py").open("a") as urls:
        urls.write(URLS)
    (package / "asgi.py").write_text(ASGI)
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(installed_package),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    (tmp_path / "metrics").mkdir()

    def manage(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *arguments], cwd=tmp_path, env=env, capture_output=True, text=True
        )

    manage.settings = package / "settings.py"
    return manage


def test_the_app_comes_from_the_installed_package_with_its_templates_static_files_and_catalogs(
    new_project, installed_package
):
    where = new_project("shell", "-v", "0", "-c", "import tasks_app; print(tasks_app.__file__)")

    assert where.stdout.strip() == str(installed_package / "tasks_app" / "__init__.py"), where.stderr
    for path in (
        "static/tasks_app/taskpulse-client.js",
        "templates/tasks_app/report.html",
        "templates/admin/tasks_app/task/change_form.html",
        "migrations/0001_initial.py",
        "locale/zh_Hans/LC_MESSAGES/django.mo",
        "locale/zh_Hans/LC_MESSAGES/djangojs.mo",
    ):
        assert (installed_package / "tasks_app" / path).is_file(), path


def test_a_new_project_with_the_documented_settings_checks_migrates_and_serves_the_api(new_project):
    checked = new_project("check")
    migrated = new_project("migrate", "--noinput")
    answer = new_project(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.test import Client; print(Client(HTTP_HOST='localhost').get('/api/tasks/').status_code)",
    )

    assert checked.returncode == 0 and "no issues" in checked.stdout, checked.stdout + checked.stderr
    assert migrated.returncode == 0, migrated.stderr
    assert answer.stdout.strip() == "401", answer.stderr  # the API, asking for a login


def test_a_project_without_a_channel_layer_is_stopped_with_what_to_set(new_project):
    text = new_project.settings.read_text().replace("CHANNEL_LAYERS = {", "_NO_CHANNEL_LAYERS = {")
    new_project.settings.write_text(text)

    checked = new_project("check")

    assert checked.returncode != 0
    assert "Taskpulse needs CHANNEL_LAYERS['default']" in checked.stderr


def test_a_missing_middleware_is_a_warning_that_says_where_to_add_it(new_project):
    text = new_project.settings.read_text().replace(
        '    "tasks_app.unavailable.database_unavailable_middleware",\n', ""
    )
    new_project.settings.write_text(text)

    checked = new_project("check")

    assert checked.returncode == 0
    assert "taskpulse.W002" in checked.stderr and "Add it last." in checked.stderr
