"""Access CSV, ``--format csv`` (docs/counting.md, "Access logs")::

    "remotehost","rfc931","authuser","date","request","status","bytes"
    "10.0.0.2","-","apache",1549573860,"GET /api/user HTTP/1.0",200,1234

A row whose first field is ``remotehost`` is a header.  A row is an event when it has
exactly 7 fields, ``date`` is all digits (epoch seconds) and request, status and bytes
are valid (``http.py``).  The source is ``remotehost``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..checkpoint import validate
from ..families import Family
from ..families.http import HTTP
from ..pipeline.filters import Filter
from .base import EventSink, Rejects
from .csvrecords import CsvBlock, CsvRecords
from .access_fields import HttpEvents, parse_epoch

HEADER_FIRST_FIELD = "remotehost"
FIELDS = 7


class AccessCsvParser:
    """Reads access CSV rows into HTTP events."""

    keep_records = False

    name: ClassVar[str] = "csv"
    description: ClassVar[str] = "access CSV"
    family: ClassVar[Family] = HTTP
    carries_vhost: ClassVar[bool] = False
    carries_duration: ClassVar[bool] = False

    def __init__(self, sink: EventSink, rejects: Rejects, selection: Filter | None = None) -> None:
        self.rejects = rejects
        self.skipped = 0
        self.headers = 0
        self._records = CsvRecords(rejects)
        self._events = HttpEvents(sink, parse_epoch, header=HEADER_FIRST_FIELD, selection=selection)

    def feed(self, block: str) -> None:
        for rows in self._records.read(block):
            self._parse(rows)

    def finish(self) -> None:
        self._parse(self._records.flush())

    def pending(self) -> str:
        return self._records.pending()

    def unfinished(self) -> int | None:
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "skipped": self.skipped,
            "headers": self.headers,
            "records": self._records.to_json(),
        }

    def restore(self, data: dict[str, Any]) -> None:
        self.skipped = validate.count(data["skipped"])
        self.headers = validate.count(data["headers"])
        self._records.restore(data["records"])

    def _parse(self, block: CsvBlock) -> None:
        rows = block.rows

        def unusual(index: int, reason: str | None) -> None:
            row = rows[index]
            if reason is None:
                if not row or (len(row) == 1 and row[0].isspace()):
                    return  # a blank line
                if row[0] == HEADER_FIRST_FIELD:
                    self.headers += 1
                    return
                reason = f"{len(row)} fields, expected {FIELDS}"
            self.rejects.add(block.line_number(index), block.text(index), reason)

        self._events.fold(rows, unusual)
