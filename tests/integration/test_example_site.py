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


def test_the_sites_own_task_started_from_its_page_is_followed_to_its_end(example_site):
    http = logged_in(example_site.base_url)
    page = http.get(example_site.base_url, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    http.post(
        f"{example_site.base_url}/exports/", data={"count": "5", "csrfmiddlewaretoken": token}, timeout=10
    )
    (task,) = http.get(f"{example_site.base_url}/api/tasks/", timeout=10).json()["results"][:1]
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
