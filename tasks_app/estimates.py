"""How fast a task counts and how long it has left: the rate of its counted progress, averaged
over recent seconds, and the time its remaining count takes at that rate.

The average is of decayed totals: each sample adds its count and its seconds, and both totals
decay by half every HALF_LIFE_SECONDS. From the first samples it is the plain average (so it
settles at once, rather than creeping up from 0 as an exponential average of rates does), and
later it follows changes of pace over tens of seconds without jumping at each burst. A stall
adds seconds without counts, so the rate falls and the time left grows. Nothing is estimated
until MIN_SECONDS of counting have been seen, and a new count (its total changed, or it went
backwards: a new step, or a run started again after its worker died) starts over.
"""

import math
from dataclasses import dataclass

HALF_LIFE_SECONDS = 10.0
MIN_SECONDS = 2.0


@dataclass(frozen=True)
class Estimate:
    rate: float | None  # counted per second
    eta_seconds: float | None


NO_ESTIMATE = Estimate(None, None)


class RateEstimator:
    def __init__(self, *, half_life: float = HALF_LIFE_SECONDS, min_seconds: float = MIN_SECONDS) -> None:
        self._decay_per_second = math.log(2) / half_life
        self._min_seconds = min_seconds
        self._start()

    def _start(self, now: float | None = None, current: int | None = None, total: int | None = None) -> None:
        self._last_at, self._last_current, self._total = now, current, total
        self._counted = 0.0  # decayed totals
        self._seconds = 0.0
        self._observed = 0.0  # seconds since this count began, not decayed

    def observe(self, now: float, current: int | None, total: int | None) -> Estimate:
        """The estimate once the count stood at `current` of `total` at `now` (seconds, monotonic)."""
        if current is None:
            self._start()
            return NO_ESTIMATE
        if (
            self._last_at is None
            or self._last_current is None
            or total != self._total
            or current < self._last_current
        ):
            self._start(now, current, total)
            return NO_ESTIMATE
        elapsed = now - self._last_at
        if elapsed > 0:
            decay = math.exp(-self._decay_per_second * elapsed)
            self._counted = self._counted * decay + (current - self._last_current)
            self._seconds = self._seconds * decay + elapsed
            self._observed += elapsed
            self._last_at, self._last_current = now, current
        if self._observed < self._min_seconds or self._counted <= 0:
            return NO_ESTIMATE
        rate = self._counted / self._seconds
        left = None if not total or current >= total else (total - current) / rate
        return Estimate(_significant(rate), None if left is None else round(left, 1))


def _significant(value: float, digits: int = 3) -> float:
    """`value` to `digits` significant digits: the precision an estimate has."""
    if value == 0:
        return 0.0
    return round(value, max(0, digits - 1 - math.floor(math.log10(abs(value)))))
