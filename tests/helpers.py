"""What several test modules share: opening sockets the way clients do, reading their close, and
logging a browser in. Fixtures stay in conftest.py; processes in processes.py."""

import requests
import websockets
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from django.test import Client

from project.asgi import application
from tests.contract import CLOSE_CODES
from tests.processes import PASSWORD

TIMEOUT = 5
TICKER = {"steps": 2, "interval": 0}
STREAM = "/ws/stream/"


def run_kind(task) -> None:
    """Run a built-in kind's task here, as a worker runs the message services sent for it."""
    from tasks_app.progress_tasks import DISPATCH_ARGUMENT
    from tasks_app.work import registry

    kind = registry.kind_get(task.kind)
    kind.task.apply(kwargs={**task.params, DISPATCH_ARGUMENT: task.dispatch}, task_id=str(task.id))


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def open_socket(path: str, user=None, *, headers=()) -> WebsocketCommunicator:
    """A socket through the whole ASGI stack, as a browser page of this site opens it (with
    `headers` added to the handshake's)."""
    headers = [(b"origin", b"http://localhost"), *headers]
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(session_cookie)(user)))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return communicator


async def open_stream(user, *, headers=()) -> WebsocketCommunicator:
    socket = await open_socket(STREAM, user, headers=headers)
    connection = await socket.receive_json_from(TIMEOUT)
    assert connection["type"] == "connection"
    return socket


async def close_code(communicator: WebsocketCommunicator) -> int:
    output = await communicator.receive_output(timeout=TIMEOUT)
    assert output["type"] == "websocket.close", output
    # Exactly an int: Autobahn, under Daphne, refuses anything else (an int enum included).
    assert type(output["code"]) is int, f"{output['code']!r} is not a plain int"
    assert output["code"] in CLOSE_CODES, f"{output['code']} is not a close code of the contract"
    return output["code"]


def cookie_header(http: requests.Session) -> str:
    return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


async def open_websocket(http: requests.Session, ws_url: str):
    """A plain WebSocket client on a real server, with the logged-in session of `http`."""
    return await websockets.connect(
        ws_url, additional_headers={"Cookie": cookie_header(http)}, origin=http.base_url, open_timeout=10
    )


def log_in_page(page, base_url: str, user, query: str = "") -> None:
    """Log a browser page in through the login form, landing on the dashboard."""
    page.goto(f"{base_url}/{query}")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("#submit-form")
