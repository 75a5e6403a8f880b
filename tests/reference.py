"""SPEC §2-§6 computed the slow and obvious way, for brute-force comparisons.

No heap, no deque, no incremental totals: lateness by a running maximum, every alert
second by summing the raw events of its window, every stats window by scanning all
accepted events.  Slow (seconds x window), independent of the code under test.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, NamedTuple


class Event(NamedTuple):
    time: int
    section: str
    source: str
    status: int
    size: int


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
    """The records and summary SPEC defines for ``events`` (in arrival order) read from
    a finished input."""
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
                            "time": second,
                            "hits": hits,
                            "average": average,
                            "threshold": float(threshold),
                            "window": alert_window,
                        },
                    )
                )
        for start in sorted({e.time - e.time % stats_interval for e in accepted}):
            inside = [e for e in accepted if start <= e.time < start + stats_interval]
            timed.append(
                (
                    start + stats_interval - 1,
                    2,
                    {
                        "type": "stats",
                        "start": start,
                        "end": start + stats_interval,
                        "hits": len(inside),
                        "sections": _top(Counter(e.section for e in inside), top),
                        "sources": _top(Counter(e.source for e in inside), top),
                        "status": dict(
                            sorted(Counter(f"{e.status // 100}xx" for e in inside).items())
                        ),
                        "bytes": sum(e.size for e in inside),
                    },
                )
            )
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
    }
    return [record for _, _, record in timed] + [summary]
