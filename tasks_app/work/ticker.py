"""The `ticker` kind: a pipeline check for operators and benchmarks, not user work.

It sends `steps` progress updates `interval` seconds apart and does nothing else, so that the
path worker → Redis → consumer → browser can be watched and timed on its own. It is the only
kind that waits on a timer.
"""

import time

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tasks_app.progress_tasks import progress_task
from tasks_app.work.base import Kind, KindForm, Reporter, number_format


class TickerParams(KindForm):
    steps = forms.IntegerField(min_value=1, max_value=10_000)
    interval = forms.FloatField(min_value=0.0, max_value=10.0)


@progress_task(name="ticker", keyword_params=True)
def run(reporter: Reporter, steps: int, interval: float) -> dict:
    reporter.step(_("Ticking"), until=100)
    for tick in range(1, steps + 1):
        if tick > 1 and interval:
            time.sleep(interval)
        reporter.update(
            tick,
            steps,
            _("Tick %(tick)s of %(steps)s") % {"tick": number_format(tick), "steps": number_format(steps)},
        )
    return {"steps": steps, "interval": interval}


KIND = Kind(label=gettext_lazy("Ticker"), form=TickerParams, task=run)
