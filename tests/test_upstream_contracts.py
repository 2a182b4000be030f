"""The third-party internals that Taskpulse's patches rely on (docs/upstream.md), checked against
the installed, pinned versions: a release that renames one fails here, loudly, instead of
silently switching a patch off. And each install() proven on a real listening port."""

import inspect
import json
import re
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from autobahn.twisted import websocket as twisted_websocket
from autobahn.websocket import protocol as autobahn_protocol
from channels import auth as channels_auth
from channels import consumer as channels_consumer
from channels import sessions as channels_sessions
from channels_redis import core, pubsub
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import tcp

from django.contrib.sessions.backends.db import SessionStore

ROOT = Path(__file__).resolve().parents[1]


def pinned() -> dict[str, str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    pins = dict(line.split("==", 1) for line in lines if "==" in line and not line.startswith("#"))
    return {name.split("[")[0].lower(): version for name, version in pins.items()}


@pytest.mark.parametrize(
    "distribution", ["twisted", "autobahn", "asgiref", "redis", "daphne", "channels-redis", "celery", "kombu"]
)
def test_the_patched_libraries_run_at_the_versions_the_patches_were_written_against(distribution):
    assert metadata.version(distribution) == pinned()[distribution]


class StubReactor:
    def addReader(self, reader) -> None:
        pass


def test_twisted_servers_still_buffer_writes_where_eager_writes_reads_them():
    server_side, client_side = socket.socketpair()
    with server_side, client_side:
        server = tcp.Server(server_side, object(), ("127.0.0.1", 1), None, 1, StubReactor())
        for name in (
            "dataBuffer",
            "offset",
            "_tempDataBuffer",
            "_tempDataLen",
            "_writeDisconnected",
            "TLS",
            "connected",
        ):
            assert hasattr(server, name), name
    # Stock, or eager_writes' subclass where this process loaded the application under Daphne.
    assert callable(tcp.Server.writeSomeData) and issubclass(vars(tcp.Port)["transport"], tcp.Server)


def test_autobahn_still_formats_its_debug_arguments_through_the_names_lazy_autobahn_logs_replaces():
    assert "pformat(" in inspect.getsource(autobahn_protocol)
    assert "hltype(" in inspect.getsource(autobahn_protocol)
    assert "hltype(" in inspect.getsource(twisted_websocket)
    assert "_timings" in inspect.getsource(autobahn_protocol.Timings)


def test_autobahn_still_refuses_a_restart_close_from_applications_so_the_protocol_patch_is_needed():
    # When this fails, Autobahn accepts 1012 from applications: delete server/websocket_protocol.py.
    source = inspect.getsource(WebSocketProtocol.sendClose)
    assert "3000" in source and "4999" in source
    assert "isReply" in inspect.signature(WebSocketProtocol.sendCloseFrame).parameters
    assert "failByDrop" in WebSocketProtocol.CONFIG_ATTRS
    # An option set on the protocol class is kept, not overwritten by the factory's.
    assert "if not hasattr(self, configAttr)" in inspect.getsource(
        autobahn_protocol.WebSocketProtocol._connectionMade
    )


def test_channels_redis_still_has_the_hooks_redis_layers_overrides():
    assert "index" in inspect.signature(core.RedisChannelLayer.create_pool).parameters
    assert callable(pubsub.RedisPubSubChannelLayer._get_layer)
    assert "_shards" in inspect.getsource(pubsub.RedisPubSubLoopLayer)
    shard = inspect.getsource(pubsub.RedisSingleShardConnection)
    for name in (
        "_lock",
        "_subscribed_to",
        "_ensure_redis",
        "_ensure_receiver",
        "_pubsub",
        "_receive_message",
        "_do_receiving",
        "get_message",
    ):
        assert name in shard, name
    assert "self.channels = {}" in inspect.getsource(pubsub.RedisPubSubLoopLayer)
    assert callable(pubsub.RedisPubSubChannelLayer.serialize)
    assert list(inspect.signature(pubsub.RedisSingleShardConnection).parameters) == ["host", "channel_layer"]
    # close_channel and new_channel: a channel is subscribed, kept and named as they assume.
    loop_layer = inspect.getsource(pubsub.RedisPubSubLoopLayer)
    assert "self.channels[channel] = asyncio.Queue()" in loop_layer
    assert 'channel = f"{self.prefix}{prefix}{uuid.uuid4().hex}"' in loop_layer
    assert callable(pubsub.RedisPubSubLoopLayer._subscribe_to_channel)
    # ChannelQueue: all a channel's queue is asked for is put_nowait and get.
    assert "await q.get()" in inspect.getsource(pubsub.RedisPubSubLoopLayer.receive)
    assert ".put_nowait(data)" in inspect.getsource(pubsub.RedisSingleShardConnection._receive_message)
    queue_uses = re.findall(r"q\.(\w+)|channels\[[\w.]+\]\.(\w+)", inspect.getsource(pubsub))
    assert {name for pair in queue_uses for name in pair if name} == {"get", "put_nowait"}
    assert callable(pubsub.RedisPubSubLoopLayer._get_shard)
    assert "self.receive_buffer[channel]" in inspect.getsource(core.RedisChannelLayer.receive)


def test_channels_and_django_still_have_the_hooks_access_and_consumers_override():
    assert callable(channels_auth.AuthMiddleware.resolve_scope)
    assert callable(channels_sessions.InstanceSessionWrapper.resolve_session)
    assert callable(channels_consumer.get_handler_name)
    assert callable(SessionStore._get_session_from_db)


def probe(*args: str, env: dict) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "tests.server_probe", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.integration
def test_every_adjustment_takes_effect_on_a_real_listening_port(process_env):
    assert probe(env=process_env) == {
        "handshake": "HTTP/1.1 101 Switching Protocols",
        "protocol": ["RegisteredCloseCodesProtocol"],
        "transport": ["EagerWriteServer"],
        "backlog": [4096],
        "lazy_autobahn_logs": True,
    }


@pytest.mark.integration
def test_the_probe_sees_stock_daphne_when_nothing_is_installed(process_env):
    seen = probe("--without-install", env=process_env)

    assert (seen["protocol"], seen["transport"], seen["lazy_autobahn_logs"]) == (
        ["WebSocketProtocol"],
        ["Server"],
        False,
    )
