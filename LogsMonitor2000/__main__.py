"""``python -m LogsMonitor2000``, and the installed ``logsmonitor2000``."""

from __future__ import annotations

import sys

from . import stop_quietly_on_signals


def main() -> int:
    """Quiet on Ctrl-C and SIGTERM from the start (the monitor then installs its own
    handlers, which print the summary), then the command line."""
    stop_quietly_on_signals()
    from .cli import main as run

    return run()


if __name__ == "__main__":
    sys.exit(main())
