"""Python logging records in the store: a record's row, and the record API's queries
(docs/store.md, "Chronologer's record API").

A record is stored as its time (``created``), level, logger name, message, sender and
exception type, with its other attributes as JSON: ``data`` holds what the application
added (``extra=``), ``meta`` the attributes every ``LogRecord`` has.  Every query's
values are bound parameters: nothing a client sends is ever part of the SQL.
"""

from __future__ import annotations

import ast
import json
import sqlite3
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from ..parsers.access_fields import MAX_SECOND
from ..parsers.pylog import exception_type, level_name_of, level_number

#: The attributes of every ``LogRecord`` (``meta``); the others are ``data``.
META = frozenset(
    "name msg args levelname levelno pathname filename module exc_info exc_text stack_info "
    "lineno funcName created msecs relativeCreated thread threadName processName process "
    "taskName message asctime".split()
)
#: What the listener and the pipeline add to a record (never stored as its data).
PRIVATE = frozenset({"_sender", "_stored"})
#: The longest ``args`` a message is formatted with.
MAX_ARGS = 10_000
#: The most records one page holds.
MAX_PAGE = 10_000
#: The columns a record is read back from.
COLUMNS = "id, created, level, levelname, name, message, sender, exc_type, data, meta"


class BadRecord(ValueError):
    """Attributes that are no logging record (the reason)."""


def record_row(fields: Mapping[str, str], *, sender: str, kept: bool) -> tuple[Any, ...]:
    """The ``records`` row of a record's attributes (``BadRecord`` when they are none):
    (created, minute, kept, level, levelname, name, message, sender, exc_type, data, meta)."""
    try:
        created = float(fields.get("created", ""))
    except ValueError:
        raise BadRecord("no created time") from None
    if not 0 <= created <= MAX_SECOND:  # (NaN too)
        raise BadRecord("created is not a time")
    level = level_number(fields.get("levelno", ""))  # (a custom level has one too)
    if level is None:
        level = level_number(fields.get("levelname", ""))
    if level is None:
        raise BadRecord("no level")
    name = fields.get("name") or "root"
    data = {key: value for key, value in fields.items() if key not in META | PRIVATE}
    meta = {key: value for key, value in fields.items() if key in META}
    return (
        created,
        int(created // 60 * 60),
        int(kept),
        level,
        fields.get("levelname") or level_name_of(level),  # (as the parser names it)
        name,
        message_of(fields),
        sender,
        exception_type(fields),
        json.dumps(data, ensure_ascii=False),
        json.dumps(meta, ensure_ascii=False),
    )


def message_of(fields: Mapping[str, str]) -> str:
    """The record's message: ``message`` when the sender formatted it, else ``msg %
    args`` when ``args`` is a literal that formats it, else ``msg``."""
    if "message" in fields:
        return fields["message"]
    msg, args = fields.get("msg", ""), fields.get("args", "()")
    if args in ("()", "None", "", "{}") or len(args) > MAX_ARGS or "%" not in msg:
        return msg
    try:
        return str(msg % ast.literal_eval(args))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError, KeyError):
        return msg


def insert(db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> int | None:
    """Insert records (in the caller's transaction); the last one's id."""
    if not rows:
        return None
    db.executemany(
        "INSERT INTO records (created, minute, kept, level, levelname, name, message, sender,"
        " exc_type, data, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    found: int = db.execute("SELECT last_insert_rowid()").fetchone()[0]
    return found


class Query:
    """The filters of a request: ``after``, ``before`` (ISO-8601), ``level`` (a number:
    that level and above), ``name`` (comma-separated logger prefixes).  ``ValueError``
    with a reason for one that can't be read."""

    def __init__(self, params: Mapping[str, str]) -> None:
        where: list[str] = ["1"]
        values: list[Any] = []
        for key, sign in (("after", ">="), ("before", "<")):
            if params.get(key):
                where.append(f"created {sign} ?")
                values.append(_timestamp(params[key], key))
        if params.get("level"):
            level = level_number(params["level"])
            if level is None:
                raise ValueError("level is a number (or a level's name)")
            where.append("level >= ?")
            values.append(level)
        names = [name for name in params.get("name", "").split(",") if name]
        if names:
            where.append("(" + " OR ".join(["substr(name, 1, ?) = ?"] * len(names)) + ")")
            for name in names:
                values += [len(name), name]
        self.where = " AND ".join(where)
        self.values = values

    def count(self, db: sqlite3.Connection) -> int:
        query = f"SELECT COUNT(*) FROM records WHERE {self.where}"
        return int(db.execute(query, self.values).fetchone()[0])

    def groups(self, db: sqlite3.Connection, group: str, zone: tzinfo) -> dict[str, int]:
        """Counts per local hour or day (ISO-8601 start of each, in ``zone``).  SQLite
        counts per quarter of an hour of UTC (every time zone's offset is whole quarters),
        which are then put in their local hour or day."""
        query = (
            "SELECT CAST(created / 900 AS INTEGER) AS quarter, COUNT(*) FROM records"
            f" WHERE {self.where} GROUP BY quarter ORDER BY quarter"
        )
        counts: dict[str, int] = {}
        for quarter, count in db.execute(query, self.values):
            moment = datetime.fromtimestamp(quarter * 900, timezone.utc).astimezone(zone)
            start = moment.replace(minute=0, second=0, microsecond=0)
            if group == "day":
                start = start.replace(hour=0)  # (the offset of its own wall time)
            key = start.isoformat()
            counts[key] = counts.get(key, 0) + count
        return counts

    def page(self, db: sqlite3.Connection, left: int, right: int) -> list[dict[str, Any]]:
        """Records ``left`` to ``right`` (inclusive), newest first."""
        query = (
            f"SELECT {COLUMNS} FROM records WHERE {self.where}"
            " ORDER BY created DESC, id DESC LIMIT ? OFFSET ?"
        )
        found = db.execute(query, [*self.values, right - left + 1, left])
        return [shown(row, full=False) for row in found]


def one(db: sqlite3.Connection, record: int) -> dict[str, Any] | None:
    found = db.execute(f"SELECT {COLUMNS} FROM records WHERE id = ?", (record,)).fetchone()
    return None if found is None else shown(found, full=True)


def shown(row: tuple[Any, ...], *, full: bool) -> dict[str, Any]:
    """A record as the API shows it (``full``: with its ``logrec``)."""
    record, created, level, levelname, name, message, sender, exc_type, data, meta = row
    shown: dict[str, Any] = {
        "id": record,
        "name": name,
        "ts": datetime.fromtimestamp(created, timezone.utc).isoformat(),
        "level": level,
        "levelname": levelname,
        "message": message,
        "sender": sender,
        "exc_type": exc_type,
    }
    if full:
        shown["logrec"] = {"data": json.loads(data), "meta": json.loads(meta)}
    return shown


def _timestamp(text: str, key: str) -> float:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
        if moment.tzinfo is None:
            moment = moment.astimezone()  # (local time, as the summary's times are)
        return (moment - datetime(1970, 1, 1, tzinfo=timezone.utc)) / timedelta(seconds=1)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"{key} is an ISO-8601 time (2024-05-01T12:00:00Z)") from None
