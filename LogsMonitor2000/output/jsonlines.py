"""``--output json``: one JSON object per line on stdout, and nothing else there
(SPEC §6).  The keys below are a contract; keys may be added, never renamed."""

from __future__ import annotations

import json
from typing import Any

from ..reports import (
    Alert,
    HttpStatsReport,
    LogStatsReport,
    MongoStatsReport,
    Percentiles,
    Record,
    StatsReport,
    Summary,
)
from . import RunInfo, Stream


def record_json(record: Record) -> dict[str, Any]:
    """The JSON object of a record."""
    if isinstance(record, StatsReport):
        return _stats_json(record)
    if isinstance(record, Alert):
        return {
            "type": record.kind,
            "time": record.time,
            "hits": record.hits,
            "average": record.average,
            "threshold": float(record.threshold),
            "window": record.window_seconds,
        }
    return {
        "type": record.kind,
        "time": record.time,
        "p95": record.p95_ms,
        "count": record.count,
        "window": record.window_seconds,
        "threshold_ms": float(record.threshold_ms),
    }


def _stats_json(report: StatsReport) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "stats",
        "start": report.start,
        "end": report.end,
        "hits": report.hits,
        "sections": [list(item) for item in report.sections],
    }
    if isinstance(report, LogStatsReport):
        data["sources"] = [list(item) for item in report.sources]
        data["levels"] = dict(report.levels)
        data["exceptions"] = [list(item) for item in report.exceptions]
    elif isinstance(report, HttpStatsReport):
        data["sources"] = [list(item) for item in report.sources]
        data["status"] = dict(report.status)
        data["bytes"] = report.bytes_total
        if report.vhosts is not None:
            data["vhosts"] = [list(item) for item in report.vhosts]
        if report.duration is not None:
            data["duration"] = _percentiles_json(report.duration)
    elif isinstance(report, MongoStatsReport):
        data["methods"] = [list(item) for item in report.methods]
        if report.duration is not None:
            data["duration"] = _percentiles_json(report.duration)
        data["slowest"] = [
            {"ms": ms, "namespace": namespace, "operation": operation, "shape": shape}
            for ms, namespace, operation, shape in report.slowest
        ]
    if report.hosts is not None:
        data["hosts"] = [list(item) for item in report.hosts]
    return data


def _percentiles_json(duration: Percentiles) -> dict[str, float]:
    return {"p50": duration.p50, "p95": duration.p95, "p99": duration.p99, "max": duration.max}


def summary_json(summary: Summary) -> dict[str, Any]:
    """The JSON object of the summary."""
    data: dict[str, Any] = {
        "type": "summary",
        "events": summary.events,
        "invalid": summary.invalid,
        "late": summary.late,
        "first": summary.first,
        "last": summary.last,
        "max_lateness": summary.max_lateness,
    }
    if summary.unfinished is not None:
        data["unfinished"] = summary.unfinished
    if summary.filtered is not None:
        data["filtered"] = summary.filtered
    if summary.undelivered is not None:
        data["undelivered"] = summary.undelivered
    if summary.dropped is not None:
        data["dropped"] = summary.dropped
    data["alert_since"] = summary.alert_since
    if summary.slow_since is not None:
        data["slow_since"] = summary.slow_since
    if summary.inputs is not None:
        data["inputs"] = [
            {
                "name": totals.name,
                "events": totals.events,
                "invalid": totals.invalid,
                "late": totals.late,
                "first": totals.first,
                "last": totals.last,
                "max_lateness": totals.max_lateness,
            }
            for totals in summary.inputs
        ]
    if summary.totals is not None:  # the whole run, in the shapes of a stats record
        totals = _stats_json(summary.totals)
        for key in ("type", "start", "end", "hits"):
            del totals[key]
        data.update(totals)
    return data


class JsonLinesNotifier:
    """Writes records as JSON lines."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream

    def start(self, run: RunInfo) -> None:
        pass

    def emit(self, record: Record) -> None:
        self.stream.write(json.dumps(record_json(record)) + "\n")

    def flush(self) -> None:
        self.stream.flush()

    def finish(self, summary: Summary) -> None:
        self.stream.write(json.dumps(summary_json(summary)) + "\n")
        self.stream.flush()
