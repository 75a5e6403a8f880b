"""``--from-store FILE``: the summary and the report of a range of stored minutes,
without the logs (docs/store.md, "Reading a range").

The range is of whole minutes: those that start at or after ``--since`` and end at or
before ``--until``.  Its counts are summed again from the minutes' rows
(``rows.read_stats``); the rules active at the range's end are those whose last stored
record there is an alert.  The report also gets each minute as a stats window and the
stored alerts and recoveries, so its pictures are the range's.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..calculators.panels import MINUTE
from ..calculators.stats import Stats
from ..errors import UsageError
from ..families import FAMILIES, Family
from ..output import Notifier, RunInfo
from ..output.history import MAX_POINTS, Point
from ..reports import AlertReport, Report, RuleState, Summary
from ..settings import Settings
from ..words import local_time
from . import rows
from .schema import open_store

#: The stats windows a live page starts with, at most.
PAST_WINDOWS = 4 * MAX_POINTS
#: The summary's key of the traffic rule's start (as a run's, docs/json.md).
TRAFFIC = "traffic"


@dataclass(slots=True, frozen=True, kw_only=True)
class StoredAlert(AlertReport):
    """An alert or recovery read back from the store, as it was written."""

    data: dict[str, Any]

    @classmethod
    def of(cls, data: dict[str, Any]) -> StoredAlert:
        kind = str(data["type"])
        rule = str(data.get("rule", TRAFFIC))
        return cls(data=data, rule=rule, kind=kind, time=int(data["time"]), raised=kind == "alert")

    def to_json(self) -> dict[str, Any]:
        return dict(self.data)

    def describe(self, unit: str) -> str:
        """``errors: alert at 2019-02-07T21:16:18+00:00, value 15.2, threshold 5``."""
        value, threshold = self.data.get("value"), self.data.get("threshold")
        said = f"{self.rule}: {self.kind} at {local_time(self.time)}"
        if isinstance(value, (int, float)) and isinstance(threshold, (int, float)):
            said += f", value {value:,.4g}, threshold {threshold:,.4g}"
        return said


def family_of(db: sqlite3.Connection, path: str) -> tuple[Family, dict[str, str]]:
    meta = dict(db.execute("SELECT key, value FROM meta"))
    family = FAMILIES.get(meta.get("family", ""))
    if family is None:
        raise UsageError(f"{path} holds no minute yet")
    return family, meta


def minutes_of(settings: Settings) -> rows.Range:
    """The first and last minute of ``--since`` / ``--until`` (whole minutes)."""
    since, until = settings.selection.since, settings.selection.until
    first = 0 if since is None else -(-since // MINUTE) * MINUTE
    last = (1 << 62) if until is None else until // MINUTE * MINUTE - MINUTE
    return first, last


def replay(settings: Settings, notifier: Notifier, report: Notifier | None) -> Summary:
    """Print the summary of the stored range (``report``: the HTML report's notifier,
    which also gets the minutes and the alerts)."""
    assert settings.from_store is not None
    db = open_store(settings.from_store, write=False)
    try:
        return _replay(db, settings, notifier, report)
    except (sqlite3.Error, KeyError, TypeError, ValueError) as error:  # (a damaged one)
        raise UsageError(f"cannot read the store {settings.from_store}: {error!r}") from None
    finally:
        db.close()


def _replay(
    db: sqlite3.Connection, settings: Settings, notifier: Notifier, report: Notifier | None
) -> Summary:
    assert settings.from_store is not None
    family, meta = family_of(db, settings.from_store)
    span = minutes_of(settings)
    run = RunInfo(
        path=settings.from_store,
        format_name=meta.get("format"),
        format_description=f"{meta.get('description')}, stored minutes",
        stats_interval=MINUTE,
        filters=tuple(settings.selection.as_options()),
        lateness=settings.lateness,
        follow=False,
        unit=family.unit,
        noun=family.noun,
    )
    alerts = _alerts(db, span[0], span[1] + MINUTE)
    notifier.start(run)
    if report is not None:
        report.start(run)
        _minutes_to(report.emit, db, family, settings, span, alerts)
    summary = _summary(db, family, settings, span)
    notifier.finish(summary)
    if report is not None:
        report.finish(summary)
    return summary


def _summary(
    db: sqlite3.Connection,
    family: Family,
    settings: Settings,
    span: rows.Range,
) -> Summary:
    events, late, invalid, first, last, most = db.execute(
        "SELECT TOTAL(events), TOTAL(late), TOTAL(invalid), MIN(first), MAX(last),"
        " MAX(max_lateness) FROM minutes WHERE minute BETWEEN ? AND ?",
        span,
    ).fetchone()
    stats = Stats(family, top_n=settings.top, bounded=True)
    rows.read_stats(db, span, stats)
    # Each rule's state at the range's end: its last alert or recovery by then.
    since: dict[str, int | None] = {TRAFFIC: None}
    query = "SELECT rule, type, time FROM alerts WHERE time < ? ORDER BY time, id"
    for rule, kind, time in db.execute(query, (span[1] + MINUTE,)):
        since[rule] = time if kind == "alert" else None
    return Summary(
        events=int(events),
        invalid=int(invalid),
        late=int(late),
        first=first,
        last=last,
        max_lateness=most or 0,
        lateness_seconds=settings.lateness,
        totals=stats.report(first or 0, last + 1 if last is not None else 0),
        rules=tuple(
            RuleState(
                name=rule,
                rule=rule,
                since=start,
                json_key="alert_since" if rule == TRAFFIC else "",
                always_listed=rule == TRAFFIC,
            )
            for rule, start in since.items()
        ),
    )


def past(path: str, before: int) -> list[Point | AlertReport]:
    """The stats windows that end by ``before`` (the last ``PAST_WINDOWS``) and the
    alerts and recoveries among them, in order: what a live page shows of the runs
    before (empty without a store yet)."""
    if not os.path.exists(path):
        return []
    db = open_store(path, write=False)
    try:
        query = "SELECT * FROM windows WHERE end <= ? ORDER BY start DESC LIMIT ?"
        found = db.execute(query, (before, PAST_WINDOWS)).fetchall()
        if not found:
            return []
        points = [
            Point(start, end, hits, json.loads(classes), None if p50 is None else (p50, p95, p99))
            for start, end, hits, classes, p50, p95, p99 in reversed(found)
        ]
        alerts = _alerts(db, points[0].start, before)
        items: list[Point | AlertReport] = [*points, *alerts]
        return sorted(
            items,
            key=lambda item: (
                item.end - 1 if isinstance(item, Point) else item.time,
                isinstance(item, Point),
            ),
        )
    except (sqlite3.Error, KeyError, TypeError, ValueError):
        return []  # (a past that can't be read: the page starts empty, as without one)
    finally:
        db.close()


def _alerts(db: sqlite3.Connection, first: int, end: int) -> list[StoredAlert]:
    """The stored alerts and recoveries of the seconds ``[first, end)``, in order."""
    query = "SELECT record FROM alerts WHERE time >= ? AND time < ? ORDER BY time, id"
    return [StoredAlert.of(json.loads(record)) for (record,) in db.execute(query, (first, end))]


def _minutes_to(
    emit: Callable[[Report], None],
    db: sqlite3.Connection,
    family: Family,
    settings: Settings,
    span: rows.Range,
    alerts: list[StoredAlert],
) -> None:
    """Each minute of the range as a stats window, the alerts in their order."""
    pending = list(reversed(alerts))
    query = "SELECT minute FROM minutes WHERE minute BETWEEN ? AND ? ORDER BY minute"
    for (minute,) in db.execute(query, span).fetchall():
        while pending and pending[-1].time < minute + MINUTE:
            emit(pending.pop())
        stats = Stats(family, top_n=settings.top)
        rows.read_stats(db, (minute, minute), stats)
        emit(stats.report(minute, minute + MINUTE))
    while pending:
        emit(pending.pop())
