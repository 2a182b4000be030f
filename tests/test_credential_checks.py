"""The re-check of open connections: which credentials still hold and until when, what a check
costs, and that idle connections are read once and then only on expiry or an announced change."""

import asyncio
import time

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async

from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tasks_app.access import api_tokens, credential_checks
from tasks_app.access.credentials import Credentials, concerns

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 5


@pytest.fixture
def credentials(user) -> Credentials:
    return session_credentials(user)


def test_a_logged_in_session_is_valid_and_is_left_as_it_was(credentials):
    before = Session.objects.get(pk=credentials.session_key).session_data

    assert still_valid(credentials) is True
    assert Session.objects.get(pk=credentials.session_key).session_data == before


def test_a_session_whose_password_changed_is_not_valid(credentials, user):
    user.set_password("a-new-password-entirely")
    user.save()

    assert still_valid(credentials) is False


def test_a_session_of_a_deactivated_user_is_not_valid(credentials, user):
    user.is_active = False
    user.save()

    assert still_valid(credentials) is False


def test_a_session_now_logged_in_as_someone_else_is_not_valid(credentials, other_user):
    assert (
        still_valid(Credentials(method="session", user_id=other_user.pk, session_key=credentials.session_key))
        is False
    )


def test_a_token_of_a_deactivated_user_is_not_valid(user):
    record, _ = api_tokens.api_token_create(user=user, name="script")
    user.is_active = False
    user.save()

    assert still_valid(Credentials(method="token", user_id=user.pk, token_id=record.pk)) is False


def session_credentials(user) -> Credentials:
    client = Client()
    client.force_login(user)
    return Credentials(method="session", user_id=user.pk, session_key=client.session.session_key)


def test_a_round_costs_the_same_few_queries_for_many_connections_as_for_few(user, other_user):
    def queries_for(count: int) -> int:
        checked = [session_credentials(user if n % 2 else other_user) for n in range(count)]
        checked += [
            Credentials(
                method="token",
                user_id=user.pk,
                token_id=api_tokens.api_token_create(user=user, name=str(n))[0].pk,
            )
            for n in range(count)
        ]
        with CaptureQueriesContext(connection) as captured:
            valid_until = credential_checks.credentials_valid_until(checked)
        assert all(until > time.time() for until in valid_until)
        return len(captured)

    assert queries_for(2) == queries_for(30) == 3


def test_a_round_tells_apart_the_valid_and_the_logged_out(user, other_user):
    kept, logged_out = session_credentials(user), session_credentials(other_user)
    Session.objects.filter(pk=logged_out.session_key).delete()

    kept_until, logged_out_until = credential_checks.credentials_valid_until([kept, logged_out])

    assert kept_until > time.time() and logged_out_until == credential_checks.NO_LONGER


def test_a_session_holds_until_it_expires(credentials):
    expires = Session.objects.get(pk=credentials.session_key).expire_date.timestamp()

    assert credential_checks.credentials_valid_until([credentials]) == [expires]


def test_a_token_holds_until_a_change_is_announced(user):
    record, _ = api_tokens.api_token_create(user=user, name="script")
    token = Credentials(method="token", user_id=user.pk, token_id=record.pk)

    assert credential_checks.credentials_valid_until([token]) == [credential_checks.UNTIL_CHANGED]


@pytest.mark.parametrize(
    ("change", "concerned"),
    [
        ({"user_id": 1}, True),
        ({"user_id": 2}, False),
        ({"session_key": "s1"}, True),
        ({"session_key": "s2"}, False),
        ({"token_id": 7}, False),
    ],
)
def test_a_change_concerns_the_credentials_of_its_user_session_or_token(change, concerned):
    credentials = Credentials(method="session", user_id=1, session_key="s1")

    assert concerns(change, credentials) is concerned


class Connection:
    """What the watch needs of a WebSocket or an SSE stream: told each check's outcome."""

    def __init__(self) -> None:
        self.outcomes: list[bool] = []
        self.closed = asyncio.Event()

    async def credentials_checked(self, valid: bool) -> None:
        self.outcomes.append(valid)
        if not valid:
            self.closed.set()


@pytest.fixture
def reads(monkeypatch) -> list[list[Credentials]]:
    """The credentials each check read from the database."""
    calls = []
    real = credential_checks.credentials_valid_until

    def recording(all_credentials):
        calls.append(list(all_credentials))
        return real(all_credentials)

    monkeypatch.setattr(credential_checks, "credentials_valid_until", recording)
    return calls


def test_an_idle_connection_is_read_in_the_round_after_it_opens_and_never_again(credentials, reads, settings):
    settings.TASKPULSE_AUTH_RECHECK_SECONDS = 60

    async def scenario():
        watch, idle = credential_checks.CredentialWatch(), Connection()
        await watch.add(idle, credentials)
        for _ in range(5):
            await watch.check_round()
        return idle.outcomes

    assert async_to_sync(scenario)() == [True] * 5  # each round renews the connection's slot
    assert reads == [[credentials]]


def test_a_session_is_read_again_when_it_expires_and_then_no_longer_holds(user, reads, settings):
    settings.TASKPULSE_AUTH_RECHECK_SECONDS = 60
    client = Client()
    client.force_login(user)
    session = client.session
    session.set_expiry(2)
    session.save()
    expiring = Credentials(method="session", user_id=user.pk, session_key=session.session_key)

    now = [time.time()]

    async def scenario():
        watch, connection = credential_checks.CredentialWatch(clock=lambda: now[0]), Connection()
        await watch.add(connection, expiring)
        await watch.check_round()
        now[0] += 1
        await watch.check_round()  # before expiry: nothing read
        now[0] += 2
        await watch.check_round()
        return connection.outcomes

    assert async_to_sync(scenario)() == [True, True, False]
    assert reads == [[expiring], [expiring]]


def test_an_announced_change_is_checked_at_once_and_only_for_the_connections_it_concerns(
    user, other_user, reads, settings
):
    settings.TASKPULSE_AUTH_RECHECK_SECONDS = 60
    record, _ = api_tokens.api_token_create(user=user, name="script")
    revoked = Credentials(method="token", user_id=user.pk, token_id=record.pk)
    others = session_credentials(other_user)

    async def scenario():
        watch, connection, bystander = credential_checks.CredentialWatch(), Connection(), Connection()
        await watch.add(connection, revoked)
        await watch.add(bystander, others)
        await database_sync_to_async(api_tokens.api_token_revoke)(token_id=record.pk)
        await asyncio.wait_for(connection.closed.wait(), TIMEOUT)
        return connection.outcomes, bystander.outcomes

    assert async_to_sync(scenario)() == ([False], [])
    assert reads == [[revoked]]


def still_valid(credentials: Credentials) -> bool:
    return credential_checks.credentials_valid_until([credentials])[0] > time.time()
