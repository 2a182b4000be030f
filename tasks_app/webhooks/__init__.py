"""Outgoing webhooks: signing secrets, endpoints, and deliveries of task events to other systems,
retried until delivered (docs/protocol.md, "Webhooks"; docs/security.md).
May import: models, tasks_app.metrics, tasks_app.realtime.messages; never services, which
records a delivery in the same transaction as its event (outbox.py)."""
