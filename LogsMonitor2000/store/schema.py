"""The store's tables (docs/store.md, "Schema"), and opening a store.

A store is an SQLite database in WAL mode: the monitor writes a transaction per closed
minute while other processes read.  Its schema version is SQLite's ``user_version``;
``MIGRATIONS[n]`` takes a store from version n to n + 1, so a store written by an
older version is brought up to date when it is opened for writing, and one written by
a newer version is refused rather than misread.
"""

from __future__ import annotations

import sqlite3

from ..errors import UsageError

#: What version n -> n + 1 runs (each in one transaction).  Never edit a step once
#: released: add one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    -- One row per closed minute (its start, in seconds since the epoch).
    CREATE TABLE minutes (
        minute INTEGER PRIMARY KEY,
        events INTEGER NOT NULL,
        late INTEGER NOT NULL,
        invalid INTEGER NOT NULL,
        bytes INTEGER,
        first INTEGER,
        last INTEGER,
        max_lateness INTEGER NOT NULL
    );
    -- Counts of a top list or of classes (sections, sources, status classes...).
    CREATE TABLE counts (
        minute INTEGER NOT NULL,
        panel TEXT NOT NULL,
        key TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (minute, panel, key)
    ) WITHOUT ROWID;
    -- A figure that is no count, as JSON: durations (a sketch), the slowest operations.
    CREATE TABLE figures (
        minute INTEGER NOT NULL,
        panel TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (minute, panel)
    ) WITHOUT ROWID;
    -- A panel's entries (requests, not_found, browsers..., visit_time by hour,
    -- visitors by day): the top ones of the minute
    CREATE TABLE entries (
        minute INTEGER NOT NULL,
        panel TEXT NOT NULL,
        key TEXT NOT NULL,
        day TEXT NOT NULL,
        hits INTEGER NOT NULL,
        visitors INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        overcount INTEGER NOT NULL,
        times TEXT,
        ids BLOB,
        PRIMARY KEY (minute, panel, key, day)
    ) WITHOUT ROWID;
    -- The distinct visitors of a minute, per local date.
    CREATE TABLE visitors (
        minute INTEGER NOT NULL,
        day TEXT NOT NULL,
        count INTEGER NOT NULL,
        ids BLOB,
        PRIMARY KEY (minute, day)
    ) WITHOUT ROWID;
    -- The stats windows as a live page draws them: hits, the charted classes (JSON)
    -- and the duration percentiles.
    CREATE TABLE windows (
        start INTEGER PRIMARY KEY,
        end INTEGER NOT NULL,
        hits INTEGER NOT NULL,
        classes TEXT NOT NULL,
        p50 REAL,
        p95 REAL,
        p99 REAL
    );
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,
        type TEXT NOT NULL,
        rule TEXT NOT NULL,
        value REAL,
        threshold REAL,
        window INTEGER,
        record TEXT NOT NULL,
        UNIQUE (time, rule, type)
    );
    -- Python logging records: posted to the record API (kept 0), or read by the
    -- pipeline and written with their minute (kept 1).
    CREATE TABLE records (
        id INTEGER PRIMARY KEY,
        created REAL NOT NULL,
        minute INTEGER NOT NULL,
        kept INTEGER NOT NULL,
        level INTEGER NOT NULL,
        levelname TEXT NOT NULL,
        name TEXT NOT NULL,
        message TEXT NOT NULL,
        sender TEXT,
        exc_type TEXT,
        data TEXT NOT NULL,
        meta TEXT NOT NULL
    );
    CREATE INDEX records_created ON records (created);
    CREATE INDEX records_minute ON records (minute);
    CREATE INDEX records_level ON records (level, created);
    CREATE INDEX records_name ON records (name, created);
    CREATE INDEX alerts_time ON alerts (time);
    """,
)
VERSION = len(MIGRATIONS)
#: How long a writer waits for another's lock before it gives up.
BUSY_MS = 10_000


def open_store(path: str, *, write: bool) -> sqlite3.Connection:
    """The store at ``path``, its schema brought up to date when written to
    (``UsageError`` when it can't be opened, or is no store of this version)."""
    uri = f"file:{path}" + ("" if write else "?mode=ro")
    try:
        db = sqlite3.connect(
            uri, uri=True, isolation_level=None, timeout=BUSY_MS / 1000, check_same_thread=False
        )
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > VERSION:
            raise UsageError(f"{path} is a store of a newer version ({version}): upgrade")
        if write:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # (WAL: a crash loses no commit)
            for step in range(version, VERSION):
                _migrate(db, step)
        elif version < VERSION:
            raise UsageError(f"{path} is no store (or one of an older version: --store it once)")
    except sqlite3.Error as error:
        raise UsageError(f"cannot open the store {path}: {error}") from None
    return db


def _migrate(db: sqlite3.Connection, step: int) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        for statement in MIGRATIONS[step].split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {step + 1}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
