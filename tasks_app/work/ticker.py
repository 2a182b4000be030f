"""The `ticker` kind: a pipeline check for operators and benchmarks, not user work.

It sends `steps` progress updates `interval` seconds apart and does nothing else, so that the
path worker → Redis → consumer → browser can be watched and timed on its own. It is the only
kind that waits on a timer.
"""

import time

from django import forms

from tasks_app.progress_tasks import progress_task
from tasks_app.work.base import Kind, KindForm, Reporter


class TickerParams(KindForm):
    steps = forms.IntegerField(min_value=1, max_value=10_000)
    interval = forms.FloatField(min_value=0.0, max_value=10.0)


@progress_task(name="ticker", keyword_params=True)
def run(reporter: Reporter, steps: int, interval: float) -> dict:
    reporter.step("Ticking", until=100)
    for tick in range(1, steps + 1):
        if tick > 1 and interval:
            time.sleep(interval)
        reporter.update(tick, steps, f"Tick {tick:,} of {steps:,}")
    return {"steps": steps, "interval": interval}


KIND = Kind(label="Ticker (pipeline check)", form=TickerParams, task=run)
