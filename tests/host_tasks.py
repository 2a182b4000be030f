"""Celery tasks as a host project writes them with Taskpulse: the test workers import this
module (`celery worker --include tests.host_tasks`), as a host's worker finds its own tasks."""

import time

from tasks_app.progress_tasks import progress_task


@progress_task
def count_files(reporter, count: int, pause: float) -> dict:
    for done in range(1, count + 1):
        time.sleep(pause)
        reporter.update(done, count, f"Counted {done} of {count} files")
    return {"files": count}
