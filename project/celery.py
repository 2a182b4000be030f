"""The Celery app: Redis broker, JSON messages, late acks; configured from Django settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("taskpulse")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
