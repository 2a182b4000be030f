"""Webhooks: what may be called, the secret and endpoints API, the deliveries a task's events
make, and each delivery's tries against a real HTTP receiver (in a thread here; the integration
tests run it, the server and the workers as processes)."""

import json
from datetime import timedelta

import pytest

from django.test import Client
from django.utils import timezone

from tasks_app import metrics
from tasks_app.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tasks_app.webhooks import addresses, deliveries, endpoints, outbox, signatures
from tests.helpers import TICKER, run_kind
from tests.test_admin import staff_in
from tests.webhook_receiver import Receiver

PRIVATE_URLS = [
    "http://127.0.0.1/hook",
    "http://localhost:8000/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.9/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/hook",
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
    "http://240.0.0.1/hook",
    "http://[::1]/hook",
    "http://[fc00::1]/hook",
    "http://[fe80::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
]


@pytest.fixture
def receiving(settings):
    """The tests' receiver listens on loopback: allowed here, as TASKPULSE_WEBHOOK_ALLOW_PRIVATE
    allows it in development."""
    settings.TASKPULSE_WEBHOOK_ALLOW_PRIVATE = True
    settings.DEBUG = True


@pytest.fixture
def sent(monkeypatch) -> list:
    """The deliveries handed to the webhooks queue, instead of sending them to a broker."""
    handed: list = []
    monkeypatch.setattr(outbox, "delivery_send", handed.append)
    return handed


@pytest.fixture
def secret(user) -> str:
    return endpoints.secret_rotate(user=user)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_delivery(user, url: str, **fields) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        owner=user,
        url=url,
        event="task.completed",
        body={"id": "x", "data": {"status": "completed"}},
        **fields,
    )


# ---- what may be called -------------------------------------------------------------------


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_addresses_of_the_server_s_own_networks_are_refused(settings, url):
    settings.DEBUG = True

    with pytest.raises(addresses.Refused, match="private network"):
        addresses.check_url_and_host(url)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "file:///etc/passwd", "javascript:alert(1)", "gopher://a/"]
)
def test_only_http_and_https_are_called(url):
    with pytest.raises(addresses.Refused, match="Only http and https"):
        addresses.check_url(url)


def test_plain_http_is_refused_unless_debug_or_allowed(settings):
    settings.DEBUG = False
    with pytest.raises(addresses.Refused, match="https"):
        addresses.check_url("http://93.184.216.34/hook")

    settings.TASKPULSE_WEBHOOK_ALLOW_HTTP = True
    assert addresses.check_url("http://93.184.216.34/hook") == ("http", "93.184.216.34", 80)


def test_a_public_address_is_allowed_and_credentials_in_the_url_are_not():
    addresses.check_url_and_host("https://93.184.216.34/hook")

    with pytest.raises(addresses.Refused, match="Credentials"):
        addresses.check_url("https://user:pass@93.184.216.34/hook")


def test_private_addresses_are_allowed_when_the_deployment_says_so(settings):
    settings.DEBUG = True
    settings.TASKPULSE_WEBHOOK_ALLOW_PRIVATE = True

    assert addresses.addresses_allowed("127.0.0.1", 80) == ["127.0.0.1"]


# ---- signatures ----------------------------------------------------------------------------


def test_a_signature_verifies_with_its_secret_and_not_with_another_or_when_old():
    body = b'{"event":"task.completed"}'
    header = signatures.signature_header(body, ["whsec_a"], now=1_800_000_000)

    assert header.startswith("t=1800000000,v1=")
    assert signatures.verify(body, header, "whsec_a", now=1_800_000_010)
    assert not signatures.verify(body, header, "whsec_b", now=1_800_000_010)
    assert not signatures.verify(body + b" ", header, "whsec_a", now=1_800_000_010)
    assert not signatures.verify(body, header, "whsec_a", now=1_800_000_400)


def test_the_secret_is_derived_from_the_stored_seed_and_never_stored(user):
    shown = endpoints.secret_rotate(user=user)

    stored = user.webhook_secret
    assert shown == signatures.secret_of(stored.seed) and shown.startswith("whsec_")
    assert shown not in {stored.seed, stored.previous_seed}


