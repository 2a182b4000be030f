"""How Taskpulse reaches the database: the consumers' database threads, request connections, and
SQL of our own where the ORM's cost showed (prepared reads, the event-writing statements).
May import: Django, models; nothing else of tasks_app."""
