"""Common and Combined Log Format, ``--format clf`` (docs/counting.md, "Access logs")::

    127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326

then anything (Combined's referer and user agent are optional).  The user (``frank``)
may hold spaces.  The request runs from
the quote after ``] `` to the first ``" `` that is followed by a 3-digit status and a
bytes field.  The timestamp is converted to UTC with its own offset.  The source is the
host.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime
from typing import ClassVar

from ..families import Family
from ..families.http import HTTP
from ..pipeline.filters import Filter
from .base import EventSink, LineParser, Rejects
from .access_fields import HttpEvents

#: The 7 fields of a line, in the order of access CSV's columns, then Combined's referrer
#: and user agent (None when the line has none; a quote inside escaped as ``\"``).
#: The user may hold spaces (any client can send Basic credentials for ``bob smith``).
_TAIL = r' ([0-9]{3}) ([0-9]+|-)(?: "([^"\\]*(?:\\.[^"\\]*)*)" "([^"\\]*(?:\\.[^"\\]*)*)")?(?=\s|$)'
_LINE = re.compile(r'(\S+) (\S+) (.*?) \[([^\]]*)\] "(.*?)"' + _TAIL)
#: The same for a request without a quote inside (nearly every line), a fifth faster;
#: where it finds nothing, ``_LINE`` is asked (a match of this one is ``_LINE``'s).
_PLAIN_LINE = re.compile(r'(\S+) (\S+) (.*?) \[([^\]]*)\] "([^"]*)"' + _TAIL)
_TIMESTAMP = re.compile(
    r"([0-9]{2})/([A-Za-z]{3})/([0-9]{4}):([0-9]{2}):([0-9]{2}):([0-9]{2}) "
    r"([+-])([0-9]{2})([0-9]{2})"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}

#: What a line that doesn't match stands as (HttpEvents calls it unusual).
_NOT_CLF: tuple[str, ...] = ()

#: Lines matched at a time: the matches of a whole block would take memory for nothing.
SUB_BLOCK_LINES = 1024

#: Distinct timestamps remembered with their epoch second; the memo restarts when full.
TIMESTAMP_MEMO_SIZE = 4096


def clf_epoch(timestamp: str) -> int | None:
    """``10/Oct/2000:13:55:36 -0700`` -> seconds since the epoch (UTC); None if invalid."""
    match = _TIMESTAMP.fullmatch(timestamp)
    if match is None:
        return None
    day, month_name, year, hour, minute, second, sign, off_hours, off_minutes = match.groups()
    month = _MONTHS.get(month_name.lower())
    if month is None or int(off_minutes) >= 60:
        return None
    fields = (int(year), month, int(day), int(hour), int(minute), int(second))
    try:
        datetime(*fields)  # validates the calendar (no 31/Feb, no 24:00:00)
    except ValueError:
        return None
    offset = int(off_hours) * 3600 + int(off_minutes) * 60
    return calendar.timegm(fields) - (offset if sign == "+" else -offset)


class ClfParser(LineParser):
    """Reads Common / Combined Log Format lines into HTTP events."""

    name: ClassVar[str] = "clf"
    description: ClassVar[str] = "Common/Combined Log Format"
    family: ClassVar[Family] = HTTP
    carries_vhost: ClassVar[bool] = False
    carries_duration: ClassVar[bool] = False

    def __init__(self, sink: EventSink, rejects: Rejects, selection: Filter | None = None) -> None:
        self.rejects = rejects
        self.skipped = 0
        self.headers = 0
        self._events = HttpEvents(sink, self._epoch, header=None, selection=selection)
        self._timestamps: dict[str, int] = {}
        self._lines_before = 0

    def feed(self, block: str) -> None:
        lines = block.split("\n")
        lines.pop()  # the block ends with "\n"
        for start in range(0, len(lines), SUB_BLOCK_LINES):
            self._parse(lines[start : start + SUB_BLOCK_LINES])

    def _parse(self, lines: list[str]) -> None:
        matches = list(map(_PLAIN_LINE.match, lines))
        if None in matches:  # (a quote in a request, or no Common Log Format line)
            matches = [found or _LINE.match(line) for found, line in zip(matches, lines)]
        records = [_NOT_CLF if found is None else found.groups() for found in matches]

        def unusual(index: int, reason: str | None) -> None:
            line = lines[index]
            if reason is None:
                if not line or line.isspace():
                    return  # a blank line
                reason = "not Common/Combined Log Format"
            self.rejects.add(self._lines_before + index + 1, line, reason)

        self._events.fold(records, unusual)
        self._lines_before += len(lines)

    def _epoch(self, timestamp: str) -> int | None:
        second = self._timestamps.get(timestamp)
        if second is None:
            second = clf_epoch(timestamp)
            if second is not None:
                if len(self._timestamps) >= TIMESTAMP_MEMO_SIZE:
                    self._timestamps.clear()
                self._timestamps[timestamp] = second
        return second
