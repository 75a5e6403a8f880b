"""The command line: options in, a run, and the one place that maps errors to exit codes.

Exit statuses (``ExitStatus``): 0 when the run ends normally, and also when whoever
reads the output goes away (``| head``); 1 for an internal error, or when the input held
records and none of them was valid (a wrong ``--format``); 2 for a usage or input
error, reported on one line of stderr with no traceback; 130 after Ctrl-C (SIGINT) and
143 after SIGTERM, both once the summary of what was read has been printed.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import math
import os
import signal
import sys
import threading
import traceback
from dataclasses import replace
from collections.abc import Callable, Iterator, Sequence
from enum import IntEnum
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, TypeVar

from .. import __version__

from ..checkpoint import atomic
from ..pipeline import filters
from ..errors import FormatError, MonitorError, StateError, UsageError
from ..pipeline.filters import Selection
from ..pipeline.monitor import Monitor, StopRequested
from ..output import GuardedStream, Notifier, OutputError, Tee
from ..output.jsonlines import JsonLinesNotifier
from ..output.progress import PROGRESS_BYTES, ProgressLine
from ..output.html.report import ReportNotifier
from ..parsers import FORMAT_STRING, PARSERS, READ_AS_CLF
from ..parsers.jsonlog import parse_json_fields
from ..parsers.logformat import compile_format
from ..parsers.pylog import level_number
from ..settings import Settings
from ..output.text import TextNotifier
from ..words import local_time
from ..inputs import Position, Source, open_source
from ..inputs.listen import MAX_BODY, Listener, ListenOptions, check_listen_url, open_listener
from ..inputs.parallel import parallel_source
from ..checkpoint.state import DAMAGE, Saved, StateFile
from ..net.addresses import DEFAULT_HOST, check_http_url, listen_address

if TYPE_CHECKING:  # (ssl, http.server and curses: imported only when used)
    import ssl

    from ..output.dashboard import DashboardNotifier
    from ..output.html.live import LiveServer, ServeNotifier

PROG = "LogsMonitor2000"

#: The options that make the Selection (see ``filters.py``).
SELECTION_OPTIONS = (
    "since",
    "until",
    "paths",
    "statuses",
    "networks",
    "methods",
    "level",
    "names",
)
#: The Selection's lists: an option may be repeated, and repeating adds to the list as
#: commas do (``--path /api --path /login`` is ``--path /api,/login``).
LIST_OPTIONS = {
    "paths": tuple,
    "statuses": frozenset,
    "networks": tuple,
    "methods": frozenset,
    "names": tuple,
    "listen": tuple,
}

Value = TypeVar("Value")

#: Allocations between two young-generation collections (CPython's default is 700).
GC_THRESHOLD = 100_000


class ExitStatus(IntEnum):
    SUCCESS = 0
    ERROR = 1
    #: The input held records and none was valid (a wrong --format?).
    NOTHING_VALID = 1
    USAGE = 2
    INTERRUPTED = 128 + signal.SIGINT
    TERMINATED = 128 + signal.SIGTERM


class _ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error becomes a ``UsageError`` (one line, exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _positive_int(text: str) -> int:
    value = _int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {text!r}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, not {text!r}") from None


def _option(parse: Callable[[str], Value]) -> Callable[[str], Value]:
    """An argparse type from a parser of the option's text that raises ValueError."""

    def convert(text: str) -> Value:
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return convert


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, not {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative number, not {text!r}")
    return value


def program_name() -> str:
    """How the program was started, for --help: ``logsmonitor2000`` (the installed
    command, or whatever it is called) or ``python -m LogsMonitor2000``."""
    started = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if not started or started.endswith(".py") or " " in started or started.startswith("python"):
        return "python -m LogsMonitor2000"
    return started


def build_argument_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog=program_name(),
        description="Streaming analytics for web access logs and MongoDB audit logs: "
        "stats every few seconds of log time, high-traffic alerts, a summary.",
        epilog="Exit status: 0 done, 1 no valid record (wrong --format?) or an internal "
        "error, 2 usage or input error, "
        "130 interrupted (Ctrl-C), 143 terminated (SIGTERM).",
        allow_abbrev=False,
    )
    parser.add_argument(
        "files",  # (--path's dest is "paths": a filter)
        nargs="*",
        metavar="FILE",
        help="the logs, read as one run (a rotated set, several servers); - for standard "
        "input; gzip is read transparently",
    )
    parser.add_argument(
        "--format",
        dest="log_format",
        choices=["auto", *PARSERS],
        default="auto",
        help="the log format (default: auto, decided from the first lines)",
    )
    parser.add_argument(
        "--log-format",
        dest="format_string",
        metavar="FORMAT",
        help="the format string the server writes with: nginx log_format ($remote_addr "
        "... $request_time) or Apache LogFormat (%%h %%l %%u %%t ...), or combined, common, "
        "vhost_combined, main",
    )
    parser.add_argument(
        "--json-fields",
        metavar="ROLE=KEY,...",
        type=_option(_json_fields),
        help="--format json: the keys of the fields, dotted for nested ones "
        "(time=ts,source=request.remote_ip,request=...,status=...,bytes=...,duration=...:ns)",
    )
    parser.add_argument(
        "--stats-interval",
        type=_positive_int,
        default=10,
        metavar="SECONDS",
        help="length of the stats windows (default: 10)",
    )
    parser.add_argument(
        "--alert-window",
        type=_positive_int,
        default=120,
        metavar="SECONDS",
        help="the high-traffic alert averages over this many seconds (default: 120)",
    )
    parser.add_argument(
        "--threshold",
        type=_non_negative_float,
        default=10.0,
        metavar="PER_SECOND",
        help="alert when the average exceeds this many hits per second (default: 10)",
    )
    parser.add_argument(
        "--buffer",
        dest="lateness",
        type=_non_negative_int,
        default=2,
        metavar="SECONDS",
        help="allowed lateness of out-of-order lines (default: 2)",
    )
    parser.add_argument(
        "--top",
        type=_non_negative_int,
        default=5,
        metavar="N",
        help="entries in each top list (default: 5)",
    )
    parser.add_argument(
        "--output",
        choices=["text", "json"],
        default="text",
        help="text for people (default) or JSON lines for scripts",
    )
    parser.add_argument(
        "--no-color",
        dest="color",
        action="store_false",
        default=None,
        help="no colour (there is none either when stdout is not a terminal or " "NO_COLOR is set)",
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=_positive_int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="processes reading a large finished CSV or Combined log (default: one per "
        "core; 1 reads in one process)",
    )
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="name the first invalid records and their line numbers on stderr",
    )
    parser.add_argument(
        "--slow-ms",
        type=_non_negative_float,
        metavar="MS",
        help="MongoDB: also alert when the p95 operation duration over the alert window "
        "exceeds MS milliseconds",
    )
    live = parser.add_argument_group("live logs")
    live.add_argument(
        "--follow",
        "-f",
        action="store_true",
        help="keep reading as the log grows, across rotations (like tail -F); "
        "windows keep closing while it is silent",
    )
    live.add_argument(
        "--from-end",
        action="store_true",
        help="with --follow: start at the current end of the file (like tail -n0 -F)",
    )
    live.add_argument(
        "--state",
        metavar="STATE_FILE",
        help="with --follow: checkpoint the position and all state there; a restart "
        "with the same file carries on exactly",
    )
    live.add_argument(
        "--state-reset",
        action="store_true",
        help="ignore what STATE_FILE holds and start over",
    )
    chosen = parser.add_argument_group(
        "filters",
        "only matching events are counted; the others are 'filtered' in the summary, "
        "never late or invalid",
    )
    chosen.add_argument(
        "--since",
        type=_option(filters.parse_time),
        metavar="TIME",
        help="events at or after TIME: ISO-8601, 2019-02-07T21:20:00Z, with an offset, "
        "or a date; local time when no offset is given",
    )
    chosen.add_argument(
        "--until", type=_option(filters.parse_time), metavar="TIME", help="events before TIME"
    )
    chosen.add_argument(
        "--path",
        dest="paths",
        type=_option(filters.parse_items),
        action="extend",
        default=[],
        metavar="PREFIXES",
        help="requests whose path starts with one of these (comma-separated, or the option "
        "repeated: /api,/login; api means /api); MongoDB: namespaces (db.collection)",
    )
    chosen.add_argument(
        "--status",
        dest="statuses",
        type=_option(filters.parse_statuses),
        action="extend",
        default=[],
        metavar="CODES",
        help="statuses or classes, comma-separated: 404,5xx",
    )
    chosen.add_argument(
        "--source",
        dest="networks",
        type=_option(filters.parse_networks),
        action="extend",
        default=[],
        metavar="NETWORKS",
        help="sources in these addresses or networks, comma-separated: 10.0.0.0/8,::1",
    )
    chosen.add_argument(
        "--method",
        dest="methods",
        type=_option(filters.parse_methods),
        action="extend",
        default=[],
        metavar="METHODS",
        help="HTTP methods or MongoDB operations, comma-separated: GET,POST or find",
    )
    chosen.add_argument(
        "--level",
        type=_option(_level),
        metavar="LEVEL",
        help="Python logging records: this level and above (ERROR, or a number)",
    )
    chosen.add_argument(
        "--name",
        dest="names",
        type=_option(_names),
        action="extend",
        default=[],
        metavar="PREFIXES",
        help="Python logging records: loggers whose names start so, comma-separated",
    )
    listen = parser.add_argument_group("collecting over the network")
    listen.add_argument(
        "--listen",
        metavar="URL",
        action="append",
        default=[],
        help="an input received over the network: syslog+udp://HOST:PORT, "
        "syslog+tcp://..., syslog+tls://..., http://HOST:PORT (POST or GET /ingest), "
        f"https://... (host: {DEFAULT_HOST} unless given; repeat for more)",
    )
    listen.add_argument(
        "--listen-auth",
        metavar="USER:PASSWORD",
        help="HTTP listeners ask for these credentials (basic auth); @FILE reads them",
    )
    listen.add_argument(
        "--max-body",
        type=_option(_size),
        default=MAX_BODY,
        metavar="BYTES",
        help="the largest HTTP body or syslog message (default: 1M; K and M suffixes)",
    )
    shared = parser.add_argument_group("privacy and forwarding")
    shared.add_argument(
        "--anonymize",
        action="store_true",
        help="zero the last octet of IPv4 sources and the last 80 bits of IPv6 ones; "
        "never show invalid records",
    )
    shared.add_argument(
        "--alert-url",
        metavar="URL",
        type=_option(check_http_url),
        help="POST each alert and recovery there as a logging record (stdlib "
        "HTTPHandler; http or https, user:password@ for basic auth)",
    )
    shared.add_argument(
        "--alert-log", metavar="FILE", help="append each alert and recovery to FILE"
    )
    views = parser.add_argument_group("pictures and live views")
    views.add_argument(
        "--report",
        metavar="FILE",
        help="write a self-contained HTML report there (at the end; with --follow after "
        "every stats window)",
    )
    views.add_argument(
        "--serve",
        metavar="[HOST:]PORT",
        type=_option(listen_address),
        help="with --follow: serve the live page, /events (Server-Sent Events), /summary, "
        f"/metrics (Prometheus) and /healthz (host: {DEFAULT_HOST} unless given)",
    )
    views.add_argument(
        "--serve-auth",
        metavar="USER:PASSWORD",
        help="ask for these credentials (HTTP basic auth); @FILE reads them from FILE",
    )
    views.add_argument("--tls-cert", metavar="FILE", help="serve https with this certificate")
    views.add_argument(
        "--tls-key", metavar="FILE", help="the certificate's private key (if not in --tls-cert)"
    )
    views.add_argument(
        "--dashboard",
        action="store_true",
        help="with --follow: a full-screen terminal view instead of the text output (q quits)",
    )
    views.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="no progress line on stderr while a large file is read",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    # The older spellings keep working.
    for old, dest, kind in (
        ("--stats_interval", "stats_interval", _positive_int),
        ("--high_traffic_interval", "alert_window", _positive_int),
        ("--high_traffic_threshold", "threshold", _non_negative_float),
    ):
        parser.add_argument(
            old, dest=dest, type=kind, default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
    return parser


def parse_settings(argv: Sequence[str] | None) -> Settings:
    """Settings from the command line; raises ``UsageError``."""
    args = build_argument_parser().parse_args(argv)
    options = vars(args)
    for name, kind in LIST_OPTIONS.items():
        options[name] = kind(dict.fromkeys(options[name]))  # in order, without repeats
    selection = Selection(**{name: options.pop(name) for name in SELECTION_OPTIONS})
    if (
        selection.since is not None
        and selection.until is not None
        and selection.until <= selection.since
    ):
        raise UsageError("--until must be later than --since")
    options.update(_format_options(options["log_format"], options["format_string"]))
    settings = Settings(selection=selection, paths=tuple(options.pop("files")), **options)
    if not settings.follow:
        for option, given in [
            ("--from-end", settings.from_end),
            ("--state", settings.state is not None),
            ("--state-reset", settings.state_reset),
        ]:
            if given:
                raise UsageError(f"{option} only makes sense with --follow")
    if settings.state is not None and "-" in settings.paths:
        raise UsageError("--state needs files to follow, not standard input")
    if settings.paths.count("-") > 1:
        raise UsageError("standard input (-) can be read only once")
    if settings.state_reset and settings.state is None:
        raise UsageError("--state-reset needs --state")
    _check_views(settings)
    _check_listeners(settings)
    if settings.serve_auth is not None and settings.serve_auth.startswith("@"):
        settings = replace(settings, serve_auth=_read_credentials(settings.serve_auth[1:]))
    if settings.listen_auth is not None and settings.listen_auth.startswith("@"):
        credentials = _read_credentials(settings.listen_auth[1:], "--listen-auth")
        settings = replace(settings, listen_auth=credentials)
    return settings


def _check_listeners(settings: Settings) -> None:
    if not settings.paths and not settings.listen:
        raise UsageError("the following arguments are required: FILE (or --listen URL)")
    for url in settings.listen:
        check_listen_url(url)
    if settings.listen and settings.state is not None:
        raise UsageError("--state keeps the positions of files: it can't go with --listen")
    auth = settings.listen_auth
    if auth is not None and not settings.listen:
        raise UsageError("--listen-auth only makes sense with --listen")
    if auth is not None and not auth.startswith("@") and ":" not in auth:
        raise UsageError("--listen-auth is USER:PASSWORD (or @FILE)")


def _check_views(settings: Settings) -> None:
    for option, given in [("--serve", settings.serve), ("--dashboard", settings.dashboard)]:
        if given and not settings.follow and not settings.listen:
            raise UsageError(f"{option} needs a live input: add --follow (or --listen)")
    if settings.serve_auth is not None and settings.serve is None:
        raise UsageError("--serve-auth only makes sense with --serve")
    secure = settings.serve is not None or any(
        url.startswith(("https:", "syslog+tls:")) for url in settings.listen
    )
    for option, value in [("--tls-cert", settings.tls_cert), ("--tls-key", settings.tls_key)]:
        if value is not None and not secure:
            raise UsageError(
                f"{option} only makes sense with --serve or an https:// or "
                "syslog+tls:// --listen"
            )
    if settings.tls_key is not None and settings.tls_cert is None:
        raise UsageError("--tls-key needs --tls-cert")
    if settings.dashboard and settings.output == "json":
        raise UsageError("--dashboard takes the terminal: --output json can't go with it")
    if settings.report is not None and settings.report in settings.paths:
        raise UsageError(f"--report {settings.report} is one of the inputs")
    auth = settings.serve_auth
    if auth is not None and not auth.startswith("@") and ":" not in auth:
        raise UsageError("--serve-auth is USER:PASSWORD (or @FILE)")


def _read_credentials(path: str, option: str = "--serve-auth") -> str:
    """USER:PASSWORD from a file (its first line): kept out of ``ps`` and the history."""
    try:
        with open(path, encoding="utf-8") as file:
            credentials = file.readline().rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise UsageError(f"cannot read {option} @{path}: {reason}") from None
    if ":" not in credentials:
        raise UsageError(f"{option} @{path}: the file's first line is not USER:PASSWORD")
    return credentials


def _level(text: str) -> int:
    number = level_number(text)
    if number is None:
        raise ValueError(f"{text!r} is not a logging level (DEBUG, INFO, ..., or a number)")
    return number


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _size(text: str) -> int:
    scale = {"K": 1 << 10, "M": 1 << 20}.get(text[-1:].upper(), 1)
    digits = text[:-1] if scale > 1 else text
    if not digits.isdigit() or not 0 < int(digits) * scale <= 1 << 30:
        raise ValueError(f"{text!r} is not a size from 1 to 1G (1048576, 512K, 1M)")
    return int(digits) * scale


def _json_fields(text: str) -> str:
    parse_json_fields(text)  # (ValueError: a usage error)
    return text


def _format_options(requested: str, format_string: str | None) -> dict[str, Any]:
    """``--format`` and ``--log-format`` together: the parser's name, and the string."""
    if format_string is None:
        return {}
    if requested != "auto":
        raise UsageError("--log-format says the format already: no --format with it")
    if format_string in READ_AS_CLF:
        return {"log_format": "clf", "format_string": None}
    if format_string in PARSERS:
        return {"log_format": format_string, "format_string": None}
    try:
        compile_format(format_string)
    except FormatError as error:
        raise UsageError(str(error)) from None
    return {"log_format": FORMAT_STRING, "format_string": format_string}


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the command line; returns the exit status."""
    # Nothing on the hot path makes reference cycles: rows and counts die by reference
    # counting.  With the default thresholds the cyclic collector would still rescan
    # every live Batch every few hundred rows - a third of the parsing time.
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 50, 100)
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    if err is None:  # started with 2>&- : nowhere to say anything
        err = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the run
    if out is None:  # started with >&-
        print(f"{PROG}: error: cannot write to standard output: it is closed", file=err)
        return ExitStatus.ERROR
    for stream in (out, err):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")
    try:
        settings = parse_settings(argv)
    except UsageError as error:
        print(f"{PROG}: error: {error} (see --help)", file=err)
        return ExitStatus.USAGE
    except SystemExit as done:  # --help, --version
        return int(done.code or 0)
    return run(settings, stdout=out, stderr=err)


def run(settings: Settings, *, stdout: TextIO, stderr: TextIO) -> int:
    """One run of the monitor with ``settings``; returns the exit status."""

    progress: list[ProgressLine] = []  # (cleared before anything else is said)

    def warn(message: str) -> None:
        for line in progress:
            line.clear()
        print(f"{PROG}: {message}", file=stderr, flush=True)

    sources: list[Source] = []
    views = _Views(settings, warn)
    try:
        checkpoint, saved = _load_state(settings)
        starts = saved.positions if saved is not None else [None] * len(settings.paths)
        for path, start in zip(settings.paths, starts):
            sources.append(_open(settings, path, start, warn))
        sources += _listeners(settings, warn)
        views.open()
        base = _notifier(settings, stdout, warn)
        notifier = views.around(base)
        if _shows_progress(settings, sources, stderr):
            progress.append(ProgressLine(stderr, lambda: _measured(sources, monitor)))
            notifier = Tee([progress[0], notifier])
        monitor = Monitor(settings, notifier, warn=warn, checkpoint=checkpoint)
        names = [
            *settings.paths,
            *(source.url for source in sources if isinstance(source, Listener)),
        ]
        monitor.add_inputs(names, sources)
        for lane in monitor.lanes:
            lane.count_lines = bool(progress)
        views.watch(monitor, base)
        if saved is not None:
            _restore(monitor, saved)
            for message in _resumed(monitor, saved):
                warn(message)
        with _signals(monitor):
            summary = monitor.run()
    except OutputError as error:  # a full disk, say: the reader is not gone
        warn(f"error: {error}")
        _detach(stdout)
        return ExitStatus.ERROR
    except MonitorError as error:
        warn(f"error: {error}")
        return ExitStatus.USAGE
    except BrokenPipeError:
        _detach(stdout)
        return ExitStatus.SUCCESS
    except StopRequested as stop:  # before the run started reading
        return 128 + stop.signum
    except KeyboardInterrupt:  # a second Ctrl-C: no more waiting
        return ExitStatus.INTERRUPTED
    except Exception as error:  # a bug: say so in one line, the traceback under -v
        warn(f"internal error: {error!r}" + ("" if settings.verbose else " (-v for details)"))
        if settings.verbose:
            traceback.print_exc(file=stderr)
        return ExitStatus.ERROR
    finally:
        for source in sources:
            source.close()
        views.close()
    if summary.stopped_by is not None:
        return 128 + summary.stopped_by
    if summary.nothing_valid:
        return ExitStatus.NOTHING_VALID
    return ExitStatus.SUCCESS


def _open(
    settings: Settings, path: str, start: Position | None, warn: Callable[[str], None]
) -> Source:
    """The input for ``path``: followed, read by workers (a large finished file), or
    read to its end."""
    if not settings.follow:
        parallel = parallel_source(
            path,
            settings.log_format,
            lateness=settings.lateness,
            selection=settings.selection,
            interval=settings.stats_interval,
            jobs=settings.jobs,
            format_string=settings.format_string,
            json_fields=settings.json_fields,
        )
        if parallel is not None:
            return parallel
    return open_source(
        path, follow=settings.follow, from_end=settings.from_end, start=start, warn=warn
    )


def _load_state(settings: Settings) -> tuple[StateFile | None, Saved | None]:
    if settings.state is None:
        return None, None
    checkpoint = StateFile(
        settings.state,
        logs=settings.paths,
        # What decides the counts (display-only options - --top, --output, colour, -v
        # - may change from one run to the next).
        settings={
            "stats_interval": settings.stats_interval,
            "alert_window": settings.alert_window,
            "threshold": settings.threshold,
            "buffer": settings.lateness,
            "slow_ms": settings.slow_ms,
            "format_string": settings.format_string,
            "json_fields": settings.json_fields,
            "selection": settings.selection.to_json(),
            "anonymize": settings.anonymize,
        },
    )
    checkpoint.claim(settings.paths)
    saved = None if settings.state_reset else checkpoint.load()
    checkpoint.check_writable()
    return checkpoint, saved


def _restore(monitor: Monitor, saved: Saved) -> None:
    try:
        monitor.restore(saved.monitor)
    except DAMAGE:  # (what was wrong is not shown: it may be text from the log)
        raise StateError(
            f"{monitor.settings.state} is damaged; --state-reset starts over"
        ) from None


def _resumed(monitor: Monitor, saved: Saved) -> list[str]:
    """Where a restart carries on from, for stderr: a line per input."""
    messages = []
    for lane, position in zip(monitor.lanes, saved.positions):
        if position is None:
            continue
        where = f"byte {position.offset:,}"
        if position.lines is not None:
            where = f"line {position.lines + 1:,} ({where})"
        newest = lane.reorderer.newest if lane.reorderer is not None else None
        clock = "" if newest is None else f"; log time {local_time(newest)}"
        messages.append(f"resuming {lane.name} at {where}{clock}")
    return messages


def _notifier(settings: Settings, stdout: TextIO, warn: Callable[[str], None]) -> Notifier:
    notifier: Notifier
    guarded = GuardedStream(stdout)
    if settings.dashboard:
        from ..output.dashboard import DashboardNotifier

        if not stdout.isatty():
            raise UsageError("--dashboard needs a terminal: standard output is not one")
        notifier = DashboardNotifier(
            guarded, interval=settings.stats_interval, color="NO_COLOR" not in os.environ
        )
    elif settings.output == "json":
        notifier = JsonLinesNotifier(guarded)
    else:
        color = settings.color
        if color is None:
            color = stdout.isatty() and "NO_COLOR" not in os.environ
        notifier = TextNotifier(guarded, color=color and "NO_COLOR" not in os.environ)
    if settings.alert_url is None and settings.alert_log is None:
        return notifier
    from ..output import forward  # ssl, http.client, logging: only when alerts leave

    forwarder = forward.AlertForwarder(
        url=settings.alert_url, log_path=settings.alert_log, warn=warn
    )
    return forward.ForwardingNotifier(notifier, forwarder)


def _shows_progress(settings: Settings, sources: Sequence[Source], stderr: TextIO) -> bool:
    """A progress line on stderr: a terminal, large finished files, not --quiet."""
    if settings.quiet or settings.dashboard or settings.follow or not _is_terminal(stderr):
        return False
    sizes = [progress[1] for source in sources if (progress := source.progress())]
    return sum(sizes) >= PROGRESS_BYTES


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _measured(sources: Sequence[Source], monitor: Monitor) -> tuple[int, int, int]:
    """(bytes read, bytes in all, lines read) of the inputs, for the progress line."""
    done = total = 0
    for source in sources:
        progress = source.progress()
        if progress is not None:
            done, total = done + progress[0], total + progress[1]
    return done, total, sum(lane.lines_read for lane in monitor.lanes)


class _Views:
    """The report and the live server, around the notifier of stdout."""

    def __init__(self, settings: Settings, warn: Callable[[str], None]) -> None:
        self.settings = settings
        self.warn = warn
        self.report: ReportNotifier | None = None
        self.server: LiveServer | None = None
        self.served: ServeNotifier | None = None
        self.dashboard: DashboardNotifier | None = None

    def open(self) -> None:
        """Check the report's path, bind the server (``UsageError`` when they can't)."""
        settings = self.settings
        if settings.report is not None:
            self.report = _report(settings, self.warn)
        if settings.serve is not None:
            from ..output.html.live import ServeNotifier

            self.server = _server(settings)
            self.served = ServeNotifier(self.server, interval=settings.stats_interval)
            self.server.start()
            self.warn(f"serving {self.server.url}")

    def around(self, notifier: Notifier) -> Notifier:
        extra: list[Notifier] = [n for n in (self.report, self.served) if n is not None]
        return Tee([notifier, *extra]) if extra else notifier

    def watch(self, monitor: Monitor, base: Notifier) -> None:
        """Give the views what they show besides the records; take the terminal for
        the dashboard."""
        if self.settings.dashboard:
            import curses

            from ..output.dashboard import DashboardNotifier

            assert isinstance(base, DashboardNotifier)
            self.dashboard = base
            base.probe, base.on_quit = monitor.live, monitor.quit
            try:
                base.open()
            except curses.error as error:
                raise UsageError(f"--dashboard can't use this terminal: {error}") from None
        if self.report is not None:
            self.report.summary_so_far = monitor.summary
        if self.served is not None:
            self.served.probe = monitor.live

    def close(self) -> None:
        if self.dashboard is not None:
            self.dashboard.close()
        if self.server is not None:
            self.server.stop()


def _report(settings: Settings, warn: Callable[[str], None]) -> ReportNotifier:
    path = settings.report
    assert path is not None
    if os.path.isdir(path):
        raise UsageError(f"--report {path} is a directory")
    try:
        atomic.check_writable(path)
    except OSError as error:
        raise UsageError(f"cannot write the report {path}: {error.strerror or error}") from None
    for other in settings.paths:
        if other != "-" and os.path.exists(path) and _same_file(other, path):
            raise UsageError(f"--report {path} is one of the inputs")
    return ReportNotifier(path, interval=settings.stats_interval, live=settings.follow, warn=warn)


def _same_file(one: str, other: str) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False


def _tls(settings: Settings) -> ssl.SSLContext | None:
    """The server side of TLS, from ``--tls-cert`` and ``--tls-key`` (None: none)."""
    if settings.tls_cert is None:
        return None
    import ssl

    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        tls.load_cert_chain(settings.tls_cert, settings.tls_key)
    except (OSError, ssl.SSLError) as error:
        reason = getattr(error, "strerror", None) or error
        raise UsageError(f"cannot use --tls-cert {settings.tls_cert}: {reason}") from None
    return tls


def _listeners(settings: Settings, warn: Callable[[str], None]) -> list[Source]:
    """The listeners of ``--listen``, bound and started (their URLs said on stderr)."""
    if not settings.listen:
        return []
    options = ListenOptions(
        credentials=settings.listen_auth, max_body=settings.max_body, tls=_tls(settings)
    )
    listeners: list[Source] = []
    for url in settings.listen:
        listener = open_listener(url, options)
        listeners.append(listener)
        warn(f"listening on {listener.url}")
    return listeners


def _server(settings: Settings) -> LiveServer:
    from ..output.html.live import LiveServer

    assert settings.serve is not None
    tls = _tls(settings)
    host, port = settings.serve
    try:
        return LiveServer((host, port), credentials=settings.serve_auth, tls=tls)
    except OSError as error:
        raise UsageError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


@contextlib.contextmanager
def _signals(monitor: Monitor) -> Iterator[None]:
    """SIGINT and SIGTERM ask the monitor to stop (and print its summary); SIGHUP makes
    followed files be looked at again (logrotate's postrotate)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        monitor.request_stop(signum)

    def reopen(signum: int, frame: FrameType | None) -> None:
        for lane in monitor.lanes:
            lane.source.reopen()

    handlers = {signal.SIGINT: stop, signal.SIGTERM: stop}
    if any(lane.source.live for lane in monitor.lanes):
        handlers[signal.SIGHUP] = reopen
    previous = {signum: signal.signal(signum, handler) for signum, handler in handlers.items()}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _detach(stdout: TextIO) -> None:
    """The reader of stdout went away: point stdout at /dev/null so that the final flush
    at exit doesn't complain (as the Python docs advise for SIGPIPE)."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stdout.fileno())
