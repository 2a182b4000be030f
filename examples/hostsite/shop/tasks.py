"""The shop's background work: a CSV export of its orders, which reports as it goes."""

import time

from tasks_app.progress_tasks import progress_task


@progress_task
def export_orders(reporter, count: int, pause: float = 0.2) -> dict:
    reporter.step("Exporting orders", until=100)
    for done in range(1, count + 1):
        time.sleep(pause)  # one order written
        reporter.update(done, count, f"Exported order {done}")
    return {"orders": count, "file": "orders.csv"}
