"""docs/counting.md computed the slow and obvious way, for brute-force comparisons.

No heap, no deque, no incremental totals: lateness by a running maximum, every alert
second by summing the raw events of its window, every stats window by scanning all
accepted events.  Slow (seconds x window), independent of the code under test.
"""

from __future__ import annotations

import csv
import heapq
import io
import math
from collections import Counter
from datetime import datetime
from typing import Any, NamedTuple

from LogsMonitor2000.parsers.shapes import query_shape


class Event(NamedTuple):
    time: int
    section: str
    source: str
    status: int
    size: int
    #: The request time in ms, when the format has one; the virtual host.
    ms: float | None = None
    vhost: str | None = None


def _top(counts: Counter[str], n: int) -> list[list[Any]]:
    return [[key, count] for key, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][
        :n
    ]


def reference(
    events: list[Event],
    *,
    lateness: int = 2,
    alert_window: int = 120,
    threshold: float = 10.0,
    stats_interval: int = 10,
    top: int = 5,
) -> list[dict[str, Any]]:
    """The records and summary docs/counting.md defines for ``events`` (in arrival order) read from
    a finished input."""
    return reference_several(
        [events],
        lateness=lateness,
        alert_window=alert_window,
        threshold=threshold,
        stats_interval=stats_interval,
        top=top,
    )


def accept(events: list[Event], lateness: int) -> tuple[list[Event], int, int]:
    """docs/counting.md, "Time" for one input: its accepted events, how many were late, the largest
    lateness."""
    newest: int | None = None
    accepted: list[Event] = []
    late = max_lateness = 0
    for event in events:
        if newest is not None and event.time < newest - lateness:
            late += 1
            max_lateness = max(max_lateness, newest - event.time)
            continue
        newest = event.time if newest is None else max(newest, event.time)
        max_lateness = max(max_lateness, newest - event.time)
        accepted.append(event)
    return accepted, late, max_lateness


def reference_several(
    inputs: list[list[Event]],
    *,
    lateness: int = 2,
    alert_window: int = 120,
    threshold: float = 10.0,
    stats_interval: int = 10,
    top: int = 5,
    names: list[str] | None = None,
    vhosts: bool = False,
) -> list[dict[str, Any]]:
    """docs/counting.md, "Several inputs": finished inputs, each judged late on its own, counted together; the
    summary has ``inputs`` when there are several (named by ``names``).  ``vhosts``: the
    format carries a virtual host (a request time shows where the events have one)."""
    per_input = [accept(events, lateness) for events in inputs]
    accepted = [event for kept, _, _ in per_input for event in kept]
    late = sum(n for _, n, _ in per_input)
    max_lateness = max((m for _, _, m in per_input), default=0)

    timed: list[tuple[int, int, dict[str, Any]]] = []
    alert_since = None
    if accepted:
        first = min(e.time for e in accepted)
        last = max(e.time for e in accepted)
        per_second = Counter(e.time for e in accepted)
        alerting = False
        for second in range(first, last + 1):
            hits = sum(per_second[s] for s in range(second - alert_window + 1, second + 1))
            average = hits / alert_window
            if alerting != (average > threshold):
                alerting = average > threshold
                alert_since = second if alerting else None
                timed.append(
                    (
                        second,
                        0,
                        {
                            "type": "alert" if alerting else "recovery",
                            "rule": "traffic",
                            "time": second,
                            "value": average,
                            "hits": hits,
                            "average": average,
                            "threshold": float(threshold),
                            "window": alert_window,
                        },
                    )
                )
        for start in sorted({e.time - e.time % stats_interval for e in accepted}):
            inside = [e for e in accepted if start <= e.time < start + stats_interval]
            timed.append((start + stats_interval - 1, 2, _http_stats(inside, top, vhosts)))
            timed[-1][2].update(start=start, end=start + stats_interval)
    timed.sort(key=lambda item: (item[0], item[1]))
    summary = {
        "type": "summary",
        "events": len(accepted),
        "invalid": 0,
        "late": late,
        "first": min((e.time for e in accepted), default=None),
        "last": max((e.time for e in accepted), default=None),
        "max_lateness": max_lateness,
        "alert_since": alert_since,
        "active": [] if alert_since is None else ["traffic"],
    }
    # docs/counting.md, "The summary": the whole run's totals in the stats record's shapes.
    totals = _http_stats(accepted, top, vhosts)
    del totals["type"], totals["hits"]
    summary.update(totals)
    if len(inputs) > 1:
        summary["inputs"] = [
            {
                "name": name,
                "events": len(kept),
                "invalid": 0,
                "late": n,
                "first": min((e.time for e in kept), default=None),
                "last": max((e.time for e in kept), default=None),
                "max_lateness": m,
            }
            for name, (kept, n, m) in zip(names or [f"{i}" for i in range(len(inputs))], per_input)
        ]
    return [record for _, _, record in timed] + [summary]


