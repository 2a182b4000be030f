"""Two writers on one task (a redelivered task, a retried one) never share or skip a seq."""

import threading

import pytest

from django.db import connection

from tasks_app import services
from tasks_app.models import TaskEvent

pytestmark = pytest.mark.django_db(transaction=True)

WRITERS = 4
EVENTS_EACH = 25


def test_concurrent_writers_get_every_seq_exactly_once(create_task):
    task = create_task("ticker", {"steps": 1, "interval": 0})
    services.task_start(task_id=task.id)
    start = threading.Barrier(WRITERS)
    failures = []

    def write(writer: int) -> None:
        try:
            start.wait()
            for number in range(EVENTS_EACH):
                services.task_progress(
                    task_id=task.id,
                    progress=number,
                    current=number,
                    total=EVENTS_EACH,
                    message=f"writer {writer}",
                )
        except Exception as exc:  # collected and asserted below, so a failure names its cause
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(writer,)) for writer in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    seqs = list(TaskEvent.objects.filter(task=task).order_by("seq").values_list("seq", flat=True))
    assert failures == []
    assert seqs == list(range(1, 2 + 1 + WRITERS * EVENTS_EACH))
