"""kombu's Redis transport, whose channels fail with a connection error, not an AttributeError,
once their connection has been collected: the worker then outlives a Redis crash.

After a lost connection, Celery 5.7.0 (celery/celery#10242, for celery/celery#9705) collects the
broker connection, which drops its transport, and then closes it. Two things still use channels
of that connection: the close itself, when collecting left the default channel open (a BRPOP was
in flight, so its close raised the very error being handled), and the late acknowledgement of a
task that ran through the outage. Each needs a new Redis client, asks the gone transport where
Redis is (kombu's `Channel._connparams`), and raises AttributeError ("'NoneType' object has no
attribute 'hostname'", as in celery/kombu#582). Celery only expects connection errors there,
so the worker's main process exited ("Unrecoverable error"). As a connection error, the close is
ignored and the acknowledgement is logged as failed; the message stays in Redis's unacked set and
comes back after the visibility timeout, when task_start skips it as ended.

Set as CELERY_BROKER_TRANSPORT for redis:// brokers, and SentinelTransport for Sentinel ones.
tests/test_redis_transport.py shows the defect on the pinned kombu and the fix;
tests/integration/test_faults.py SIGKILLs Redis under bin/run's worker, and
test_redis_failover.py kills the master behind Sentinel.
"""

import redis
from kombu.transport import redis as kombu_redis


class _RaisesConnectionErrorOnceCollected:
    def _connparams(self, asynchronous: bool = False) -> dict:
        if self.connection.client is None:  # type: ignore[attr-defined]
            raise redis.ConnectionError("this channel's broker connection was closed after it was lost")
        return super()._connparams(asynchronous=asynchronous)  # type: ignore[misc]


class Channel(_RaisesConnectionErrorOnceCollected, kombu_redis.Channel):
    pass


class Transport(kombu_redis.Transport):
    Channel = Channel


class SentinelChannel(_RaisesConnectionErrorOnceCollected, kombu_redis.SentinelChannel):
    pass


class SentinelTransport(kombu_redis.SentinelTransport):
    """For a broker behind Redis Sentinel (REDIS_SENTINELS)."""

    Channel = SentinelChannel
