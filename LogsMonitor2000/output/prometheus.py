"""``GET /metrics``: the Prometheus text exposition format (version 0.0.4).

One monitor per host, scraped by Prometheus: its federation adds the hosts up and
Alertmanager routes the alerts.  The counters come from ``calculators/metrics.py``
(monotonic, bounded labels); late, invalid and filtered from the summary so far; the
gauges from the traffic alert.
"""

from __future__ import annotations

from ..calculators.counters import BUCKETS, EventCounters
from . import LiveState

PREFIX = "logsmonitor2000_"
#: The Content-Type Prometheus expects.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def exposition(state: LiveState) -> str:
    """The metrics, as the text Prometheus scrapes."""
    summary, counters = state.summary, state.counters
    family = _Families()
    noun = {"operation": "operations", "record": "logging records"}.get(state.unit, "events")
    if counters is not None:
        family.add(
            "events_total",
            "counter",
            f"Accepted {noun} (not late, not filtered).",
            [("", counters.events)],
        )
        if state.unit == "hit":
            family.add(
                "responses_total",
                "counter",
                "Accepted events by status class.",
                [
                    (_labels(status_class=key), count)
                    for key, count in sorted(counters.statuses.items())
                ],
            )
            family.add(
                "response_bytes_total",
                "counter",
                "Bytes sent, as the log says.",
                [("", counters.bytes_total)],
            )
            family.add(
                "section_events_total",
                "counter",
                "Accepted events by section (the busiest ones; the rest as other).",
                [(_labels(section=key), count) for key, count in counters.sections.counts.items()],
            )
        elif state.unit == "record":
            family.add(
                "level_records_total",
                "counter",
                "Accepted logging records by level.",
                [(_labels(level=key), count) for key, count in sorted(counters.statuses.items())],
            )
            family.add(
                "logger_records_total",
                "counter",
                "Accepted logging records by logger (the busiest ones; the rest as other).",
                [(_labels(logger=key), count) for key, count in counters.sections.counts.items()],
            )
            family.add(
                "exception_records_total",
                "counter",
                "Accepted logging records by exception type (the first ones; the rest as other).",
                [(_labels(type=key), count) for key, count in counters.methods.counts.items()],
            )
        else:
            family.add(
                "namespace_operations_total",
                "counter",
                "Accepted operations by namespace (the busiest ones; the rest as other).",
                [
                    (_labels(namespace=key), count)
                    for key, count in counters.sections.counts.items()
                ],
            )
            family.add(
                "operation_operations_total",
                "counter",
                "Accepted operations by operation (the busiest ones; the rest as other).",
                [(_labels(operation=key), count) for key, count in counters.methods.counts.items()],
            )
        if counters.durations:
            family.histogram(counters)
    family.add(
        "late_events_total",
        "counter",
        "Events that arrived later than the allowed lateness.",
        [("", summary.late)],
    )
    family.add(
        "invalid_records_total", "counter", "Records skipped as invalid.", [("", summary.invalid)]
    )
    if summary.filtered is not None:
        family.add(
            "filtered_events_total",
            "counter",
            "Events turned away by the filters.",
            [("", summary.filtered)],
        )
    family.add(
        "alert_active",
        "gauge",
        "1 while the high traffic alert is active.",
        [("", int(summary.alert_since is not None))],
    )
    family.add(
        "alert_average_per_second",
        "gauge",
        f"The average {noun} per second over the alert window.",
        [("", state.average)],
    )
    family.add(
        "alert_threshold_per_second",
        "gauge",
        "The average above which the alert is raised.",
        [("", state.threshold)],
    )
    if state.slow_ms is not None:
        family.add(
            "slow_alert_active",
            "gauge",
            "1 while the slow alert (p95 duration over --slow-ms) is active.",
            [("", int(summary.slow_since is not None))],
        )
    if summary.last is not None:
        family.add(
            "last_event_timestamp_seconds",
            "gauge",
            "The log time of the newest event, in seconds since the epoch.",
            [("", summary.last)],
        )
    return "".join(family.lines)


class _Families:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        self.lines.append(f"# HELP {PREFIX}{name} {help_text}\n# TYPE {PREFIX}{name} {kind}\n")
        for labels, value in samples:
            self.lines.append(f"{PREFIX}{name}{labels} {_value(value)}\n")

    def histogram(self, counters: EventCounters) -> None:
        name = f"{PREFIX}duration_seconds"
        self.lines.append(
            f"# HELP {name} Request or operation durations.\n# TYPE {name} histogram\n"
        )
        bounds = [f"{bound:g}" for bound in BUCKETS] + ["+Inf"]
        for bound, count in zip(bounds, counters.cumulative_buckets()):
            self.lines.append(f'{name}_bucket{{le="{bound}"}} {count}\n')
        self.lines.append(f"{name}_sum {_value(counters.duration_sum)}\n")
        self.lines.append(f"{name}_count {counters.durations}\n")


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{key}="{_escaped(value)}"' for key, value in labels.items()) + "}"


def _escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _value(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    return repr(float(value))
