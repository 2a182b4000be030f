"""A running task's lease: renewed by its worker, and past it the task is sent to the workers
again as a new dispatch (or failed once it has used up its attempts); a message of an earlier
dispatch is dropped."""

import socket
import subprocess
import time
from datetime import timedelta

import pytest

from django.utils import timezone

from tasks_app import maintenance, services
from tasks_app.models import Task, TaskEvent, TaskStatus
from tasks_app.worker import lease
from tasks_app.worker.lease import LeaseKeeper

TICKER = {"steps": 2, "interval": 0}


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, int]]:
    """The (task id, dispatch) of every message sent to the workers."""
    messages: list[tuple[str, int]] = []
    monkeypatch.setattr(services, "_enqueue", lambda task: messages.append((str(task.id), task.dispatch)))
    return messages


def lose_worker(task: Task, *, seconds_ago: float = 1) -> None:
    """As if the worker running it had stopped renewing its lease that long ago."""
    Task.objects.filter(pk=task.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=seconds_ago))


@pytest.fixture
def lost(create_task) -> Task:
    """A task started as dispatch 1 whose worker then stopped renewing its lease."""
    task = create_task("ticker", TICKER)
    services.task_start(task_id=task.id, dispatch=1)
    lose_worker(task)
    return task


@pytest.fixture
def recover(django_capture_on_commit_callbacks):
    """The beat's sweep, with what it sends after commit sent."""

    def sweep(**options) -> list:
        with django_capture_on_commit_callbacks(execute=True):
            return maintenance.tasks_recover_lost(**options)

    return sweep


def test_starting_a_task_gives_it_a_lease(create_task, settings):
    task = create_task("ticker", TICKER)

    started = services.task_start(task_id=task.id, dispatch=1)

    left = (started.lease_expires_at - timezone.now()).total_seconds()
    assert settings.TASKPULSE_TASK_LEASE_SECONDS - 5 < left <= settings.TASKPULSE_TASK_LEASE_SECONDS


def test_a_running_task_whose_lease_ran_out_is_sent_again_and_its_followers_told(lost, sent, recover):
    assert recover() == [lost.id]

    assert sent == [(str(lost.id), 2)]
    last = TaskEvent.objects.filter(task=lost).order_by("seq").last()
    assert (last.type, last.payload["status"]) == ("progress", "running")
    assert "stopped responding" in last.payload["message"]


def test_a_task_sent_again_waits_for_a_worker_without_being_sent_once_more(lost, sent, recover):
    recover()

    assert recover(now=timezone.now() + timedelta(minutes=1)) == []
    assert len(sent) == 1


def test_a_running_task_whose_lease_is_live_is_left_alone(create_task, sent):
    task = create_task("ticker", TICKER)
    services.task_start(task_id=task.id, dispatch=1)

    assert maintenance.tasks_recover_lost() == []
    assert Task.objects.get(pk=task.id).dispatch == 1


def test_the_message_of_the_current_dispatch_starts_the_next_attempt(lost, sent, recover):
    recover()

    again = services.task_start(task_id=lost.id, dispatch=2)

    assert (again.status, again.attempt, again.dispatch) == (TaskStatus.RUNNING, 2, 2)


def test_a_message_of_an_earlier_dispatch_is_dropped(lost, sent, recover):
    recover()
    services.task_start(task_id=lost.id, dispatch=2)

    # The first message, back from the broker's unacknowledged set an hour later.
    assert services.task_start(task_id=lost.id, dispatch=1) is None
    assert Task.objects.get(pk=lost.id).attempt == 2


def test_a_task_that_lost_its_worker_on_every_attempt_is_failed_instead(lost, sent, recover, settings):
    settings.TASKPULSE_TASK_MAX_ATTEMPTS = 1

    assert recover() == []

    lost.refresh_from_db()
    assert (lost.status, sent) == (TaskStatus.FAILED, [])
    assert "stopped 1 times" in lost.error


def test_renewing_extends_the_lease_of_the_attempt_that_runs(lost):
    run = Task.objects.get(pk=lost.id)

    assert services.task_lease_renew(run=run) is True
    assert Task.objects.get(pk=lost.id).lease_expires_at > timezone.now()


def test_renewing_fails_once_another_attempt_runs(create_task):
    task = create_task("ticker", TICKER)
    first = services.task_start(task_id=task.id, dispatch=1)
    services.task_start(task_id=task.id, dispatch=1)  # delivered again: attempt 2

    assert services.task_lease_renew(run=first) is False


def test_the_lease_keeper_renews_from_its_thread_while_the_work_runs(transactional_db, create_task):
    task = create_task("ticker", TICKER)
    run = services.task_start(task_id=task.id, dispatch=1)
    lose_worker(task, seconds_ago=60)

    with LeaseKeeper(run, every=0.05):
        deadline = time.monotonic() + 10
        while Task.objects.get(pk=task.id).lease_expires_at < timezone.now():
            assert time.monotonic() < deadline, "the lease was never renewed"
            time.sleep(0.05)


def held_by(task: Task, holder: str, *, seconds_left: float = 20) -> None:
    Task.objects.filter(pk=task.pk).update(
        lease_holder=holder, lease_expires_at=timezone.now() + timedelta(seconds=seconds_left)
    )


def a_dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@pytest.fixture
def running(create_task) -> Task:
    task = create_task("ticker", TICKER)
    services.task_start(task_id=task.id, dispatch=1, holder=lease.this_process())
    return task


def test_a_task_whose_lease_a_live_process_holds_is_not_started_before_the_lease_runs_out(running):
    held_by(running, lease.this_process(), seconds_left=20)

    assert 19 < lease.held_elsewhere(running.id) <= 20


def test_a_lease_held_on_another_host_counts_as_live_until_it_runs_out(running):
    held_by(running, "another-host:1", seconds_left=20)

    assert lease.held_elsewhere(running.id) is not None


def test_a_lease_held_by_a_process_of_this_host_that_is_gone_does_not_hold_the_task(running):
    held_by(running, f"{socket.gethostname()}:{a_dead_pid()}", seconds_left=20)

    assert lease.held_elsewhere(running.id) is None


def test_a_lease_that_ran_out_or_a_task_not_running_does_not_hold_it(running, create_task):
    held_by(running, "another-host:1", seconds_left=-1)

    assert lease.held_elsewhere(running.id) is None
    assert lease.held_elsewhere(create_task("ticker", TICKER).id) is None


def test_a_task_sent_again_is_not_held_by_its_lost_workers_lease(running, sent, recover):
    held_by(running, "another-host:1", seconds_left=-1)

    recover()

    assert lease.held_elsewhere(running.id) is None
