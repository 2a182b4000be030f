"""python-socketio's server for the benchmark: `uvicorn bench.peers.socketio_server:application`.

An AsyncServer in ASGI mode with its AsyncRedisManager, so that what a Celery worker emits through
a write-only RedisManager reaches the clients in a room (its docs' "Using a Message Queue" and
"Emitting from external processes"). A client joins the room of a task with a `join` event.
"""

import os

import socketio

server = socketio.AsyncServer(
    async_mode="asgi",
    client_manager=socketio.AsyncRedisManager(os.environ["REDIS_URL"]),
    cors_allowed_origins="*",
)
application = socketio.ASGIApp(server)


@server.on("join")
async def join(sid, task_id):
    await server.enter_room(sid, task_id)
    return "joined"
