import os

import pytest
import redis
from channels.layers import channel_layers

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from tasks_app import services
from tasks_app.db import threads as database_threads
from tasks_app.models import Task
from tests.processes import PASSWORD


def pytest_sessionstart(session) -> None:
    """Fail loudly when a required service is missing, rather than skipping what needs it."""
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.exit(
            f"Redis does not answer at {settings.REDIS_URL} ({exc}); bin/test starts one.", returncode=1
        )
    if os.environ.get("REQUIRE_SERVICES") == "1" and settings.DATABASES["default"]["ENGINE"].endswith(
        "sqlite3"
    ):
        pytest.exit("REQUIRE_SERVICES=1 but the tests would run on SQLite; set DATABASE_URL.", returncode=1)


@pytest.fixture(scope="session", autouse=True)
def consumer_connections_closed_at_the_end(django_db_setup, django_db_blocker):
    """The consumers' database threads keep their connections; the test database cannot be
    dropped while they do."""
    yield
    database_threads.close_consumer_connections()


@pytest.fixture(autouse=True)
def no_connection_slots_held():
    """User ids start again in every test database, so slots an earlier run left in Redis (within
    their lease) would count against this run's users."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter("taskpulse:connections:*"):
        client.delete(key)


@pytest.fixture(autouse=True)
def channel_layer_of_its_own():
    """A server process runs one event loop for its life; the tests run one per scenario. The core
    channel layer lets one loop at a time receive, and a loop that ended with a receive pending
    (a process's credential listener) would hold it for the next: each test builds the layer
    afresh instead."""
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def default_language():
    """A request through the test client activates its language in this thread and leaves it
    active (LocaleMiddleware), which would turn the next test's strings Chinese."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("alice", password=PASSWORD)


@pytest.fixture
def other_user(db):
    return get_user_model().objects.create_user("mallory", password=PASSWORD)


@pytest.fixture
def staff_user(db):
    return get_user_model().objects.create_user("operator", password=PASSWORD, is_staff=True)


@pytest.fixture
def operator_client(db):
    """A superuser's logged-in client, for the admin."""
    operator = get_user_model().objects.create_superuser("ops", password=PASSWORD)
    client = Client()
    client.force_login(operator)
    return client


@pytest.fixture
def upload():
    """An uploaded file as Django's request parsing would hand it to a view."""

    def make(name: str, content: bytes | str, content_type: str = "application/octet-stream"):
        data = content.encode() if isinstance(content, str) else content
        return SimpleUploadedFile(name, data, content_type=content_type)

    return make


@pytest.fixture
def create_task(user, monkeypatch):
    """Create a task through the service, as the API does, but never enqueue it: a test runs
    its work itself, and the live worker of the integration tests must not take it."""
    monkeypatch.setattr(services, "_enqueue", lambda task_id: None)

    def make(kind: str, params: dict | None = None, *, owner=None, file=None) -> Task:
        return services.task_create(owner=owner or user, kind=kind, params=params or {}, upload=file)

    return make
