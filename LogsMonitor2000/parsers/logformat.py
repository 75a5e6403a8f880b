"""``--log-format``: the format string the server wrote its access log with.

nginx ``log_format`` (``$remote_addr - $remote_user [$time_local] "$request" ...``) or
Apache ``LogFormat`` (``%h %l %u %t \\"%r\\" %>s %b %D``) is compiled into one regular
expression for the whole line, and a picker that lays a match's fields out as the
records ``HttpEvents.fold_timed`` counts.  The fields understood:

=============  =======================================  ===============================
role           nginx                                    Apache
=============  =======================================  ===============================
time           ``$time_local`` ``$time_iso8601``        ``%t`` ``%{FORMAT}t``
               ``$msec``                                (strftime, or ``sec`` ``msec``
                                                        ``usec``; ``begin:``/``end:``)
client         ``$remote_addr`` ``$realip_remote_addr``  ``%h`` ``%a`` ``%{c}a``
request        ``$request``, or ``$request_method`` and  ``%r``, or ``%m`` and ``%U``
               ``$request_uri`` (``$uri``)
status         ``$status``                              ``%>s`` ``%s``
bytes          ``$body_bytes_sent`` ``$bytes_sent``     ``%b`` ``%B`` ``%O``
request time   ``$request_time`` (s)                    ``%D`` (us) ``%T`` (s)
                                                        ``%{ms}T`` ``%{us}T`` ``%{s}T``
virtual host   ``$host`` ``$server_name`` ``$http_host``  ``%v`` ``%V``
user           ``$remote_user``                         ``%u``
referrer       ``$http_referer``                        ``%{Referer}i``
user agent     ``$http_user_agent``                     ``%{User-Agent}i``
=============  =======================================  ===============================

A field between double quotes takes everything up to its closing quote (as the server
escapes a quote inside: nginx as ``\x22``, Apache as ``\"``).  An unquoted field takes
everything up to the literal text that follows it in the format - a delimiter, or the
next field's known shape - so a value may hold spaces (a ``$remote_user`` of ``bob
smith``, Apache's decoded ``%U``, a user agent in a tab- or pipe-separated format), and
may be empty (nginx's ``$host`` of a request it could not read).  A time, a status,
bytes and a request time keep their shapes; a client address and a method are words.

nginx's ``$upstream_*`` values are lists when a request went to several upstreams
(``0.000, 0.002`` after a fail-over, ``... : ...`` after an internal redirect): the
list is read, and its first value counts (``$upstream_response_time`` as the request
time when the format has no ``$request_time``, ``$upstream_status`` as the status when
it has no ``$status``).

A format that yields no time or no status can't count anything, and one whose double
quotes don't pair up is a typo: both are refused (``FormatError``).  Quotes escaped as
in Apache's configuration (``\"%r\"``) are read as quotes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, ClassVar

from ..errors import FormatError
from ..families import Family
from ..families.http import HTTP
from ..pipeline.filters import Filter
from .base import EventSink, LineParser, Rejects
from .access_fields import HttpEvents
from .format_times import time_reader

#: The usual names, as the servers define them (``combined`` and ``common`` are read by
#: the Common/Combined Log Format parser, which takes anything after the bytes).
NAMED = {
    "vhost_combined": '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"',
    "combined": '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"',
    "common": '%h %l %u %t "%r" %>s %b',
    "main": (
        '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
        '"$http_referer" "$http_user_agent" "$http_x_forwarded_for"'
    ),
}

_CLF_TIME = r"[0-9]{2}/[A-Za-z]{3}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}"
_ISO_TIME = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?"
)
_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
_WORD = r"\S+"
#: An unquoted value that may hold spaces or be empty: up to what follows it.
_LAZY = r".*?"
#: nginx's list of an upstream value per upstream tried: its first value is captured.
_UPSTREAM_TIMES = r"([0-9.]+|-)(?:(?:, | : )(?:[0-9.]+|-))*"
_UPSTREAM_STATUSES = r"([0-9]{3}|-)(?:(?:, | : )(?:[0-9]{3}|-))*"
#: A value between double quotes as Apache escapes it (a quote inside as \"; nginx writes
#: \x22): no backtracking to find where it ends.
_QUOTED = r'[^"\\]*(?:\\.[^"\\]*)*'


#: Roles of a record, in the order of ``fold_timed``'s 12 fields (ident, the opaque one
#: of access CSV, is never used).
ROLES = (
    "source",
    "ident",
    "user",
    "time",
    "request",
    "status",
    "bytes",
    "duration",
    "vhost",
    "method",
    "referrer",
    "agent",
)


@dataclass(frozen=True)
class _Field:
    """What a variable or directive stands for."""

    role: str | None
    pattern: str
    #: For a time: how to read it; for a request time: its unit in ms.
    how: str = ""
    scale: float = 1.0
    #: Text the directive writes around the value (Apache's ``%t``: its brackets).
    around: tuple[str, str] = ("", "")
    #: Only when no other field has its role (an upstream's time, an upstream's status).
    fallback: bool = False
    #: Its pattern captures a group of its own (a list's first value).
    captures: bool = False


def _nginx_field(name: str) -> _Field:
    table = {
        "remote_addr": _Field("source", _WORD),
        "realip_remote_addr": _Field("source", _WORD),
        "remote_user": _Field("user", _LAZY),
        "time_local": _Field("time", _CLF_TIME, "clf"),
        "time_iso8601": _Field("time", _ISO_TIME, "iso"),
        "msec": _Field("time", _NUMBER, "seconds"),
        "request": _Field("request", _LAZY),
        "request_method": _Field("method", _WORD),
        "request_uri": _Field("uri", _WORD),
        "uri": _Field("uri", _WORD),
        "status": _Field("status", r"[0-9]{3}"),
        "body_bytes_sent": _Field("bytes", r"[0-9]+|-"),
        "bytes_sent": _Field("bytes", r"[0-9]+|-"),
        "request_time": _Field("duration", r"[0-9.]+|-", scale=1000.0),
        "upstream_response_time": _Field(
            "duration", _UPSTREAM_TIMES, scale=1000.0, fallback=True, captures=True
        ),
        "upstream_status": _Field("status", _UPSTREAM_STATUSES, fallback=True, captures=True),
        "http_referer": _Field("referrer", _LAZY),
        "http_user_agent": _Field("agent", _LAZY),
        "host": _Field("vhost", r"\S*"),  # (empty for a request nginx could not read)
        "server_name": _Field("vhost", r"\S*"),
        "http_host": _Field("vhost", r"\S*"),
        "is_args": _Field(None, r"\??"),
        "args": _Field(None, r"(?:(?<=\?)\S*)?"),  # (after $is_args: only after its "?")
        "server_protocol": _Field(None, _WORD),
    }
    return table.get(name, _Field(None, _LAZY))  # (other upstream lists: opaque)


def _apache_field(letter: str, argument: str | None) -> _Field:
    if letter == "t":
        if argument is None:
            return _Field("time", _CLF_TIME, "clf", around=("[", "]"))
        how = argument.removeprefix("begin:").removeprefix("end:")
        if how in ("sec", "msec", "usec", "msec_frac", "usec_frac"):
            return _Field("time", r"[0-9]+", how)
        return _Field("time", _LAZY, "strftime:" + how)
    if letter == "T":
        unit = {"ms": 1.0, "us": 0.001, "s": 1000.0}.get(argument or "s", 1000.0)
        return _Field("duration", r"[0-9]+|-", scale=unit)
    table = {
        "h": _Field("source", _WORD),
        "a": _Field("source", _WORD),
        "u": _Field("user", _LAZY),
        "r": _Field("request", _LAZY),
        "m": _Field("method", _WORD),
        "U": _Field("uri", _LAZY),
        "s": _Field("status", r"[0-9]{3}"),
        "b": _Field("bytes", r"[0-9]+|-"),
        "B": _Field("bytes", r"[0-9]+"),
        "O": _Field("bytes", r"[0-9]+"),
        "D": _Field("duration", r"[0-9]+|-", scale=0.001),
        "v": _Field("vhost", _WORD),
        "V": _Field("vhost", _WORD),
        "p": _Field(None, r"[0-9]+"),
        "q": _Field(None, r"(?:\?\S*)?"),  # (the query string, with its "?", or "")
        "H": _Field(None, _WORD),
    }
    if letter == "i" and argument is not None and argument.lower() in _HEADERS:
        return _Field(_HEADERS[argument.lower()], _LAZY)
    if argument is not None and letter in "aCeinoxp":
        if letter == "a" and argument == "c":
            return _Field("source", _WORD)
        return _Field(None, _LAZY)
    return table.get(letter, _Field(None, _LAZY))


#: Apache's request headers (``%{Referer}i``) the panels read, by role.
_HEADERS = {"referer": "referrer", "user-agent": "agent"}
#: The roles whose value, between quotes, may hold spaces as the server escapes them.
_WORDS_QUOTED = (None, "user", "vhost", "uri", "source", "method", "referrer", "agent")

_NGINX = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")
_APACHE = re.compile(r"%(?:[<>]?(?:!?[0-9]+(?:,[0-9]+)*)?(?:\{([^}]*)\})?[<>]?([A-Za-z%]))")


def is_nginx(text: str) -> bool:
    """Whether a format string is nginx's ($variables) rather than Apache's (%x)."""
    return "$" in text and not re.search(r"%[<>{a-zA-Z]", text)


def _tokens(text: str) -> list[str | _Field]:
    """The format as literal text and fields; ``FormatError`` when its quotes don't
    pair up."""
    text = text.replace('\\"', '"')  # (as Apache's configuration escapes them)
    nginx = is_nginx(text)
    pattern = _NGINX if nginx else _APACHE
    tokens: list[str | _Field] = []
    position = 0
    for found in pattern.finditer(text):
        tokens.append(text[position : found.start()])
        position = found.end()
        if nginx:
            tokens.append(_nginx_field(found.group(1) or found.group(2)))
        elif found.group(2) == "%":
            tokens.append("%")
        else:
            tokens.append(_apache_field(found.group(2), found.group(1)))
    tokens.append(text[position:])
    literal = [token for token in tokens if isinstance(token, str)]
    if sum(token.count('"') for token in literal) % 2:
        raise FormatError(
            f"the log format {text!r} has an unbalanced double quote: copy it as the server's "
            "configuration has it"
        )
    return [token for token in tokens if token != ""]


@dataclass
class LogFormat:
    """A compiled format string (see the module docstring)."""

    text: str
    regex: re.Pattern[str]
    #: A match's groups -> the record of 12 fields.
    pick: Callable[[Sequence[str]], Sequence[str]]
    to_second: Callable[[str], int | None]
    #: The request field holds the URI alone (``$request_uri``, ``%U``).
    uri: bool
    duration_scale: float
    carries_vhost: bool
    carries_duration: bool
    #: The roles found (for the description and the checks).
    roles: frozenset[str] = field(default_factory=frozenset)


def compile_format(text: str) -> LogFormat:
    """``--log-format``: a name from ``NAMED`` or a format string; ``FormatError`` when
    it can't count anything."""
    text = NAMED.get(text, text)
    tokens = _tokens(text)
    nginx = is_nginx(text)
    # A fallback field counts only when no other field has its role.
    given = {token.role for token in tokens if isinstance(token, _Field) and not token.fallback}
    parts: list[str] = []
    group_of: dict[str, int] = {}  # role -> its group (1-based)
    fields: dict[str, _Field] = {}
    for index, token in enumerate(tokens):
        if isinstance(token, str):
            parts.append(re.escape(token))
            continue
        before = tokens[index - 1] if index > 0 else ""
        after = tokens[index + 1] if index + 1 < len(tokens) else ""
        quoted = isinstance(before, str) and before.endswith('"')
        quoted = quoted and isinstance(after, str) and after.startswith('"')
        # Between quotes: the request as Common Log Format reads it (a quote may be in
        # it, from a client that sent one), a value that may hold spaces as the server
        # escapes it; a value of a known shape keeps it.
        if quoted and token.role == "request":
            pattern = _LAZY
        elif quoted and token.role in _WORDS_QUOTED:
            pattern = r'[^"]*' if nginx else _QUOTED  # (nginx writes no quote in a value)
        else:
            pattern = token.pattern
        opening, closing = (re.escape(side) for side in token.around)
        counted = token.role is not None
        if token.fallback and token.role in given:
            counted = False
        if not counted or token.role in fields:  # the first of a role counts
            if token.captures:  # (its own group is not wanted)
                pattern = pattern.replace("(", "(?:", 1)
            parts.append(f"{opening}(?:{pattern}){closing}")
            continue
        assert token.role is not None
        fields[token.role] = token
        group_of[token.role] = len(group_of) + 1
        if token.captures:
            parts.append(f"{opening}{pattern}{closing}")
        else:
            parts.append(f"{opening}({pattern}){closing}")
    missing = [name for name in ("time", "status") if name not in fields]
    if missing:
        raise FormatError(
            f"the log format {text!r} has no {' and no '.join(missing)}: it can't be counted"
        )
    regex = re.compile("".join(parts) + r"[ \t\r]*()$")
    empty = len(group_of) + 1  # the last group, always "": a field the format doesn't carry
    target = "request" if "request" in fields else "uri" if "uri" in fields else None
    order = [
        group_of.get(target if role == "request" and target else role, empty) for role in ROLES
    ]
    getter = itemgetter(*(i - 1 for i in order))
    pick: Callable[[Sequence[str]], Sequence[str]] = getter
    defaults = {
        ROLES.index(role): value
        for role, value in (("source", "-"), ("request", "-"), ("bytes", "-"))
        if group_of.get(target if role == "request" and target else role) is None
    }
    if defaults:
        pick = _defaulted(getter, defaults)
    return LogFormat(
        text=text,
        regex=regex,
        pick=pick,
        to_second=time_reader(fields["time"].how),
        uri=target == "uri",
        duration_scale=fields["duration"].scale if "duration" in fields else 1.0,
        carries_vhost="vhost" in fields,
        carries_duration="duration" in fields,
        roles=frozenset(fields),
    )


