"""The HTTP part of a record, shared by access CSV and Common Log Format (docs/counting.md, "Access logs").

* request: method and path are its first two whitespace-separated tokens; the path
  starts with ``/`` or is an absolute URL ``scheme://host[/path]`` (its path part, ``/``
  when empty).  A request without such a path (``-`` for a connection closed before
  any request, a TLS handshake on a plain port, ``OPTIONS *``, a scanner's ``GET foo``)
  is still an event: its status and bytes are the server's own.  Its section is ``-``
  and its method its first token (``-`` when there is none);
* status: three digits, 100-599; bytes: digits, or ``-`` meaning 0;
* section: the path without query and fragment, cut after its first segment:
  ``/api/user`` -> ``/api``, ``/report`` -> ``/report``, ``/`` -> ``/``; then
  percent-decoded (``/caf%C3%A9/x`` -> ``/café``: ``%2F`` never splits a section);
* URL (for the panels): the request's target as written, percent-decoded the same way.

A record is invalid only when its structure, time, status or bytes can't be read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from ..bounds import MAX_KEY_CHARS, remember
from ..families.http import HttpBatch
from ..pipeline.batch import COMPACT_AT
from ..pipeline.filters import Filter
from .base import EventSink
from .urls import decode, target

#: Method, whitespace, then the section of a relative path (group 1) or of an absolute
#: URL (group 2, absent when the URL has no path).
_REQUEST = re.compile(
    r"\s*\S+\s+(?:(/[^/?#\s]*)|[A-Za-z][A-Za-z0-9+.\-]*://[^/?#\s]+(/[^/?#\s]*)?)"
)
#: The method (group 1), then a relative path (group 2) or what follows an absolute
#: URL's host (group 3: its path, query and fragment, maybe empty).
_METHOD_AND_PATH = re.compile(
    r"\s*(\S+)(?:\s+(?:(/\S*)|[A-Za-z][A-Za-z0-9+.\-]*://[^/?#\s]+(?=[/?#\s]|$)(\S*)))?"
)

#: The section (and the method) of a request that has no path.
NO_PATH = "-"

#: "200" -> "2xx" for every valid status; anything else is missing.
STATUS_CLASSES = {str(code): f"{code // 100}xx" for code in range(100, 600)}

#: Distinct requests remembered with their section (``bounds.remember``).
MEMO_SIZE = 65536

#: Digit strings longer than this are no number a log holds (and int() refuses those
#: of more than 4,300 digits).
MAX_DIGITS = 40
#: The largest bytes field: a signed 64-bit count, as servers keep it.
MAX_BYTES = (1 << 63) - 1
#: The last second datetime can show (9999-12-31T23:59:59Z): a later time is unreadable.
MAX_SECOND = 253402300799


def request_section(request: str) -> str:
    """The section of a request line (``-`` when it has no path), cut at
    ``bounds.MAX_KEY_CHARS``."""
    match = _REQUEST.match(request)
    if match is None:
        return NO_PATH
    return (match.group(1) or match.group(2) or "/")[:MAX_KEY_CHARS]


def request_parts(request: str) -> tuple[str, str | None]:
    """The method of a request line (``-`` when it is empty) and its path as written,
    query included (``/`` for an absolute URL without one; None when it has none)."""
    match = _METHOD_AND_PATH.match(request)
    if match is None:
        return NO_PATH, None
    method, relative, after_host = match.groups()
    if relative is not None:
        return method, relative
    if after_host is None:
        return method, None
    return method, after_host if after_host.startswith("/") else "/" + after_host


def parse_digits(text: str, largest: int = MAX_BYTES) -> int | None:
    """ASCII digits as an int of at most ``largest``; None for anything else (a sign, a
    space, an underscore, another script's digits, a number too large)."""
    if text.isdigit() and text.isascii() and len(text) <= MAX_DIGITS:
        value = int(text)
        if value <= largest:
            return value
    return None


def parse_epoch(text: str) -> int | None:
    """Seconds since the epoch, as digits, up to the year 9999; None otherwise."""
    return parse_digits(text, MAX_SECOND)


def parse_bytes(text: str) -> int | None:
    """A bytes field: digits up to ``MAX_BYTES``, or ``-`` meaning 0; None otherwise."""
    return 0 if text == "-" else parse_digits(text)


def uri_section(uri: str) -> str:
    """The section of a request's URI given on its own (``$request_uri``, ``%U``)."""
    return request_section("- " + uri)


def parse_duration(text: str, scale: float) -> float | None:
    """A request time in the log's unit, as milliseconds (``scale`` is the unit in ms):
    a finite number of 0 or more; None for anything else."""
    try:
        value = float(text) * scale
    except ValueError:
        return None
    return value if 0.0 <= value < math.inf else None


#: A record without a request time: its duration field (``fold_timed``'s records).
NO_DURATION = ("", "-")


class HttpEvents:
    """Validates the HTTP fields of records and adds their events to the Batches of
    their seconds.  Every HTTP parser ends in here, so the rules live in one place.

    A record has the 7 fields of access CSV, in its column order (remotehost, rfc931,
    authuser, time, request, status, bytes) - ``fold`` - or 10: those, then the request
    time, the virtual host and the method - ``fold_timed``, for the formats that carry
    them.  There the request field is the request line, or (``uri``) the URI alone, the
    method in the last field; an empty field is one the format doesn't carry.  A time
    comes as the text of the log; ``to_second`` converts it (None when invalid).
    Consecutive records mostly share it, so the conversion and the reorderer's verdict
    are only asked for when it changes.  These are the hot loops: everything they touch
    is bound to a local first."""

    def __init__(
        self,
        sink: EventSink,
        to_second: Callable[[str], int | None],
        *,
        header: str | None,
        selection: Filter | None = None,
        uri: bool = False,
        duration_scale: float = 1.0,
    ) -> None:
        #: (the reorderer of an HTTP run hands out the family's Batches)
        self._batch_for = cast(Callable[[int], HttpBatch | None], sink.batch_for)
        self._to_second = to_second
        self._header = header
        self._selection = selection
        #: request -> (its section, its target, its method): the same requests come
        #: again and again.
        self._requests: dict[str, tuple[str, str, str]] = {}
        #: The request field holds the URI alone (the method comes apart).
        self._uri = uri
        self._section_of = uri_section if uri else request_section
        #: The log's unit of request time, in milliseconds.
        self._scale = duration_scale

    def _request(self, request: str) -> tuple[str, str, str]:
        """The section and the URL (``urls.target``) of a request field, both cut as
        written then percent-decoded (``urls.decode``), and its method (``-`` when it
        has none; "" for a URI alone: the method comes apart), remembered."""
        found = self._requests.get(request)
        if found is None:
            written = request if self._uri else target(request)
            method = "" if self._uri else request_parts(request)[0][:MAX_KEY_CHARS]
            section = decode(self._section_of(request))
            found = (section, decode(written[:MAX_KEY_CHARS]), method)
            remember(self._requests, request, found, MEMO_SIZE)
        return found

    def fold(
        self, records: Iterable[Sequence[Any]], unusual: Callable[[int, str | None], None]
    ) -> None:
        """Count the events of ``records`` (7 fields, or 9: Combined's referrer and user
        agent after them, None when the line has none).  ``unusual(index, reason)``
        hears of the others: reason None for a record without 7 or 9 fields or a
        header, otherwise why the record is invalid.

        This is a fast path: the plain one, ``fold_each``, with the checks inlined and
        the reorderer asked only when the time changes.  It is taken when no filter is
        set; the tests compare the two."""
        if self._selection is not None:
            self.fold_each(records, unusual, self._selection)
            return
        header = self._header
        requests, request_of, classes = self._requests, self._request, STATUS_CLASSES
        batch_for, to_second = self._batch_for, self._to_second
        current: str | None = None  # the time of ``batch``
        batch = None
        hits = nbytes_total = 0  # not yet added to ``batch``
        for index, record in enumerate(records):
            if len(record) == 9:
                source, _, user, when, request, status, size, referrer, agent = record
                if referrer is None:
                    referrer = agent = "-"
            elif len(record) == 7 and record[0] != header:
                source, _, user, when, request, status, size = record
                referrer = agent = "-"
            else:
                unusual(index, None)
                continue
            if (
                len(source) > MAX_KEY_CHARS  # (bounds.py: a key is cut before it is kept)
                or len(user) > MAX_KEY_CHARS
                or len(referrer) > MAX_KEY_CHARS
                or len(agent) > MAX_KEY_CHARS
            ):
                source, user = source[:MAX_KEY_CHARS], user[:MAX_KEY_CHARS]
                referrer, agent = referrer[:MAX_KEY_CHARS], agent[:MAX_KEY_CHARS]
            found = requests.get(request)
            if found is None:
                found = request_of(request)
            section, url, method = found
            status_class = classes.get(status)
            if status_class is None:
                unusual(index, "status is not 100-599")
                continue
            if len(size) < 19 and size.isdigit() and size.isascii():
                nbytes = int(size)  # parse_bytes, inlined for the usual case
            else:
                parsed = parse_bytes(size)
                if parsed is None:
                    unusual(index, "bytes is neither digits up to 2^63 - 1 nor '-'")
                    continue
                nbytes = parsed
            if when != current:
                if batch is not None:
                    batch.hits += hits
                    batch.bytes_total += nbytes_total
                    hits = nbytes_total = 0
                second = to_second(when)
                if second is None:
                    unusual(index, "bad time")
                    current = batch = None
                    continue
                batch = batch_for(second)
                if batch is None:  # late, and counted as such
                    current = None
                    continue
                current = when
                counts_sections = batch.sections
                counts_sources = batch.sources
                counts_statuses = batch.statuses
                counts_codes = batch.codes
                counts_methods = batch.methods
                visits = batch.visits
                if len(visits.keys) > COMPACT_AT:  # (a busy second: added up as it comes)
                    visits.compact()
                add_visit = visits.keys.append
                add_size = visits.sizes.append
            hits += 1
            nbytes_total += nbytes
            counts_sections[section] = counts_sections.get(section, 0) + 1
            counts_sources[source] = counts_sources.get(source, 0) + 1
            counts_statuses[status_class] = counts_statuses.get(status_class, 0) + 1
            counts_codes[status] = counts_codes.get(status, 0) + 1
            counts_methods[method] = counts_methods.get(method, 0) + 1
            add_visit((source, user, url, status, referrer, agent))
            add_size(nbytes)
        if batch is not None:
            batch.hits += hits
            batch.bytes_total += nbytes_total

    def fold_timed(
        self, records: Iterable[Sequence[str]], unusual: Callable[[int, str | None], None]
    ) -> None:
        """``fold`` for records of 12 fields: the request time, the virtual host, the
        method, the referrer and the user agent after the 7 (an empty field is one
        the format doesn't carry).  The other fast path; the tests compare it with
        ``fold_each``."""
        if self._selection is not None:
            self.fold_each(records, unusual, self._selection)
            return
        requests, request_of, classes = self._requests, self._request, STATUS_CLASSES
        batch_for, to_second, scale, inf = self._batch_for, self._to_second, self._scale, math.inf
        current: str | None = None  # the time of ``batch``
        batch = None
        hits = nbytes_total = 0  # not yet added to ``batch``
        for index, record in enumerate(records):
            if len(record) != 12:
                unusual(index, None)
                continue
            source, _, user, when, request, status, size, taken, vhost, given, referrer, agent = (
                record
            )
            if (
                len(source) > MAX_KEY_CHARS  # (bounds.py)
                or len(vhost) > MAX_KEY_CHARS
                or len(user) > MAX_KEY_CHARS
                or len(referrer) > MAX_KEY_CHARS
                or len(agent) > MAX_KEY_CHARS
            ):
                source, vhost = source[:MAX_KEY_CHARS], vhost[:MAX_KEY_CHARS]
                user, referrer = user[:MAX_KEY_CHARS], referrer[:MAX_KEY_CHARS]
                agent = agent[:MAX_KEY_CHARS]
            found = requests.get(request)
            if found is None:
                found = request_of(request)
            section, url, method = found
            if not method:  # (a URI alone: the method comes apart)
                method = given[:MAX_KEY_CHARS] or NO_PATH
            status_class = classes.get(status)
            if status_class is None:
                unusual(index, "status is not 100-599")
                continue
            if len(size) < 19 and size.isdigit() and size.isascii():
                nbytes = int(size)  # parse_bytes, inlined for the usual case
            else:
                parsed = parse_bytes(size)
                if parsed is None:
                    unusual(index, "bytes is neither digits up to 2^63 - 1 nor '-'")
                    continue
                nbytes = parsed
            if taken in NO_DURATION:
                ms = None
            else:  # parse_duration, inlined
                try:
                    ms = float(taken) * scale
                except ValueError:
                    ms = -1.0
                if not 0.0 <= ms < inf:
                    unusual(index, "request time is not a number of 0 or more")
                    continue
            if when != current:
                if batch is not None:
                    batch.hits += hits
                    batch.bytes_total += nbytes_total
                    hits = nbytes_total = 0
                second = to_second(when)
                if second is None:
                    unusual(index, "bad time")
                    current = batch = None
                    continue
                batch = batch_for(second)
                if batch is None:  # late, and counted as such
                    current = None
                    continue
                current = when
                counts_sections = batch.sections
                counts_sources = batch.sources
                counts_statuses = batch.statuses
                counts_codes = batch.codes
                counts_methods = batch.methods
                counts_vhosts = batch.vhosts
                durations = batch.durations_ms
                visits = batch.visits
                if len(visits.keys) > COMPACT_AT:  # (a busy second: added up as it comes)
                    visits.compact()
                add_visit = visits.keys.append
                add_size = visits.sizes.append
                add_timed = visits.timed.append
            hits += 1
            nbytes_total += nbytes
            counts_sections[section] = counts_sections.get(section, 0) + 1
            counts_sources[source] = counts_sources.get(source, 0) + 1
            counts_statuses[status_class] = counts_statuses.get(status_class, 0) + 1
            counts_codes[status] = counts_codes.get(status, 0) + 1
            counts_methods[method] = counts_methods.get(method, 0) + 1
            if vhost:
                counts_vhosts[vhost] = counts_vhosts.get(vhost, 0) + 1
            visit = (source, user, url, status, referrer, agent)
            add_visit(visit)
            add_size(nbytes)
            if ms is not None:
                durations.append(ms)
                add_timed((visit, ms))
        if batch is not None:
            batch.hits += hits
            batch.bytes_total += nbytes_total

    def fold_each(
        self,
        records: Iterable[Sequence[Any]],
        unusual: Callable[[int, str | None], None],
        selection: Filter | None,
    ) -> None:
        """``fold`` and ``fold_timed``, one record at a time, with the filters (if any):
        a valid record that fails them is counted as filtered before the reorderer
        sees it."""
        for index, record in enumerate(records):
            if len(record) not in (7, 9, 12) or record[0] == self._header:
                unusual(index, None)
                continue
            fields = [value or "" for value in record]
            source, user, when, request, status, size = (fields[i] for i in (0, 2, 3, 4, 5, 6))
            taken, vhost, method = fields[7:10] if len(fields) == 12 else ("", "", "")
            referrer, agent = fields[-2:] if len(fields) > 7 else ("-", "-")
            if len(fields) == 9 and record[7] is None:
                referrer = agent = "-"
            source, vhost, user = (
                source[:MAX_KEY_CHARS],
                vhost[:MAX_KEY_CHARS],
                user[:MAX_KEY_CHARS],
            )
            referrer, agent = referrer[:MAX_KEY_CHARS], agent[:MAX_KEY_CHARS]
            section, url, method_of = self._request(request)
            if not method_of:  # (a URI alone: the method comes apart)
                method_of = method[:MAX_KEY_CHARS] or NO_PATH
            status_class = STATUS_CLASSES.get(status)
            if status_class is None:
                unusual(index, "status is not 100-599")
                continue
            nbytes = parse_bytes(size)
            if nbytes is None:
                unusual(index, "bytes is neither digits up to 2^63 - 1 nor '-'")
                continue
            ms = None if taken in NO_DURATION else parse_duration(taken, self._scale)
            if ms is None and taken not in NO_DURATION:
                unusual(index, "request time is not a number of 0 or more")
                continue
            second = self._to_second(when)
            if second is None:
                unusual(index, "bad time")
                continue
            if selection is not None:
                if self._uri:
                    parts = (method or NO_PATH, request_parts("- " + request)[1])
                else:
                    parts = request_parts(request)
                if not (
                    selection.keeps_second(second)
                    and selection.keeps_request(source, status, *parts)
                ):
                    selection.filtered += 1
                    continue
            batch = self._batch_for(second)
            if batch is None:  # late, and counted as such
                continue
            batch.hits += 1
            batch.bytes_total += nbytes
            counts = [
                (batch.sections, section),
                (batch.sources, source),
                (batch.statuses, status_class),
                (batch.codes, status),
                (batch.methods, method_of),
            ]
            if vhost:
                counts.append((batch.vhosts, vhost))
            for totals, key in counts:
                totals[key] = totals.get(key, 0) + 1
            batch.visits.add((source, user, url, status, referrer, agent), nbytes, ms)
            if ms is not None:
                batch.durations_ms.append(ms)
