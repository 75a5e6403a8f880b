"""What every parser shares: where events go, where invalid records go, the interface.

A parser's ``feed`` takes a block of complete lines (one str, every line ending in
``"\\n"``) and decides for each record whether it is a header (``headers``), another
valid record that is not an event (``skipped``), **invalid** (counted in ``Rejects``,
never fatal) or an **event**.  An event goes straight into the Batch that
``EventSink.batch_for`` returns for its second; None means the event is late and has
already been counted as such.  Nothing is kept per line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..checkpoint import validate
from ..families import Family
from ..pipeline.batch import Batch
from ..pipeline.filters import Filter

#: How much of a rejected line is shown.
SHOWN_CHARS = 160

#: What stands for a rejected record under --anonymize.
HIDDEN = "(not shown: --anonymize or --listen)"

#: Invalid records named under --verbose (and kept as examples).
NAMED_REJECTS = 5


class EventSink(Protocol):
    """Where events go: the reorderer."""

    def batch_for(self, second: int) -> Batch | None:
        """The Batch of ``second``, or None when an event of that time is late."""


class Rejects:
    """Invalid records: counted and skipped.

    The first one is kept for the warning given when most records are invalid, and
    the first few (``examples``) are named with their line numbers under ``--verbose``.
    ``merge`` takes over the rejects of a part of the input read elsewhere."""

    def __init__(
        self,
        *,
        name_first: int = 0,
        report: Callable[[str], None] | None = None,
        hidden: bool = False,
    ) -> None:
        self.count = 0
        #: Why the latest invalid record was (an HTTP listener's answer says it).
        self.last_reason = ""
        #: Records are never shown (``--anonymize``), only their line numbers.
        self.hidden = hidden
        #: (line number, text) of the first invalid record.
        self.first: tuple[int, str] | None = None
        #: (line number, text as shown, reason) of the first ``name_first`` invalid records.
        self.examples: list[tuple[int, str, str]] = []
        self._name_first = name_first
        self._report = report

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "first": self.first}

    def restore(self, data: dict[str, Any]) -> None:
        self.count = validate.count(data["count"])
        first = data["first"]
        if first is not None:
            line_number, text = validate.listed(first)
            first = (validate.count(line_number), validate.text(text))
        self.first = first

    def add(self, line_number: int, text: str, reason: str) -> None:
        self.count += 1
        self.last_reason = reason
        if self.first is None or len(self.examples) < self._name_first:
            self._remember(line_number, HIDDEN if self.hidden else shown(text), reason)

    def merge(self, other: Rejects, line_offset: int) -> None:
        """Count the rejects of a part of the input that starts after ``line_offset``
        lines (``other`` kept at least as many examples as this one names)."""
        self.count += other.count
        for line_number, text, reason in other.examples:
            self._remember(line_offset + line_number, HIDDEN if self.hidden else text, reason)
        if self.first is None and other.first is not None:
            line_number, text = other.first
            self.first = (line_offset + line_number, HIDDEN if self.hidden else text)

    def _remember(self, line_number: int, text: str, reason: str) -> None:
        if self.first is None:
            self.first = (line_number, text)
        if len(self.examples) < self._name_first:
            self.examples.append((line_number, text, reason))
            if self._report is not None:
                self._report(f"line {line_number}: invalid record ({reason}): {text}")


def shown(text: str) -> str:
    """A record as it is safe to show on a terminal: quoted, escaped and shortened."""
    text = text.rstrip("\r\n")
    if len(text) > SHOWN_CHARS:
        return repr(text[:SHOWN_CHARS]) + f"... ({len(text)} characters)"
    return repr(text)


class LineParser:
    """What the parsers of one record per line share (CLF, format strings, JSON,
    logging records): nothing is held back from one block to the next but the count of
    lines before it (the line numbers of rejects, and ``--state``)."""

    skipped = 0
    headers = 0
    keep_records = False
    _lines_before = 0

    def finish(self) -> None:
        pass

    def pending(self) -> str:
        return ""

    def unfinished(self) -> int | None:
        return None

    def to_json(self) -> dict[str, Any]:
        return {"skipped": self.skipped, "lines_before": self._lines_before}

    def restore(self, data: dict[str, Any]) -> None:
        self.skipped = validate.count(data.get("skipped", 0))  # (not in every checkpoint)
        self._lines_before = validate.count(data["lines_before"])


class Parser(Protocol):
    """Lines in, events out (see the module docstring)."""

    @property
    def name(self) -> str:
        """The ``--format`` value."""

    @property
    def description(self) -> str:
        """What it reads, for people."""

    @property
    def family(self) -> Family:
        """What its events are (``families/``): which Batches they fill."""

    rejects: Rejects
    #: Valid records that are not events (MongoDB: the rows before an operation's final
    #: one, and rows repeated after it).
    skipped: int
    #: Header rows (skipped too, but not records).
    headers: int
    #: Keep each accepted record as it came in its Batch's ``lines``, for a store to
    #: write (the formats whose records a store keeps: logging records).
    keep_records: bool

    def feed(self, block: str) -> None:
        """Parse a block of complete lines."""

    def finish(self) -> None:
        """The input ended: parse whatever is still held back."""

    def pending(self) -> str:
        """What was fed but is held back, as it came: a CSV record still open at the
        end of the last block ("" for other formats)."""

    def unfinished(self) -> int | None:
        """Operations that started and never finished (MongoDB), None for HTTP."""

    def to_json(self) -> dict[str, Any]:
        """What the parser carries from one block to the next (--state)."""

    def restore(self, data: dict[str, Any]) -> None:
        """Carry on from ``to_json``'s output."""


class ParserFactory(Protocol):
    """A parser class: what it reads, and ``make(sink, rejects, selection)`` (the
    filters: None when there are none)."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def family(self) -> Family: ...

    @property
    def carries_vhost(self) -> bool:
        """Whether its events have a virtual host."""

    @property
    def carries_duration(self) -> bool:
        """Whether its events have a duration (a request time)."""

    def __call__(
        self, sink: EventSink, rejects: Rejects, selection: Filter | None = None
    ) -> Parser: ...
