"""The times of ``--log-format`` fields (``logformat.py``): nginx's ``$time_local``,
``$time_iso8601`` and ``$msec``, Apache's ``%t`` and ``%{FORMAT}t`` (strftime, or
``sec``/``msec``/``usec`` since the epoch), read as seconds since the epoch."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import datetime, timezone

from ..bounds import remember
from ..errors import FormatError
from .access_fields import MAX_SECOND, parse_digits
from .clf import clf_epoch


def time_reader(how: str) -> Callable[[str], int | None]:
    """Text of the log -> seconds since the epoch (UTC); None when it can't be read.
    The textual forms are remembered per distinct string (a second's lines share it)."""
    if how == "seconds":  # $msec: seconds with a fraction
        return lambda text: parse_digits(text.partition(".")[0], MAX_SECOND)
    if how in ("sec", "msec", "usec", "msec_frac", "usec_frac"):
        divisor = {"sec": 1, "msec": 1000, "usec": 1_000_000}.get(how, 0)
        if divisor == 0:
            raise FormatError(f"%{{{how}}}t is a fraction of a second, not a time")
        return lambda text: _divided(text, divisor)
    convert: Callable[[str], int | None]
    if how == "clf":
        convert = clf_epoch
    elif how == "iso":
        convert = _iso_epoch
    else:
        layout = how.removeprefix("strftime:")
        convert = lambda text: _strftime_epoch(text, layout)  # noqa: E731
    return _Memo(convert)


def _divided(text: str, divisor: int) -> int | None:
    value = parse_digits(text, MAX_SECOND * divisor)
    return None if value is None else value // divisor


def _iso_epoch(text: str) -> int | None:
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        if moment.tzinfo is None:
            return int(moment.timestamp())  # local time (TZ)
        return calendar.timegm(moment.utctimetuple())
    except (ValueError, OverflowError, OSError):
        return None


#: Apache's strftime shorthands that Python's strptime doesn't know.
_SHORTHANDS = {"%T": "%H:%M:%S", "%D": "%m/%d/%y", "%F": "%Y-%m-%d", "%R": "%H:%M", "%e": "%d"}


def _strftime_epoch(text: str, layout: str) -> int | None:
    for short, long in _SHORTHANDS.items():
        layout = layout.replace(short, long)
    try:
        moment = datetime.strptime(text, layout)
        if moment.tzinfo is None:
            return int(moment.timestamp())  # local time (TZ)
        return int(moment.astimezone(timezone.utc).timestamp())
    except (ValueError, OverflowError, OSError):
        return None


class _Memo:
    """A time conversion remembered for the last few thousand distinct strings."""

    SIZE = 4096

    def __init__(self, convert: Callable[[str], int | None]) -> None:
        self.convert = convert
        self.known: dict[str, int | None] = {}

    def __call__(self, text: str) -> int | None:
        known = self.known
        second = known.get(text, -1)
        if second == -1:
            second = self.convert(text)
            remember(known, text, second, self.SIZE)
        return second
