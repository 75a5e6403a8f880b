"""The JSON-lines schema (docs/json.md) and the text renderer's building blocks."""

import io
import json
import unittest

from LogsMonitor2000.calculators.traffic import TrafficAlert
from LogsMonitor2000.families import HTTP
from LogsMonitor2000.output.jsonlines import JsonLinesNotifier
from LogsMonitor2000.reports import Figure, StatsReport, Summary
from LogsMonitor2000.words import local_time, number, printable, size
from tests.support import analyse, csv_line

STATS_KEYS = {"type", "start", "end", "hits", "sections", "sources", "status", "bytes"}
ALERT_KEYS = {"type", "time", "hits", "average", "threshold", "window"}
SUMMARY_KEYS = {"type", "events", "invalid", "late", "first", "last", "max_lateness"}


class JsonSchemaTest(unittest.TestCase):
    def test_keys_and_types(self) -> None:
        text = "".join(csv_line(100 + i // 20, "/api", "10.0.0.1", 200, 5) for i in range(100))
        text += csv_line(200, "/api", "10.0.0.1", 200, 5)  # recovery happens before this
        records = analyse([text], alert_window=2, threshold=5)
        by_type = {r["type"]: r for r in records}
        self.assertEqual(set(by_type), {"stats", "alert", "recovery", "summary"})
        self.assertLessEqual(STATS_KEYS, set(by_type["stats"]))
        self.assertLessEqual(ALERT_KEYS, set(by_type["alert"]))
        self.assertLessEqual(ALERT_KEYS, set(by_type["recovery"]))
        self.assertLessEqual(SUMMARY_KEYS, set(by_type["summary"]))
        self.assertIsInstance(by_type["alert"]["average"], float)
        self.assertIsInstance(by_type["alert"]["threshold"], float)
        first = next(r for r in records if r["type"] == "stats")
        self.assertEqual(first["sections"], [["/api", 100]])
        self.assertEqual(first["status"], {"2xx": 100})
        self.assertEqual(first["bytes"], 500)

    def test_one_object_per_line(self) -> None:
        out = io.StringIO()
        notifier = JsonLinesNotifier(out)
        notifier.emit(
            TrafficAlert(
                kind="alert",
                raised=True,
                time=5,
                hits=3,
                average=1.5,
                threshold=1,
                window_seconds=2,
            )
        )
        sections = HTTP.panel("sections")
        assert sections is not None
        notifier.emit(
            StatsReport(start=0, end=10, hits=1, figures=(Figure(sections, [("/\n", 1)]),))
        )
        notifier.finish(
            Summary(
                events=1, invalid=0, late=0, first=0, last=0, max_lateness=0, lateness_seconds=2
            )
        )
        lines = out.getvalue().splitlines()
        self.assertEqual(len(lines), 3)
        self.assertEqual(
            [json.loads(line)["type"] for line in lines], ["alert", "stats", "summary"]
        )

    def test_empty_input_summary(self) -> None:
        summary = analyse([])[-1]
        self.assertEqual(
            summary,
            {
                "type": "summary",
                "events": 0,
                "invalid": 0,
                "late": 0,
                "first": None,
                "last": None,
                "max_lateness": 0,
                "alert_since": None,
                "active": [],
            },
        )


class TextPiecesTest(unittest.TestCase):
    def test_sizes(self) -> None:
        self.assertEqual(size(0), "0 B")
        self.assertEqual(size(1023), "1023 B")
        self.assertEqual(size(1536), "1.5 KiB")
        self.assertEqual(size(5 * 1024**3), "5.0 GiB")

    def test_numbers(self) -> None:
        self.assertEqual(number(10.0), "10")
        self.assertEqual(number(2.5), "2.5")
        self.assertEqual(number(0.125), "0.12")

    def test_control_characters_are_escaped(self) -> None:
        self.assertEqual(printable("/api"), "/api")
        self.assertEqual(printable("/a\x1b[31m"), "/a\\x1b[31m")

    def test_times_beyond_datetime(self) -> None:
        self.assertEqual(local_time(10**20), "@100000000000000000000")


if __name__ == "__main__":
    unittest.main()
