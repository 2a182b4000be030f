import pytest

from tasks_app import services
from tasks_app.models import Task, TaskEvent
from tasks_app.progress import ProgressReporter, TaskCancelled


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def running_task(create_task):
    task = create_task("ticker", {"steps": 1, "interval": 0})
    services.task_start(task_id=task.id)
    return task


@pytest.fixture
def clock():
    return FakeClock()


def _progress_events(task: Task) -> list[dict]:
    return [event.payload for event in TaskEvent.objects.filter(task=task, seq__gt=2).order_by("seq")]


def test_updates_in_a_tight_loop_are_coalesced_to_the_rate_limit(running_task, clock):
    reporter = ProgressReporter(running_task.id, events_per_second=10, clock=clock)

    for row in range(1, 100_001):
        reporter.update(row, 100_000)
        clock.now += 0.00001  # 100,000 updates in one second

    assert len(_progress_events(running_task)) <= 11


def test_flush_persists_the_last_coalesced_update(running_task, clock):
    reporter = ProgressReporter(running_task.id, events_per_second=10, clock=clock)
    reporter.update(1, 4, "first")
    reporter.update(4, 4, "last")

    reporter.flush()

    last = _progress_events(running_task)[-1]
    assert (last["current"], last["total"], last["progress"], last["message"]) == (4, 4, 100.0, "last")


def test_flush_with_nothing_new_writes_nothing(running_task, clock):
    reporter = ProgressReporter(running_task.id, events_per_second=10, clock=clock)
    reporter.update(1, 4)

    reporter.flush()

    assert len(_progress_events(running_task)) == 1


def test_an_update_after_the_interval_is_sent_at_once(running_task, clock):
    reporter = ProgressReporter(running_task.id, events_per_second=10, clock=clock)
    reporter.update(1, 4)
    clock.now = 0.1

    reporter.update(2, 4)

    assert [event["current"] for event in _progress_events(running_task)] == [1, 2]


def test_steps_map_counted_progress_into_their_share_of_the_bar(running_task, clock):
    reporter = ProgressReporter(running_task.id, events_per_second=1000, clock=clock)
    reporter.step("Reading", until=20)
    clock.now += 1
    reporter.step("Importing", until=100)
    clock.now += 1

    reporter.update(50, 100)

    assert reporter.progress == pytest.approx(60.0)  # 20 + half of the 80 left
    assert _progress_events(running_task)[-1]["message"] == "Importing"


def test_progress_never_goes_backwards(running_task, clock):
    reporter = ProgressReporter(running_task.id, events_per_second=1000, clock=clock)
    reporter.update(80, 100)
    clock.now += 1

    reporter.update(10, 100)

    assert [event["progress"] for event in _progress_events(running_task)] == [80.0, 80.0]


def test_a_cancel_request_stops_the_work_at_the_next_update(running_task, clock):
    reporter = ProgressReporter(running_task.id, events_per_second=10, clock=clock)
    services.task_cancel(task_id=running_task.id)

    with pytest.raises(TaskCancelled):
        reporter.update(1, 2)


@pytest.mark.parametrize("in_run", [False, True], ids=["through task_progress", "one statement each"])
def test_each_event_carries_the_rate_and_time_left_once_they_mean_something(running_task, clock, in_run):
    run = Task.objects.get(pk=running_task.id) if in_run else None
    reporter = ProgressReporter(running_task.id, events_per_second=10, clock=clock, run=run)

    for row in range(1, 501):
        reporter.update(row, 1000, f"{row} rows")
        clock.now += 0.01  # 100 rows a second, for 5 seconds

    events = _progress_events(running_task)
    early = [event for event in events if event["current"] <= 200]
    assert {(event["rate"], event["eta_seconds"]) for event in early} == {(None, None)}
    assert (events[-1]["rate"], events[-1]["eta_seconds"]) == (100.0, pytest.approx(5.0, abs=0.2))
    stored = Task.objects.get(pk=running_task.id)
    assert (stored.rate, stored.eta_seconds) == (events[-1]["rate"], events[-1]["eta_seconds"])


def test_a_step_without_a_count_has_no_estimate_and_the_end_clears_it(running_task, clock):
    reporter = ProgressReporter(running_task.id, events_per_second=10, clock=clock)
    for row in range(1, 400):
        reporter.update(row, 1000)
        clock.now += 0.01
    reporter.step("Writing the summary", until=100)
    reporter.flush()

    assert (
        _progress_events(running_task)[-1]["rate"],
        _progress_events(running_task)[-1]["eta_seconds"],
    ) == (
        None,
        None,
    )
    done = services.task_complete(task_id=running_task.id, result=None)
    assert (done.rate, done.eta_seconds) == (None, None)