def test_after_a_rotation_both_secrets_sign_until_the_grace_period_ends(user, settings):
    old = endpoints.secret_rotate(user=user)
    new = endpoints.secret_rotate(user=user)
    user.webhook_secret.refresh_from_db()

    assert deliveries.secrets_in_use(user.webhook_secret) == [new, old]
    user.webhook_secret.previous_until = timezone.now() - timedelta(seconds=1)
    assert deliveries.secrets_in_use(user.webhook_secret) == [new]


# ---- the API -------------------------------------------------------------------------------


def test_the_secret_is_shown_once_when_created_or_rotated(user):
    client = logged_in(user)

    first = client.post("/api/webhooks/secret/")
    second = client.post("/api/webhooks/secret/")

    assert first.status_code == second.status_code == 201
    assert first.json()["secret"] != second.json()["secret"]
    assert client.get("/api/webhooks/secret/").status_code == 405


def test_the_webhooks_api_wants_a_user(db):
    assert Client().post("/api/webhooks/secret/").status_code == 401
    assert Client().get("/api/webhooks/").status_code == 401


def test_an_endpoint_is_registered_listed_and_deleted_by_its_owner(user, secret):
    client = logged_in(user)

    created = client.post(
        "/api/webhooks/",
        {"url": "https://93.184.216.34/hook", "events": ["task.completed"]},
        "application/json",
    )
    listed = client.get("/api/webhooks/").json()["results"]
    deleted = client.delete(f"/api/webhooks/{created.json()['id']}/")

    assert created.status_code == 201
    assert (created.json()["url"], created.json()["events"]) == (
        "https://93.184.216.34/hook",
        ["task.completed"],
    )
    assert [endpoint["id"] for endpoint in listed] == [created.json()["id"]]
    assert deleted.status_code == 204 and not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"url": "http://169.254.169.254/", "events": ["task.failed"]}, "url", "private network"),
        ({"url": "ftp://example.com/", "events": ["task.failed"]}, "url", "Only http and https"),
        ({"url": "https://93.184.216.34/", "events": ["task.exploded"]}, "events", "Choose one or more"),
        ({"url": "https://93.184.216.34/", "events": []}, "events", "Choose one or more"),
        ({"events": ["task.failed"]}, "url", "Give the URL"),
    ],
)
def test_a_bad_endpoint_is_refused_with_400_and_the_reason(user, secret, settings, body, field, reason):
    settings.DEBUG = True

    response = logged_in(user).post("/api/webhooks/", body, "application/json")

    assert response.status_code == 400
    assert reason in response.json()["errors"][field][0]
    assert not WebhookEndpoint.objects.exists()


def test_an_endpoint_needs_the_owner_s_secret_first(user):
    response = logged_in(user).post(
        "/api/webhooks/", {"url": "https://93.184.216.34/", "events": ["task.failed"]}, "application/json"
    )

    assert response.status_code == 400 and "secret" in response.json()["errors"]


def test_a_user_cannot_see_or_delete_another_s_endpoints(user, other_user, secret):
    theirs = WebhookEndpoint.objects.create(
        owner=other_user, url="https://93.184.216.34/", events=["task.failed"]
    )
    client = logged_in(user)

    assert client.get("/api/webhooks/").json()["results"] == []
    assert client.delete(f"/api/webhooks/{theirs.id}/").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=theirs.id).exists()


def test_a_private_callback_url_is_refused_with_400_and_nothing_is_created(user, secret):
    response = logged_in(user).post(
        "/api/tasks/",
        {"kind": "ticker", "params": TICKER, "callback_url": "https://10.0.0.1/done"},
        "application/json",
    )

    assert response.status_code == 400
    assert "private network" in response.json()["errors"]["callback_url"][0]
    assert not user.tasks.exists()


