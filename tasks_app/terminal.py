"""A task followed in a terminal, for watch_task and the script client (client.py): a progress
bar redrawn in place on a terminal, one line per event otherwise (a log), and the exit code that
says how the task ended. Imports nothing from Django."""

import math
from collections.abc import Callable

EXIT_CODES = {"completed": 0, "failed": 3, "cancelled": 4}
EXIT_NOT_FOUND = 5
BAR_WIDTH = 30


def estimate_text(message: dict) -> str:
    """ " · 850/s · about 5 s left" for a running task whose rate the server estimated."""
    rate = message.get("rate")
    if message.get("status") != "running" or rate is None:
        return ""
    text = f" · {rate:,.0f}/s" if rate >= 10 else f" · {rate:g}/s"
    eta = message.get("eta_seconds")
    return text if eta is None else f"{text} · {time_left_text(eta)}"


def time_left_text(seconds: float) -> str:
    """As the browser says it (taskpulse-view.js timeLeftText)."""
    if seconds < 5:
        return "almost done"
    if seconds < 60:
        return f"about {math.ceil(seconds / 5) * 5} s left"
    minutes = math.floor(seconds / 60 + 0.5)  # half up, as JavaScript rounds
    if seconds < 3600:
        return f"about {minutes} min left"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes} min left" if minutes else f"about {hours} h left"


class Display:
    def __init__(
        self, write: Callable[[str], object], *, in_place: bool, flush: Callable[[], object]
    ) -> None:
        """`write` writes text as it is (no line ending added); `in_place` when it is a terminal."""
        self._write = write
        self._flush = flush
        self.in_place = in_place
        self._open_line = False

    def show(self, message: dict) -> dict:
        filled = round(BAR_WIDTH * message["progress"] / 100)
        counts = f" {message['current']:,}/{message['total']:,}" if message.get("total") else ""
        counts += estimate_text(message)
        line = (
            f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {message['progress']:5.1f}%{counts} "
            f"{message['status']}: {message['message']}"
        )
        if self.in_place:
            self._write(f"\r\x1b[K{line}")
            self._open_line = True
        else:
            self._write(f"#{message['seq']} {line}\n")
        self._flush()
        return message

    def note(self, text: str) -> None:
        self.end()
        self._write(f"{text}\n")
        self._flush()

    def end(self) -> None:
        if self._open_line:
            self._write("\n")
            self._open_line = False
