"""Everything a run is configured with, in one keyword-only dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field

from .calculators.expression import RuleSpec
from .pipeline.filters import Selection


@dataclass(frozen=True, kw_only=True)
class Settings:
    """A run's settings; ``cli`` builds them from the command line."""

    #: The logs to read, in command-line order; ``-`` for standard input.
    paths: tuple[str, ...]
    #: ``auto`` or a parser name (``csv``, ``clf``, ``mongo``...; ``format``: the
    #: ``--log-format`` string).
    log_format: str = "auto"
    #: ``--log-format``: the server's format string.
    format_string: str | None = None
    #: ``--json-fields``: the keys of a JSON log's fields.
    json_fields: str | None = None
    #: I: length of the tumbling stats windows.
    stats_interval: int = 10
    #: W: the high-traffic alert's sliding window.
    alert_window: int = 120
    #: T: requests (operations) per second that the average must exceed to alert.
    threshold: float = 10.0
    #: B: allowed lateness, in seconds (``--buffer``).
    lateness: int = 2
    #: N: entries in each top list.
    top: int = 5
    #: ``text`` or ``json``.
    output: str = "text"
    #: None: colour when stdout is a terminal and NO_COLOR is not set.
    color: bool | None = None
    verbose: bool = False
    #: A live input: keep reading as the file grows (tail -F).
    follow: bool = False
    #: With ``follow``: start at the current end of the file.
    from_end: bool = False
    #: Processes that read a large finished file (see ``parallel.py``); None: one per
    #: core, for a file busy enough to gain from them.
    jobs: int | None = 1
    #: Checkpoint file for ``follow``.
    state: str | None = None
    state_reset: bool = False
    #: Which events count (``--since``, ``--path``... see ``pipeline/filters.py``).
    selection: Selection = field(default_factory=Selection)
    #: Sources shown without their last octet (IPv4) or 80 bits (IPv6).
    anonymize: bool = False
    #: Where alerts are forwarded (``--alert-url``, ``--alert-log``).
    alert_url: str | None = None
    alert_log: str | None = None
    #: ``--alertmanager``: Prometheus Alertmanager's URL, and how often the active
    #: alerts are sent again.
    alertmanager: str | None = None
    alertmanager_resend: float = 60.0
    #: MongoDB: alert when the p95 duration over the alert window exceeds this.
    slow_ms: float | None = None
    #: ``--alert``: the rules beside the traffic alert, in command-line order.
    alerts: tuple[RuleSpec, ...] = ()
    #: ``--report``: the HTML report's path.
    report: str | None = None
    #: ``--serve``: the live page's (host, port), its credentials (USER:PASSWORD) and
    #: TLS certificate and key files.
    serve: tuple[str, int] | None = None
    serve_auth: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    #: ``--dashboard``: the full-screen terminal view instead of the text output.
    dashboard: bool = False
    #: ``--quiet``: no progress line on stderr.
    quiet: bool = False
    #: ``--listen``: the URLs of the listeners (inputs after ``paths``), their
    #: credentials (USER:PASSWORD) and the largest body or message they take.
    listen: tuple[str, ...] = ()
    listen_auth: str | None = None
    max_body: int = 1 << 20
    #: ``--store``: the SQLite database the run's minutes are written to, and how long
    #: (seconds of log time) they are kept; ``--from-store``: the one read instead of logs.
    store: str | None = None
    retain: int = 30 * 86400
    from_store: str | None = None

    @property
    def inputs(self) -> tuple[str, ...]:
        """The names of every input, in order: the files, then the listeners."""
        return self.paths + self.listen
