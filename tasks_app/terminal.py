"""A task followed in a terminal, for watch_task and the script client (client.py): a progress
bar redrawn in place on a terminal, one line per event otherwise (a log), and the exit code that
says how the task ended. Imports nothing from Django: watch_task hands it Django's gettext as
`_`, to say it in the reader's language; the script client, the English as written."""

import math
from collections.abc import Callable

EXIT_CODES = {"completed": 0, "failed": 3, "cancelled": 4}
EXIT_NOT_FOUND = 5
BAR_WIDTH = 30


def _as_written(text: str) -> str:
    return text


def status_text(status: str, _: Callable[[str], str] = _as_written) -> str:
    words = {
        "pending": _("pending"),
        "running": _("running"),
        "completed": _("completed"),
        "failed": _("failed"),
        "cancelled": _("cancelled"),
    }
    return words.get(status, status)


def estimate_text(message: dict, _: Callable[[str], str] = _as_written) -> str:
    """ " · 850/s · about 5 s left" for a running task whose rate the server estimated."""
    rate = message.get("rate")
    if message.get("status") != "running" or rate is None:
        return ""
    text = " · " + _("%(rate)s/s") % {"rate": f"{rate:,.0f}" if rate >= 10 else f"{rate:g}"}
    eta = message.get("eta_seconds")
    return text if eta is None else f"{text} · {time_left_text(eta, _)}"


def time_left_text(seconds: float, _: Callable[[str], str] = _as_written) -> str:
    """As the browser says it (taskpulse-view.js timeLeftText)."""
    if seconds < 5:
        return _("almost done")
    if seconds < 60:
        return _("about %(seconds)s s left") % {"seconds": math.ceil(seconds / 5) * 5}
    minutes = math.floor(seconds / 60 + 0.5)  # half up, as JavaScript rounds
    if seconds < 3600:
        return _("about %(minutes)s min left") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if minutes:
        return _("about %(hours)s h %(minutes)s min left") % {"hours": hours, "minutes": minutes}
    return _("about %(hours)s h left") % {"hours": hours}


class Display:
    def __init__(
        self,
        write: Callable[[str], object],
        *,
        in_place: bool,
        flush: Callable[[], object],
        gettext: Callable[[str], str] = _as_written,
    ) -> None:
        """`write` writes text as it is (no line ending added); `in_place` when it is a terminal;
        `gettext` translates the words it adds."""
        self._gettext = gettext
        self._write = write
        self._flush = flush
        self.in_place = in_place
        self._open_line = False

    def show(self, message: dict) -> dict:
        filled = round(BAR_WIDTH * message["progress"] / 100)
        counts = f" {message['current']:,}/{message['total']:,}" if message.get("total") else ""
        counts += estimate_text(message, self._gettext)
        line = (
            f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {message['progress']:5.1f}%{counts} "
            f"{status_text(message['status'], self._gettext)}: {message['message']}"
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
