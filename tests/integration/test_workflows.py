"""Workflows run by real workers and followed over a real WebSocket: steps that report at once
from several processes move one workflow, whose events a client receives exactly once, and a
step whose worker is killed mid-run runs again without the workflow losing its place."""

import asyncio
import os
import signal

import pytest
from celery import chord

from tasks_app.models import Task, TaskStatus
from tasks_app.workflows import start_workflow
from tests.contract import assert_task_message
from tests.host_tasks import add_counts, count_files
from tests.integration.follower import ResumingFollower
from tests.processes import log_in, start_worker

pytestmark = pytest.mark.integration


def follow(http, base_url: str, task_id: str, fault=None) -> tuple[ResumingFollower, dict]:
    follower = ResumingFollower(http, base_url, task_id)
    complete = asyncio.run(follower.follow(fault))
    for message in follower.messages:
        assert_task_message(message)
    follower.assert_exactly_once_up_to(complete["seq"])
    return follower, complete


def assert_ended_completed_with_every_step(workflow: Task, follower: ResumingFollower) -> None:
    workflow.refresh_from_db()
    steps = list(Task.objects.filter(parent=workflow).order_by("position"))
    assert {step.status for step in steps} == {TaskStatus.COMPLETED}
    moved_by = {message["child"]["task_id"] for message in follower.messages if "child" in message}
    assert moved_by == {str(step.id) for step in steps}
    progress = [message["progress"] for message in follower.messages]
    assert progress == sorted(progress)
    assert (workflow.status, workflow.current, workflow.total) == (
        TaskStatus.COMPLETED,
        len(steps),
        len(steps),
    )


def test_steps_reporting_at_once_from_several_workers_move_one_workflow_exactly_once(
    daphne_server, live_user, process_env, logs_dir
):
    more = start_worker(process_env, logs_dir, "worker-workflows", as_bin_run=True)  # two more processes
    try:
        workflow = start_workflow(
            live_user, chord([count_files.s(40, 0.01) for _ in range(4)], add_counts.s())
        )
        http = log_in(daphne_server.base_url, live_user)

        follower, complete = follow(http, daphne_server.base_url, str(workflow.id))
    finally:
        more.stop()

    assert (complete["status"], complete["result"]) == (TaskStatus.COMPLETED, {"files": 160})
    assert_ended_completed_with_every_step(workflow, follower)


@pytest.mark.parametrize("round_", range(3), ids=lambda n: f"round {n + 1}")
def test_a_step_whose_worker_process_is_killed_runs_again_and_its_workflow_completes(
    daphne_server, celery_worker, live_user, round_
):
    workflow = start_workflow(live_user, chord([count_files.s(6, 0.2) for _ in range(2)], add_counts.s()))
    http = log_in(daphne_server.base_url, live_user)
    killed = []

    async def kill_the_pool_process_once(follower, ws):
        if not killed and len(follower.messages) >= 4 + 3 * round_:
            (child,) = celery_worker.children()
            os.kill(child, signal.SIGKILL)  # as a crash or the out-of-memory killer would
            killed.append(child)

    follower, complete = follow(http, daphne_server.base_url, str(workflow.id), kill_the_pool_process_once)

    assert killed
    assert (complete["status"], complete["result"]) == (TaskStatus.COMPLETED, {"files": 12})
    assert_ended_completed_with_every_step(workflow, follower)
    assert max(Task.objects.filter(parent=workflow).values_list("attempt", flat=True)) == 2
