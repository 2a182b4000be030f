"""Sessions read with SQL made once load as Django's database sessions do."""

from datetime import timedelta
from importlib import import_module

import pytest

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.utils import timezone

pytestmark = pytest.mark.django_db

SessionStore = import_module(settings.SESSION_ENGINE).SessionStore


def test_a_logged_in_session_loads_its_data(client, user):
    client.force_login(user)

    session = SessionStore(client.cookies["sessionid"].value)

    assert session[SESSION_KEY] == str(user.pk)
    assert session.session_key == client.cookies["sessionid"].value


def test_an_expired_session_loads_empty_and_forgets_its_key(client, user):
    client.force_login(user)
    key = client.cookies["sessionid"].value
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))

    session = SessionStore(key)

    assert session.load() == {}
    assert session.session_key is None


def test_an_unknown_session_loads_empty():
    assert SessionStore("x" * 32).load() == {}


def test_a_saved_session_is_read_back(db):
    session = SessionStore()
    session["colour"] = "blue"
    session.save()

    assert SessionStore(session.session_key)["colour"] == "blue"
