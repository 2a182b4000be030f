"""Autobahn's per-connection debug lines, formatted only when one is logged.

Written against autobahn 26.11.1 (pinned in requirements.txt); it replaces the module-level names
`pformat` and `hltype` in autobahn.websocket.protocol and autobahn.twisted.websocket, which
tests/test_upstream_contracts.py checks are still called there. No upstream issue; written up in
docs/upstream.md. Delete this module once Autobahn formats its debug arguments lazily.

For every WebSocket it accepts, autobahn pretty-prints its forty-odd options and names its own
methods in colour, as arguments to debug log calls that are not logged: a visible share of the
server's CPU through a connect storm (docs/performance.md). Its modules call `pformat` and
`hltype` by name; here those names give objects that do the same formatting when the log line is
made into text, and not otherwise. Every use of either name in those modules is an argument to a
log call, but one: `Timings.__str__`, which must return text, and is given the original.
"""

from autobahn.twisted import websocket as twisted_websocket
from autobahn.websocket import protocol


class Formatted:
    """`function(value)` as text, worked out when it is first asked for."""

    __slots__ = ("_function", "_value", "_text")

    def __init__(self, function, value) -> None:
        self._function = function
        self._value = value
        self._text: str | None = None

    def __str__(self) -> str:
        text = self._text
        if text is None:
            text = self._text = self._function(self._value)
        return text

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


class _Lazy:
    """Stands in for a formatting function: called, it defers the call; `original` is the function."""

    def __init__(self, original) -> None:
        self.original = original

    def __call__(self, value) -> Formatted:
        return Formatted(self.original, value)


def install() -> None:
    """Idempotent: the originals are kept on the replacements."""
    if hasattr(protocol.pformat, "original"):
        return
    pformat = protocol.pformat
    setattr(protocol.Timings, "__str__", lambda timings: pformat(timings._timings))  # noqa: B010
    for module, names in ((protocol, ("pformat", "hltype")), (twisted_websocket, ("hltype",))):
        for name in names:
            setattr(module, name, _Lazy(getattr(module, name)))
