"""Follow a task from a script, without Django: the standard library and `websockets`
(`pip install "django-taskpulse[client]"`), with an API token.

    from tasks_app.client import follow

    for message in follow("https://tasks.example.com", task_id, token=os.environ["TASKPULSE_TOKEN"]):
        print(f"{message['progress']:.0f}% {message['message']}")

    TASKPULSE_TOKEN=... python -m tasks_app.client https://tasks.example.com <task id>

`follow` yields the task's messages (a snapshot, then each progress event and the `complete`),
each once and in order, and ends after the last. A dropped connection is opened again after a
pause (exponential, with full jitter, capped) and resumed from the last seq received. The
command draws a progress bar and exits as `manage.py watch_task` does: 0 completed, 3 failed,
4 cancelled, 5 no such task, 1 refused or another error, 2 bad arguments. The token is read
from the environment, never from the command line, where other users of the machine see it.
"""

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

from tasks_app.terminal import EXIT_CODES, EXIT_NOT_FOUND, Display

try:
    from websockets.exceptions import ConnectionClosed, InvalidHandshake
    from websockets.sync.client import connect
except ModuleNotFoundError as exc:  # only when websockets itself is missing, not what it imports
    if (exc.name or "").partition(".")[0] != "websockets":
        raise
    raise ImportError('tasks_app.client needs websockets: pip install "django-taskpulse[client]"') from exc

TERMINAL = {"completed", "failed", "cancelled"}
TASK_MESSAGES = {"snapshot", "progress", "complete"}
# The server sends a `ping` message after 25 s of silence: a connection silent for longer than
# this is dead, though TCP has not said so.
SILENCE_SECONDS = 60.0
FIRST_PAUSE_SECONDS = 0.5
LONGEST_PAUSE_SECONDS = 30.0
NOT_AUTHENTICATED, NOT_FOUND = 4401, 4404


class TaskNotFound(Exception):
    """No such task, or not one the token's user may see (the server answers both alike)."""


class NotAuthenticated(Exception):
    """The token is unknown or revoked."""


def follow(base_url: str, task_id: str, *, token: str, last_seq: int | None = None) -> Iterator[dict]:
    """The task's messages from after `last_seq` (None: from a snapshot), to its end."""
    url = _socket_url(base_url, task_id)
    failures = 0
    while True:
        resume = "" if last_seq is None else f"?last_seq={last_seq}"
        try:
            with connect(
                url + resume, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=30
            ) as socket:
                for message in _messages(socket):
                    failures = 0
                    if message["type"] != "snapshot" and last_seq is not None and message["seq"] <= last_seq:
                        continue  # already yielded, before a reconnect
                    last_seq = message["seq"]
                    yield message
                    if message["type"] == "complete" or message["status"] in TERMINAL:
                        return
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else None
            if code == NOT_AUTHENTICATED:
                raise NotAuthenticated("The token was refused.") from None
            if code == NOT_FOUND:
                raise TaskNotFound(f"No task {task_id}.") from None
        except (OSError, TimeoutError, InvalidHandshake):
            pass  # the server is away or restarting: try again
        failures += 1
        time.sleep(random.uniform(0, min(LONGEST_PAUSE_SECONDS, FIRST_PAUSE_SECONDS * 2**failures)))


def _messages(socket) -> Iterator[dict]:
    while True:
        message = json.loads(socket.recv(timeout=SILENCE_SECONDS))
        if message["type"] == "ping":
            socket.send('{"type": "pong"}')
        elif message["type"] in TASK_MESSAGES:
            yield message


def _socket_url(base_url: str, task_id: str) -> str:
    parts = urlsplit(base_url)
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme)
    if scheme is None or not parts.netloc:
        raise ValueError(f"{base_url!r} is not an http(s) address of a Taskpulse server.")
    return urlunsplit((scheme, parts.netloc, f"{parts.path.rstrip('/')}/ws/tasks/{task_id}/", "", ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tasks_app.client",
        description="Follow a Taskpulse task with a progress bar. The API token is read from "
        "TASKPULSE_TOKEN. Exit codes: 0 completed, 3 failed, 4 cancelled, 5 no such task, "
        "1 refused or another error, 2 bad arguments.",
    )
    parser.add_argument("base_url", help="the server, e.g. https://tasks.example.com")
    parser.add_argument("task_id")
    arguments = parser.parse_args(argv)
    token = os.environ.get("TASKPULSE_TOKEN")
    if not token:
        parser.error("set TASKPULSE_TOKEN to an API token (manage.py create_api_token <user>)")
    display = Display(sys.stdout.write, in_place=sys.stdout.isatty(), flush=sys.stdout.flush)
    last = None
    try:
        for message in follow(arguments.base_url, arguments.task_id, token=token):
            last = display.show(message)
    except TaskNotFound as exc:
        display.note(str(exc))
        return EXIT_NOT_FOUND
    except (NotAuthenticated, ValueError) as exc:
        display.note(str(exc))
        return 1
    display.end()
    assert last is not None  # follow() ends on a terminal message
    if last["status"] != "completed":
        print(f"Task {arguments.task_id} ended {last['status']}: {last.get('error') or ''}", file=sys.stderr)
    return EXIT_CODES[last["status"]]


if __name__ == "__main__":
    sys.exit(main())
