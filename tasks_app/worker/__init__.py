"""Worker tuning: how the Celery worker runs Taskpulse's tasks through broker and worker faults
(its Redis transport, and the lease a running task holds).
May import: Celery, kombu, and tasks_app's services, selectors and models."""
