"""/metrics: who may read it, and that it counts what happens."""

import re

import pytest
from asgiref.sync import async_to_sync

from django.test import Client

from tasks_app import services
from tests.helpers import open_stream

TICKER = {"steps": 2, "interval": 0}


def sample(text: str, name: str, **labels) -> float:
    """The value of one sample in Prometheus's text format (0 when absent)."""
    label_text = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    pattern = re.escape(name) + (r"\{" + re.escape(label_text) + r"\}" if labels else "") + r" ([0-9.e+-]+)$"
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


@pytest.fixture
def staff_client(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


def scrape(client: Client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    return response.content.decode()


def test_metrics_are_refused_to_anyone_but_staff_or_the_token(user, settings):
    settings.TASKPULSE_METRICS_TOKEN = "a-scraping-secret"
    member = Client()
    member.force_login(user)

    assert Client().get("/metrics").status_code == 401
    assert member.get("/metrics").status_code == 401
    assert Client().get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert Client().get("/metrics", headers={"Authorization": "Bearer a-scraping-secret"}).status_code == 200


def test_events_persisted_tasks_by_status_and_durations_are_counted(staff_client, create_task):
    before = scrape(staff_client)
    task = create_task("ticker", TICKER)
    services.task_start(task_id=task.id)
    services.task_complete(task_id=task.id, result={})

    after = scrape(staff_client)

    def grew(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("taskpulse_events_persisted_total", type="progress") == 2
    assert grew("taskpulse_events_persisted_total", type="complete") == 1
    assert grew("taskpulse_task_duration_seconds_count", kind="ticker", status="completed") == 1
    assert sample(after, "taskpulse_tasks", status="completed") == 1


@pytest.mark.django_db(transaction=True)
def test_an_open_connection_is_counted_until_it_closes(staff_client, user):
    async def open_then(check):
        socket = await open_stream(user)
        while_open = await check()
        await socket.disconnect()
        return while_open

    async def scraped():
        from asgiref.sync import sync_to_async

        return await sync_to_async(scrape)(staff_client)

    while_open = async_to_sync(open_then)(scraped)
    after_close = scrape(staff_client)

    assert sample(while_open, "taskpulse_connections_open", transport="websocket") == 1
    assert sample(after_close, "taskpulse_connections_open", transport="websocket") == 0
    assert sample(while_open, "taskpulse_messages_sent_total", transport="websocket", type="connection") >= 1