# ---- the deliveries a task's events make ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_task_s_start_and_end_are_delivered_to_the_endpoints_that_asked(
    user, other_user, create_task, sent
):
    endpoints.secret_rotate(user=user)
    both = WebhookEndpoint.objects.create(
        owner=user, url="https://93.184.216.34/a", events=["task.started", "task.completed"]
    )
    failures = WebhookEndpoint.objects.create(
        owner=user, url="https://93.184.216.34/b", events=["task.failed"]
    )
    WebhookEndpoint.objects.create(owner=other_user, url="https://93.184.216.34/c", events=["task.completed"])
    task = create_task("ticker", TICKER)

    run_kind(task)

    made = list(WebhookDelivery.objects.order_by("created_at"))
    assert [(delivery.endpoint_id, delivery.event) for delivery in made] == [
        (both.id, "task.started"),
        (both.id, "task.completed"),
    ]
    assert sent == [delivery.id for delivery in made]
    assert not failures.deliveries.exists()
    body = made[1].body
    assert (body["id"], body["event"], body["data"]["type"], body["data"]["status"]) == (
        str(made[1].id),
        "task.completed",
        "complete",
        "completed",
    )


@pytest.mark.django_db(transaction=True)
def test_a_task_s_callback_gets_its_end_only(user, create_task, sent):
    endpoints.secret_rotate(user=user)
    task = create_task("ticker", TICKER)
    task.callback_url = "https://93.184.216.34/done"
    task.save(update_fields=["callback_url"])

    run_kind(task)

    assert list(WebhookDelivery.objects.values_list("url", "event", "endpoint")) == [
        ("https://93.184.216.34/done", "task.completed", None)
    ]


# ---- each delivery's tries -------------------------------------------------------------------


def test_a_delivery_is_signed_with_the_owner_s_secret_and_says_which_delivery_it_is(user, secret, receiving):
    with Receiver() as receiver:
        delivery = make_delivery(user, receiver.url)
        tried = deliveries.deliver(delivery.id)

    (got,) = receiver.received
    delivery.refresh_from_db()
    assert tried.outcome.delivered and delivery.status == DeliveryStatus.DELIVERED
    assert (got["headers"]["Taskpulse-Event"], got["headers"]["Taskpulse-Delivery"]) == (
        "task.completed",
        str(delivery.id),
    )
    assert signatures.verify(got["body"].encode(), got["headers"]["Taskpulse-Signature"], secret)
    assert json.loads(got["body"]) == delivery.body
    assert (delivery.attempts, delivery.last_status_code) == (1, 200) and delivery.last_latency_ms is not None


def test_a_receiver_that_fails_is_tried_again_with_the_same_delivery_id(user, secret, receiving):
    with Receiver(fail_first=2, fail_status=503) as receiver:
        delivery = make_delivery(user, receiver.url)
        outcomes = [deliveries.deliver(delivery.id).outcome for _ in range(3)]

    delivery.refresh_from_db()
    assert [(outcome.delivered, outcome.retry, outcome.status_code) for outcome in outcomes] == [
        (False, True, 503),
        (False, True, 503),
        (True, False, 200),
    ]
    assert {entry["headers"]["Taskpulse-Delivery"] for entry in receiver.received} == {str(delivery.id)}
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 3)


def test_a_failed_try_waits_its_backoff_and_honours_retry_after(user, secret, receiving):
    with Receiver(fail_first=1, fail_status=429, retry_after="120") as receiver:
        delivery = make_delivery(user, receiver.url)
        before = timezone.now()
        deliveries.deliver(delivery.id)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at >= before + timedelta(seconds=120)
    assert delivery.id not in deliveries.deliveries_due()


@pytest.mark.parametrize("status", [400, 404, 410, 302])
def test_other_answers_are_final_and_redirects_are_not_followed(user, secret, receiving, status):
    with Receiver(status=status) as receiver:
        delivery = make_delivery(user, receiver.url)
        tried = deliveries.deliver(delivery.id)

    delivery.refresh_from_db()
    assert (tried.outcome.retry, delivery.status, delivery.last_status_code) == (
        False,
        DeliveryStatus.FAILED,
        status,
    )
    assert len(receiver.received) == 1


def test_a_receiver_that_does_not_answer_in_time_is_tried_again(user, secret, receiving, settings):
    settings.TASKPULSE_WEBHOOK_TIMEOUT_SECONDS = 0.3
    with Receiver(delay=2) as receiver:
        delivery = make_delivery(user, receiver.url)
        tried = deliveries.deliver(delivery.id)

    assert (tried.outcome.retry, tried.outcome.error) == (True, "no answer within 0.3 s")


