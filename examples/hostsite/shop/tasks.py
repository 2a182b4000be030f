"""The shop's background work: CSV exports of its orders, which report as they go, alone or one
per region at once, merged at the end (a Celery chord)."""

import time

from tasks_app.progress_tasks import progress_task


@progress_task
def export_orders(reporter, count: int, pause: float = 0.2, region: str = "") -> dict:
    reporter.step("Exporting orders", until=100)
    for done in range(1, count + 1):
        time.sleep(pause)  # one order written
        reporter.update(done, count, f"Exported order {done}")
    return {"orders": count, "file": f"orders-{region}.csv" if region else "orders.csv"}


@progress_task
def merge_exports(reporter, exports: list[dict]) -> dict:
    """A chord's body: handed the list of the regions' exports."""
    for done, export in enumerate(exports, 1):
        time.sleep(0.1)  # one file appended
        reporter.update(done, len(exports), f"Merged {export['file']}")
    return {"orders": sum(export["orders"] for export in exports), "file": "orders-all-regions.csv"}
