"""Durations as operators type them on the command line: 90s, 10m, 24h, 30d, 2w."""

import argparse
import re
from datetime import timedelta

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DURATION = re.compile(r"^(\d+)([smhdw])$")


def duration(text: str) -> timedelta:
    """An argparse `type`: a bad value is a usage error (exit code 2) naming the forms."""
    match = _DURATION.match(text.strip().lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration; write e.g. 90s, 10m, 24h, 30d or 2w")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
