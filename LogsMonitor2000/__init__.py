"""LogsMonitor2000: streaming analytics for web access logs and MongoDB audit logs.

The data flows one way, one module per stage::

    sources      bytes from a file, a pipe or a growing file, as blocks of complete lines
    parsers/     lines -> events, folded straight into the Batch of their second
    reorder      allowed lateness: open seconds wait in a heap, closed ones leave in order
    window       sliding and tumbling windows feed closed Batches to the calculators
    calculators/ count / discount / report: traffic alert, stats, slow queries
    output/      text for people, JSON lines for scripts

``monitor`` wires the stages together and ``cli`` turns the command line into a run.
Standard library only.
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
    """Until the monitor runs (and prints a summary when stopped), Ctrl-C and SIGTERM
    end the program at once with 130 / 143, without a traceback."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _exit_quietly)


if sys.argv[:1] == ["-m"]:  # python -m LogsMonitor2000, still finding __main__
    stop_quietly_on_signals()
