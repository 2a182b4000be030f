"""Re-checking that open connections may stay open: their session still logged in as the same
user, or their token not revoked, and the user still active.

A process checks all its WebSockets in one round every TASKPULSE_AUTH_RECHECK_SECONDS, in a few
queries whatever their number (one for tokens, one for sessions, one for users), rather than a
couple of queries per connection: idle watchers should cost the database next to nothing.
"""

import asyncio
import logging
import weakref
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.module_loading import import_string

from tasks_app.auth import Credentials
from tasks_app.db_connections import consumer_database
from tasks_app.models import ApiToken

logger = logging.getLogger(__name__)

# Session engines whose source of truth is the django_session table, which one query can read.
_DATABASE_SESSION_ENGINES = {
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
}


def still_valid(credentials: Credentials) -> bool:
    return credentials_still_valid([credentials])[0]


def credentials_still_valid(all_credentials: list[Credentials]) -> list[bool]:
    """For each, whether it still holds. Sessions are read, never written:
    django.contrib.auth.get_user() may cycle or flush one, which would log the browser out from
    under its next request."""
    token_ids = {c.token_id for c in all_credentials if c.method == "token" and c.token_id is not None}
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
    user_ids = {c.user_id for c in all_credentials if c.method == "session" and c.session_key in sessions}
    users = get_user_model()._default_manager.filter(pk__in=user_ids, is_active=True) if user_ids else []
    users_by_id = {user.pk: user for user in users}
    return [
        credentials.token_id in active_tokens
        if credentials.method == "token"
        else _session_holds(sessions.get(credentials.session_key), credentials.user_id, users_by_id)
        for credentials in all_credentials
    ]


def _sessions(keys: set[str]) -> dict[str, dict]:
    if not keys:
        return {}
    if settings.SESSION_ENGINE in _DATABASE_SESSION_ENGINES:
        rows = Session.objects.filter(session_key__in=keys, expire_date__gt=timezone.now())
        return {row.session_key: row.get_decoded() for row in rows}
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    return {key: data for key in keys if (data := store(key).load())}


def _session_holds(session: dict | None, user_id, users_by_id: dict) -> bool:
    if not session or session.get(BACKEND_SESSION_KEY) not in settings.AUTHENTICATION_BACKENDS:
        return False
    if (
        session.get(SESSION_KEY) is None
        or get_user_model()._meta.pk.to_python(session[SESSION_KEY]) != user_id
    ):
        return False
    user, session_hash = users_by_id.get(user_id), session.get(HASH_SESSION_KEY)
    if user is None or not session_hash:
        return False  # deactivated (or deleted), or a session from before hashes were kept
    valid_hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    return any(constant_time_compare(session_hash, valid) for valid in valid_hashes)


class CredentialWatch:
    """The open WebSockets of one event loop (one server process), checked together. Each is
    told the outcome through its `credentials_checked(valid)`."""

    def __init__(self) -> None:
        self._open: dict = {}
        self._rounds: asyncio.Task | None = None

    def add(self, connection, credentials: Credentials) -> None:
        self._open[connection] = credentials
        if self._rounds is None:
            self._rounds = asyncio.create_task(self._check_every_interval())

    def discard(self, connection) -> None:
        self._open.pop(connection, None)

    async def check_now(self) -> None:
        entries = list(self._open.items())
        if not entries:
            return
        outcomes = await consumer_database(credentials_still_valid)(
            [credentials for _, credentials in entries]
        )
        await self._tell(
            [(connection, valid) for (connection, _), valid in zip(entries, outcomes, strict=True)]
        )

    async def _tell(self, outcomes: Iterable) -> None:
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
                await self.check_now()
            except Exception:
                logger.exception("The credentials check failed; trying again next round")


_watches: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CredentialWatch]" = (
    weakref.WeakKeyDictionary()
)


def watch() -> CredentialWatch:
    """This event loop's watch (Daphne runs one loop per process)."""
    loop = asyncio.get_running_loop()
    if loop not in _watches:
        _watches[loop] = CredentialWatch()
    return _watches[loop]
