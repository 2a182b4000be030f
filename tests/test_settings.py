"""Production refuses unsafe settings, and the documented production environment passes
Django's deploy check. Each case runs manage.py in a fresh process, as a deployment would."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_ENV = ROOT / "docs" / "production.env.example"


def documented_production_env() -> dict[str, str]:
    env = {}
    for line in PRODUCTION_ENV.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_documented_production_environment_passes_the_deploy_check():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=documented_production_env())

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"DEBUG": "1"}, "DEBUG is on in production"),
        ({"SECRET_KEY": "dev-only-insecure-key-do-not-use-in-production"}, "Set SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "Set SECRET_KEY"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS='*'"),
    ],
    ids=["debug on", "development secret key", "short secret key", "any host"],
)
def test_production_refuses_to_start_with_an_unsafe_setting(change, complaint):
    result = manage("check", env={**documented_production_env(), **change})

    assert result.returncode != 0
    assert complaint in result.stderr


def test_with_debug_off_the_development_secret_key_is_refused_even_outside_production():
    result = manage("check", env={"DEBUG": "0", "ALLOWED_HOSTS": "localhost"})

    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_the_pub_sub_channel_layer_is_the_default_the_core_one_can_be_chosen_and_an_unknown_one_is_refused():
    show_backend = [
        "shell",
        "-c",
        "from django.conf import settings; print(settings.CHANNEL_LAYERS['default']['BACKEND'])",
    ]

    default = manage(*show_backend, env={})
    core = manage(*show_backend, env={"CHANNEL_LAYER_KIND": "core"})
    unknown = manage("check", env={"CHANNEL_LAYER_KIND": "kafka"})

    assert (
        default.stdout.strip().splitlines()[-1] == "tasks_app.realtime.redis_layers.RedisPubSubChannelLayer"
    ), default.stderr
    assert core.stdout.strip().splitlines()[-1] == "tasks_app.realtime.redis_layers.RedisChannelLayer", (
        core.stderr
    )
    assert unknown.returncode != 0 and "CHANNEL_LAYER_KIND must be core or pubsub" in unknown.stderr


def test_earlier_secret_keys_are_read_from_the_environment_as_a_list():
    show = ["shell", "-c", "from django.conf import settings; print(settings.SECRET_KEY_FALLBACKS)"]

    rotated = manage(*show, env={"SECRET_KEY_FALLBACKS": "first-old-key, second-old-key"})
    none = manage(*show, env={})

    assert rotated.stdout.strip().splitlines()[-1] == "['first-old-key', 'second-old-key']", rotated.stderr
    assert none.stdout.strip().splitlines()[-1] == "[]", none.stderr


def test_a_rabbitmq_broker_gets_quorum_queues_and_confirmed_publishing_and_redis_the_fixed_transport():
    show = [
        "shell",
        "-c",
        "from django.conf import settings as s; "
        "print(sorted({str(q.queue_arguments) for q in s.CELERY_TASK_QUEUES}), "
        "s.CELERY_BROKER_TRANSPORT_OPTIONS, getattr(s, 'CELERY_BROKER_TRANSPORT', None))",
    ]

    rabbitmq = manage(*show, env={"CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//"})
    redis = manage(*show, env={})

    assert rabbitmq.stdout.strip().splitlines()[-1] == (
        "[\"{'x-queue-type': 'quorum'}\"] {'confirm_publish': True} None"
    ), rabbitmq.stderr
    assert redis.stdout.strip().splitlines()[-1] == (
        "['None'] {'visibility_timeout': 3900} tasks_app.worker.redis_transport:Transport"
    ), redis.stderr


def test_the_apps_defaults_are_the_projects_defaults_when_the_environment_sets_nothing():
    from tasks_app.conf import DEFAULTS

    env = {name: value for name, value in os.environ.items() if not name.startswith(("TASKPULSE_", "REDIS_"))}
    code = "import json; from django.conf import settings; from tasks_app.conf import DEFAULTS; "
    code += "print(json.dumps({name: getattr(settings, name) for name in DEFAULTS}))"
    shown = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip

    assert json.loads(shown.stdout) == DEFAULTS
