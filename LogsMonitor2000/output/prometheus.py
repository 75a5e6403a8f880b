"""``GET /metrics``: the Prometheus text exposition format (version 0.0.4).

One monitor per host, scraped by Prometheus: its federation adds the hosts up and
Alertmanager routes the alerts.  The counters are the family's (``families/``),
counted by ``calculators/counters.py`` (monotonic, bounded labels); late, invalid and
filtered come from the summary so far, less what a restored run had counted before the
process started: every counter starts from zero with the process, as Prometheus
expects of one (``rate`` and ``increase`` take the reset); the gauges come from the
alert rules.
"""

from __future__ import annotations

import re

from ..calculators.counters import BUCKETS, Histogram
from ..families.base import BOUNDED, BY, HISTOGRAM, TOTAL
from ..reports import Gauge
from . import LiveState

PREFIX = "logsmonitor2000_"
#: What a label's value never holds as it is (``_escaped``).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
#: The Content-Type Prometheus expects.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def exposition(state: LiveState) -> str:
    """The metrics, as the text Prometheus scrapes."""
    summary, counters = state.summary, state.counters
    late, invalid, filtered = state.before
    family = _Families()
    for counter, value in counters.counted() if counters is not None else ():
        if counter.kind == TOTAL:
            family.add(counter.name, "counter", counter.help, [("", value)])
        elif counter.kind == BY:
            samples = [(_labels(**{counter.label: key}), n) for key, n in sorted(value.items())]
            family.add(counter.name, "counter", counter.help, samples)
        elif counter.kind == BOUNDED:
            samples = [(_labels(**{counter.label: key}), n) for key, n in value.counts.items()]
            family.add(counter.name, "counter", counter.help, samples)
        else:
            assert counter.kind == HISTOGRAM
            if value.count:
                family.histogram(counter.name, counter.help, value)
    family.add(
        "late_events_total",
        "counter",
        "Events that arrived later than the allowed lateness.",
        [("", summary.late - late)],
    )
    family.add(
        "invalid_records_total",
        "counter",
        "Records skipped as invalid.",
        [("", summary.invalid - invalid)],
    )
    if summary.filtered is not None:
        family.add(
            "filtered_events_total",
            "counter",
            "Events turned away by the filters.",
            [("", summary.filtered - filtered)],
        )
    gauges: dict[str, list[Gauge]] = {}
    for gauge in state.gauges:  # (gauges of one name are one metric, by their labels)
        gauges.setdefault(gauge.name, []).append(gauge)
    for name, same in gauges.items():
        samples = [(_labels(**dict(g.labels)) if g.labels else "", g.value) for g in same]
        family.add(name, "gauge", same[0].help, samples)
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

    def histogram(self, name: str, help_text: str, histogram: Histogram) -> None:
        name = PREFIX + name
        self.lines.append(f"# HELP {name} {help_text}\n# TYPE {name} histogram\n")
        bounds = [f"{bound:g}" for bound in BUCKETS] + ["+Inf"]
        for bound, count in zip(bounds, histogram.cumulative()):
            self.lines.append(f'{name}_bucket{{le="{bound}"}} {count}\n')
        self.lines.append(f"{name}_sum {_value(histogram.sum_seconds)}\n")
        self.lines.append(f"{name}_count {histogram.count}\n")


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{key}="{_escaped(value)}"' for key, value in labels.items()) + "}"


def _escaped(value: str) -> str:
    """A label's value as the format escapes it; control characters (a terminal would
    run ``curl /metrics``'s ESC sequences), bidirectional overrides and lone
    surrogates are U+FFFD."""
    value = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return value if value.isprintable() else _UNPRINTABLE.sub("\ufffd", value)


def _value(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    return repr(float(value))
