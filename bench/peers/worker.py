"""The Celery worker of the peers' tickers (bench/peers/tasks.py), on the peers' settings.

python bench/peers/worker.py worker [celery worker options]
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.peers.settings"

import django  # noqa: E402

django.setup()

import celery_progress.websockets.tasks  # noqa: E402, F401  (its end-of-task push, by signal)

from bench.peers import tasks  # noqa: E402, F401
from project.celery import app  # noqa: E402

if __name__ == "__main__":
    app.worker_main(sys.argv[1:])
