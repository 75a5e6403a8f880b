"""The contract every registered family, panel and calculator keeps, tested on each one
the registries hold (as river's stats tests find every stat and test it the same way):
a new one is tested here for free.

* a Batch: merging two of the same second adds them up; moving counts keeps them; a
  checkpoint round trip changes nothing;
* a family's stats: counting two halves apart and merging them is counting the whole;
  a checkpoint round trip changes nothing; a reset is a fresh start;
* an alert rule (and each kind of ``--alert`` rule, with every scope some family has):
  ``count`` then ``discount`` of the same Batches (a measure in, then through every
  stage and out) is no change at all; a checkpoint round trip of its window changes
  nothing, and the two carry on alike;
* every panel counts a declared field, in a shape the calculators and the outputs
  know, and its JSON is plain JSON.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
import unittest
from typing import Any

from LogsMonitor2000.calculators import KINDS, RULES, Context, configured
from LogsMonitor2000.calculators.expression import parse_rule
from LogsMonitor2000.calculators.staged import StagedRule
from LogsMonitor2000.errors import UsageError
from LogsMonitor2000.pipeline.windows import rule_window
from LogsMonitor2000.calculators.counters import EventCounters
from LogsMonitor2000.calculators.stats import TALLIES, Stats
from LogsMonitor2000.families import FAMILIES, Family
from LogsMonitor2000.pipeline.batch import (
    Batch,
    Counts,
    Largest,
    Lines,
    Total,
    Values,
    VisitLog,
    Visits,
)
from LogsMonitor2000.reports import Report
from LogsMonitor2000.settings import Settings

KEYS = ["/a", "/b", "/c", "10.0.0.1", "10.0.0.2", "2xx", "5xx", "ERROR", "find", "40", "GET"]


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
        elif isinstance(aggregate, Lines):
            value = [f"name=app&created={second}&levelno=20&n={i}" for i in range(rng.randrange(3))]
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
    def test_a_batch_with_one_field_is_counted_as_every_tally_counts_it(self) -> None:
        # Stats lets a Batch with no field filled go by (hits only, as most of a
        # worker's are): one with any single field filled is still counted, as the
        # plain way - every tally handed every Batch - counts it.
        for family in FAMILIES.values():
            for bounded in (False, True):
                for aggregate in family.batch.FIELDS:
                    with self.subTest(family=family.name, bounded=bounded, field=aggregate.name):
                        batch = family.batch(1000, hits=3)
                        full = random_batch(family, 1000, random.Random(7))
                        setattr(batch, aggregate.name, getattr(full, aggregate.name))
                        quick = Stats(family, top_n=5, bounded=bounded)
                        quick.count(batch)
                        quick.count(family.batch(1001, hits=2))  # (hits only)
                        plain = Stats(family, top_n=5, bounded=bounded)
                        plain.hits = 5
                        for tally in plain.tallies:
                            tally.count(batch)
                        self.assertEqual(shown(quick.report(0, 9)), shown(plain.report(0, 9)))

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


#: An --alert rule of every kind, with every scope some family has.
ALERTS = [
    "rate > 2/s over 10s",
    "rate(/a) < 3/s over 10s",
    "share(5xx) > 5% over 10s",
    "share(status=404) > 5% over 10s",
    "rate(vhost=x.example) > 1/s over 5s",
    "rate(source=10.0.0.0/8) > 1/s over 5s",
    "rate(method=GET) > 1/s over 5s",
    "share(ERROR) > 1% over 10s",
    "rate(ns=db) > 1/s over 10s",
    "p90 > 100ms over 10s",
    "rate > 2x baseline(20s) over 10s",
]


class RuleContractTest(unittest.TestCase):
    """Every rule of ``RULES`` and every kind of ``--alert`` rule (``KINDS``), built for
    every family it can be built for."""

    def context(self, family: Family) -> Context:
        settings = Settings(
            paths=("x",),
            slow_ms=100.0,
            alert_window=30,
            alerts=tuple(parse_rule(text) for text in ALERTS),
        )
        return Context(
            settings=settings,
            family=family,
            durations=bool(family.timed),
            format_description=family.name,
            vhosts=True,
        )

    def rules(self) -> list[tuple[str, Any]]:
        found: list[tuple[str, Any]] = []
        for family in FAMILIES.values():
            context = self.context(family)
            for build in RULES:
                if build is configured:
                    continue
                try:
                    built = build(context)
                except UsageError:  # (it can't be evaluated for this family)
                    continue
                for rule in built:
                    found.append((f"{family.name}/{type(rule).__name__}", (family, rule)))
            for spec in context.settings.alerts:
                try:
                    rule = KINDS[spec.kind](spec, context)
                except UsageError:  # (it can't be evaluated for this family)
                    continue
                found.append((f"{family.name}/{type(rule).__name__}/{spec.name}", (family, rule)))
        return found

    def rebuilt(self, family: Family, rule: Any) -> Any:
        """A new rule like ``rule``."""
        context = self.context(family)
        if isinstance(rule, StagedRule):
            return KINDS[rule.spec.kind](rule.spec, context)
        return next(
            twin for build in RULES if build is not configured
            for twin in build(context) if type(twin) is type(rule)
        )  # fmt: skip

    def test_every_rule_is_built_somewhere(self) -> None:
        built = {name.split("/")[1] for name, _ in self.rules()}
        kinds = {type(KINDS[kind]).__name__ for kind in KINDS}
        self.assertEqual(len(built), len(RULES) - 1 + len(KINDS), (built, kinds))
        scopes = {name.split("/", 2)[2] for name, _ in self.rules() if name.count("/") >= 2}
        self.assertEqual(scopes, set(ALERTS))  # (every scope is some family's)

    def test_count_then_discount_is_no_change(self) -> None:
        for name, (family, rule) in self.rules():
            with self.subTest(rule=name):
                some = batches(family, 5, 10)
                if isinstance(rule, StagedRule):
                    fresh = self.rebuilt(family, rule)
                    for batch in some[:4]:
                        rule.enter(rule.measure(batch))
                        fresh.enter(fresh.measure(batch))
                    for batch in some[4:]:  # in, then through every stage and out
                        measure = rule.measure(batch)
                        rule.enter(measure)
                        for stage in range(len(rule.stages)):
                            rule.move(measure, stage)
                    rule.now = fresh.now = 10**6
                    self.assertEqual(rule.current(), fresh.current())
                    self.assertEqual(rule.threshold(), fresh.threshold())
                    continue
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
                window = rule_window(rule, family.batch)
                every = batches(family, 6, 8)
                for batch in every[:5]:
                    window.close([batch], batch.second)
                data = json.loads(json.dumps(window.to_json()))
                twin = self.rebuilt(family, rule)
                twin_window = rule_window(twin, family.batch)
                twin_window.restore(data)
                self.assertEqual(twin.to_json(), rule.to_json())
                # (the report's samples of a rule's value are not carried over)
                self.assertEqual(replace(twin.state(), series=()), replace(rule.state(), series=()))
                # ... and both carry on alike.
                records = window.close(every[5:], every[-1].second + 40)
                self.assertEqual(twin_window.close(every[5:], every[-1].second + 40), records)
                self.assertEqual(twin.to_json(), rule.to_json())


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
