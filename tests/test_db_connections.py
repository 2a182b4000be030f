"""The consumers' database calls: on threads of their own, each keeping its connection, with no
health-check query per call, and a broken connection replaced on the next call."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import async_to_sync

from django.contrib.auth import get_user_model
from django.db import Error, connection, connections

from tasks_app import db_connections

pytestmark = pytest.mark.django_db(transaction=True)


def count_users() -> int:
    return get_user_model().objects.count()


@pytest.fixture
def one_consumer_thread(monkeypatch):
    """The pool, down to one thread, so that consecutive calls share its connection. Adapters are
    kept per function, each with the pool it was made with: none made with the other is reused."""
    executor = ThreadPoolExecutor(1, thread_name_prefix=db_connections._THREAD_NAME_PREFIX)
    monkeypatch.setattr(db_connections, "_executor", executor)
    monkeypatch.setattr(db_connections, "CONSUMER_DATABASE_THREADS", 1)
    db_connections._adapter.cache_clear()
    yield
    db_connections.close_consumer_connections()
    executor.shutdown()
    db_connections._adapter.cache_clear()


def test_a_consumer_call_runs_on_the_consumer_threads():
    name = async_to_sync(db_connections.consumer_database(lambda: threading.current_thread().name))()

    assert name.startswith(db_connections._THREAD_NAME_PREFIX)
    assert name != threading.current_thread().name


def test_consecutive_consumer_calls_make_no_health_check_query(one_consumer_thread, monkeypatch, user):
    checks = []
    wrapper = type(connections["default"])
    is_usable = wrapper.is_usable
    monkeypatch.setattr(wrapper, "is_usable", lambda self: checks.append(1) or is_usable(self))

    counts = [async_to_sync(db_connections.consumer_database(count_users))() for _ in range(3)]

    assert counts == [1, 1, 1]
    assert checks == []


def test_a_broken_consumer_connection_fails_one_call_and_is_replaced_on_the_next(one_consumer_thread, user):
    def break_connection_and_query() -> int:
        connection.ensure_connection()
        connection.connection.close()  # as when PostgreSQL restarts under a kept connection
        return count_users()

    async_to_sync(db_connections.consumer_database(count_users))()
    with pytest.raises(Error):
        async_to_sync(db_connections.consumer_database(break_connection_and_query))()

    assert async_to_sync(db_connections.consumer_database(count_users))() == 1


def test_a_function_gets_the_same_adapter_on_every_call():
    assert db_connections.consumer_database(count_users) is db_connections.consumer_database(count_users)
