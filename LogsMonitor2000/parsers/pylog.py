"""Python ``logging`` records, ``--format pylog``: one ``LogRecord``'s attributes per
line, form-encoded (what ``logging.handlers.HTTPHandler`` sends, its body or its query
string) or as a JSON object.

An event per record: its time is ``created`` (epoch seconds, a float), its section the
logger ``name``, its method the ``levelname`` (from ``levelno`` when absent), its source
the sender's address (``_sender``, which the HTTP listener puts first; ``-`` in a file).
Windows count records, their levels and top loggers, and the type of a record's
exception (from ``exc_info`` or the last line of ``exc_text``; never its message).  A
line that is not a record, or lacks or mistypes ``created`` or the level, is invalid.

``--level`` and ``--name`` filter records as Chronologer's ``level`` and ``name`` do:
that level and above, logger names starting with one of the prefixes.

Also here: what the HTTP listener turns its payloads into before they are parsed:
``json_lines`` (a JSON body as one object per line), ``record_line`` (a form-encoded
record with its sender) and ``watch_row`` (a pymongowatch record as the CSV row
``mongo.py`` reads, exactly as pymongowatch's CSV formatter writes it).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, cast
from urllib.parse import quote, unquote_plus

from ..bounds import MAX_KEY_CHARS
from ..families.pylog import PYLOG as RECORDS
from ..families.pylog import LogBatch
from ..pipeline.filters import Filter
from .access_fields import MAX_SECOND
from .base import EventSink, LineParser, Rejects
from .jsontext import clean_text, dumps, loads
from .mongo import COLUMNS
from .syslog_header import parse_message

PYLOG = "pylog"

#: The standard levels by name (``--level`` takes a name or a number).
LEVEL_NUMBERS = {"CRITICAL": 50, "FATAL": 50, "ERROR": 40, "WARN": 30, "WARNING": 30}
LEVEL_NUMBERS |= {"INFO": 20, "DEBUG": 10, "NOTSET": 0}

#: The type in ``exc_info``'s text: ``(<class 'ValueError'>, ValueError('...'), ...)``.
_EXC_INFO = re.compile(r"\(<class '([\w.]{1,200})'>")
#: The type in ``exc_text``'s last line: ``ValueError: ...`` or ``pkg.Error``.
_EXC_LAST = re.compile(r"([\w.]{1,200})(?::|$)")

#: The most attributes a record has (a form with more is none).
MAX_FIELDS = 500


def level_number(level: str) -> int | None:
    """``ERROR`` or ``40`` as 40; None for anything else."""
    level = level.strip().upper()
    if level.isdigit() and len(level) <= 3:
        return int(level)
    return LEVEL_NUMBERS.get(level)


#: The attributes a record is counted by (``PylogParser``).
COUNTED = frozenset(
    {"created", "levelname", "levelno", "name", "_sender", "_stored", "exc_info", "exc_text"}
)


#: The attributes that make a form or an object a logging record (``is_record``).
RECORD_FIELDS = frozenset({"name", "msg", "levelname", "levelno", "created"})


def is_record(fields: Mapping[str, str]) -> bool:
    """Whether attributes are a ``LogRecord``'s: a logger's name, and a message or a
    level (``HTTPHandler`` sends them all)."""
    return "name" in fields and ("msg" in fields or "levelname" in fields)


def fields_of(line: str, wanted: frozenset[str] | None = None) -> dict[str, str] | None:
    """A record's attributes from its line (form-encoded or JSON); None if it is none.
    ``wanted``: those that are needed (a form's others are not decoded)."""
    line = line.strip()
    if line.startswith("{"):
        try:
            data = loads(line)
            if not isinstance(data, dict):
                return None
            return {str(key): _text(value) for key, value in data.items()}
        except (ValueError, RecursionError):  # (no JSON, or too deep to write again)
            return None
    if "=" not in line or line.count("&") >= MAX_FIELDS:
        return None
    return form_fields(line, wanted)


def form_fields(form: str, wanted: frozenset[str] | None = None) -> dict[str, str]:
    """A form's fields (the first value of each), as ``urllib.parse.parse_qs`` with
    ``keep_blank_values`` reads them, in a fraction of its time: only what is encoded
    is decoded, and of the ``wanted`` fields only (``HTTPHandler`` sends a record's
    twenty-odd attributes, most of them plain, and a count needs seven)."""
    fields: dict[str, str] = {}
    for pair in form.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        if "%" in key or "+" in key:
            key = unquote_plus(key)
        if wanted is not None and key not in wanted:
            continue
        if key not in fields:
            fields[key] = unquote_plus(value) if "%" in value or "+" in value else value
    return fields


def _text(value: Any) -> str:
    if value is None:
        return "None"
    return value if isinstance(value, str) else json.dumps(value)


def exception_type(fields: Mapping[str, str]) -> str | None:
    """The type of the record's exception, if it has one (never its message)."""
    info = fields.get("exc_info", "None")
    found = _EXC_INFO.match(info)
    if found is not None:
        return found.group(1)
    text = fields.get("exc_text", "None")
    if text not in ("None", ""):
        last = text.strip().splitlines()[-1] if text.strip() else ""
        found = _EXC_LAST.match(last)
        if found is not None:
            return found.group(1)
    return None


class PylogParser(LineParser):
    """``--format pylog`` (see the module's docstring)."""

    name = PYLOG
    description = "Python logging records"
    family = RECORDS
    carries_vhost = False
    carries_duration = False

    def __init__(self, sink: EventSink, rejects: Rejects, selection: Filter | None = None) -> None:
        self._batch_for = cast(Callable[[int], LogBatch | None], sink.batch_for)
        self.rejects = rejects
        self.selection = selection
        self.skipped = 0
        self.headers = 0
        self._lines_before = 0

    def feed(self, block: str) -> None:
        lines = block.splitlines()
        for index, line in enumerate(lines):
            if line.strip():
                reason = self._record(line)
                if reason is not None:
                    self.rejects.add(self._lines_before + index + 1, line, reason)
        self._lines_before += len(lines)

    def _record(self, line: str) -> str | None:
        """Count one record; why it is invalid (None: it is not)."""
        fields = fields_of(line, COUNTED)
        if fields is None:
            return "not a logging record (form-encoded or JSON attributes)"
        try:
            created = float(fields.get("created", ""))
        except ValueError:
            return "no created time"
        if not 0 <= created <= MAX_SECOND:
            return "created is not a time"
        given = fields.get("levelname", "").strip()
        number = level_number(fields.get("levelno", ""))  # (a custom level has one too)
        if number is None:
            number = level_number(given)
        if number is None:
            return "no level"
        levelname = (
            given.upper()[:MAX_KEY_CHARS]
            if given and not given.isdigit()
            else level_name_of(number)
        )
        name = fields.get("name", "root")[:MAX_KEY_CHARS] or "root"
        second = math.floor(created)
        if self.selection is not None:
            selection = self.selection
            if not (
                selection.keeps_second(second)
                and selection.keeps_record(number, name, fields.get("_sender", "-"), levelname)
            ):
                selection.filtered += 1
                return None
        batch = self._batch_for(second)
        if batch is None:
            return None  # late, and counted as such
        batch.hits += 1
        if self.keep_records and "_stored" not in fields:  # (the record API stored it)
            batch.lines.append(line)
        for counts, key in (
            (batch.sections, name),
            (batch.sources, fields.get("_sender", "-")[:MAX_KEY_CHARS]),
            (batch.levels, levelname),
            (batch.severities, str(number)),
        ):
            counts[key] = counts.get(key, 0) + 1
        kind = exception_type(fields)
        if kind is not None:
            kind = kind[:MAX_KEY_CHARS]
            batch.exceptions[kind] = batch.exceptions.get(kind, 0) + 1
        return None


def level_name_of(number: int) -> str:
    return {50: "CRITICAL", 40: "ERROR", 30: "WARNING", 20: "INFO", 10: "DEBUG"}.get(
        number, f"Level {number}"
    )


# -- what the HTTP listener hands over -------------------------------------------------


def json_lines(text: str, sender: str | None = None) -> str:
    """A JSON body (an object, an array of them, or one per line) as one object per
    line; ``ValueError`` when it is one JSON value that can't be read.  ``sender``: put
    in each object as ``_sender`` (a Python logging record's source; it replaces one
    the object says).

    A body of JSON lines is not decoded here: the parser decodes each line anyway (and
    counts those that are no object invalid), so ``_sender`` is written in as text, at
    the end of the object, where a decoder takes it over an earlier one."""
    stripped = text.strip()
    if not stripped:
        return ""
    if stripped.startswith("[") or "\n" not in stripped or _one_value(stripped):
        try:
            whole = loads(stripped)
        except ValueError:
            if not any(line.lstrip().startswith("{") for line in stripped.splitlines()[1:]):
                raise
            return _with_sender(stripped, sender)  # (lines, the first of them no JSON)
        items: list[Any] = whole if isinstance(whole, list) else [whole]
        lines = []
        for item in items:
            if sender is not None and isinstance(item, dict):
                item = {**item, "_sender": sender}
            try:
                lines.append(dumps(item) + "\n")
            except ValueError:  # (too deep to write: the parser counts it invalid)
                lines.append("[]\n")
        return "".join(lines)
    return _with_sender(stripped, sender)


def _with_sender(text: str, sender: str | None) -> str:
    """JSON lines, each object's last key ``_sender`` (when there is a sender)."""
    if sender is None:
        return text.replace("\r", "") + "\n"
    tail = ',"_sender":' + json.dumps(sender) + "}"
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if line.endswith("}") and line.startswith("{"):
            line = line[:-1].rstrip() + (tail if line[1:-1].strip() else tail[1:])
        if line:
            lines.append(line + "\n")
    return "".join(lines)


def _one_value(text: str) -> bool:
    """Whether a JSON text of several lines is one value (an object written over
    several lines), not one per line: its first line is not a whole object."""
    first = text.partition("\n")[0].strip()
    return not (first.startswith("{") and first.endswith("}"))


#: Syslog severities (RFC 5424) as logging's level names: ``SysLogHandler`` sends
#: CRITICAL as 2, ERROR as 3, WARNING as 4, INFO as 6 and DEBUG as 7.
SEVERITY_LEVELS = ("CRITICAL", "CRITICAL", "CRITICAL", "ERROR", "WARNING", "INFO", "INFO", "DEBUG")
#: A logger's name in front of a message (a formatter of ``%(name)s: %(message)s``).
_NAME_PREFIX = re.compile(r"([\w.\-]{1,128})(?:\[[0-9]{1,10}\])?: ")


def syslog_lines(messages: list[bytes], sender: str, *, records: bool) -> dict[str, str]:
    """Syslog messages as lines, by the host they came from (their HOSTNAME, else
    ``sender``); with ``records``, a message that is no JSON record becomes a logging
    record (``syslog_record``)."""
    by_host: dict[str, list[str]] = {}
    for message in messages:
        parsed = parse_message(message)
        host, text = parsed.host or sender, parsed.text
        if records and not text.lstrip().startswith("{"):
            text = syslog_record(
                text,
                severity=parsed.severity,
                tag=parsed.tag,
                sender=host,
                created=parsed.time if parsed.time is not None else time.time(),
            )
        by_host.setdefault(host, []).append(text + "\n")
    return {host: "".join(lines) for host, lines in by_host.items()}


def syslog_record(
    text: str, *, severity: int | None, tag: str | None, sender: str, created: float
) -> str:
    """A syslog message that is not a JSON record (what ``SysLogHandler`` sends with its
    default formatter) as a logging record's line: the level from its severity, the
    logger from its tag or a ``name:`` in front of it (``-`` when neither), the time
    ``created`` (the header's, or when it came)."""
    name = tag
    if name is None:
        found = _NAME_PREFIX.match(text)
        if found is not None:
            name, text = found.group(1), text[found.end() :]
    level = SEVERITY_LEVELS[severity] if severity is not None else "INFO"
    record = {
        "created": created,
        "name": name or "-",
        "levelname": level,
        "levelno": LEVEL_NUMBERS[level],
        "msg": text,
        "_sender": sender,
    }
    return json.dumps(record)


def record_line(text: str, sender: str) -> str:
    """A form-encoded record as a line of ``pylog``, its sender first."""
    return f"_sender={quote(sender)}&" + text.replace("\n", "").replace("\r", "")


#: pymongowatch's message as ``str()`` writes it: ``Key=value`` pairs, a value being a
#: quoted string, JSON (a filter), or a word.
_PAIR = re.compile(r"\s*(\w+)=")
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")
_WORD = re.compile(r"\S*")
_MESSAGE_TIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}),([0-9]{3})$")