def _http_stats(events: list[Event], top: int, vhosts: bool) -> dict[str, Any]:
    """A window's (or the run's) HTTP stats."""
    stats: dict[str, Any] = {
        "type": "stats",
        "hits": len(events),
        "sections": _top(Counter(e.section for e in events), top),
        "sources": _top(Counter(e.source for e in events), top),
        "status": dict(sorted(Counter(f"{e.status // 100}xx" for e in events).items())),
        "bytes": sum(e.size for e in events),
    }
    if vhosts:
        stats["vhosts"] = _top(Counter(e.vhost for e in events if e.vhost), top)
    known = sorted(e.ms for e in events if e.ms is not None)
    if known:
        stats["duration"] = {
            "p50": _nearest(known, 50),
            "p95": _nearest(known, 95),
            "p99": _nearest(known, 99),
            "max": known[-1],
        }
    return stats


class Operation(NamedTuple):
    time: int
    namespace: str
    operation: str
    ms: float | None
    shape: str


def mongo_operations(text: str) -> tuple[list[Operation], dict[str, int]]:
    """docs/counting.md, "MongoDB" read the obvious way: the events of a pymongowatch CSV in arrival
    order, and the counts of invalid rows and unfinished operations."""
    columns = [
        "WatcherName",
        "WatchID",
        "Iteration",
        "StartTime",
        "EndTime",
        "DB",
        "Collection",
        "Operation",
        "Filter",
        "Duration",
        "MatchedCount",
        "InsertedCount",
        "UpsertedCount",
        "ModifiedCount",
        "DeletedCount",
    ]

    def when(value: str) -> int | None:
        if value in ("", "None"):
            return None
        for layout in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
            try:
                return math.floor(datetime.strptime(value, layout).timestamp())
            except ValueError:
                pass
        raise ValueError(value)

    events, invalid, started, finished = [], 0, set(), set()
    for row in csv.reader(io.StringIO(text, newline="")):
        if not row:
            continue
        if "WatchID" in row and "Iteration" in row:
            columns = row
            continue
        if len(row) != len(columns):
            invalid += 1
            continue
        field = dict(zip(columns, row))
        try:
            start, end = when(field["StartTime"]), when(field["EndTime"])
            duration = None if field["Duration"] in ("", "None") else float(field["Duration"])
        except ValueError:
            invalid += 1
            continue
        wid = field["WatchID"]
        if not wid:
            invalid += 1
        elif wid in finished:
            pass
        elif not field["Iteration"].startswith("final"):
            started.add(wid)
        elif end is None and start is None:
            invalid += 1
        else:
            started.discard(wid)
            finished.add(wid)
            events.append(
                Operation(
                    time=start if end is None else end,
                    namespace=f"{field['DB']}.{field['Collection']}",
                    operation=field["Operation"],
                    ms=None if duration is None else duration * 1000.0,
                    shape=query_shape(field["Filter"]),
                )
            )
    return events, {"invalid": invalid, "unfinished": len(started)}


def _nearest(ordered: list[float], percent: int) -> float:
    return ordered[max(1, math.ceil(percent * len(ordered) / 100 - 1e-9)) - 1]


