"""The admin's live monitoring page: samples of the /metrics counters, kept in Redis for the
window it draws, as per-second rates and open connections by transport and server process."""

import pytest
import redis
from asgiref.sync import async_to_sync

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from tasks_app import metrics, monitoring
from tasks_app.realtime import connection_slots
from tests.test_admin import TICKER, staff_in

MONITOR = "/admin/tasks_app/task/monitor/"


@pytest.fixture(autouse=True)
def no_samples_kept():
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete("taskpulse:monitor:samples", "taskpulse:monitor:taken")
    yield
    client.delete("taskpulse:monitor:samples", "taskpulse:monitor:taken")


def sample(time: float, **values) -> dict:
    base = {
        "messages": 0,
        "events": 0,
        "errors": 0,
        "refusals": 0,
        "running": 0,
        "queued": 0,
        "connections": {},
    }
    return {"time": time, **base, **values}


def test_rates_are_counted_per_second_between_samples():
    drawn = monitoring.series([sample(100, messages=10, events=4), sample(102, messages=30, events=10)])

    assert drawn["rates"] == {
        "time": [102],
        "messages": [10.0],
        "events": [3.0],
        "errors": [0.0],
        "refusals": [0.0],
    }


def test_a_restarted_host_s_counters_give_no_negative_rate():
    drawn = monitoring.series([sample(100, messages=500), sample(102, messages=20)])

    assert drawn["rates"]["messages"] == [0.0]


def test_connections_are_drawn_by_transport_and_by_server_process():
    drawn = monitoring.series(
        [
            sample(100, connections={"web-1:10": {"websocket": 2, "sse": 1}}),
            sample(
                102,
                connections={"web-1:10": {"websocket": 3, "sse": 0}, "web-2:11": {"websocket": 1, "sse": 0}},
            ),
        ]
    )

    assert drawn["gauges"]["connections"] == {"websocket": [2, 4], "sse": [1, 0]}
    assert drawn["gauges"]["connections_by_process"] == {"web-1:10": [3, 3], "web-2:11": [0, 1]}


def test_a_sample_reads_the_counters_the_connections_and_the_tasks(db, create_task):
    create_task("ticker", TICKER)
    before = monitoring.sample_now()
    metrics.MESSAGES_SENT.labels("websocket", "progress").inc(3)
    metrics.ERRORS.labels("invalid_json").inc()
    metrics.ERRORS.labels("4429").inc(2)
    async_to_sync(connection_slots.slot_take)(user_id=1, connection_id="specific.a!b")

    after = monitoring.sample_now()

    assert after["messages"] - before["messages"] == 3
    assert (after["errors"] - before["errors"], after["refusals"] - before["refusals"]) == (1, 2)
    assert (after["queued"], after["running"]) == (1, 0)
    assert sum(counts["websocket"] for counts in after["connections"].values()) == 1


def test_samples_are_taken_at_most_once_per_interval_and_shared(db, settings):
    settings.TASKPULSE_MONITOR_SAMPLE_SECONDS = 60

    taken = [monitoring.sample_record(), monitoring.sample_record()]

    assert taken == [True, False]
    assert len(monitoring.samples_recent()) == 1


def test_an_operator_sees_the_monitoring_page_and_its_data(db):
    operator = staff_in("Operators")

    page = operator.get(MONITOR)
    data = operator.get(f"{MONITOR}data/").json()

    assert page.status_code == 200 and b"monitor.js" in page.content
    assert data["window_seconds"] == settings.TASKPULSE_MONITOR_WINDOW_SECONDS
    assert set(data["gauges"]) == {"time", "running", "queued", "connections", "connections_by_process"}


def test_a_viewer_may_watch_the_monitoring_page_too(db):
    assert staff_in("Viewers").get(f"{MONITOR}data/").status_code == 200


def test_the_monitoring_page_is_for_staff_only(db, user):
    client = Client()
    client.force_login(user)
    bare_staff = Client()
    bare_staff.force_login(get_user_model().objects.create_user("bare-staff", password="x", is_staff=True))

    assert client.get(f"{MONITOR}data/").status_code == 302  # to the admin's login
    assert bare_staff.get(f"{MONITOR}data/").status_code == 403
