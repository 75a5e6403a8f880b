"""The command line's options, declared in the groups ``--help`` shows them in.

Each option's text is parsed into its value here (an argparse type: a number, a time,
a list, a size); the rules between options live in ``rules.py``, and nothing here
reads a file or opens a socket.
"""

from __future__ import annotations

import argparse
import difflib
import math
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TextIO, TypeVar

from .. import __version__
from ..calculators.expression import parse_rule, whole_seconds
from ..errors import UsageError
from ..inputs.listen import MAX_BODY
from ..net.addresses import DEFAULT_HOST, check_http_url, listen_address
from ..parsers import PARSERS
from ..parsers.jsonlog import parse_json_fields
from ..parsers.pylog import level_number
from ..pipeline import filters
from .help import DESCRIPTION, EXAMPLES, Formatter, program_name

PROG = "LogsMonitor2000"

Value = TypeVar("Value")


class _ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error becomes a ``UsageError`` (one line, exit 2), and
    ``--help`` goes to the stream given."""

    stdout: TextIO | None = None

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments: "):
            actions = self._option_string_actions
            known = [option for option in actions if option.startswith("--")]
            #: An older spelling (hidden from --help) is named by the one --help shows.
            shown = {
                actions[option].dest: option
                for option in known
                if actions[option].help != argparse.SUPPRESS
            }
            for word in message.split()[2:]:
                close = difflib.get_close_matches(word.partition("=")[0], known, n=1, cutoff=0.7)
                if word.startswith("--") and close:
                    named = shown.get(actions[close[0]].dest, close[0])
                    message += f" (did you mean {named}?)"
                    break
        raise UsageError(message)

    def _print_message(self, message: str, file: Any = None) -> None:
        if message:
            (self.stdout or file or sys.stdout).write(message)


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


def _positive_float(text: str) -> float:
    value = _non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text!r}")
    return value


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


def argument_parser(stdout: TextIO | None = None) -> argparse.ArgumentParser:
    """The options, in their groups; ``--help`` and ``--version`` write to ``stdout``
    (standard output when None)."""
    prog = program_name()
    parser = _ArgumentParser(
        prog=prog,
        usage=f"{prog} [options] FILE... | --listen URL | --from-store FILE",
        description=DESCRIPTION,
        epilog=EXAMPLES.format(prog=prog),
        formatter_class=Formatter,
        allow_abbrev=False,
    )
    parser.stdout = stdout
    inputs = parser.add_argument_group("what to read")
    inputs.add_argument(
        "files",  # (--path's dest is "paths": a filter)
        nargs="*",
        metavar="FILE",
        help="the logs, read as one run (a rotated set, several servers); - for standard "
        "input; gzip is read transparently",
    )
    inputs.add_argument(
        "--format",
        dest="log_format",
        choices=["auto", *PARSERS],
        default="auto",
        help="the log format (default: auto, decided from the first lines)",
    )
    inputs.add_argument(
        "--log-format",
        dest="format_string",
        metavar="FORMAT",
        help="the format string the server writes with: nginx log_format ($remote_addr "
        "... $request_time) or Apache LogFormat (%%h %%l %%u %%t ...), or combined, common, "
        "vhost_combined, main",
    )
    inputs.add_argument(
        "--json-fields",
        metavar="ROLE=KEY,...",
        type=_option(_json_fields),
        help="--format json: the keys of the fields, dotted for nested ones "
        "(time=ts,source=request.remote_ip,request=...,status=...,bytes=...,duration=...:ns)",
    )
    inputs.add_argument(
        "--jobs",
        "-j",
        type=_positive_int,
        default=None,
        metavar="N",
        help="processes reading a large finished CSV or Combined log (default: one per "
        "core, for a log of 4 lines a second or more; 1 reads in one process)",
    )
    counting = parser.add_argument_group("windows and alerts")
    counting.add_argument(
        "--stats-interval",
        type=_positive_int,
        default=10,
        metavar="SECONDS",
        help="length of the stats windows (default: 10)",
    )
    counting.add_argument(
        "--alert-window",
        type=_positive_int,
        default=120,
        metavar="SECONDS",
        help="the high-traffic alert averages over this many seconds (default: 120)",
    )
    counting.add_argument(
        "--threshold",
        type=_non_negative_float,
        default=10.0,
        metavar="PER_SECOND",
        help="alert when the average exceeds this many hits per second (default: 10)",
    )
    counting.add_argument(
        "--slow-ms",
        type=_non_negative_float,
        metavar="MS",
        help="also alert when the p95 duration over the alert window exceeds MS "
        "milliseconds (MongoDB, or an access log with a request time)",
    )
    counting.add_argument(
        "--alert",
        dest="alerts",
        action="append",
        default=[],
        type=_option(parse_rule),
        metavar="RULE",
        help="also alert on RULE (repeatable): 'rate(/api) > 50/s over 1m', "
        "'share(5xx) > 5%% over 5m', 'p99 > 800ms over 2m', "
        "'rate < 0.3x baseline(1h) over 5m'; 'NAME: RULE' names it",
    )
    counting.add_argument(
        "--buffer",
        dest="lateness",
        type=_non_negative_int,
        default=2,
        metavar="SECONDS",
        help="allowed lateness of out-of-order lines (default: 2)",
    )
    shown = parser.add_argument_group("output")
    shown.add_argument(
        "--output",
        choices=["text", "json"],  # (app.OUTPUTS)
        default="text",
        help="text for people (default) or JSON lines for scripts",
    )
    shown.add_argument(
        "--top",
        type=_non_negative_int,
        default=5,
        metavar="N",
        help="entries in each top list (default: 5)",
    )
    shown.add_argument(
        "--no-color",
        dest="color",
        action="store_false",
        default=None,
        help="no colour (there is none either when stdout is not a terminal or " "NO_COLOR is set)",
    )
    shown.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="name the first invalid records and their line numbers on stderr",
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
    shared.add_argument(
        "--alertmanager",
        metavar="URL",
        type=_option(check_http_url),
        help="POST each alert and recovery to Prometheus Alertmanager (URL/api/v2/alerts; "
        "user:password@ for basic auth)",
    )
    shared.add_argument(
        "--alertmanager-resend",
        type=_positive_float,
        default=60.0,
        metavar="SECONDS",
        help="send the active alerts to Alertmanager again this often, so that it doesn't "
        "resolve them (default: 60; keep it below its resolve_timeout)",
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
    history = parser.add_argument_group("history")
    history.add_argument(
        "--store",
        metavar="FILE",
        help="keep the history in this SQLite database (each minute's counts, the alerts, "
        "logging records); http:// listeners then take Chronologer's record API too",
    )
    history.add_argument(
        "--retain",
        metavar="DURATION",
        type=_option(lambda text: whole_seconds(text, text)),
        default=30 * 86400,
        help="with --store: delete what is older, in log time (default: 30d)",
    )
    history.add_argument(
        "--from-store",
        metavar="FILE",
        help="read no logs: the summary (and --report) of stored minutes, --since to --until",
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
