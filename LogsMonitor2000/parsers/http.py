"""The HTTP part of a record, shared by access CSV and Common Log Format (SPEC §1.4).

* request: at least two whitespace-separated tokens, method and path; the path starts
  with ``/`` or is an absolute URL ``scheme://host[/path]`` (its path part, ``/`` when
  empty);
* status: three digits, 100-599; bytes: digits, or ``-`` meaning 0;
* section: the path without query and fragment, cut after its first segment:
  ``/api/user`` -> ``/api``, ``/report`` -> ``/report``, ``/`` -> ``/``.
"""

from __future__ import annotations

import re

from .base import EventSink

#: Method, whitespace, then the section of a relative path (group 1) or of an absolute
#: URL (group 2, absent when the URL has no path).
_REQUEST = re.compile(
    r"\s*\S+\s+(?:(/[^/?#\s]*)|[A-Za-z][A-Za-z0-9+.\-]*://[^/?#\s]+(/[^/?#\s]*)?)"
)

#: "200" -> "2xx" for every valid status; anything else is missing.
STATUS_CLASSES = {str(code): f"{code // 100}xx" for code in range(100, 600)}

#: Distinct requests remembered with their section; the memo restarts when full.
SECTION_MEMO_SIZE = 65536


def request_section(request: str) -> str | None:
    """The section of a request line, or None when the request is invalid."""
    match = _REQUEST.match(request)
    if match is None:
        return None
    return match.group(1) or match.group(2) or "/"


def parse_bytes(text: str) -> int | None:
    """The bytes field: digits, or ``-`` for 0; None when invalid."""
    if text.isdigit() and text.isascii() and len(text) <= 4300:
        return int(text)
    return 0 if text == "-" else None


class HttpEvents:
    """Validates the HTTP fields of a record and adds its event to the Batch of its
    second.  Both HTTP parsers end in here, so the rules live in one place."""

    def __init__(self, sink: EventSink) -> None:
        self._batch_for = sink.batch_for
        self._sections: dict[str, str] = {}

    def add(self, second: int, source: str, request: str, status: str, size: str) -> str | None:
        """Count one event; None when it was valid, otherwise why not."""
        section = self._sections.get(request)
        if section is None:
            section = request_section(request)
            if section is None:
                return "request is not 'METHOD /path'"
            if len(self._sections) >= SECTION_MEMO_SIZE:
                self._sections.clear()
            self._sections[request] = section
        status_class = STATUS_CLASSES.get(status)
        if status_class is None:
            return "status is not 100-599"
        nbytes = parse_bytes(size)
        if nbytes is None:
            return "bytes is neither digits nor '-'"
        batch = self._batch_for(second)
        if batch is not None:
            batch.hits += 1
            batch.sections[section] += 1
            batch.sources[source] += 1
            batch.statuses[status_class] += 1
            batch.bytes_total += nbytes
        return None
