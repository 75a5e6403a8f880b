"""LogsMonitor2000: streaming analytics for access logs, MongoDB operations and Python
logging records, from files, growing files and the network.

The data flows one way, a folder per stage (``docs/architecture.md``)::

    inputs/      bytes from files, pipes, growing files, listeners: blocks of lines
    parsers/     lines -> events, folded straight into the Batch of their second
    pipeline/    allowed lateness, the inputs' watermarks, windows of closed seconds
    calculators/ count / discount / report: stats of the family's panels, alert rules
    output/      text, JSON lines, the report, the live page, the dashboard, /metrics

``families/`` says what the events are, ``app`` builds a run from ``Settings`` and
``cli`` turns the command line into one.  Standard library only.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

__version__ = "1.0.0"


def _exit_quietly(signum: int, frame: FrameType | None) -> None:
    # Not SystemExit: a signal that comes while an import runs a callback of its own
    # (a module lock's weakref) has its exception ignored there, and the run goes on.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # (closed, or being written when the signal came)
            pass
    os._exit(128 + signum)


def stop_quietly_on_signals() -> None:
    """Until the monitor runs (and prints a summary when stopped), Ctrl-C, SIGTERM and
    SIGHUP end the program at once with 130 / 143 / 129, without a traceback."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if signum == signal.SIGHUP and signal.getsignal(signum) is signal.SIG_IGN:
            continue  # (nohup: it stays ignored)
        signal.signal(signum, _exit_quietly)


if sys.argv[:1] == ["-m"]:  # python -m LogsMonitor2000, still finding __main__
    stop_quietly_on_signals()
