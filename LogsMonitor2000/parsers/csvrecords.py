"""CSV records from blocks of lines, read exactly as ``csv.reader`` reads a whole file.

A record may span lines inside quotes (docs/counting.md, "Records and events"), even across the blocks a live input
arrives in.  Each block is split on ``"\\n"`` and read by a ``csv.reader`` whose input
ends in a tripwire: when the reader asks for a line beyond the block, the record it is
in the middle of is still open, so its lines are held back and read again in front of
the next block (at most ``MAX_HELD_LINES`` of them: beyond that, or at the end of the
input, they are read as they are).

The usual block has one record per line, and is read ``ROWS_AT_A_TIME`` rows at a time
by a C-level ``list.extend`` (whole-block lists are twice as slow: they leave the
cache).  Anything else - a multi-line record, a line ``csv`` can't read (invalid), an
open record at the end - sends the rest of the block to a slower reading that tracks the
lines of every row.  ``csv.reader`` drops the line breaks inside a multi-line record
when its lines come without them, so such a record is read again with them.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterator
from typing import Any

from ..checkpoint import validate
from .base import Rejects

#: Rows handed over at a time.
ROWS_AT_A_TIME = 256

#: Lines of one open record held back before it is given up as invalid.
MAX_HELD_LINES = 1000

#: The largest field ``csv`` accepts (its default, 128 KiB, is too small for real logs).
FIELD_SIZE_LIMIT = 1 << 21


class _BlockEnd(Exception):
    """The reader asked for a line beyond the block."""


class _Tripwire:
    """The end of a block's lines: asking for one more raises ``_BlockEnd``."""

    def __iter__(self) -> _Tripwire:
        return self

    def __next__(self) -> str:
        raise _BlockEnd


_TRIPWIRE = _Tripwire()


class CsvBlock:
    """The rows read from a block, and where each of them came from."""

    __slots__ = ("rows", "_lines", "_first_line", "_spans")

    def __init__(
        self, lines: list[str], first_line: int, rows: list[list[str]], spans: bool
    ) -> None:
        self.rows = rows
        self._lines = lines
        self._first_line = first_line
        #: (first, end) line indexes of each row, when rows and lines don't match 1:1.
        self._spans: list[tuple[int, int]] | None = [] if spans else None

    def add(self, row: list[str], start: int, end: int) -> None:
        assert self._spans is not None
        self.rows.append(row)
        self._spans.append((start, end))

    def line_number(self, index: int) -> int:
        """The number of the first line of row ``index`` (1-based, in the input)."""
        start = index if self._spans is None else self._spans[index][0]
        return self._first_line + start

    def text(self, index: int) -> str:
        """Row ``index`` as it was written."""
        if self._spans is None:
            return self._lines[index]
        start, end = self._spans[index]
        return "\n".join(self._lines[start:end])


class CsvRecords:
    """Turns blocks into CSV rows, holding back a record still open at a block's end."""

    def __init__(self, rejects: Rejects, *, redact: Callable[[str], str] = str) -> None:
        csv.field_size_limit(max(csv.field_size_limit(), FIELD_SIZE_LIMIT))
        self._rejects = rejects
        self._redact = redact
        self._held: list[str] = []
        #: Physical lines before the lines being read.
        self._lines_before = 0

    def to_json(self) -> dict[str, Any]:
        return {"held": self._held, "lines_before": self._lines_before}

    def restore(self, data: dict[str, Any]) -> None:
        self._held = [validate.text(line) for line in validate.listed(data["held"])]
        if len(self._held) > MAX_HELD_LINES:
            raise ValueError("more lines held than the reader holds")
        self._lines_before = validate.count(data["lines_before"])

    def pending(self) -> str:
        """The held-back lines, as they came."""
        return "".join(line + "\n" for line in self._held)

    def read(self, block: str) -> Iterator[CsvBlock]:
        """The complete rows of ``block`` (after what was held back before it), a few
        hundred at a time."""
        lines = block.split("\n")
        lines.pop()  # the block ends with "\n"
        if self._held:
            lines[:0] = self._held
            self._held = []
        reader = csv.reader(itertools.chain(lines, _TRIPWIRE))
        done = 0  # lines read into rows handed over
        while True:
            rows: list[list[str]] = []
            try:
                rows.extend(itertools.islice(reader, ROWS_AT_A_TIME))
            except (_BlockEnd, csv.Error):
                if done + len(rows) != len(lines) or not rows:
                    break  # an error, a multi-line record or an open one: go slowly
                yield self._simple(lines[done:], rows)
                return
            if done + len(rows) != reader.line_num:
                break  # a multi-line record among these
            yield self._simple(lines[done : reader.line_num], rows)
            done = reader.line_num
        if done < len(lines):
            yield self._read_slowly(lines[done:], at_end=False)

    def _simple(self, lines: list[str], rows: list[list[str]]) -> CsvBlock:
        """One row per line."""
        block = CsvBlock(lines, self._lines_before + 1, rows, spans=False)
        self._lines_before += len(lines)
        return block

    def flush(self) -> CsvBlock:
        """End of input: the held-back lines, read as they are."""
        lines, self._held = self._held, []
        return self._read_slowly(lines, at_end=True)

    def _read_slowly(self, lines: list[str], *, at_end: bool) -> CsvBlock:
        block = CsvBlock(lines, self._lines_before + 1, [], spans=True)
        open_at = self._scan(lines, 0, at_end, block)
        if open_at is not None and len(lines) - open_at > MAX_HELD_LINES:
            self._scan(lines, open_at, True, block)  # give up holding: read it as it is
            open_at = None
        self._held = [] if open_at is None else lines[open_at:]
        self._lines_before += len(lines) - len(self._held)
        return block

    def _scan(self, lines: list[str], offset: int, at_end: bool, block: CsvBlock) -> int | None:
        """Read ``lines[offset:]`` into ``block``, row by row; the index where a record
        still open at the end starts, if there is one."""
        part = lines[offset:]
        reader = csv.reader(iter(part) if at_end else itertools.chain(part, _TRIPWIRE))
        done = 0
        while True:
            try:
                for row in reader:
                    start, done = done, reader.line_num
                    if done - start > 1 and row:
                        row = _reread(part[start:done])
                    block.add(row, offset + start, offset + done)
                return None
            except csv.Error as error:
                start, done = done, max(reader.line_num, done + 1)
                text = self._redact("\n".join(part[start:done]))
                self._rejects.add(self._lines_before + 1 + offset + start, text, f"CSV: {error}")
            except _BlockEnd:
                return offset + done


def _reread(lines: list[str]) -> list[str]:
    """A multi-line record read again with its line breaks."""
    try:
        return next(csv.reader(["\n".join(lines)]))
    except (csv.Error, StopIteration):  # pragma: no cover - csv read these lines already
        return []
