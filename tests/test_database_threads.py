"""The consumers' database calls: on threads of their own, each keeping its connection, with no
health-check query per call, and a broken connection replaced on the next call."""

import asyncio
import contextvars
import threading

import pytest
from asgiref.sync import async_to_sync

from django.contrib.auth import get_user_model
from django.db import Error, connection, connections

from tasks_app.db import threads

pytestmark = pytest.mark.django_db(transaction=True)


def count_users() -> int:
    return get_user_model().objects.count()


@pytest.fixture
def one_consumer_thread(monkeypatch):
    """The threads, down to one, so that consecutive calls share its connection."""
    one = threads.DatabaseThreads(1)
    monkeypatch.setattr(threads, "_threads", one)
    yield
    threads.close_consumer_connections()
    one.stop()


def test_a_consumer_call_runs_on_the_consumer_threads():
    name = async_to_sync(threads.consumer_database(lambda: threading.current_thread().name))()

    assert name.startswith(threads._THREAD_NAME_PREFIX)
    assert name != threading.current_thread().name


def test_consecutive_consumer_calls_make_no_health_check_query(one_consumer_thread, monkeypatch, user):
    checks = []
    wrapper = type(connections["default"])
    is_usable = wrapper.is_usable
    monkeypatch.setattr(wrapper, "is_usable", lambda self: checks.append(1) or is_usable(self))

    counts = [async_to_sync(threads.consumer_database(count_users))() for _ in range(3)]

    assert counts == [1, 1, 1]
    assert checks == []


def test_a_broken_consumer_connection_fails_one_call_and_is_replaced_on_the_next(one_consumer_thread, user):
    def break_connection_and_query() -> int:
        connection.ensure_connection()
        connection.connection.close()  # as when PostgreSQL restarts under a kept connection
        return count_users()

    async_to_sync(threads.consumer_database(count_users))()
    with pytest.raises(Error):
        async_to_sync(threads.consumer_database(break_connection_and_query))()

    assert async_to_sync(threads.consumer_database(count_users))() == 1


def test_a_function_gets_the_same_adapter_on_every_call():
    assert threads.consumer_database(count_users) is threads.consumer_database(count_users)


def test_a_consumer_call_that_raises_raises_in_its_caller():
    def fail():
        raise LookupError("no such row")

    with pytest.raises(LookupError, match="no such row"):
        async_to_sync(threads.consumer_database(fail))()


def test_a_crowd_of_calls_made_at_once_each_gets_its_own_result():
    async def crowd():
        identity = threads.consumer_database(lambda value: value)
        return await asyncio.gather(*(identity(value) for value in range(500)))

    assert async_to_sync(crowd)() == list(range(500))


def test_a_caller_that_stops_waiting_leaves_the_calls_queued_behind_it_answered(one_consumer_thread):
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(timeout=10)
        return "late"

    async def give_up_on_one_of_three():
        upper = threads.consumer_database(str.upper)
        waiting = asyncio.ensure_future(threads.consumer_database(slow)())
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
        behind = [asyncio.ensure_future(upper(letter)) for letter in "ab"]
        await asyncio.sleep(0)  # both queued behind the slow call, to be answered with it
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        release.set()
        return await asyncio.wait_for(asyncio.gather(*behind), timeout=5)

    assert async_to_sync(give_up_on_one_of_three)() == ["A", "B"]


def test_a_consumer_call_sees_its_callers_context_variables():
    request_id = contextvars.ContextVar("request_id")

    async def call_with_a_variable_set():
        request_id.set("r-1")
        return await threads.consumer_database(request_id.get)()

    assert async_to_sync(call_with_a_variable_set)() == "r-1"


def test_calls_from_two_event_loops_are_each_answered_in_their_own_loop():
    results = {}

    def run_loop(name: str) -> None:
        async def calls():
            echo = threads.consumer_database(lambda value: value)
            return await asyncio.gather(*(echo((name, number)) for number in range(50)))

        results[name] = asyncio.run(calls())

    loops = [threading.Thread(target=run_loop, args=(name,)) for name in ("a", "b")]
    for thread in loops:
        thread.start()
    for thread in loops:
        thread.join(timeout=10)

    assert results == {name: [(name, number) for number in range(50)] for name in ("a", "b")}
