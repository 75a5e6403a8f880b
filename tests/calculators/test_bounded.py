"""docs/counting.md, "The summary": the summary's top lists and percentiles in bounded memory, against exact
counts: Space-Saving past 10,000 keys, a log-bucket sketch past 10,000 durations."""

from __future__ import annotations

import math
import random
import unittest
from collections import Counter

from LogsMonitor2000.calculators.bounded import DurationSketch, TopCounts
from tests.support import SLOW, analyse, blocks_of


def skewed_sources(rng: random.Random, count: int, distinct: int) -> list[str]:
    """Every one of ``distinct`` sources once, and ``count`` more with a Zipf-like skew
    (a few busy clients and a very long tail), in random order."""
    weights = [1 / (i + 1) ** 1.1 for i in range(distinct)]
    chosen = list(range(distinct)) + rng.choices(range(distinct), weights, k=count)
    rng.shuffle(chosen)
    return [f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" for i in chosen]


class TopCountsTest(unittest.TestCase):
    def test_exact_up_to_the_capacity(self) -> None:
        counts = TopCounts(capacity=100)
        for i in range(100):
            counts.add({f"k{i}": i + 1})
        self.assertFalse(counts.estimated)
        self.assertEqual(counts.top(3), [("k99", 100), ("k98", 99), ("k97", 98)])

    def test_space_saving_bounds_hold_on_random_weighted_streams(self) -> None:
        rng = random.Random(4)
        for capacity in (1, 3, 20, 200):
            exact: Counter[str] = Counter()
            counts = TopCounts(capacity=capacity)
            for _ in range(2000):
                part = {f"k{int(rng.paretovariate(0.7))}": rng.randint(1, 5) for _ in range(5)}
                exact.update(part)
                counts.add(part)
            with self.subTest(capacity=capacity):
                self.assertTrue(counts.estimated)
                self.assertLessEqual(len(counts.counts), capacity)
                total = sum(exact.values())
                self.assertEqual(sum(counts.counts.values()), total)  # Space-Saving's sum
                for key, count, over in counts.top(capacity):  # type: ignore[misc]
                    self.assertLessEqual(count - over, exact[key])
                    self.assertLessEqual(exact[key], count)
                    self.assertLessEqual(over, total / capacity)
                for key, true in exact.items():  # every key above N / capacity is kept
                    if true > total / capacity:
                        self.assertIn(key, counts.counts)

    def test_a_skewed_log_with_more_distinct_sources_than_counted_exactly(self) -> None:
        # The monitor's summary against exact counts of the same log: 30,000 distinct
        # sources (100,000 in the slow group) where 10,000 are counted exactly.
        lines_count, distinct = (200_000, 100_000) if SLOW else (80_000, 30_000)
        rng = random.Random(100_000)
        sources = skewed_sources(rng, lines_count, distinct)
        self.assertEqual(len(set(sources)), distinct)
        lines = "".join(
            f'"{source}","-","-",{1000 + i // 100},"GET /a HTTP/1.0",200,1\n'
            for i, source in enumerate(sources)
        )
        summary = analyse(blocks_of(lines, 5000), log_format="csv", top=10)[-1]
        exact = Counter(sources)
        total = len(sources)
        reported = summary["sources"]
        self.assertEqual(len(reported), 10)
        for key, count, over in reported:
            self.assertLessEqual(count - over, exact[key], key)
            self.assertLessEqual(exact[key], count, key)
            self.assertLessEqual(over, total / 10_000)
        true_top = [key for key, _ in sorted(exact.items(), key=lambda kv: (-kv[1], kv[0]))[:5]]
        self.assertEqual([key for key, _, _ in reported[:5]], true_top)
        self.assertEqual(summary["sections"], [["/a", total]])  # one key: exact


class DurationSketchTest(unittest.TestCase):
    def test_exact_while_few_values_are_distinct(self) -> None:
        sketch = DurationSketch()
        values = [float(v % 500) for v in range(20_000)]
        sketch.add(values)
        ordered = sorted(values)
        expected = tuple(ordered[math.ceil(p * len(ordered) / 100) - 1] for p in (50, 95, 99))
        self.assertEqual(sketch.percentiles(), (*expected, 499.0))

    def test_within_one_percent_past_that(self) -> None:
        rng = random.Random(9)
        values = [rng.lognormvariate(2, 1.5) for _ in range(100_000)] + [0.0] * 100
        sketch = DurationSketch()
        for start in range(0, len(values), 1000):
            sketch.add(values[start : start + 1000])
        self.assertIsNone(sketch.exact)  # the sketch took over
        self.assertLess(len(sketch.buckets), 2000)
        ordered = sorted(values)
        found = sketch.percentiles()
        assert found is not None
        for got, percent in zip(found, (50, 95, 99)):
            true = ordered[math.ceil(percent * len(ordered) / 100) - 1]
            self.assertLessEqual(abs(got - true), 0.01 * true, percent)
        self.assertEqual(found[3], max(values))


if __name__ == "__main__":
    unittest.main()
