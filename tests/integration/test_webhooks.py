"""Webhooks through the live system: Daphne takes the registration and the task, a worker runs
the task, the webhooks worker (bin/run's, with its beat) delivers to a receiver process. Each
delivery verifies with the user's secret; a failing receiver is tried again until it answers;
the webhooks worker SIGKILLed mid-delivery, the delivery still arrives; a task's callback gets
its end; and the task's run never waits for a receiver."""

import json
import sys
import time
from pathlib import Path

import pytest
import requests

from tasks_app.access.api_tokens import api_token_create
from tasks_app.models import DeliveryStatus, Task, WebhookDelivery
from tasks_app.webhooks import signatures
from tests.contract import assert_webhook_delivery
from tests.processes import ROOT, Process, _free_port, start_webhook_worker

pytestmark = pytest.mark.integration


class ReceiverProcess:
    """tests/webhook_receiver.py in a process of its own, recording to a file."""

    def __init__(self, tmp_path: Path, logs_dir: Path, **options) -> None:
        self.port = _free_port()
        self.record = tmp_path / "received.jsonl"
        self.record.touch()
        command = [
            sys.executable,
            "-m",
            "tests.webhook_receiver",
            str(self.port),
            str(self.record),
            json.dumps(options),
        ]
        self.process = Process(
            "webhook-receiver", command, {"PATH": "", "PYTHONPATH": str(ROOT)}, logs_dir, cwd=ROOT
        )
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.process.wait_until(self._listening, "listening")

    def _listening(self) -> bool:
        try:
            requests.get(self.url, timeout=1)
        except requests.ConnectionError:
            return False
        return True

    def received(self) -> list[dict]:
        return [json.loads(line) for line in self.record.read_text().splitlines()]

    def wait_for(self, count: int, timeout: float = 60) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(received := self.received()) < count:
            assert time.monotonic() < deadline, f"{len(received)} of {count} deliveries arrived"
            time.sleep(0.1)
        return received

    def stop(self) -> None:
        self.process.stop()


@pytest.fixture
def webhook_env(process_env) -> dict:
    # Retries a second apart at first, and a claim that runs out soon after a killed worker.
    return {**process_env, "TASKPULSE_WEBHOOK_BACKOFF_SECONDS": "1", "TASKPULSE_WEBHOOK_TIMEOUT_SECONDS": "2"}


@pytest.fixture
def webhook_worker(webhook_env, logs_dir):
    worker = start_webhook_worker(webhook_env, logs_dir)
    yield worker
    worker.stop()


@pytest.fixture
def api(live_user, daphne_server):
    _record, token = api_token_create(user=live_user, name="an integrator")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    session.base_url = daphne_server.base_url
    return session


