"""The contract every registered family, panel and calculator keeps, tested on each one
the registries hold (as river's stats tests find every stat and test it the same way):
a new one is tested here for free.

* a Batch: merging two of the same second adds them up; moving counts keeps them; a
  checkpoint round trip changes nothing;
* a family's stats: counting two halves apart and merging them is counting the whole;
  a checkpoint round trip changes nothing; a reset is a fresh start;
* an alert rule: ``count`` then ``discount`` of the same Batches is no change at all;
  a checkpoint round trip changes nothing;
* every panel counts a declared field, in a shape the calculators and the outputs
  know, and its JSON is plain JSON.
"""

from __future__ import annotations

import json
import random
import unittest
from typing import Any

from LogsMonitor2000.calculators import RULES, Context
from LogsMonitor2000.calculators.counters import EventCounters
from LogsMonitor2000.calculators.stats import TALLIES, Stats
from LogsMonitor2000.families import FAMILIES, Family
from LogsMonitor2000.pipeline.batch import (
    Batch,
    Counts,
    Largest,
    Total,
    Values,
    VisitLog,
    Visits,
)
from LogsMonitor2000.reports import Report
from LogsMonitor2000.settings import Settings

KEYS = ["/a", "/b", "/c", "10.0.0.1", "10.0.0.2", "2xx", "5xx", "ERROR", "find"]


def random_batch(family: Family, second: int, rng: random.Random) -> Batch:
    """A Batch of ``family`` with every declared field filled at random."""
    batch = family.batch(second, hits=rng.randrange(1, 50))
    for aggregate in family.batch.FIELDS:
        if isinstance(aggregate, Counts):
            value: Any = {key: rng.randrange(1, 9) for key in rng.sample(KEYS, 4)}
        elif isinstance(aggregate, Total):
            value = rng.randrange(0, 10**6)
        elif isinstance(aggregate, Values):
            value = [round(rng.uniform(0, 500), 1) for _ in range(rng.randrange(0, 9))]
        elif isinstance(aggregate, Visits):
            value = VisitLog()
            for _ in range(rng.randrange(1, 9)):
                key = (
                    rng.choice(KEYS[3:5]),
                    rng.choice(["-", "bob smith"]),
                    rng.choice(["/a", "/b.css", "/caf\u00e9"]),
                    rng.choice(["200", "404", "500"]),
                    rng.choice(["-", "https://example.com/x"]),
                    rng.choice(["curl/8", "Mozilla/5.0 (X11; Linux) Firefox/120.0"]),
                )
                ms = round(rng.uniform(0, 500), 1) if rng.random() < 0.5 else None
                value.add(key, rng.randrange(0, 999), ms)
        else:
            assert isinstance(aggregate, Largest)
            items = [[round(rng.uniform(0, 900), 1), "db.c", "find", "{}"] for _ in range(5)]
            value = aggregate.from_json(items[: aggregate.keep])
        setattr(batch, aggregate.name, value)
    return batch


def batches(family: Family, seed: int, count: int = 30) -> list[Batch]:
    rng = random.Random(seed)
    return [random_batch(family, 1000 + i, rng) for i in range(count)]


def shown(report: Report) -> Any:
    return json.loads(json.dumps(report.to_json()))


class BatchContractTest(unittest.TestCase):
    def test_merge_adds_up_and_checkpoints_round_trip(self) -> None:
        for family in FAMILIES.values():
            with self.subTest(family=family.name):
                one, other = batches(family, 1, 2)
                merged = family.batch.from_json(one.to_json())
                merged.merge(other)
                self.assertEqual(merged.hits, one.hits + other.hits)
                stats = Stats(family, top_n=50)
                stats.count(one)
                stats.count(other)
                whole = Stats(family, top_n=50)
                whole.count(merged)
                self.assertEqual(shown(whole.report(0, 1)), shown(stats.report(0, 1)))
                again = family.batch.from_json(json.loads(json.dumps(merged.to_json())))
                self.assertEqual(again, merged)

    def test_moving_counts_keeps_them(self) -> None:
        for family in FAMILIES.values():
            with self.subTest(family=family.name):
                first, second = batches(family, 2, 2)
                before = Stats(family, top_n=50)
                before.count(first)
                before.count(second)
                first.take_counts(second)
                after = Stats(family, top_n=50)
                after.count(first)
                after.count(second)
                self.assertEqual(shown(after.report(0, 1)), shown(before.report(0, 1)))


