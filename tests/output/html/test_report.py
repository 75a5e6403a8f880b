"""--report: the HTML page read back with html.parser, its numbers compared with the
JSON output of the same run; the bounded timeline; a live report rewritten."""

from __future__ import annotations

import os
import random
import re
import tempfile
import time
import unittest
from pathlib import Path
from typing import Any

from LogsMonitor2000.output.history import History
from LogsMonitor2000.calculators.traffic import TrafficAlert
from LogsMonitor2000.calculators.panels import TOP_PANELS
from LogsMonitor2000.families import HTTP
from LogsMonitor2000.reports import Figure, StatsReport
from LogsMonitor2000.words import size
from tests.live import LiveMonitor, append, csv_row
from tests.pages import Page, number, read_page
from tests.support import DATA, json_lines, run_monitor


def report_run(*args: str, panels: bool = False) -> tuple[list[dict[str, Any]], Page, str]:
    """One run with --output json and --report: its records (the summary's panels
    only when asked) and the page."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.html"
        done = run_monitor(*args, "--output", "json", "--report", str(path))
        assert done.returncode == 0, done.stderr
        html = path.read_text(encoding="utf-8")
    return json_lines(done.stdout, panels=panels), read_page(html), html


class ReportNumbersTest(unittest.TestCase):
    def check_same_numbers(
        self, records: list[dict[str, Any]], page: Page, events: str = "events"
    ) -> None:
        summary = records[-1]
        stats = [r for r in records if r["type"] == "stats"]
        self.assertEqual(page.errors, [])
        self.assertEqual(page.scripts, 0)
        self.assertEqual(page.fetches, [], "a report fetches nothing")
        self.assertEqual(number(page.cards[events]), summary["events"])
        self.assertEqual(number(page.cards["invalid"]), summary["invalid"])
        self.assertEqual(number(page.cards["late"]), summary["late"])
        # The timeline: one row per window here (a short run), equal to the records.
        self.assertEqual(len(page.timeline), len(stats))
        classes = [head for head in page.timeline_head[3:] if head.endswith("xx")]
        for row, record in zip(page.timeline, stats):
            self.assertEqual(int(row[0]), record["start"])
            self.assertEqual(int(row[1]), record["end"])
            self.assertEqual(number(row[3]), record["hits"])
            for cls, cell in zip(classes, row[5:]):
                self.assertEqual(number(cell), record["status"].get(cls, 0), (cls, record))
            if "duration" in record:
                durations = row[5 + len(classes) :]
                self.assertEqual(
                    [float(cell) for cell in durations],
                    [round(record["duration"][p], 3) for p in ("p50", "p95", "p99")],
                )
        http = [("section", "sections"), ("source", "sources"), ("host", "vhosts")]
        for name, key in http if "sources" in summary else []:
            if key in summary:
                shown = [[row[0], number(row[1])] for row in page.tables[name]]
                self.assertEqual(shown, [entry[:2] for entry in summary[key]], key)
        if "status" in summary:
            shown = {row[0]: number(row[1]) for row in page.tables["class"]}
            self.assertEqual(shown, summary["status"])

    def test_access_log(self) -> None:
        records, page, html = report_run(str(DATA / "sample.log"))
        self.check_same_numbers(records, page)
        self.assertIn("--buffer 10", page.text)
        self.assertIn("threshold 10/s", page.text)
        alerts = [r for r in records if r["type"] == "alert"]
        self.assertEqual(len(alerts), 1)
        self.assertIn("1 alert period", page.text)
        self.assertIn("<svg", html)

    def test_panels(self) -> None:
        # Each panel's table shows the summary's entries: key, hits, visitors, bytes
        # (and the request times where the log has them); the charts, every day and hour.
        for log, timed in (("sample.log", False), ("caddy.json", True)):
            with self.subTest(log=log):
                records, page, html = report_run(str(DATA / log), "--top", "4", panels=True)
                summary = records[-1]
                shown = 0
                for key in TOP_PANELS:
                    if not summary.get(key):
                        self.assertNotIn(key, page.panels)
                        continue
                    rows = page.panels[key]
                    self.assertEqual([row[0] for row in rows], [e["key"] for e in summary[key]])
                    self.assertEqual(
                        [number(row[1]) for row in rows], [e["hits"] for e in summary[key]]
                    )
                    self.assertEqual(
                        [number(row[3]) for row in rows], [e["visitors"] for e in summary[key]]
                    )
                    self.assertEqual(
                        [row[4] for row in rows], [size(e["bytes"]) for e in summary[key]]
                    )
                    self.assertEqual(len(rows[0]), 8 if timed else 5)
                    shown += 1
                self.assertGreaterEqual(shown, 5)
                for entry in summary["visitors"] + summary["visit_time"]:
                    self.assertIn(f'{entry["key"]}: {entry["hits"]:,} hits<', html)
                    self.assertIn(f'{entry["key"]}: {entry["visitors"]:,} visitors<', html)
                self.assertIn(f'{summary["unique_visitors"]:,} unique', html)

    def test_a_chart_per_alert_rule(self) -> None:
        # Each --alert rule's value over time, its alert periods shaded: as many as
        # the rule's alerts in the JSON, none for a rule that never fired.
        rules = [
            "errors: share(5xx) > 4% over 1m",
            "p90 > 700ms over 1m",
            "quiet: rate < 0.001/s over 1m",
        ]
        records, _, html = report_run(
            str(DATA / "caddy.json"), *(item for rule in rules for item in ("--alert", rule))
        )
        figures = re.findall(r'<figure class="rule" data-rule="([^"]*)">(.*?)</figure>', html, re.S)
        self.assertEqual(
            [name for name, _ in figures], ["errors", "p90 &gt; 700ms over 1m", "quiet"]
        )
        for (name, figure), rule in zip(figures, ("errors", "p90 > 700ms over 1m", "quiet")):
            alerts = [r for r in records if r["type"] == "alert" and r.get("rule") == rule]
            self.assertEqual(figure.count('fill="var(--alert)"'), len(alerts), rule)
            self.assertIn("stroke-dasharray", figure)  # (the threshold)
        self.assertGreater(figures[0][1].count('fill="var(--alert)"'), 1)
        self.assertEqual(figures[2][1].count('fill="var(--alert)"'), 0)

    def test_request_times_and_virtual_hosts(self) -> None:
        records, page, _ = report_run(str(DATA / "caddy.json"), "--slow-ms", "400")
        self.check_same_numbers(records, page)
        self.assertIn("Durations", page.text)
        self.assertIn("Virtual hosts", page.text)

    def test_mongo(self) -> None:
        records, page, _ = report_run(str(DATA / "mongo-traffic.csv"), "--slow-ms", "50")
        self.check_same_numbers(records, page, events="operations")
        summary = records[-1]
        namespaces = [[row[0], number(row[1])] for row in page.tables["namespace"]]
        self.assertEqual(namespaces, [entry[:2] for entry in summary["sections"]])
        operations = [[row[0], number(row[1])] for row in page.tables["operation"]]
        self.assertEqual(operations, [entry[:2] for entry in summary["methods"]])
        self.assertIn("Slowest query shapes", page.text)
        for slow in summary["slowest"]:
            self.assertIn(slow["shape"], page.text)

    def test_empty_input(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            empty = Path(folder) / "empty.log"
            empty.write_text("")
            records, page, _ = report_run(str(empty))
        self.assertEqual(page.errors, [])
        self.assertEqual(page.cards["events"], "0")
        self.assertIn("No stats window was reported", page.text)

    def test_long_run_is_bounded_and_merged_rows_add_up(self) -> None:
        # 30,000 s of log at interval 10: 3,000 windows, more than the 2,000 points.
        rng = random.Random(5)
        lines = [csv_row(1_000_000 + t) for t in range(0, 30_000, 3) if rng.random() < 0.9]
        with tempfile.TemporaryDirectory() as folder:
            log = Path(folder) / "long.csv"
            log.write_text("".join(lines))
            records, page, html = report_run(str(log))
        stats = [r for r in records if r["type"] == "stats"]
        self.assertGreater(len(stats), 2000)
        self.assertLessEqual(len(page.timeline), 2000)
        self.assertEqual(page.errors, [])
        for row in page.timeline:
            start, end = int(row[0]), int(row[1])
            self.assertEqual(end - start, 20)  # two windows per row
            inside = [r["hits"] for r in stats if start <= r["start"] < end]
            self.assertEqual(number(row[3]), sum(inside))
        self.assertEqual(sum(number(row[3]) for row in page.timeline), records[-1]["events"])
        self.assertLess(len(html), 1_000_000)


class HistoryTest(unittest.TestCase):
    """The bounded timeline directly: random windows, few points allowed."""

    def test_points_stay_bounded_and_keep_every_hit(self) -> None:
        rng = random.Random(11)
        history = History(5, max_points=16)
        panel = HTTP.panel("status")
        assert panel is not None
        total = 0
        start = 0
        windows = []
        for _ in range(500):
            start += 5 * rng.choice([1, 1, 1, 2, 7])
            hits = rng.randrange(0, 50)
            status = {"2xx": hits // 2, "5xx": hits - hits // 2}
            total += hits
            windows.append((start, hits))
            history.add(
                StatsReport(start=start, end=start + 5, hits=hits, figures=(Figure(panel, status),))
            )
            self.assertLessEqual(len(history.points), 16)
        self.assertEqual(sum(p.hits for p in history.points), total)
        for point in history.points:
            self.assertEqual(point.end - point.start, history.span)
            self.assertEqual(point.start % history.span, 0)
            inside = sum(h for s, h in windows if point.start <= s < point.end)
            self.assertEqual(point.hits, inside)
            self.assertEqual(point.status["2xx"] + point.status["5xx"], point.hits)

    def test_alert_periods_stay_bounded(self) -> None:
        history = History(10, max_points=4)
        for i in range(20):
            for kind in ("alert", "recovery"):
                t = i * 100 + (0 if kind == "alert" else 10 + i)
                history.add(
                    TrafficAlert(
                        kind=kind,
                        raised=kind == "alert",
                        time=t,
                        hits=0,
                        average=0,
                        threshold=1,
                        window_seconds=1,
                    )
                )
        periods = history.periods_on("rate")
        self.assertLessEqual(len(periods), 5)
        self.assertEqual(periods[0].start, 0)
        self.assertEqual(periods[-1].end, 1929)
        self.assertEqual(len(history.recent), 5)


class ReportFileTest(unittest.TestCase):
    def test_unwritable_report_is_a_usage_error(self) -> None:
        done = run_monitor(str(DATA / "sample.csv"), "--report", "/nonexistent/dir/r.html")
        self.assertEqual(done.returncode, 2)
        self.assertEqual(len(done.stderr.splitlines()), 1, done.stderr)
        self.assertIn("cannot write the report", done.stderr)
        done = run_monitor(str(DATA / "sample.csv"), "--report", str(DATA / "sample.csv"))
        self.assertEqual(done.returncode, 2)
        self.assertIn("one of the inputs", done.stderr)

    def test_live_report_is_rewritten_after_each_window(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            log, report = Path(folder) / "access.csv", Path(folder) / "live.html"
            log.write_text("".join(csv_row(1000 + t) for t in range(5)))
            with LiveMonitor(str(log), "--report", str(report)) as live:
                append(log, csv_row(1013))  # closes [1000, 1010)
                live.wait_for(lambda records: any(r["type"] == "stats" for r in records))
                deadline = time.monotonic() + 10
                while not report.exists() and time.monotonic() < deadline:
                    time.sleep(0.05)
                first = read_page(report.read_text())
                self.assertEqual([row[3] for row in first.timeline], ["5"])
                append(log, "".join(csv_row(1013 + t) for t in range(1, 3)) + csv_row(1025))
                live.wait_for(
                    lambda records: len([r for r in records if r["type"] == "stats"]) >= 2
                )
                deadline = time.monotonic() + 10
                while len(read_page(report.read_text()).timeline) < 2:
                    self.assertLess(time.monotonic(), deadline)
                    time.sleep(0.05)
                self.assertEqual(live.stop(), 130)
            final = read_page(report.read_text())
            self.assertEqual([row[3] for row in final.timeline], ["5", "3"])
            self.assertEqual(final.cards["events"], "9")  # the open second counted
            self.assertEqual(sorted(os.listdir(folder)), ["access.csv", "live.html"])
            self.assertEqual(os.stat(report).st_mode & 0o777, 0o644 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
