"""Announcing to every server process a change that may end open connections' credentials, so
that credential_checks re-reads those connections' credentials at once instead of on a timer.

Changes made through Django's ORM are announced by the signals below: a session deleted
(logging out deletes it), a user saved (a new password, deactivation) or deleted, a token
deleted; api_tokens.api_token_revoke announces its own update. A bulk `update()` or SQL from
outside Django is not seen: such a connection holds until its session expires or it reconnects.
"""

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from tasks_app.models import ApiToken
from tasks_app.realtime import broadcast


def announce(
    *, user_id: int | None = None, session_key: str | None = None, token_id: int | None = None
) -> None:
    """Once the change commits (a check before that would read the old state)."""
    change = {"user_id": user_id, "session_key": session_key, "token_id": token_id}
    transaction.on_commit(lambda: broadcast.publish_credentials_changed(change))


def connect() -> None:
    user_model = get_user_model()
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="taskpulse-credentials-user-saved")
    post_delete.connect(_user_deleted, sender=user_model, dispatch_uid="taskpulse-credentials-user-deleted")
    post_delete.connect(
        _session_deleted, sender=Session, dispatch_uid="taskpulse-credentials-session-deleted"
    )
    post_delete.connect(_token_deleted, sender=ApiToken, dispatch_uid="taskpulse-credentials-token-deleted")


def _user_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    # Every login saves last_login alone; that changes no one's credentials.
    if not created and set(update_fields or ()) != {"last_login"}:
        announce(user_id=instance.pk)


def _user_deleted(sender, instance, **kwargs) -> None:
    announce(user_id=instance.pk)


def _session_deleted(sender, instance, **kwargs) -> None:
    announce(session_key=instance.session_key)


def _token_deleted(sender, instance, **kwargs) -> None:
    announce(token_id=instance.pk)
