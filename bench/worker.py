"""The product's Celery worker, with the moment of every reporter call written down.

    python bench/worker.py worker [celery worker options]

End-to-end latency starts at the work's call to `ProgressReporter.update()`, before anything is
persisted or published. Each call appends `task_id, message, wall-clock time` to
$BENCH_CALLS_FILE; the load process stamps what it receives with the same clock, and
bench/run.py joins the two on (task, message): a ticker's messages are unique within its task.
Nothing else about the worker differs from `celery -A project worker`.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

import django  # noqa: E402

django.setup()

from project.celery import app  # noqa: E402
from tasks_app.progress import ProgressReporter  # noqa: E402

_calls = os.open(os.environ["BENCH_CALLS_FILE"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
_update = ProgressReporter.update


def _timed_update(self, current=None, total=None, message=None):
    # One write per call, appended whole, so the worker's threads never interleave lines.
    os.write(_calls, f"{self.task_id}\t{message}\t{time.time():.6f}\n".encode())
    return _update(self, current, total, message)


ProgressReporter.update = _timed_update

if __name__ == "__main__":
    app.worker_main(sys.argv[1:])
