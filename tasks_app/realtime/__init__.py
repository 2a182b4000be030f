"""Real-time delivery: consumers, SSE, resume, the one module that talks to the channel layer
(broadcast), the wire shapes (messages), close codes, connection slots and rate limits.
May import: models, selectors, tasks_app.metrics, tasks_app.access, tasks_app.db; never services."""
