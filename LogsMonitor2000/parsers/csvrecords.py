"""CSV records from blocks of lines, read exactly as ``csv.reader`` reads a whole file.

A record may span lines inside quotes (SPEC §1), even across the blocks a live input
arrives in.  Each block is split on ``"\\n"`` and read by a ``csv.reader`` whose input
ends in a tripwire: when the reader asks for a line beyond the block, the record it is
in the middle of is still open, so its lines are held back and read again in front of
the next block (at most ``MAX_HELD_LINES`` of them: beyond that, or at the end of the
input, they are read as they are).

``csv.reader`` drops the line breaks between the lines of a multi-line record when its
lines come without them, so such a record (rare) is read again from its lines joined
with ``"\\n"``.  A line ``csv`` can't read at all is invalid.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator

from .base import Rejects

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


class CsvRecords:
    """Turns blocks into CSV rows and knows where the current row came from."""

    def __init__(self, rejects: Rejects) -> None:
        csv.field_size_limit(max(csv.field_size_limit(), FIELD_SIZE_LIMIT))
        self._rejects = rejects
        self._held: list[str] = []
        #: Physical lines before the lines being read.
        self._lines_before = 0
        self._lines: list[str] = []
        # The current row is self._lines[self._start:self._end].
        self._start = 0
        self._end = 0

    def rows(self, block: str) -> Iterator[list[str]]:
        """The complete rows of ``block`` (plus what was held back before it)."""
        lines = block.split("\n")
        lines.pop()  # the block ends with "\n"
        if self._held:
            lines[:0] = self._held
            self._held = []
        return self._read(lines, at_end=False)

    def flush(self) -> Iterator[list[str]]:
        """End of input: the held-back lines, read as they are."""
        lines, self._held = self._held, []
        return self._read(lines, at_end=True)

    def line_number(self) -> int:
        """The number of the current row's first line (1-based)."""
        return self._lines_before + self._start + 1

    def text(self) -> str:
        """The current row's lines as they were."""
        return "\n".join(self._lines[self._start : self._end])

    def _read(self, lines: list[str], *, at_end: bool) -> Iterator[list[str]]:
        self._lines = lines
        source = iter(lines) if at_end else itertools.chain(lines, _TRIPWIRE)
        reader = csv.reader(source)
        done = 0
        while True:
            try:
                for row in reader:
                    start = done
                    self._start = start
                    self._end = done = reader.line_num
                    if done - start != 1 and row:
                        row = _reread(lines[start:done])
                    yield row
                break
            except csv.Error as error:
                self._start = done
                self._end = done = max(reader.line_num, done + 1)
                self._rejects.add(self.line_number(), self.text(), f"CSV: {error}")
            except _BlockEnd:
                held = lines[done:]
                if len(held) > MAX_HELD_LINES:
                    self._lines_before += done
                    yield from self._read(held, at_end=True)
                    return
                self._held = held
                break
        self._lines_before += len(lines) - len(self._held)


def _reread(lines: list[str]) -> list[str]:
    """A multi-line record read again with its line breaks."""
    try:
        return next(csv.reader(["\n".join(lines)]))
    except (csv.Error, StopIteration):  # pragma: no cover - csv read these lines already
        return []
