"""Riding out a lost database: the retry helper, the reporter that keeps the newest progress
while the database is away, and the 503 that HTTP clients get meanwhile."""

import pytest

from django.db import OperationalError
from django.test import RequestFactory

from tasks_app import services, unavailable
from tasks_app.db import outages
from tasks_app.models import Task
from tasks_app.progress import ProgressReporter

TICKER = {"steps": 2, "interval": 0}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept = 0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += 1


def failing(times: int, result="written"):
    """A database call that loses its connection `times` times, then succeeds."""
    calls = []

    def call():
        calls.append(1)
        if len(calls) <= times:
            raise OperationalError("server closed the connection unexpectedly")
        return result

    return call, calls


def test_a_call_that_loses_the_database_is_retried_until_it_is_back():
    clock = FakeClock()
    call, calls = failing(3)

    assert outages.retrying(call, within=10, clock=clock, sleep=clock.sleep) == "written"
    assert len(calls) == 4


def test_a_database_away_past_the_limit_raises_database_unavailable():
    clock = FakeClock()
    call, _calls = failing(1000)

    with pytest.raises(outages.DatabaseUnavailable, match="more than 10 s"):
        outages.retrying(call, within=10, clock=clock, sleep=clock.sleep)
    assert 10 <= clock.now < 10 + outages.LONGEST_BACKOFF_SECONDS


def test_other_database_errors_are_not_retried():
    calls = []

    def integrity_error():
        calls.append(1)
        raise ValueError("not a lost connection")

    with pytest.raises(ValueError):
        outages.retrying(integrity_error, within=10)
    assert len(calls) == 1


def test_the_pause_between_tries_doubles_up_to_a_cap():
    assert [outages.backoff(n) for n in (1, 2, 3, 6, 10)] == [0.1, 0.2, 0.4, 2.0, 2.0]


@pytest.fixture
def reporter_losing_the_database(transactional_db, create_task, monkeypatch):
    """A reporter whose writes lose the database until `database_back[0]` is set (outside a
    transaction, as in a worker: a lost transaction is not retried)."""
    task = create_task("ticker", TICKER)
    services.task_start(task_id=task.id)
    clock = FakeClock()
    database_back = [False]
    write = services.task_progress

    def progress(**arguments):
        if not database_back[0]:
            raise OperationalError("server closed the connection unexpectedly")
        return write(**arguments)

    monkeypatch.setattr(services, "task_progress", progress)
    reporter = ProgressReporter(task.id, events_per_second=10, clock=clock, sleep=clock.sleep)
    return task, reporter, clock, database_back


def test_while_the_database_is_away_the_work_goes_on_and_the_newest_progress_is_written_once_back(
    reporter_losing_the_database,
):
    task, reporter, clock, database_back = reporter_losing_the_database
    reporter.step("Counting", until=100)
    for number in range(1, 6):
        clock.now += 1
        reporter.update(number, 10)

    database_back[0] = True
    clock.now += 5
    reporter.update(6, 10)

    task.refresh_from_db()
    assert (task.current, task.progress) == (6, 60.0)
    assert task.last_seq == 3, "created, started, then one event for all the updates made meanwhile"


def test_a_reporter_stops_the_work_once_the_database_has_been_away_past_the_limit(
    reporter_losing_the_database, settings
):
    settings.TASKPULSE_DATABASE_OUTAGE_SECONDS = 10
    _task, reporter, clock, _database_back = reporter_losing_the_database
    reporter.step("Counting", until=100)

    with pytest.raises(outages.DatabaseUnavailable):
        for number in range(1, 100):
            clock.now += 1
            reporter.update(number, 100)
    assert 10 <= clock.now <= 12


def test_flush_waits_for_the_database_and_writes_the_last_state(reporter_losing_the_database):
    task, reporter, clock, database_back = reporter_losing_the_database
    reporter.step("Counting", until=100)
    reporter.update(10, 10)
    real_sleep = clock.sleep

    def sleep_then_the_database_is_back(seconds: float) -> None:
        real_sleep(seconds)
        database_back[0] = clock.slept >= 3

    reporter._sleep = sleep_then_the_database_is_back

    reporter.flush()

    assert (Task.objects.get(pk=task.id).progress, clock.slept) == (100.0, 3)


def api_request(path="/api/tasks/"):
    return RequestFactory().get(path)


def test_the_api_answers_a_lost_database_with_a_json_503_and_retry_after():
    middleware = unavailable.database_unavailable_middleware(lambda request: None)

    answer = middleware.process_exception(api_request(), OperationalError("could not connect to server"))

    assert (answer.status_code, answer["Retry-After"]) == (503, str(unavailable.RETRY_AFTER_SECONDS))
    assert answer["Content-Type"] == "application/json"


def test_a_page_gets_a_short_503_page_and_other_errors_are_left_to_django():
    middleware = unavailable.database_unavailable_middleware(lambda request: None)

    page = middleware.process_exception(api_request("/"), OperationalError("could not connect to server"))

    assert (page.status_code, page["Content-Type"]) == (503, "text/html")
    assert middleware.process_exception(api_request(), ValueError("a bug")) is None


def test_handler500_answers_503_for_a_lost_database_raised_outside_the_views():
    try:
        raise OperationalError("could not connect to server")
    except OperationalError:
        answer = unavailable.server_error(api_request())

    assert answer.status_code == 503
