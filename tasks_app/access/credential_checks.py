"""Re-checking that open connections may stay open: their session still logged in as the same
user, or their token not revoked, and the user still active.

Idle watchers cost the database nothing. A connection is checked when it opens (in the
process's next round, with the others that opened meanwhile), then only when its session
expires or when a change to its credentials is announced (credential_changes: a logout, a
password change, a deactivation, a revoked token), never on a timer. A check takes a few queries
whatever the number of connections in it: one for tokens, one for sessions, one for users.
Session engines without a table to read expiry from are checked every round instead.
"""

import asyncio
import logging
import math
import time
import weakref
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, get_user_model
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.module_loading import import_string

from tasks_app.access.credentials import Credentials, concerns
from tasks_app.access.sessions import session_hash_verified, session_login
from tasks_app.db.threads import consumer_database
from tasks_app.models import ApiToken
from tasks_app.realtime import broadcast

logger = logging.getLogger(__name__)

# Session engines whose source of truth is the django_session table, which one query can read.
_DATABASE_SESSION_ENGINES = {
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
    "tasks_app.access.session_store",
}


NO_LONGER = 0.0  # a "valid until" of credentials that no longer hold
UNTIL_CHANGED = math.inf  # of credentials only an announced change can end
# How long a process's first connection waits for it to start listening for changes.
LISTEN_WAIT_SECONDS = 5


def credentials_valid_until(all_credentials: list[Credentials]) -> list[float]:
    """For each, the time (epoch seconds) until which it holds unless a change is announced:
    NO_LONGER, a session's expiry, or UNTIL_CHANGED. Sessions are read, never written:
    django.contrib.auth.get_user() may cycle or flush one, which would log the browser out from
    under its next request."""
    token_ids = {
        token_id for c in all_credentials if c.method == "token" and (token_id := c.token_id) is not None
    }
    active_tokens = (
        set(
            ApiToken.objects.filter(
                pk__in=token_ids, revoked_at__isnull=True, user__is_active=True
            ).values_list("pk", flat=True)
        )
        if token_ids
        else set()
    )
    sessions = _sessions({c.session_key for c in all_credentials if c.method == "session" and c.session_key})
    user_ids = {
        user_id
        for c in all_credentials
        if c.method == "session" and c.session_key in sessions and (user_id := c.user_id) is not None
    }
    users = get_user_model()._default_manager.filter(pk__in=user_ids, is_active=True) if user_ids else []
    users_by_id = {user.pk: user for user in users}
    # Without a row to read expiry from, a session is read again next round.
    next_round = time.time() + settings.TASKPULSE_AUTH_RECHECK_SECONDS
    return [
        (UNTIL_CHANGED if credentials.token_id in active_tokens else NO_LONGER)
        if credentials.method == "token"
        else _session_valid_until(credentials, sessions, users_by_id, next_round)
        for credentials in all_credentials
    ]


def _session_valid_until(
    credentials: Credentials, sessions: dict, users_by_id: dict, next_round: float
) -> float:
    data, expires = sessions.get(credentials.session_key, (None, None))
    if not _session_holds(data, credentials.user_id, users_by_id):
        return NO_LONGER
    return expires or next_round


def _sessions(keys: set[str]) -> dict[str, tuple[dict, float | None]]:
    """Each live session's data, and its expiry (epoch seconds) where the engine keeps one."""
    if not keys:
        return {}
    if settings.SESSION_ENGINE in _DATABASE_SESSION_ENGINES:
        rows = Session.objects.filter(session_key__in=keys, expire_date__gt=timezone.now())
        return {row.session_key: (row.get_decoded(), row.expire_date.timestamp()) for row in rows}
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    return {key: (data, None) for key in keys if (data := store(key).load())}


def _session_holds(session: dict | None, user_id, users_by_id: dict) -> bool:
    """sessions.session_user's rule, for a session read in bulk: still logged in as `user_id`
    with a backend still configured, the user active (read in bulk as Django's ModelBackend
    reads it), and the session's hash verified."""
    login = session_login(session) if session else None
    if session is None or login is None or login[0] != user_id:
        return False
    user = users_by_id.get(user_id)
    return user is not None and session_hash_verified(user, session.get(HASH_SESSION_KEY))


def wall_clock() -> float:
    return time.time()