def secret_of(api) -> str:
    response = api.post(f"{api.base_url}/api/webhooks/secret/", timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["secret"]


def register(api, url: str, events: list[str]) -> dict:
    response = api.post(f"{api.base_url}/api/webhooks/", json={"url": url, "events": events}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def start_ticker(api, steps: int = 2, interval: float = 0.0, **extra) -> str:
    body = {"kind": "ticker", "params": {"steps": steps, "interval": interval}, **extra}
    response = api.post(f"{api.base_url}/api/tasks/", json=body, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["task_id"]


def test_a_task_s_start_and_end_arrive_signed_with_the_user_s_secret(api, webhook_worker, tmp_path, logs_dir):
    receiver = ReceiverProcess(tmp_path, logs_dir)
    try:
        secret = secret_of(api)
        register(api, receiver.url, ["task.started", "task.completed"])
        task_id = start_ticker(api)

        got = receiver.wait_for(2)
    finally:
        receiver.stop()

    bodies = [assert_webhook_delivery(entry["headers"], entry["body"]) for entry in got]
    assert sorted(body["event"] for body in bodies) == ["task.completed", "task.started"]
    assert len({body["id"] for body in bodies}) == 2
    for entry, body in zip(got, bodies, strict=True):
        assert signatures.verify(entry["body"].encode(), entry["headers"]["Taskpulse-Signature"], secret)
        assert body["data"]["task_id"] == task_id


def test_a_receiver_that_fails_twice_is_tried_again_until_it_answers(api, webhook_worker, tmp_path, logs_dir):
    receiver = ReceiverProcess(tmp_path, logs_dir, fail_first=2, fail_status=503)
    try:
        secret_of(api)
        register(api, receiver.url, ["task.completed"])
        task_id = start_ticker(api)

        got = receiver.wait_for(3)
    finally:
        receiver.stop()

    assert len({entry["headers"]["Taskpulse-Delivery"] for entry in got}) == 1
    delivery = wait_for_delivery(task_id, DeliveryStatus.DELIVERED)
    assert (delivery.attempts, delivery.last_status_code) == (3, 200)


@pytest.mark.parametrize("round_", range(3))
def test_the_webhooks_worker_killed_mid_delivery_still_delivers(
    api, webhook_env, logs_dir, tmp_path, live_user, round_
):
    """SIGKILL of the whole worker (main process and pool) while the receiver holds the request:
    the delivery's claim runs out, and a new worker's sweep sends it again."""
    receiver = ReceiverProcess(tmp_path, logs_dir, delay_first=1.5)
    worker = start_webhook_worker(webhook_env, logs_dir, name=f"webhook-worker-killed-{round_}")
    try:
        secret = secret_of(api)
        register(api, receiver.url, ["task.completed"])
        task_id = start_ticker(api)
        receiver.wait_for(1)
        worker.kill()
        worker = start_webhook_worker(webhook_env, logs_dir, name=f"webhook-worker-after-{round_}")

        got = receiver.wait_for(2, timeout=90)
        delivery = wait_for_delivery(task_id, DeliveryStatus.DELIVERED)
    finally:
        worker.stop()
        receiver.stop()

    assert {entry["headers"]["Taskpulse-Delivery"] for entry in got} == {str(delivery.id)}
    assert all(
        signatures.verify(entry["body"].encode(), entry["headers"]["Taskpulse-Signature"], secret)
        for entry in got
    )


def test_a_task_s_callback_gets_its_end_only(api, webhook_worker, tmp_path, logs_dir):
    receiver = ReceiverProcess(tmp_path, logs_dir)
    try:
        secret = secret_of(api)
        task_id = start_ticker(api, callback_url=receiver.url)

        (got,) = receiver.wait_for(1)
        time.sleep(1)  # nothing else comes
        assert len(receiver.received()) == 1
    finally:
        receiver.stop()

    body = assert_webhook_delivery(got["headers"], got["body"])
    assert (body["event"], body["data"]["task_id"], body["data"]["status"]) == (
        "task.completed",
        task_id,
        "completed",
    )
    assert signatures.verify(got["body"].encode(), got["headers"]["Taskpulse-Signature"], secret)


def test_a_task_s_run_never_waits_for_a_receiver(api, webhook_worker, tmp_path, logs_dir):
    receiver = ReceiverProcess(tmp_path, logs_dir, delay=1.8)
    try:
        secret_of(api)
        register(api, receiver.url, ["task.started", "task.completed"])
        task_id = start_ticker(api, steps=3)

        receiver.wait_for(2)
    finally:
        receiver.stop()

    task = Task.objects.get(pk=task_id)
    assert (task.finished_at - task.started_at).total_seconds() < 1.8, "the run waited for the receiver"


def wait_for_delivery(task_id: str, status: str, timeout: float = 60) -> WebhookDelivery:
    deadline = time.monotonic() + timeout
    while True:
        delivery = WebhookDelivery.objects.filter(task_id=task_id).first()
        if delivery is not None and delivery.status == status:
            return delivery
        assert time.monotonic() < deadline, f"delivery {delivery and delivery.status}, not {status}"
        time.sleep(0.2)


def test_the_receiver_process_records_what_it_gets(tmp_path, logs_dir):
    receiver = ReceiverProcess(tmp_path, logs_dir)
    try:
        requests.post(receiver.url, data=b"{}", timeout=5)
        assert receiver.wait_for(1)[0]["body"] == "{}"
    finally:
        receiver.stop()
