"""Autobahn's per-connection debug lines, formatted only when one is logged.

For every WebSocket it accepts, autobahn pretty-prints its forty-odd options and names its own
methods in colour, as arguments to debug log calls that are not logged: 4 to 5 % of the server's
CPU through a connect storm (py-spy, bin/bench --profile). Its modules call `pformat` and
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
        self._text = None

    def __str__(self) -> str:
        if self._text is None:
            self._text = self._function(self._value)
        return self._text

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _lazy(function):
    def deferred(value) -> Formatted:
        return Formatted(function, value)

    deferred.original = function
    return deferred


def install() -> None:
    """Idempotent: the originals are kept on the replacements."""
    if hasattr(protocol.pformat, "original"):
        return
    pformat = protocol.pformat
    protocol.Timings.__str__ = lambda timings: pformat(timings._timings)
    for module, names in ((protocol, ("pformat", "hltype")), (twisted_websocket, ("hltype",))):
        for name in names:
            setattr(module, name, _lazy(getattr(module, name)))