def _defaulted(
    getter: Callable[[Sequence[str]], Any], defaults: dict[int, str]
) -> Callable[[Sequence[str]], Sequence[str]]:
    """A picker for a format without a client, a request or bytes: ``-`` stands for
    them (no client, no path, 0 bytes)."""

    def pick(groups: Sequence[str]) -> Sequence[str]:
        record = list(getter(groups))
        for index, value in defaults.items():
            record[index] = value
        return record

    return pick


#: What a line that doesn't match stands as (HttpEvents calls it unusual).
_NOT_MATCHED: tuple[str, ...] = ()

#: Lines matched at a time.
SUB_BLOCK_LINES = 1024


class LogFormatParser(LineParser):
    """Reads lines of a format string into HTTP events (``fold_timed``)."""

    family: ClassVar[Family] = HTTP

    def __init__(
        self,
        sink: EventSink,
        rejects: Rejects,
        selection: Filter | None = None,
        *,
        log_format: LogFormat,
        name: str,
        description: str,
    ) -> None:
        self.name = name
        self.description = description
        self.carries_vhost = log_format.carries_vhost
        self.carries_duration = log_format.carries_duration
        self.rejects = rejects
        self.skipped = 0
        self.headers = 0
        self._format = log_format
        self._events = HttpEvents(
            sink,
            log_format.to_second,
            header=None,
            selection=selection,
            uri=log_format.uri,
            duration_scale=log_format.duration_scale,
        )
        self._lines_before = 0

    def feed(self, block: str) -> None:
        lines = block.split("\n")
        lines.pop()  # the block ends with "\n"
        for start in range(0, len(lines), SUB_BLOCK_LINES):
            self._parse(lines[start : start + SUB_BLOCK_LINES])

    def _parse(self, lines: list[str]) -> None:
        pick = self._format.pick
        records = [
            _NOT_MATCHED if found is None else pick(found.groups())
            for found in map(self._format.regex.match, lines)
        ]

        def unusual(index: int, reason: str | None) -> None:
            line = lines[index]
            if reason is None:
                if not line or line.isspace():
                    return  # a blank line
                reason = f"not of the format {self._format.text!r}"
            self.rejects.add(self._lines_before + index + 1, line, reason)

        self._events.fold_timed(records, unusual)
        self._lines_before += len(lines)


class LogFormatFactory:
    """A format string as a parser factory (``--log-format``, or a named format that
    detection tries)."""

    family = HTTP

    def __init__(self, name: str, text: str, description: str | None = None) -> None:
        self.name = name
        self.format = compile_format(text)
        kind = "nginx log_format" if is_nginx(self.format.text) else "Apache LogFormat"
        self.description = description or kind
        self.carries_vhost = self.format.carries_vhost
        self.carries_duration = self.format.carries_duration

    def __call__(
        self, sink: EventSink, rejects: Rejects, selection: Filter | None = None
    ) -> LogFormatParser:
        return LogFormatParser(
            sink,
            rejects,
            selection,
            log_format=self.format,
            name=self.name,
            description=self.description,
        )
