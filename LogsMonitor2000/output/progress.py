"""The progress line: one line on stderr while large finished files are read.

``42.0%  1,234,567 lines  812,000 lines/s  ETA 3 s``, redrawn in place at most
``REDRAW_SECONDS`` apart and cleared before anything else is written to the terminal
(a record on stdout, a warning) and at the end, so it never mixes with the output.
``cli`` shows it only when stderr is a terminal, the inputs are finished regular
files of ``PROGRESS_BYTES`` or more, and neither ``--quiet`` nor ``--dashboard`` is
given.  It never writes to stdout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from ..reports import Report, Summary
from . import RunInfo

#: Inputs smaller than this are read too fast to need a progress line.
PROGRESS_BYTES = 4 << 20
REDRAW_SECONDS = 0.25


class ProgressLine:
    """A notifier that draws the progress line (first in the ``Tee``: it clears the
    line before the others write)."""

    def __init__(
        self,
        stream: TextIO,
        measure: Callable[[], tuple[int, int, int]],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        #: (bytes read, bytes in all, lines read) of the inputs.
        self.measure = measure
        self.clock = clock
        self.started = clock()
        self.shown = False
        self._drawn_at = self.started

    def start(self, run: RunInfo) -> None:
        self.clear()

    def emit(self, record: Report) -> None:
        self.clear()

    def flush(self) -> None:
        now = self.clock()
        if now - self._drawn_at < REDRAW_SECONDS:
            return
        self._drawn_at = now
        done, total, lines = self.measure()
        if total <= 0:
            return
        elapsed = max(now - self.started, 1e-6)
        line = (
            f"{min(done / total, 1.0) * 100:5.1f}%  {lines:,} lines  {lines / elapsed:,.0f} lines/s"
        )
        if 0 < done < total:
            line += f"  ETA {_duration((total - done) * elapsed / done)}"
        self.stream.write(f"\r{line}\x1b[K")
        self.stream.flush()
        self.shown = True

    def finish(self, summary: Summary) -> None:
        self.clear()

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"