def mongo_reference(
    text: str,
    *,
    lateness: int = 2,
    alert_window: int = 120,
    threshold: float = 10.0,
    stats_interval: int = 10,
    top: int = 5,
    slow_ms: float | None = None,
) -> list[dict[str, Any]]:
    """The records and summary docs/counting.md defines for a pymongowatch CSV read to its end."""
    operations, counts = mongo_operations(text)
    newest: int | None = None
    accepted: list[Operation] = []
    late = max_lateness = 0
    for op in operations:
        if newest is not None and op.time < newest - lateness:
            late += 1
            max_lateness = max(max_lateness, newest - op.time)
            continue
        newest = op.time if newest is None else max(newest, op.time)
        max_lateness = max(max_lateness, newest - op.time)
        accepted.append(op)
    timed: list[tuple[int, int, dict[str, Any]]] = []
    alert_since = slow_since = None
    if accepted:
        first, last = min(o.time for o in accepted), max(o.time for o in accepted)
        alerting = slow = False
        for second in range(first, last + 1):
            inside = [o for o in accepted if second - alert_window < o.time <= second]
            average = len(inside) / alert_window
            if alerting != (average > threshold):
                alerting = average > threshold
                alert_since = second if alerting else None
                timed.append(
                    (
                        second,
                        0,
                        {
                            "type": "alert" if alerting else "recovery",
                            "rule": "traffic",
                            "time": second,
                            "value": average,
                            "hits": len(inside),
                            "average": average,
                            "threshold": float(threshold),
                            "window": alert_window,
                        },
                    )
                )
            if slow_ms is not None:
                known = sorted(o.ms for o in inside if o.ms is not None)
                p95 = _nearest(known, 95) if known else None
                now_slow = p95 is not None and p95 > slow_ms
                if slow != now_slow:
                    slow = now_slow
                    slow_since = second if slow else None
                    timed.append(
                        (
                            second,
                            1,
                            {
                                "type": "slow" if slow else "slow-recovery",
                                "time": second,
                                "p95": p95,
                                "count": len(known),
                                "window": alert_window,
                                "threshold_ms": float(slow_ms),
                            },
                        )
                    )
        for start in sorted({o.time - o.time % stats_interval for o in accepted}):
            inside = [o for o in accepted if start <= o.time < start + stats_interval]
            known = sorted(o.ms for o in inside if o.ms is not None)
            record: dict[str, Any] = {
                "type": "stats",
                "start": start,
                "end": start + stats_interval,
                "hits": len(inside),
                "sections": _top(Counter(o.namespace for o in inside), top),
                "methods": _top(Counter(o.operation for o in inside), top),
            }
            if known:
                record["duration"] = {
                    "p50": _nearest(known, 50),
                    "p95": _nearest(known, 95),
                    "p99": _nearest(known, 99),
                    "max": known[-1],
                }
            record["slowest"] = _slowest(inside)
            timed.append((start + stats_interval - 1, 2, record))
    timed.sort(key=lambda item: (item[0], item[1]))
    summary = {
        "type": "summary",
        "events": len(accepted),
        "invalid": counts["invalid"],
        "late": late,
        "first": min((o.time for o in accepted), default=None),
        "last": max((o.time for o in accepted), default=None),
        "max_lateness": max_lateness,
        "unfinished": counts["unfinished"],
        "alert_since": alert_since,
        "active": (["traffic"] if alert_since is not None else [])
        + (["slow operations"] if slow_since is not None else []),
        "sections": _top(Counter(o.namespace for o in accepted), top),
        "methods": _top(Counter(o.operation for o in accepted), top),
    }
    if slow_since is not None:
        summary["slow_since"] = slow_since
    known = sorted(o.ms for o in accepted if o.ms is not None)
    if known:
        summary["duration"] = {
            "p50": _nearest(known, 50),
            "p95": _nearest(known, 95),
            "p99": _nearest(known, 99),
            "max": known[-1],
        }
    summary["slowest"] = _slowest(accepted)
    return [record for _, _, record in timed] + [summary]


def _slowest(operations: list[Operation]) -> list[dict[str, Any]]:
    slowest = heapq.nlargest(
        3, [(o.ms, o.namespace, o.operation, o.shape) for o in operations if o.ms is not None]
    )
    return [
        {"ms": ms, "namespace": ns, "operation": op, "shape": shape}
        for ms, ns, op, shape in slowest
    ]
