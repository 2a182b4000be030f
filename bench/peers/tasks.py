"""The benchmark's ticker, written for each peer as its docs show a task reporting progress.

Each sends `steps` updates `interval` seconds apart, the message of update n being
"Tick n of steps". Before each it appends `task id, message, wall-clock time` to
$BENCH_CALLS_FILE, as bench/worker.py does for Taskpulse's reporter, so that latency runs from
the same point: the task's call to report.
"""

import os
import time

import socketio
from celery import shared_task
from celery_progress.backend import ProgressRecorder
from celery_progress.websockets.backend import WebSocketProgressRecorder
from django_eventstream import send_event

from django.conf import settings

_calls = os.open(os.environ["BENCH_CALLS_FILE"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
_socketio = None


def _stamp(task_id: str, message: str) -> None:
    os.write(_calls, f"{task_id}\t{message}\t{time.time():.6f}\n".encode())


def _tick(task_id: str, steps: int, interval: float, report) -> dict:
    for tick in range(1, steps + 1):
        if tick > 1 and interval:
            time.sleep(interval)
        message = f"Tick {tick} of {steps}"
        _stamp(task_id, message)
        report(tick, message)
    return {"steps": steps}


@shared_task(bind=True, name="bench.peers.celery_progress")
def celery_progress_ticker(self, steps: int, interval: float, websocket: bool) -> dict:
    """celery-progress's README: a ProgressRecorder (WebSocketProgressRecorder for its WebSocket
    mode) bound to the task, `set_progress(current, total, description)`; the end is the task's
    result, which its WebSocket mode pushes from a task_postrun handler."""
    recorder = (WebSocketProgressRecorder if websocket else ProgressRecorder)(self)
    return _tick(
        self.request.id, steps, interval, lambda tick, message: recorder.set_progress(tick, steps, message)
    )


@shared_task(bind=True, name="bench.peers.eventstream")
def eventstream_ticker(self, steps: int, interval: float) -> dict:
    """django-eventstream's README: `send_event(channel, "message", data)` from any process."""
    channel = f"task-{self.request.id}"

    def report(tick, message):
        send_event(channel, "message", {"seq": tick, "message": message, "status": "running"})

    result = _tick(self.request.id, steps, interval, report)
    send_event(channel, "message", {"seq": steps + 1, "message": "", "status": "completed"})
    return result


@shared_task(bind=True, name="bench.peers.socketio")
def socketio_ticker(self, steps: int, interval: float) -> dict:
    """python-socketio's docs, "Emitting from external processes": a write-only RedisManager."""
    global _socketio
    if _socketio is None:  # in the pool process, not before the fork
        _socketio = socketio.RedisManager(settings.REDIS_URL, write_only=True)
    room = self.request.id

    def report(tick, message):
        _socketio.emit("progress", {"seq": tick, "message": message, "status": "running"}, room=room)

    result = _tick(room, steps, interval, report)
    _socketio.emit("progress", {"seq": steps + 1, "message": "", "status": "completed"}, room=room)
    return result
