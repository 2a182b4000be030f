"""Who may connect: the Origin check, API tokens on sockets and HTTP, and credentials that stop
being valid while a connection is open. Through the real ASGI stack with WebsocketCommunicator;
tests/integration/test_security.py repeats the essentials against Daphne."""

import time

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.models import Session
from django.test import Client

from project.asgi import application
from tasks_app import services
from tasks_app.access import api_tokens, credential_checks, origins, sessions, websocket
from tasks_app.access.credentials import Credentials
from tasks_app.access.session_store import SessionStore
from tests.helpers import TIMEOUT, close_code, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

STREAM = "/ws/stream/"
LOCAL = b"http://localhost:8000"


async def connect(
    *, origin: bytes | None = LOCAL, cookie: bytes | None = None, token=None, subprotocols=None
):
    headers = [(b"origin", origin)] if origin is not None else []
    if cookie is not None:
        headers.append((b"cookie", cookie))
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    communicator = WebsocketCommunicator(application, STREAM, headers=headers, subprotocols=subprotocols)
    connected, subprotocol = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return communicator, subprotocol


async def first_message_or_close(communicator: WebsocketCommunicator) -> dict:
    return await communicator.receive_output(timeout=TIMEOUT)


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:8000", True),
        ("https://127.0.0.1", True),
        ("http://[::1]:8000", True),
        ("http://evil.example", False),
        ("http://localhost.evil.example", False),
        ("null", False),
        ("file://localhost", False),
        (None, False),
    ],
)
def test_an_origin_is_allowed_only_when_it_names_an_allowed_host(origin, allowed, settings):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]

    assert origins.origin_allowed(origin) is allowed


def test_a_socket_from_a_foreign_origin_is_closed_with_1008(user):
    async def scenario():
        cookie = await database_sync_to_async(session_cookie)(user)
        communicator, _ = await connect(origin=b"http://evil.example", cookie=cookie)
        return await close_code(communicator)

    assert async_to_sync(scenario)() == 1008


def test_a_session_socket_without_an_origin_is_closed_with_1008(user):
    async def scenario():
        cookie = await database_sync_to_async(session_cookie)(user)
        communicator, _ = await connect(origin=None, cookie=cookie)
        return await close_code(communicator)

    assert async_to_sync(scenario)() == 1008


def test_a_token_in_the_authorization_header_authenticates_a_socket_without_an_origin(user):
    _, token = api_tokens.api_token_create(user=user, name="script")

    async def scenario():
        communicator, _ = await connect(origin=None, token=token)
        message = await communicator.receive_json_from(TIMEOUT)
        await communicator.disconnect()
        return message

    assert async_to_sync(scenario)()["user"] == "alice"


def test_a_token_in_the_subprotocol_is_accepted_with_that_subprotocol(user):
    _, token = api_tokens.api_token_create(user=user, name="browser script")

    async def scenario():
        communicator, subprotocol = await connect(subprotocols=["json", f"bearer.{token}"])
        message = await communicator.receive_json_from(TIMEOUT)
        await communicator.disconnect()
        return subprotocol, message

    subprotocol, message = async_to_sync(scenario)()

    assert subprotocol == f"bearer.{token}"
    assert message["user"] == "alice"


@pytest.mark.parametrize("revoked", [False, True], ids=["unknown token", "revoked token"])
def test_a_token_that_is_not_valid_is_closed_with_4401_even_beside_a_valid_session(user, revoked):
    record, token = api_tokens.api_token_create(user=user, name="old")
    if revoked:
        api_tokens.api_token_revoke(token_id=record.pk)
    else:
        token += "x"

    async def scenario():
        cookie = await database_sync_to_async(session_cookie)(user)
        communicator, _ = await connect(cookie=cookie, token=token)
        return await close_code(communicator)

    assert async_to_sync(scenario)() == 4401


def test_a_socket_whose_session_logs_out_is_closed_with_4401_at_once(user, settings):
    settings.TASKPULSE_AUTH_RECHECK_SECONDS = 60

    async def scenario():
        cookie = await database_sync_to_async(session_cookie)(user)
        communicator, _ = await connect(cookie=cookie)
        await communicator.receive_json_from(TIMEOUT)  # connection
        await database_sync_to_async(Session.objects.all().delete)()  # what logout does
        return await close_code(communicator)

    assert async_to_sync(scenario)() == 4401


