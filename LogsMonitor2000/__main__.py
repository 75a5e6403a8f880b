"""``python -m LogsMonitor2000``, and the installed ``logsmonitor2000``: what belongs to
the process rather than to a run - the first moments' signal handling, the garbage
collector's tuning, the standard streams - then ``cli.main``."""

from __future__ import annotations

import contextlib
import gc
import io
import os
import sys

from . import stop_quietly_on_signals

#: Allocations between two young-generation collections (CPython's default is 700).
GC_THRESHOLD = 100_000


def main() -> int:
    """Quiet on Ctrl-C and SIGTERM from the start (the run then installs its own
    handlers, which print the summary), then the command line."""
    stop_quietly_on_signals()
    from .cli import main as run

    # Nothing on the hot path makes reference cycles: rows and counts die by reference
    # counting.  With the default thresholds the cyclic collector would still rescan
    # every live Batch every few hundred rows - a third of the parsing time - and what
    # start-up made (the package's modules, once imported) would be rescanned with them.
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 50, 100)
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")
    status = run()
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except (BrokenPipeError, OSError, ValueError):
        _detach()
    return status


def _detach() -> None:
    """The reader of stdout went away (or it can't be written): point stdout at
    /dev/null so that the final flush at exit doesn't complain (as the Python docs
    advise for SIGPIPE)."""
    with contextlib.suppress(OSError, ValueError, AttributeError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
