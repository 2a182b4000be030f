"""The re-check of open connections: which credentials still hold, and what a round costs."""

import pytest

from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tasks_app import api_tokens, credential_checks
from tasks_app.auth import Credentials

pytestmark = pytest.mark.django_db


@pytest.fixture
def credentials(user) -> Credentials:
    return session_credentials(user)


def test_a_logged_in_session_is_valid_and_is_left_as_it_was(credentials):
    before = Session.objects.get(pk=credentials.session_key).session_data

    assert credential_checks.still_valid(credentials) is True
    assert Session.objects.get(pk=credentials.session_key).session_data == before


def test_a_session_whose_password_changed_is_not_valid(credentials, user):
    user.set_password("a-new-password-entirely")
    user.save()

    assert credential_checks.still_valid(credentials) is False


def test_a_session_of_a_deactivated_user_is_not_valid(credentials, user):
    user.is_active = False
    user.save()

    assert credential_checks.still_valid(credentials) is False


def test_a_session_now_logged_in_as_someone_else_is_not_valid(credentials, other_user):
    assert (
        credential_checks.still_valid(
            Credentials(method="session", user_id=other_user.pk, session_key=credentials.session_key)
        )
        is False
    )


def test_a_token_of_a_deactivated_user_is_not_valid(user):
    record, _ = api_tokens.api_token_create(user=user, name="script")
    user.is_active = False
    user.save()

    assert (
        credential_checks.still_valid(Credentials(method="token", user_id=user.pk, token_id=record.pk))
        is False
    )


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
            assert all(credential_checks.credentials_still_valid(checked))
        return len(captured)

    assert queries_for(2) == queries_for(30) == 3


def test_a_round_tells_apart_the_valid_and_the_logged_out(user, other_user):
    kept, logged_out = session_credentials(user), session_credentials(other_user)
    Session.objects.filter(pk=logged_out.session_key).delete()

    assert credential_checks.credentials_still_valid([kept, logged_out]) == [True, False]