def watch_fields(message: str) -> dict[str, str]:
    """The operation's fields in a pymongowatch message (``WatchID='...' DB='shop'
    ...``)."""
    fields: dict[str, str] = {}
    at = 0
    while True:
        pair = _PAIR.match(message, at)
        if pair is None:
            return fields
        key, at = pair.group(1), pair.end()
        if message.startswith("'", at):
            quoted = _QUOTED.match(message, at)
            if quoted is None:
                return fields
            value = clean_text(
                quoted.group(1)
                .encode("latin-1", "backslashreplace")
                .decode("unicode_escape", "replace")
            )
            at = quoted.end()
        elif message.startswith(("{", "["), at):
            end = _balanced_end(message, at)
            if end < 0:
                return fields
            value, at = message[at:end], end
        else:
            word = _WORD.match(message, at)
            assert word is not None
            value, at = word.group(0), word.end()
        fields[key] = value


def _balanced_end(text: str, at: int) -> int:
    """Where the bracketed value at ``at`` ends: JSON, or the Python ``str`` of a filter
    JSON can't hold (``ObjectId(...)``); -1 when it doesn't."""
    depth, quote, escaped = 0, "", False
    for i in range(at, len(text)):
        char = text[i]
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "{[(":
            depth += 1
        elif char in "}])":
            depth -= 1
            if depth == 0:
                return i + 1
    return -1


def watch_row(text: str) -> str | None:
    """A pymongowatch record (form-encoded) as the CSV row ``--format mongo`` reads;
    None when it is not one (a logger outside ``pymongo.watcher``).  The operation's
    fields are the record's attributes (pymongowatch's old-style formatter support) or
    those of its message."""
    fields = fields_of(text)
    if fields is None or not fields.get("name", "").startswith("pymongo.watcher"):
        return None
    if "WatchID" not in fields:
        fields = {**watch_fields(fields.get("msg", "")), "name": fields["name"]}
    values = [fields.get("name", "")] + [_csv_value(fields.get(column)) for column in COLUMNS[1:]]
    row = io.StringIO()
    csv.writer(row, dialect="unix", quoting=csv.QUOTE_MINIMAL).writerow(values)
    return row.getvalue().rstrip("\n")


def _csv_value(value: str | None) -> str:
    """An attribute as pymongowatch's CSV holds it (None is empty, times with micro-
    seconds)."""
    if value is None or value == "None":
        return ""
    found = _MESSAGE_TIME.match(value)
    return f"{found.group(1)}.{found.group(2)}000" if found is not None else value
