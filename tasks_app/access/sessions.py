"""Whether a session logs its user in: Django's get_user() rule, written once, for a socket's
connect (session_user) and for the checks of open connections that follow (credential_checks)."""

from functools import cache

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
    load_backend,
)
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser
from django.utils.crypto import constant_time_compare

from tasks_app.db.model_reader import ModelReader


def session_login(session) -> tuple[object, str] | None:
    """(user id, backend path) the session is logged in with, or None when it is not logged in or
    its backend is no longer configured."""
    try:
        user_id = get_user_model()._meta.pk.to_python(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
    except KeyError:
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    return user_id, backend_path


def session_hash_verified(user, session_hash: str | None) -> bool:
    """The session's hash matches the user's (the password it was logged in with), under
    SECRET_KEY or one of SECRET_KEY_FALLBACKS, as Django's get_user() accepts it."""
    return session_hash_current(user, session_hash) or session_hash_of_fallback_key(user, session_hash)


def session_hash_current(user, session_hash: str | None) -> bool:
    return session_hash is not None and constant_time_compare(session_hash, user.get_session_auth_hash())


def session_hash_of_fallback_key(user, session_hash: str | None) -> bool:
    return session_hash is not None and any(
        constant_time_compare(session_hash, fallback) for fallback in user.get_session_auth_fallback_hash()
    )


def session_user(session):
    """The session's user, or AnonymousUser: Django's get_user(), step for step, but that the user
    of Django's own ModelBackend is read with SQL made once (db/model_reader.py), since every
    WebSocket connect reads it. A session verified by a fallback key gets the current key's hash,
    as Django gives it, but keeps its session key: Django also cycles the key, and a socket cannot
    hand the browser the new cookie."""
    login = session_login(session)
    if login is None:
        return AnonymousUser()
    user_id, backend_path = login
    user = _backend_user(load_backend(backend_path), user_id)
    session_hash = session.get(HASH_SESSION_KEY)
    if hasattr(user, "get_session_auth_hash") and not session_hash_current(user, session_hash):
        if session_hash_of_fallback_key(user, session_hash):
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.save()
        else:
            session.flush()
            user = None
    return user or AnonymousUser()


def _backend_user(backend, user_id):
    if type(backend).get_user is not ModelBackend.get_user:
        return backend.get_user(user_id)
    found = _users_by_pk().instances(user_id)
    return found[0] if found and backend.user_can_authenticate(found[0]) else None


@cache
def _users_by_pk() -> ModelReader:
    user_model = get_user_model()
    return ModelReader(user_model, where=(user_model._meta.pk.name,))
