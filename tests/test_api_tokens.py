"""API tokens: created (shown once, stored as a digest), used, revoked; from the services, the
create_api_token command and the admin."""

import io

import pytest

from django.core.management import CommandError, call_command

from tasks_app.access import api_tokens
from tasks_app.models import ApiToken


def test_only_a_digest_of_the_token_is_stored(user):
    record, token = api_tokens.api_token_create(user=user, name="script")

    stored = ApiToken.objects.filter(pk=record.pk).values().get()
    assert token not in [str(value) for value in stored.values()]
    assert stored["digest"] == api_tokens.api_token_digest(token)
    assert token.startswith(stored["prefix"])


def test_a_token_is_used_as_its_user_until_revoked(user):
    record, token = api_tokens.api_token_create(user=user, name="script")

    used = api_tokens.api_token_use(token=token)
    api_tokens.api_token_revoke(token_id=record.pk)

    assert used.user == user
    assert api_tokens.api_token_use(token=token) is None


def test_revoking_twice_says_the_second_time_changed_nothing(user):
    record, _ = api_tokens.api_token_create(user=user, name="script")

    assert [api_tokens.api_token_revoke(token_id=record.pk) for _ in range(2)] == [True, False]


def test_the_command_prints_a_working_token_once(user):
    out, err = io.StringIO(), io.StringIO()

    call_command("create_api_token", "alice", "--name", "backup job", stdout=out, stderr=err)

    token = out.getvalue().strip()
    assert api_tokens.api_token_use(token=token).user == user
    assert ApiToken.objects.get().name == "backup job"
    assert token not in err.getvalue()


def test_the_command_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No active user 'nobody'"):
        call_command("create_api_token", "nobody", stdout=io.StringIO(), stderr=io.StringIO())


def test_the_admin_creates_a_token_and_shows_it_once(operator_client, user):
    response = operator_client.post(
        "/admin/tasks_app/apitoken/add/", {"user": user.pk, "name": "from the admin"}, follow=True
    )

    shown = [str(message) for message in response.context["messages"]]
    token = shown[0].rsplit(" ", 1)[-1]
    assert api_tokens.api_token_use(token=token).user == user
    assert token not in operator_client.get("/admin/tasks_app/apitoken/").content.decode()


def test_the_admin_revokes_the_selected_tokens(operator_client, user):
    first, _ = api_tokens.api_token_create(user=user, name="one")
    second, _ = api_tokens.api_token_create(user=user, name="two")

    operator_client.post(
        "/admin/tasks_app/apitoken/",
        {"action": "revoke", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )

    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 0
