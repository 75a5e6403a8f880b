"""Windows and calculators (docs/counting.md: the high-traffic alert, stats windows)."""

import random
import time
import unittest
from collections import Counter

from typing import Any

from LogsMonitor2000.calculators.counting import nearest_rank, top
from LogsMonitor2000.calculators.stats import Stats
from LogsMonitor2000.calculators.traffic import TrafficAlert, TrafficRule
from LogsMonitor2000.families import HTTP
from LogsMonitor2000.families.http import HttpBatch
from LogsMonitor2000.pipeline.windows import SlidingWindow, TumblingWindow, Windows
from LogsMonitor2000.reports import Report, StatsReport


def batch(second: int, hits: int, **sections: int) -> HttpBatch:
    b = HttpBatch(second, hits=hits)
    b.sections.update(sections)
    return b


def alerts(records: list[Report]) -> list[tuple[str, int, int]]:
    return [(r.kind, r.time, r.hits) for r in records if isinstance(r, TrafficAlert)]


def figures(report: StatsReport) -> dict[str, Any]:
    return {figure.panel.key: figure.value for figure in report.figures}


class TrafficAlertTest(unittest.TestCase):
    def window(self, span: int = 4, threshold: float = 1.0) -> SlidingWindow[TrafficRule]:
        return SlidingWindow(
            span_seconds=span, calculator=TrafficRule(window_seconds=span, threshold=threshold)
        )

    def test_crossing_up_and_down(self) -> None:
        # second   10  11  12  13  14  15  16     W = 4, T = 1: alert when hits > 4
        # hits      2   2   1                     window sums: 2 4 5 5 3 1 0
        w = self.window()
        records = w.close([batch(10, 2), batch(11, 2), batch(12, 1)], through=16)
        self.assertEqual(alerts(records), [("alert", 12, 5), ("recovery", 14, 3)])

    def test_an_average_equal_to_the_threshold_is_no_alert(self) -> None:
        w = self.window()
        self.assertEqual(w.close([batch(10, 4)], through=20), [])

    def test_recovery_by_silence(self) -> None:
        # 8 hits at second 10 leave the window at 10 + 4 = 14, nothing else comes.
        w = self.window()
        records = w.close([batch(10, 8)], through=10)
        self.assertEqual(alerts(records), [("alert", 10, 8)])
        self.assertEqual(alerts(w.close([], through=13)), [])
        self.assertEqual(alerts(w.close([], through=14)), [("recovery", 14, 0)])

    def test_an_alert_still_active_at_the_end_stays_active(self) -> None:
        calculator = TrafficRule(window_seconds=4, threshold=1.0)
        w = SlidingWindow(span_seconds=4, calculator=calculator)
        w.close([batch(10, 8)], through=10)
        self.assertEqual(w.finish(), [])
        self.assertEqual(calculator.alerting_since, 10)

    def test_a_batch_leaving_as_one_enters_is_judged_once(self) -> None:
        # At 14, the 5 hits of 10 leave and 5 enter: the sum stays 5, no recovery.
        w = self.window()
        records = w.close([batch(10, 5), batch(14, 5)], through=14)
        self.assertEqual(alerts(records), [("alert", 10, 5)])

    def test_a_silence_of_years_costs_nothing(self) -> None:
        calculator = CountingAlert(window_seconds=120, threshold=0.0)
        w = SlidingWindow(span_seconds=120, calculator=calculator)
        started = time.perf_counter()
        records = w.close([batch(0, 1), batch(10**9, 1)], through=10**9 + 10**8)
        self.assertLess(time.perf_counter() - started, 0.5)
        self.assertEqual(calculator.evaluated, [0, 120, 10**9, 10**9 + 120])
        self.assertEqual(
            alerts(records),
            [("alert", 0, 1), ("recovery", 120, 0)]
            + [
                ("alert", 10**9, 1),
                ("recovery", 10**9 + 120, 0),
            ],
        )


class CountingAlert(TrafficRule):
    """A traffic alert that remembers the seconds it was asked about."""

    def __init__(self, *, window_seconds: int, threshold: float) -> None:
        super().__init__(window_seconds=window_seconds, threshold=threshold)
        self.evaluated: list[int] = []

    def evaluate(self, second: int) -> TrafficAlert | None:
        self.evaluated.append(second)
        return super().evaluate(second)


