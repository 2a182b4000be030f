"""A token bucket: what one connection may send, on average and in a burst."""

import time


class TokenBucket:
    def __init__(self, *, rate: float, burst: int, clock=time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()

    def take(self) -> bool:
        """Spend one token if there is one."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def seconds_until_next(self) -> float:
        return max(0.0, (1 - self._tokens) / self.rate) if self.rate > 0 else float("inf")