def test_a_socket_whose_token_is_revoked_is_closed_with_4401_at_once(user, settings):
    settings.TASKPULSE_AUTH_RECHECK_SECONDS = 60
    record, token = api_tokens.api_token_create(user=user, name="script")

    async def scenario():
        communicator, _ = await connect(origin=None, token=token)
        await communicator.receive_json_from(TIMEOUT)  # connection
        await database_sync_to_async(api_tokens.api_token_revoke)(token_id=record.pk)
        return await close_code(communicator)

    assert async_to_sync(scenario)() == 4401


@pytest.mark.parametrize("change", ["deactivated", "password changed"])
def test_a_socket_of_a_user_deactivated_or_whose_password_changed_is_closed_with_4401_at_once(
    user, settings, change
):
    settings.TASKPULSE_AUTH_RECHECK_SECONDS = 60

    def make_change():
        if change == "deactivated":
            user.is_active = False
        else:
            user.set_password("an-entirely-new-password")
        user.save()

    async def scenario():
        cookie = await database_sync_to_async(session_cookie)(user)
        communicator, _ = await connect(cookie=cookie)
        await communicator.receive_json_from(TIMEOUT)  # connection
        await database_sync_to_async(make_change)()
        return await close_code(communicator)

    assert async_to_sync(scenario)() == 4401


def test_a_socket_whose_session_expires_is_closed_with_4401_at_the_first_round_after_expiry(
    user, settings, monkeypatch
):
    settings.TASKPULSE_AUTH_RECHECK_SECONDS = 0.2
    ahead = [0.0]
    monkeypatch.setattr(credential_checks, "wall_clock", lambda: time.time() + ahead[0])

    def expiring_cookie() -> bytes:
        client = Client()
        client.force_login(user)
        session = client.session
        session.set_expiry(60)
        session.save()
        return f"sessionid={session.session_key}".encode()

    async def scenario():
        communicator, _ = await connect(cookie=await database_sync_to_async(expiring_cookie)())
        await communicator.receive_json_from(TIMEOUT)  # connection
        still_open = await communicator.receive_nothing(0.5)
        ahead[0] = 61  # past the session's expiry, by the watch's clock
        return still_open, await close_code(communicator)

    assert async_to_sync(scenario)() == (True, 4401)


def test_the_connection_after_the_users_limit_is_closed_with_4429_and_a_closed_one_frees_its_slot(
    user, settings
):
    settings.TASKPULSE_MAX_CONNECTIONS_PER_USER = 2

    async def scenario():
        cookie = await database_sync_to_async(session_cookie)(user)
        first, _ = await connect(cookie=cookie)
        second, _ = await connect(cookie=cookie)
        third, _ = await connect(cookie=cookie)
        refused = await close_code(third)
        await first.disconnect()
        fourth, _ = await connect(cookie=cookie)
        admitted = (await fourth.receive_json_from(TIMEOUT))["type"]
        await second.disconnect()
        await fourth.disconnect()
        return refused, admitted

    assert async_to_sync(scenario)() == (4429, "connection")


class TestHttpBearer:
    def test_a_token_reads_the_api_as_its_user(self, user, create_task, other_user):
        _, token = api_tokens.api_token_create(user=user, name="script")
        mine = create_task("ticker", {"steps": 1, "interval": 0})
        create_task("ticker", {"steps": 1, "interval": 0}, owner=other_user)

        response = Client().get("/api/tasks/", headers={"Authorization": f"Bearer {token}"})

        assert [task["task_id"] for task in response.json()["results"]] == [str(mine.id)]

    def test_a_token_creates_a_task_without_a_csrf_token(self, user, monkeypatch):
        monkeypatch.setattr(services, "_enqueue", lambda task_id: None)
        _, token = api_tokens.api_token_create(user=user, name="script")

        response = Client(enforce_csrf_checks=True).post(
            "/api/tasks/",
            {"kind": "ticker", "params": {"steps": 1, "interval": 0}},
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )

        assert response.status_code == 201

    def test_a_token_that_is_not_valid_answers_401_even_beside_a_valid_session(self, user):
        client = Client()
        client.force_login(user)

        response = client.get("/api/tasks/", headers={"Authorization": "Bearer tp_nonsense"})

        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")

    def test_a_token_does_not_open_the_pages_or_the_admin(self, staff_user):
        _, token = api_tokens.api_token_create(user=staff_user, name="script")

        response = Client().get("/admin/", headers={"Authorization": f"Bearer {token}"})

        assert response.status_code == 302
        assert "/login/" in response.headers["Location"]

    def test_using_a_token_records_when(self, user):
        record, token = api_tokens.api_token_create(user=user, name="script")

        Client().get("/api/tasks/", headers={"Authorization": f"Bearer {token}"})

        record.refresh_from_db()
        assert record.last_used_at is not None


