"""A host project's own Celery task, decorated with @progress_task and started with start_task,
run by a real worker and followed over a real WebSocket: the same messages, exactly once, as the
built-in kinds."""

import asyncio

import pytest

from tasks_app.models import TaskStatus
from tasks_app.progress_tasks import start_task
from tests.contract import assert_task_message
from tests.host_tasks import count_files
from tests.integration.follower import ResumingFollower
from tests.processes import log_in

pytestmark = pytest.mark.integration


def test_a_decorated_task_started_for_a_user_is_followed_to_its_result_exactly_once(daphne_server, live_user):
    task = start_task(live_user, count_files, 5, pause=0.2)
    http = log_in(daphne_server.base_url, live_user)
    follower = ResumingFollower(http, daphne_server.base_url, str(task.id))

    complete = asyncio.run(follower.follow())

    task.refresh_from_db()
    follower.assert_exactly_once_up_to(task.last_seq)
    for message in follower.messages:
        assert_task_message(message)
    assert (complete["status"], complete["result"], complete["kind"]) == (
        TaskStatus.COMPLETED,
        {"files": 5},
        "tests.host_tasks.count_files",
    )
    counted = [message["current"] for message in follower.messages if message["type"] == "progress"]
    assert [current for current in counted if current] == [1, 2, 3, 4, 5]
