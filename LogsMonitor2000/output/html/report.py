"""``--report FILE``: the run as one self-contained HTML page (see ``page.py``).

A finished run writes it once, at the end.  With a live input it is rewritten after
every stats window, atomically, so a browser (or a web server serving it) never sees
half a page.  A report that can't be written is warned about once; the run goes on.
"""

from __future__ import annotations

from collections.abc import Callable

from ...checkpoint import atomic
from ...reports import Report, StatsReport, Summary
from .. import RunInfo
from ..history import History
from .page import render

#: The report's permissions (less the umask): a page to be read.
REPORT_MODE = 0o644


class ReportNotifier:
    """Keeps the run's ``History`` and writes the page to ``path``."""

    def __init__(
        self,
        path: str,
        *,
        interval: int,
        live: bool,
        warn: Callable[[str], None],
    ) -> None:
        self.path = path
        self.live = live
        self.warn = warn
        self.history = History(interval)
        self.run: RunInfo | None = None
        #: The summary so far, for the rewrites of a live run (set by ``cli``).
        self.summary_so_far: Callable[[], Summary] | None = None
        self._due = False
        self._warned = False
        #: The last write, at the end of the run, failed (the run exits 1).
        self.failed = False

    def start(self, run: RunInfo) -> None:
        self.run = run

    def emit(self, record: Report) -> None:
        self.history.add(record)
        if self.live and isinstance(record, StatsReport):
            self._due = True

    def flush(self) -> None:
        if self._due and self.summary_so_far is not None:
            self._due = False
            self.write(self.summary_so_far())

    def finish(self, summary: Summary) -> None:
        self.write(summary, final=True)

    def write(self, summary: Summary, *, final: bool = False) -> None:
        """Replace the report; a failure is warned about once while the run goes on,
        and is an error at its end (the report the user asked for is not there)."""
        page = render(self.run, self.history, summary, live=False)
        try:
            atomic.replace(self.path, lambda file: print(page, end="", file=file), mode=REPORT_MODE)
        except OSError as error:
            self.failed = final
            if final:
                self.warn(f"error: cannot write the report {self.path}: {error}")
            elif not self._warned:
                self._warned = True
                self.warn(f"warning: cannot write the report {self.path}: {error}")