class StatsContractTest(unittest.TestCase):
    def test_two_halves_merged_are_the_whole(self) -> None:
        for family in FAMILIES.values():
            for bounded in (False, True):
                with self.subTest(family=family.name, bounded=bounded):
                    every = batches(family, 3)
                    whole = Stats(family, top_n=5, bounded=bounded)
                    halves = [Stats(family, top_n=5, bounded=bounded) for _ in range(2)]
                    for i, batch in enumerate(every):
                        whole.count(batch)
                        halves[i % 2].count(batch)
                    halves[0].merge(halves[1])
                    self.assertEqual(shown(halves[0].report(0, 9)), shown(whole.report(0, 9)))
                    self.assertEqual(shown(whole.copy().report(0, 9)), shown(whole.report(0, 9)))

    def test_checkpoint_round_trip_and_reset(self) -> None:
        for family in FAMILIES.values():
            for bounded in (False, True):
                with self.subTest(family=family.name, bounded=bounded):
                    stats = Stats(family, top_n=5, bounded=bounded)
                    for batch in batches(family, 4):
                        stats.count(batch)
                    restored = Stats(family, top_n=5, bounded=bounded)
                    restored.restore(json.loads(json.dumps(stats.to_json())))
                    self.assertEqual(shown(restored.report(0, 9)), shown(stats.report(0, 9)))
                    stats.reset()
                    fresh = Stats(family, top_n=5, bounded=bounded)
                    self.assertEqual(shown(stats.report(0, 9)), shown(fresh.report(0, 9)))


class RuleContractTest(unittest.TestCase):
    def rules(self) -> list[tuple[str, Any]]:
        """Every registered rule, built for every family it can be built for."""
        found = []
        settings = Settings(paths=("x",), slow_ms=100.0, alert_window=30)
        for family in FAMILIES.values():
            context = Context(
                settings=settings,
                family=family,
                durations=bool(family.timed),
                format_description=family.name,
            )
            for build in RULES:
                try:
                    rule = build(context)
                except Exception:  # (it can't be evaluated for this family)
                    continue
                if rule is not None:
                    found.append((f"{family.name}/{type(rule).__name__}", (family, rule)))
        return found

    def test_every_rule_is_built_somewhere(self) -> None:
        built = {name.split("/")[1] for name, _ in self.rules()}
        self.assertEqual(len(built), len(RULES))

    def test_count_then_discount_is_no_change(self) -> None:
        for name, (family, rule) in self.rules():
            with self.subTest(rule=name):
                some = batches(family, 5, 10)
                for batch in some[:4]:
                    rule.count(batch)
                before = json.dumps(rule.to_json(), sort_keys=True)
                for batch in some[4:]:
                    rule.count(batch)
                for batch in reversed(some[4:]):
                    rule.discount(batch)
                self.assertEqual(json.dumps(rule.to_json(), sort_keys=True), before)

    def test_checkpoint_round_trip(self) -> None:
        for name, (family, rule) in self.rules():
            with self.subTest(rule=name):
                for second, batch in enumerate(batches(family, 6, 8)):
                    rule.count(batch)
                    rule.evaluate(second)
                data = json.loads(json.dumps(rule.to_json()))
                twin = type(rule).of(
                    Context(
                        settings=Settings(paths=("x",), slow_ms=100.0, alert_window=30),
                        family=family,
                        durations=True,
                        format_description="",
                    )
                )
                twin.restore(data)
                self.assertEqual(twin.to_json(), rule.to_json())
                self.assertEqual(twin.state(), rule.state())


class PanelContractTest(unittest.TestCase):
    def test_every_panel_counts_a_declared_field_in_a_known_shape(self) -> None:
        for family in FAMILIES.values():
            fields = {aggregate.name for aggregate in family.batch.FIELDS}
            keys = [panel.key for panel in family.panels]
            self.assertEqual(len(keys), len(set(keys)), family.name)
            for panel in family.panels:
                with self.subTest(family=family.name, panel=panel.key):
                    self.assertIn(panel.field, fields)
                    self.assertIn(panel.shape, TALLIES)
            for counter in family.counters:
                with self.subTest(family=family.name, counter=counter.name):
                    self.assertIn(counter.field, fields | {"hits"})

    def test_every_counter_counts(self) -> None:
        for family in FAMILIES.values():
            with self.subTest(family=family.name):
                counters = EventCounters(family)
                every = batches(family, 7, 5)
                for batch in every:
                    counters.count(batch)
                total = next(value for c, value in counters.counted() if c.name == "events_total")
                self.assertEqual(total, sum(batch.hits for batch in every))


if __name__ == "__main__":
    unittest.main()