class TumblingWindowTest(unittest.TestCase):
    def stats(self, *, span: int = 10) -> TumblingWindow:
        return TumblingWindow(span_seconds=span, calculator=Stats(HTTP, top_n=5))

    def spans(self, records: list[Report]) -> list[tuple[int, int, int]]:
        return [(r.start, r.end, r.hits) for r in records if isinstance(r, StatsReport)]

    def test_windows_are_aligned_and_reported_when_their_last_second_closes(self) -> None:
        w = self.stats()
        self.assertEqual(w.close([batch(13, 1), batch(18, 2)], through=18), [])
        self.assertEqual(self.spans(w.close([], through=19)), [(10, 20, 3)])

    def test_finished_inputs_skip_empty_windows(self) -> None:
        w = self.stats()
        records = w.close([batch(5, 1), batch(47, 1)], through=47) + w.finish()
        self.assertEqual(self.spans(records), [(0, 10, 1), (40, 50, 1)])

    def test_a_waiting_reader_keeps_the_beat_with_empty_windows(self) -> None:
        # docs/counting.md, "Stats windows": closed while the reader waits (beat = the newest event's second).
        w = self.stats()
        records = w.close([batch(5, 1)], through=39, beat=5)
        self.assertEqual(self.spans(records), [(0, 10, 1), (10, 20, 0), (20, 30, 0), (30, 40, 0)])
        self.assertEqual(w.close([], through=39, beat=5), [])  # each one once
        self.assertEqual(self.spans(w.close([], through=49, beat=5)), [(40, 50, 0)])

    def test_empty_windows_the_log_jumps_over_are_never_reported(self) -> None:
        #  5 ....... beat ....... 45 | the log jumps to 200 | beat .......
        #  [0,10) [10,20)..[30,40)   | [50..190) silent      | [200,210) [210,220)
        w = self.stats()
        records = w.close([batch(5, 1)], through=39, beat=5)
        records += w.close([batch(45, 1)], through=197)  # the line at 200 closes them
        self.assertEqual(self.spans(records)[-1], (40, 50, 1))
        self.assertEqual(w.close([], through=199, beat=200), [])  # not [190, 200)
        records = w.close([batch(200, 2)], through=219, beat=200)
        self.assertEqual(self.spans(records), [(200, 210, 2), (210, 220, 0)])

    def test_a_jump_of_years_costs_one_step(self) -> None:
        w = self.stats()
        started = time.perf_counter()
        records = w.close([batch(5, 1), batch(10**10, 1)], through=10**10 + 100, beat=10**10)
        self.assertLess(time.perf_counter() - started, 0.1)
        self.assertEqual(len(records), 2 + 9)  # two windows with events, then the beat

    def test_the_last_partial_window_is_reported_at_the_end(self) -> None:
        w = self.stats()
        w.close([batch(21, 3)], through=21)
        self.assertEqual(self.spans(w.finish()), [(20, 30, 3)])


class OrderTest(unittest.TestCase):
    def test_alerts_come_before_stats_of_the_same_second(self) -> None:
        emitted: list[Report] = []
        windows = Windows(
            [
                TumblingWindow(span_seconds=10, calculator=Stats(HTTP, top_n=1)),
                SlidingWindow(
                    span_seconds=10, calculator=TrafficRule(window_seconds=10, threshold=0.0)
                ),
            ],
            emitted.append,
        )
        windows.close([batch(9, 1)], through=19)
        self.assertEqual(
            [(type(r).__name__, r.sort_key()) for r in emitted],
            [("TrafficAlert", (9, 0)), ("StatsReport", (9, 2)), ("TrafficAlert", (19, 0))],
        )


class CountingTest(unittest.TestCase):
    def test_count_then_reset_empties_the_stats(self) -> None:
        stats = Stats(HTTP, top_n=3)
        b1 = batch(1, 2, a=2)
        b1.sources.update(x=1, y=1)
        b1.statuses.update({"2xx": 2})
        b1.bytes_total = 10
        stats.count(b1)
        stats.count(b1)
        report = stats.report(0, 10)
        shown = figures(report)
        self.assertEqual((report.hits, shown["sections"], shown["bytes"]), (4, [("a", 4)], 20))
        stats.reset()
        empty = figures(stats.report(10, 20))
        self.assertEqual((empty["sections"], empty["sources"], empty["status"]), ([], [], {}))

    def test_count_then_discount_restores_the_alert(self) -> None:
        alert = TrafficRule(window_seconds=10, threshold=0.5)
        alert.count(batch(1, 3))
        before = alert.hits
        alert.count(batch(2, 7))
        alert.discount(batch(2, 7))
        self.assertEqual(alert.hits, before)

    def test_top_orders_by_count_then_key(self) -> None:
        self.assertEqual(
            top({"/b": 2, "/a": 2, "/c": 5, "/d": 1}, 3), [("/c", 5), ("/a", 2), ("/b", 2)]
        )
        self.assertEqual(top({"x": 1}, 0), [])

    def test_top_agrees_with_a_full_sort(self) -> None:
        rng = random.Random(5)
        for _ in range(300):
            counts = {
                f"k{rng.randint(0, 60)}": rng.choice([1, 1, 2, 3, 5, 8])
                for _ in range(rng.randint(0, 40))
            }
            n = rng.randint(0, 8)
            expected = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
            with self.subTest(counts=counts, n=n):
                self.assertEqual(top(counts, n), expected)

    def test_nearest_rank(self) -> None:
        values = sorted(Counter(float(v) for v in range(1, 101)).items())
        self.assertEqual(nearest_rank(values, 100, 50), 50.0)
        self.assertEqual(nearest_rank(values, 100, 95), 95.0)
        self.assertEqual(nearest_rank(values, 100, 99), 99.0)
        three = sorted(Counter([1.0, 2.0, 3.0]).items())
        self.assertEqual(nearest_rank(three, 3, 50), 2.0)  # ceil(1.5) = 2nd
        self.assertEqual(nearest_rank(three, 3, 95), 3.0)
        self.assertEqual(nearest_rank([(7.0, 1)], 1, 99), 7.0)
        with self.assertRaises(ValueError):
            nearest_rank([], 0, 50)

    def test_percentiles_of_a_multiset(self) -> None:
        stats = Stats(HTTP, top_n=3)
        self.assertNotIn("duration", figures(stats.report(0, 10)))
        b = batch(1, 20)
        b.durations_ms.extend([1.0] * 10 + [2.0] * 9 + [30.0])
        stats.count(b)
        result = figures(stats.report(0, 10))["duration"]
        self.assertEqual((result.p50, result.p95, result.p99, result.max), (1.0, 2.0, 30.0, 30.0))


if __name__ == "__main__":
    unittest.main()
