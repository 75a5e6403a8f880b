"""The command line: options in (``options.py``), their rules checked (``rules.py``),
a run (``app.py``), and the one place that maps errors to exit codes.

Exit statuses (``ExitStatus``): 0 when the run ends normally, and also when whoever
reads the output goes away (``| head``); 1 for an internal error, when the input held
records and none of them was valid (a wrong ``--format``), or when the report can't be
written at the end; 2 for a usage or input
error, reported on one line of stderr with no traceback; 130 after Ctrl-C (SIGINT), 143
after SIGTERM and 129 after SIGHUP (its terminal closed), once the summary of what was
read has been printed (after SIGHUP, where it still can be).

``main`` runs in the calling process without touching it beyond the run: the garbage
collector's tuning and the first moments' signal handling are ``__main__``'s.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Sequence
from enum import IntEnum
from typing import IO, TextIO

from ..app import Run
from ..errors import MonitorError, UsageError
from ..output import OutputError
from ..pipeline.monitor import StopRequested
from ..reports import Summary
from ..words import printable
from .options import PROG
from .rules import parse_settings


class ExitStatus(IntEnum):
    SUCCESS = 0
    ERROR = 1
    #: The input held records and none was valid (a wrong --format?).
    NOTHING_VALID = 1
    USAGE = 2
    INTERRUPTED = 128 + signal.SIGINT
    TERMINATED = 128 + signal.SIGTERM
    HUNG_UP = 128 + signal.SIGHUP


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: IO[bytes] | None = None,
) -> int:
    """Run the command line; returns the exit status.  ``stdin`` is what ``-`` reads
    (standard input when None)."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    if err is None:  # started with 2>&- : nowhere to say anything
        err = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the run
    if out is None:  # started with >&-
        print(f"{PROG}: error: cannot write to standard output: it is closed", file=err)
        return ExitStatus.ERROR
    try:
        settings = parse_settings(argv, stdout=out)
    except UsageError as error:
        print(f"{PROG}: error: {printable(str(error))} (see --help)", file=err)
        return ExitStatus.USAGE
    except SystemExit as done:  # --help, --version
        return int(done.code or 0)
    run = Run(settings, stdout=out, stderr=err, stdin=stdin)
    try:
        summary = run.run()
    except OutputError as error:  # a full disk, say: the reader is not gone
        if run.monitor is not None and run.monitor.stopped_by == signal.SIGHUP:
            return ExitStatus.HUNG_UP  # (its terminal is gone, and the summary with it)
        run.warn(f"error: {error}")
        return ExitStatus.ERROR
    except MonitorError as error:
        run.warn(f"error: {error}")
        return ExitStatus.USAGE
    except BrokenPipeError:
        return ExitStatus.SUCCESS
    except StopRequested as stop:  # before the run started reading
        return 128 + stop.signum
    except KeyboardInterrupt:  # a second Ctrl-C: no more waiting
        return ExitStatus.INTERRUPTED
    except Exception as error:  # a bug: say so in one line, the traceback under -v
        run.warn(f"internal error: {error!r}" + ("" if settings.verbose else " (-v for details)"))
        if settings.verbose:
            traceback.print_exc(file=err)
        return ExitStatus.ERROR
    finally:
        run.close()
    if run.failed and summary.stopped_by is None:
        return ExitStatus.ERROR  # (said on stderr)
    return exit_status(summary)


def exit_status(summary: Summary) -> int:
    """How a run that ended with ``summary`` exits."""
    if summary.stopped_by is not None:
        return 128 + summary.stopped_by
    if summary.nothing_valid:
        return ExitStatus.NOTHING_VALID
    return ExitStatus.SUCCESS
