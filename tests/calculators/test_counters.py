"""The /metrics counters: bounded labels that add up to every event and never go down;
the histogram against a sorted count; label values escaped."""

from __future__ import annotations

import random
import shutil
import subprocess
import unittest

from typing import Any

from LogsMonitor2000.calculators.counters import (
    BUCKETS,
    FIRST_SEEN,
    MAX_LABELS,
    OTHER,
    EventCounters,
)
from LogsMonitor2000.families import HTTP
from LogsMonitor2000.families.http import HttpBatch
from LogsMonitor2000.output import LiveState
from LogsMonitor2000.output.prometheus import exposition
from LogsMonitor2000.calculators import Context, alert_rules
from LogsMonitor2000.calculators.expression import parse_rule
from LogsMonitor2000.calculators.staged import StagedRule
from LogsMonitor2000.pipeline.windows import rule_window
from LogsMonitor2000.reports import Summary
from LogsMonitor2000.settings import Settings
from tests.parsing import parse
from tests.support import DATA


def counted(counters: EventCounters, name: str) -> Any:
    """The value of the counter ``name``."""
    return next(value for counter, value in counters.counted() if counter.name == name)


class CountersTest(unittest.TestCase):
    def test_labels_are_bounded_monotonic_and_add_up(self) -> None:
        rng = random.Random(3)
        counters = EventCounters(HTTP)
        sections_counter = counted(counters, "section_events_total")
        previous: dict[str, int] = {}
        total = 0
        for second in range(400):
            sections: dict[str, int] = {}
            for _ in range(rng.randrange(1, 30)):
                key = f"/s{int(rng.paretovariate(0.7))}"
                sections[key] = sections.get(key, 0) + 1
            hits = sum(sections.values())
            total += hits
            counters.count(HttpBatch(second, hits=hits, sections=sections))
            if second % 50 == 0:  # the busiest get labels as the summary names them
                counters.label("sections", [f"/busy{second}", "/s1"])
            counts = sections_counter.counts
            self.assertLessEqual(len(counts), MAX_LABELS + 1)
            self.assertEqual(sum(counts.values()), total)
            for key, count in previous.items():
                self.assertGreaterEqual(counts[key], count, key)
            previous = dict(counts)
        labels = [key for key in sections_counter.counts if key != OTHER]
        self.assertGreaterEqual(len(labels), FIRST_SEEN)
        self.assertIn("/busy0", labels)

    def test_histogram(self) -> None:
        rng = random.Random(4)
        durations = [rng.choice([0, 5, 10, 1e5]) + rng.random() * 300 for _ in range(1000)]
        counters = EventCounters(HTTP)
        counters.count(HttpBatch(1, hits=1000, durations_ms=durations))
        histogram = counted(counters, "duration_seconds")
        cumulative = histogram.cumulative()
        for bound, count in zip(BUCKETS, cumulative):
            self.assertEqual(count, sum(1 for ms in durations if ms / 1000 <= bound))
        self.assertEqual(cumulative[-1], 1000)
        self.assertAlmostEqual(histogram.sum_seconds, sum(durations) / 1000)

    def test_a_sample_per_status_code(self) -> None:
        # The bundled sample's lines, parsed for real: one sample per status code, each
        # the number of its lines (counted here from the text), with 100 to 599 only.
        text = (DATA / "sample.log").read_text()
        batches, _, _ = parse("clf", text)
        counters = EventCounters(HTTP)
        for second in sorted(batches):
            counters.count(batches[second])
        expected: dict[str, int] = {}
        for line in text.splitlines():
            code = line.split('"')[2].split()[0] if line.count('"') >= 2 else ""
            if code.isdigit():  # (the sample's invalid lines have none)
                expected[code] = expected.get(code, 0) + 1
        self.assertEqual(counted(counters, "responses_by_code_total"), expected)
        self.assertGreater(len(expected), 3)
        state = LiveState(summary=Summary(
            events=1, invalid=0, late=0, first=1, last=1, max_lateness=0, lateness_seconds=2
        ), unit="hit", counters=counters)  # fmt: skip
        self.assertIn(
            f'_responses_by_code_total{{code="404"}} {expected["404"]}\n', exposition(state)
        )

    def test_every_rule_has_its_gauges(self) -> None:
        # alert_active{rule=...} for every rule (the traffic alert too), and each
        # --alert rule's value and threshold while it has one; one metric per name.
        specs = (parse_rule('e "x": share(5xx) > 5% over 1m'), parse_rule("rate > 1/s over 10s"))
        context = Context(settings=Settings(paths=("x",), alerts=specs), family=HTTP,
                          durations=False, format_description="")  # fmt: skip
        rules = alert_rules(context)
        batches, _, _ = parse("clf", (DATA / "sample.log").read_text())
        windows = [rule_window(rule, HttpBatch) for rule in rules]
        for second in sorted(batches):
            for window in windows:
                window.close([batches[second]], second)
        summary = Summary(
            events=1, invalid=0, late=0, first=1, last=1, max_lateness=0, lateness_seconds=2
        )
        gauges = tuple(gauge for rule in rules for gauge in rule.gauges())
        text = exposition(LiveState(summary=summary, unit="hit", gauges=gauges))
        self.assertEqual(text.count("# TYPE logsmonitor2000_alert_active gauge"), 1)
        self.assertIn('logsmonitor2000_alert_active{rule="traffic"} 0\n', text)
        self.assertIn('logsmonitor2000_alert_active{rule="e \\"x\\""} 1\n', text)  # (escaped)
        share = rules[1]
        assert isinstance(share, StagedRule) and share.value is not None
        self.assertIn(f'logsmonitor2000_alert_value{{rule="e \\"x\\""}} {share.value!r}\n', text)
        self.assertIn('logsmonitor2000_alert_threshold{rule="rate > 1/s over 10s"} 1.0\n', text)
        if shutil.which("promtool") is not None:
            checked = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                                     capture_output=True, timeout=30)  # fmt: skip
            self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)

    def test_label_values_are_escaped(self) -> None:
        counters = EventCounters(HTTP)
        counters.count(HttpBatch(1, hits=2, sections={'/a"b\\c\nd': 2}, statuses={"2xx": 2}))
        summary = Summary(
            events=2, invalid=0, late=0, first=1, last=1, max_lateness=0, lateness_seconds=2
        )
        state = LiveState(summary=summary, unit="hit", counters=counters)
        text = exposition(state)
        self.assertIn('{section="/a\\"b\\\\c\\nd"} 2\n', text)
        for line in text.splitlines():
            self.assertTrue(line.startswith(("# HELP ", "# TYPE ", "logsmonitor2000_")), line)
