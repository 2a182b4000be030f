"""examples/hostsite, an ordinary Django site with Taskpulse installed as a package: its own
@progress_task, started from its own page, followed over WebSocket to its end, every message
as the contract says."""

import asyncio
import re

import pytest
import requests

from tests.contract import assert_task_message
from tests.integration.follower import ResumingFollower
from tests.processes import PASSWORD

pytestmark = pytest.mark.integration


def logged_in(base_url: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base_url}/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{base_url}/login/",
        data={"username": "ada", "password": PASSWORD, "csrfmiddlewaretoken": token},
        timeout=10,
    )
    assert answer.url.rstrip("/") == base_url, answer.url  # redirected to the orders page
    return session


def start_from_the_page(http: requests.Session, base_url: str, path: str, count: int) -> dict:
    """Press the page's button that posts to `path`; the task it started, as the API lists it."""
    page = http.get(base_url, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    http.post(f"{base_url}{path}", data={"count": str(count), "csrfmiddlewaretoken": token}, timeout=10)
    return http.get(f"{base_url}/api/tasks/", timeout=10).json()["results"][0]


def test_the_sites_own_task_started_from_its_page_is_followed_to_its_end(example_site):
    http = logged_in(example_site.base_url)
    task = start_from_the_page(http, example_site.base_url, "/exports/", 5)
    follower = ResumingFollower(http, example_site.base_url, task["task_id"])

    complete = asyncio.run(follower.follow())

    for message in follower.messages:
        assert_task_message(message)
    follower.assert_exactly_once_up_to(complete["seq"])
    assert (complete["kind"], complete["status"], complete["result"]) == (
        "shop.tasks.export_orders",
        "completed",
        {"orders": 5, "file": "orders.csv"},
    )
    assert (
        f'<taskpulse-progress task-id="{task["task_id"]}"' in http.get(example_site.base_url, timeout=10).text
    )


def test_the_sites_chord_is_followed_as_one_task_through_a_dropped_connection(example_site):
    http = logged_in(example_site.base_url)
    workflow = start_from_the_page(http, example_site.base_url, "/exports/regions/", 4)
    steps = [step["task_id"] for step in workflow["children"]]
    follower = ResumingFollower(http, example_site.base_url, workflow["task_id"])
    step_follower = ResumingFollower(http, example_site.base_url, steps[0])

    async def drop_once(follower: ResumingFollower, ws) -> None:
        if follower.connections == 1 and len(follower.messages) == 6:
            await ws.close()

    async def both() -> list[dict]:
        return await asyncio.gather(follower.follow(drop_once), step_follower.follow())

    complete, step_complete = asyncio.run(both())

    for message in follower.messages + step_follower.messages:
        assert_task_message(message)
    follower.assert_exactly_once_up_to(complete["seq"])
    assert follower.connections == 2
    assert (complete["kind"], complete["status"], complete["result"], complete["progress"]) == (
        "chord",
        "completed",
        {"orders": 12, "file": "orders-all-regions.csv"},
        100.0,
    )
    moved_by = {message["child"]["task_id"] for message in follower.messages if "child" in message}
    assert moved_by == set(steps)
    progress = [message["progress"] for message in follower.messages]
    assert progress == sorted(progress)
    assert (step_complete["parent_id"], step_complete["result"]) == (
        workflow["task_id"],
        {"orders": 4, "file": "orders-north.csv"},
    )
    children = http.get(f"{example_site.base_url}/api/tasks/{workflow['task_id']}/", timeout=10).json()[
        "children"
    ]
    assert [(step["task_id"], step["status"]) for step in children] == [(step, "completed") for step in steps]
