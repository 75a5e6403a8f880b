"""Access CSV, ``--format csv`` (SPEC §1.1)::

    "remotehost","rfc931","authuser","date","request","status","bytes"
    "10.0.0.2","-","apache",1549573860,"GET /api/user HTTP/1.0",200,1234

A row whose first field is ``remotehost`` is a header.  A row is an event when it has
exactly 7 fields, ``date`` is all digits (epoch seconds) and request, status and bytes
are valid (``http.py``).  The source is ``remotehost``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from .base import EventSink, Rejects
from .csvrecords import CsvRecords
from .http import HttpEvents

HEADER_FIRST_FIELD = "remotehost"
FIELDS = 7

#: Longer digit strings are refused by int() (CPython's integer string limit).
MAX_DIGITS = 4300


class AccessCsvParser:
    """Reads access CSV rows into HTTP events."""

    name: ClassVar[str] = "csv"
    description: ClassVar[str] = "access CSV"
    family: ClassVar[str] = "http"

    def __init__(self, sink: EventSink, rejects: Rejects) -> None:
        self.rejects = rejects
        self.skipped = 0
        self._records = CsvRecords(rejects)
        self._events = HttpEvents(sink)

    def feed(self, block: str) -> None:
        self._parse(self._records.rows(block))

    def finish(self) -> None:
        self._parse(self._records.flush())

    def unfinished(self) -> int | None:
        return None

    def _parse(self, rows: Iterable[list[str]]) -> None:
        add = self._events.add
        for row in rows:
            reason: str | None
            if len(row) == FIELDS and row[0] != HEADER_FIRST_FIELD:
                date = row[3]
                if date.isdigit() and date.isascii() and len(date) <= MAX_DIGITS:
                    reason = add(int(date), row[0], row[4], row[5], row[6])
                    if reason is None:
                        continue
                else:
                    reason = "date is not epoch seconds"
            elif not row or (len(row) == 1 and row[0].isspace()):
                continue  # a blank line
            elif row[0] == HEADER_FIRST_FIELD:
                self.skipped += 1
                continue
            else:
                reason = f"{len(row)} fields, expected {FIELDS}"
            self.rejects.add(self._records.line_number(), self._records.text(), reason)