def test_a_delivery_held_by_another_worker_is_not_tried_meanwhile(user, secret, receiving):
    with Receiver() as receiver:
        delivery = make_delivery(user, receiver.url, claimed_until=timezone.now() + timedelta(seconds=10))
        tried = deliveries.deliver(delivery.id)

    assert tried.outcome is None and 9 < tried.held_for <= 10
    assert receiver.received == []


def test_a_delivery_gives_up_a_day_after_it_was_made(user, secret, receiving):
    with Receiver(fail_first=1) as receiver:
        delivery = make_delivery(user, receiver.url)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=timezone.now() - timedelta(hours=24))
        deliveries.deliver(delivery.id)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at) == (DeliveryStatus.FAILED, None)


def test_an_endpoint_failing_for_a_day_is_disabled_and_says_why(user, secret, receiving):
    with Receiver(fail_first=5) as receiver:
        endpoint = WebhookEndpoint.objects.create(
            owner=user,
            url=receiver.url,
            events=["task.completed"],
            failing_since=timezone.now() - timedelta(hours=25),
        )
        first = make_delivery(user, receiver.url, endpoint=endpoint)
        later = make_delivery(user, receiver.url, endpoint=endpoint)
        deliveries.deliver(first.id)
        deliveries.deliver(later.id)

    endpoint.refresh_from_db()
    later.refresh_from_db()
    assert endpoint.disabled_at is not None and "The receiver answered 500." in endpoint.disabled_reason
    assert (later.status, later.last_error) == (DeliveryStatus.FAILED, "The endpoint was disabled.")
    assert len(receiver.received) == 1


def test_a_success_clears_an_endpoint_s_failing_spell(user, secret, receiving):
    with Receiver() as receiver:
        endpoint = WebhookEndpoint.objects.create(
            owner=user,
            url=receiver.url,
            events=["task.completed"],
            failing_since=timezone.now() - timedelta(hours=2),
        )
        deliveries.deliver(make_delivery(user, receiver.url, endpoint=endpoint).id)

    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_the_address_is_checked_again_at_delivery(user, secret, settings):
    settings.DEBUG = True  # plain http, but private addresses still refused
    delivery = make_delivery(user, "http://127.0.0.1:9/hook")

    tried = deliveries.deliver(delivery.id)

    delivery.refresh_from_db()
    assert (tried.outcome.retry, delivery.status) == (False, DeliveryStatus.FAILED)
    assert "private network" in delivery.last_error


def test_outcomes_are_counted_for_metrics(user, secret, receiving):
    counter = metrics.WEBHOOK_DELIVERIES.labels("retried", "5xx")
    before = counter._value.get()
    with Receiver(fail_first=1) as receiver:
        deliveries.deliver(make_delivery(user, receiver.url).id)

    assert counter._value.get() == before + 1


def test_an_operator_redelivers_a_failed_delivery_from_the_admin(user, sent):
    failed = make_delivery(
        user, "https://93.184.216.34/", status=DeliveryStatus.FAILED, finished_at=timezone.now()
    )
    operator = staff_in("Operators")
    operator.post(
        "/admin/tasks_app/webhookdelivery/",
        {"action": "redeliver", "_selected_action": [str(failed.pk)]},
        follow=True,
    )

    failed.refresh_from_db()
    assert (failed.status, sent) == (DeliveryStatus.PENDING, [failed.pk])


def test_a_viewer_reads_deliveries_but_cannot_redeliver(user, sent):
    delivery = make_delivery(user, "https://93.184.216.34/", status=DeliveryStatus.FAILED)
    viewer = staff_in("Viewers")
    page = viewer.get("/admin/tasks_app/webhookdelivery/")
    viewer.post(
        "/admin/tasks_app/webhookdelivery/", {"action": "redeliver", "_selected_action": [str(delivery.pk)]}
    )

    assert page.status_code == 200 and str(delivery.pk)[:8] in page.content.decode()
    assert sent == []
