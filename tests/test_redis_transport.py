"""The broker transport's contract: a channel whose connection was collected fails with a
connection error, which Celery handles, where kombu's own raises AttributeError, which stops the
worker (tasks_app/worker/redis_transport.py)."""

import pytest
import redis
from kombu import Connection
from kombu.common import ignore_errors

from django.conf import settings

from tasks_app.worker.redis_transport import Transport


@pytest.fixture
def collected_mid_poll():
    channels = []

    def collect(transport=None):
        connection, channel = _collected_mid_poll(transport)
        channels.append(channel)
        return connection, channel

    yield collect
    for channel in channels:
        # Otherwise kombu's finalizer tries to put the message back when the channel is collected.
        channel.qos._delivered.clear()


def _collected_mid_poll(transport=None):
    """A broker connection as Celery's consumer leaves it after Redis went away mid-poll: collect()
    dropped the transport, but closing the default channel had raised (Redis was gone), so the
    channel is open, and holds a task taken with a late acknowledgement, still running."""
    connection = Connection(settings.CELERY_BROKER_URL, transport=transport)
    channel = connection.default_channel
    message = channel.prepare_message("a task")
    message["properties"]["delivery_tag"] = "a-delivery-tag"
    channel.qos._delivered["a-delivery-tag"] = channel.Message(message, channel=channel)
    connection._do_close_transport()  # the last step of collect(), after the failed close
    assert not channel.closed
    return connection, channel


def test_a_channel_left_by_a_collected_connection_raises_a_connection_error_when_it_needs_redis(
    collected_mid_poll,
):
    _connection, channel = collected_mid_poll(Transport)

    with pytest.raises(redis.ConnectionError):
        channel.qos.ack("a-delivery-tag")
    assert redis.ConnectionError in Transport.connection_errors


def test_closing_a_collected_connection_raises_only_what_celery_ignores(collected_mid_poll):
    connection, _channel = collected_mid_poll(Transport)

    ignore_errors(connection, connection.close)


def test_kombus_own_channel_still_raises_attribute_error_there(collected_mid_poll):
    """When this fails, kombu or Celery has fixed it: drop worker/redis_transport.py."""
    connection, channel = collected_mid_poll()

    with pytest.raises(AttributeError, match="hostname"):
        channel.qos.ack("a-delivery-tag")
    with pytest.raises(AttributeError, match="hostname"):
        ignore_errors(connection, connection.close)


def test_the_worker_uses_the_transport_for_a_redis_broker():
    from project.celery import app

    with app.connection_for_read() as connection:
        assert isinstance(connection.transport, Transport)