class CredentialWatch:
    """The open connections of one event loop (one server process): WebSockets and SSE streams.
    Each is told the outcome of its checks through `credentials_checked(valid)`, and every
    TASKPULSE_AUTH_RECHECK_SECONDS that it still holds, which renews its connection slot."""

    def __init__(self, *, clock: Callable[[], float] | None = None) -> None:
        """`clock` gives epoch seconds, the scale of a session's expiry (default: wall_clock)."""
        self._clock = clock or wall_clock
        self._open: dict = {}
        # The clock reading at which each connection's credentials must be read again: at once for
        # a new one, at its session's expiry, or never (a token) unless a change is announced.
        self._due: dict = {}
        self._tasks: list[asyncio.Task] = []
        self._listening = asyncio.Event()

    async def add(self, connection, credentials: Credentials) -> None:
        """Watch the connection. Returns once this process hears announced changes (at once,
        but for its first connection), so that none made after the caller is told it is in is
        missed."""
        self._open[connection] = credentials
        self._due[connection] = 0.0
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._check_every_interval()),
                asyncio.create_task(self._listen_for_changes()),
            ]
        if not self._listening.is_set():
            try:
                await asyncio.wait_for(self._listening.wait(), LISTEN_WAIT_SECONDS)
            except TimeoutError:
                logger.warning("Not yet listening for credential changes; the next round checks")

    def discard(self, connection) -> None:
        self._open.pop(connection, None)
        self._due.pop(connection, None)

    async def check_round(self) -> None:
        """Read the credentials of the connections that are due; tell the others they hold."""
        now = self._clock()
        due = {connection for connection, at in self._due.items() if at <= now}
        await self.check(list(due))
        await self._tell([(connection, True) for connection in list(self._open) if connection not in due])

    async def check(self, connections: list) -> None:
        entries = [
            (connection, self._open[connection]) for connection in connections if connection in self._open
        ]
        if not entries:
            return
        valid_until = await consumer_database(credentials_valid_until)(
            [credentials for _, credentials in entries]
        )
        now = self._clock()
        outcomes = []
        for (connection, _), until in zip(entries, valid_until, strict=True):
            if connection in self._due:
                self._due[connection] = until
            outcomes.append((connection, until > now))
        await self._tell(outcomes)

    async def _tell(self, outcomes: list) -> None:
        for connection, valid in outcomes:
            if connection not in self._open:
                continue  # closed meanwhile
            if not valid:
                self.discard(connection)
            try:
                await connection.credentials_checked(valid)
            except Exception:
                logger.exception("Could not act on the credentials check of %s", connection)

    async def _check_every_interval(self) -> None:
        while True:
            await asyncio.sleep(settings.TASKPULSE_AUTH_RECHECK_SECONDS)
            try:
                await self.check_round()
            except Exception:
                logger.exception("The credentials check failed; trying again next round")

    async def _listen_for_changes(self) -> None:
        while True:
            listener = broadcast.Listener(broadcast.CREDENTIALS_GROUP)
            try:
                await listener.open()
                # A change announced while no one listened (this process starting, Redis away)
                # was missed: every connection is read again in the next round.
                self._due = dict.fromkeys(self._due, 0.0)
                self._listening.set()
                while True:
                    change = await listener.next(settings.TASKPULSE_AUTH_RECHECK_SECONDS)
                    if change is None:
                        await listener.rejoin()
                        continue
                    if broadcast.is_resync(change):  # changes announced meanwhile were lost
                        await self.check(list(self._open))
                        continue
                    await self.check(
                        [
                            connection
                            for connection, credentials in self._open.items()
                            if concerns(change, credentials)
                        ]
                    )
            except Exception:
                self._listening.clear()
                logger.exception("Listening for credential changes failed; listening again")
                await asyncio.sleep(1)
            finally:
                await _closed_quietly(listener)


async def _closed_quietly(listener: broadcast.Listener) -> None:
    try:
        await listener.close()
    except Exception:
        logger.warning("Could not leave the credential changes group", exc_info=True)


_watches: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CredentialWatch]" = (
    weakref.WeakKeyDictionary()
)


def watch() -> CredentialWatch:
    """This event loop's watch (Daphne runs one loop per process)."""
    loop = asyncio.get_running_loop()
    if loop not in _watches:
        _watches[loop] = CredentialWatch()
    return _watches[loop]