class TestSseOrigin:
    @pytest.fixture
    def task(self, create_task):
        return create_task("ticker", {"steps": 1, "interval": 0})

    @pytest.mark.parametrize(
        "headers",
        [{"Origin": "http://evil.example"}, {}, {"Sec-Fetch-Site": "cross-site"}],
        ids=["foreign origin", "no origin at all", "cross-site fetch"],
    )
    def test_a_session_stream_not_from_this_site_answers_403(self, user, task, headers):
        client = Client()
        client.force_login(user)

        assert client.get(f"/sse/tasks/{task.id}/", headers=headers).status_code == 403

    def test_a_token_stream_needs_no_origin(self, user, task):
        _, token = api_tokens.api_token_create(user=user, name="script")

        response = Client().get(f"/sse/tasks/{task.id}/", headers={"Authorization": f"Bearer {token}"})

        assert response.status_code == 200
        assert response["Content-Type"] == "text/event-stream"
        response.close()


class BackendWithItsOwnUserRead(ModelBackend):
    asked: list = []

    def get_user(self, user_id):
        self.asked.append(user_id)
        return super().get_user(user_id)


def session_of(client) -> SessionStore:
    return SessionStore(client.cookies["sessionid"].value)


def test_a_session_user_is_the_user_logged_in(client, user):
    client.force_login(user)

    assert sessions.session_user(session_of(client)) == user


def test_a_session_user_whose_password_changed_since_is_anonymous_and_the_session_flushed(client, user):
    client.force_login(user)
    user.set_password("another password")
    user.save()
    session = session_of(client)

    assert sessions.session_user(session).is_anonymous
    assert not Session.objects.filter(session_key=client.cookies["sessionid"].value).exists()


def rotate_secret_key(settings) -> None:
    """A deploy that rotates SECRET_KEY, keeping the old one in SECRET_KEY_FALLBACKS."""
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-this-test-" + "x" * 40


def test_a_session_hashed_under_a_fallback_secret_key_still_logs_its_user_in_at_connect(
    client, user, settings
):
    client.force_login(user)
    rotate_secret_key(settings)

    assert sessions.session_user(session_of(client)) == user
    assert session_of(client)[HASH_SESSION_KEY] == user.get_session_auth_hash()  # under the new key


def test_a_session_hashed_under_a_fallback_secret_key_holds_in_the_later_checks_too(client, user, settings):
    client.force_login(user)
    rotate_secret_key(settings)
    credentials = Credentials(
        method="session", user_id=user.pk, session_key=client.cookies["sessionid"].value
    )

    assert credential_checks.credentials_valid_until([credentials])[0] > time.time()


def test_a_session_user_who_was_deactivated_is_anonymous(client, user):
    client.force_login(user)
    user.is_active = False
    user.save()

    assert sessions.session_user(session_of(client)).is_anonymous


def test_a_session_user_of_a_backend_no_longer_configured_is_anonymous(client, user, settings):
    client.force_login(user)
    settings.AUTHENTICATION_BACKENDS = [f"{__name__}.BackendWithItsOwnUserRead"]

    assert sessions.session_user(session_of(client)).is_anonymous


def test_a_backend_with_its_own_user_read_is_asked_for_the_user(client, user, settings):
    path = f"{__name__}.BackendWithItsOwnUserRead"
    settings.AUTHENTICATION_BACKENDS = [path]
    client.force_login(user, backend=path)
    BackendWithItsOwnUserRead.asked.clear()

    assert sessions.session_user(session_of(client)) == user
    assert BackendWithItsOwnUserRead.asked == [user.pk]


def test_a_session_without_a_user_is_anonymous(db):
    assert sessions.session_user(SessionStore()).is_anonymous


def test_a_sockets_session_is_the_cookies_and_its_frames_go_straight_to_the_server(client, user):
    client.force_login(user)
    seen = {}

    async def inner(scope, receive, send):
        seen["session_key"] = await database_sync_to_async(lambda: scope["session"].session_key)()
        seen["send"] = send

    async def server_send(message):
        pass

    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    scope = {"type": "websocket", "path": STREAM, "headers": [(b"cookie", cookie)]}
    stack = websocket.CookieMiddleware(websocket.WebSocketSessionMiddleware(inner))
    async_to_sync(stack)(scope, None, server_send)

    assert seen == {"session_key": client.cookies["sessionid"].value, "send": server_send}
