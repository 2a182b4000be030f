"""The real peers the benchmark measures Taskpulse against, each set up as its own documentation
says (docs/performance.md names the pages): celery-progress (HTTP polling and its WebSocket mode
over Channels), django-eventstream (Server-Sent Events, Redis between processes, its model
storage for resuming), and python-socketio (an ASGI server with its Redis manager)."""
