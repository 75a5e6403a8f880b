"""What ``--help`` says besides the options: the description, the examples and the
exit statuses, the program's name as it was started, and the layout."""

from __future__ import annotations

import argparse
import os
import shutil
import sys


def program_name() -> str:
    """How the program was started, for --help: ``logsmonitor2000`` (the installed
    command, or whatever it is called) or ``python -m LogsMonitor2000``."""
    started = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if not started or started.endswith(".py") or " " in started or started.startswith("python"):
        return "python -m LogsMonitor2000"
    return started


DESCRIPTION = """\
Every few seconds of log time a compact summary, an alert when traffic is high and a
message when it recovers, and at the end a report of the whole run.

Reads web servers' access logs (nginx, Apache, Caddy, Traefik: Common/Combined Log
Format, the server's own format string, JSON, CSV), Python logging records and
pymongowatch's MongoDB operations; from files (gzip too), rotated sets, standard
input, growing files (--follow), or received over syslog and HTTP (--listen)."""

EXAMPLES = """\
examples:
  {prog} /var/log/nginx/access.log
  {prog} access.log.2.gz access.log.1 access.log    # a rotated set: one run
  {prog} access.log --log-format \\
      '$remote_addr - $remote_user [$time_local] "$request" $status $bytes_sent $request_time'
  {prog} -f /var/log/nginx/access.log --report /var/www/html/monitor.html
  {prog} --listen syslog+udp://:5514 --listen http://:8514 \\
      --listen-auth @/etc/monitor.auth --serve 127.0.0.1:8080
  {prog} -f access.log --state access.state --store history.db
  {prog} --from-store history.db --since 2024-05-01T03:00 --until 2024-05-01T03:15

exit status: 0 done, 1 no valid record (a wrong --format?) or an internal error, 2 a usage
or input error, 130 Ctrl-C (SIGINT), 143 SIGTERM, 129 SIGHUP: the summary printed first."""


class Formatter(argparse.RawDescriptionHelpFormatter):
    """The description and the examples as written; the options' help wrapped."""

    def __init__(self, prog: str) -> None:
        super().__init__(
            prog, max_help_position=30, width=min(shutil.get_terminal_size().columns, 100)
        )
