"""Django's database sessions, read with SQL made once (see db/model_reader.py).

Every WebSocket connect and every request with a session cookie reads its session: built by the
ORM, that read cost four times what running it did, a thousand times over in a connect storm.
Writes, expiry and clearsessions are Django's own."""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from tasks_app.db.model_reader import ModelReader

_UNEXPIRED = ModelReader(Session, where=("session_key", "expire_date__gt"))


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self):
        found = _UNEXPIRED.instances(self.session_key, timezone.now()) if self.session_key else []
        if not found:
            self._session_key = None
            return None
        return found[0]
