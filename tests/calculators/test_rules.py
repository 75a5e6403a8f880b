"""--alert rules (docs/alerts.md) against a brute-force evaluator: every second from the
first accepted event on, each rule's value computed from the raw events of its window
(and baseline), the state machine run per second, on random nginx logs with bursts,
silences, disorder, error spikes and slow spells; several rules at one second come in
command-line order, the traffic alert first.  Also what the rules' texts mean, and the
usage errors of rules a format can't evaluate."""

from __future__ import annotations

import ipaddress
import math
import random
import time
import unittest
from typing import Any, NamedTuple

from LogsMonitor2000.calculators.expression import parse_rule
from LogsMonitor2000.calculators.staged import MAX_SAMPLES, Series
from tests.pipeline.test_watermarks import analyse_several
from tests.support import SLOW, analyse, blocks_of, run_monitor, slow

FORMAT = (
    '$remote_addr - - [$time_local] "$request" $status $body_bytes_sent "-" "-" '
    "$host $request_time"
)
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
PATHS = ["/api/users", "/api/orders?id=3", "/static/app.js", "/", "/apiary", "/login"]
SOURCES = ["10.0.0.1", "10.0.0.2", "10.0.0.9", "192.168.1.4", "2001:db8::1"]
HOSTS = ["shop.example", "api.example"]

#: The rules every random log is run with: each kind, scoped and not, above and below.
RULES = [
    "busy: rate > 3/s over 20s",
    "api: rate(/api) > 1.5/s over 15s",
    "quiet: rate < 0.5/s over 30s",
    "errors: share(5xx) > 20% over 30s",
    "404s: share(status=404) > 10% over 20s",
    "slow: p90 > 1500ms over 20s",
    "p50 > 0.8s over 10s",
    "spike: rate > 2.5x baseline(60s) over 10s",
    "drop: rate < 0.4x baseline(40s) over 20s",
    "posts: rate(method=POST) > 0.5/s over 10s",
    "net: share(source=10.0.0.0/29) > 70% over 30s",
    "host: rate(vhost=api.example) > 1/s over 10s",
]


class Hit(NamedTuple):
    time: int
    source: str
    method: str
    path: str
    status: int
    host: str
    ms: float


def clf_time(second: int) -> str:
    moment = time.gmtime(second)
    return (
        f"{moment.tm_mday:02d}/{_MONTHS[moment.tm_mon - 1]}/{moment.tm_year}:"
        f"{moment.tm_hour:02d}:{moment.tm_min:02d}:{moment.tm_sec:02d} +0000"
    )


def line_of(hit: Hit) -> str:
    return (
        f'{hit.source} - - [{clf_time(hit.time)}] "{hit.method} {hit.path} HTTP/1.1" '
        f'{hit.status} 100 "-" "-" {hit.host} {hit.ms / 1000:.3f}\n'
    )


def random_hits(rng: random.Random) -> list[Hit]:
    """Spells of calm, bursts, silences, errors and slowness, a few lines out of order."""
    second = 1_600_000_000 + rng.randrange(0, 1000)
    hits: list[Hit] = []
    for _ in range(rng.randrange(8, 16)):
        spell = rng.choice(["calm", "burst", "silence", "errors", "slow", "calm"])
        length = rng.randrange(5, 60)
        if spell == "silence":
            second += rng.choice([length, 200, 900])
            continue
        for _ in range(length):
            per_second = {"burst": rng.randrange(3, 9)}.get(spell, rng.choice([0, 1, 1, 2]))
            for _ in range(per_second):
                errors = 0.6 if spell == "errors" else 0.08
                hits.append(
                    Hit(
                        time=second - rng.choice([0, 0, 0, 0, 1, 3, 7]),
                        source=rng.choice(SOURCES),
                        method=rng.choice(["GET", "GET", "GET", "POST"]),
                        path=rng.choice(PATHS),
                        status=(
                            rng.choice([500, 503])
                            if rng.random() < errors
                            else rng.choice([200, 200, 200, 304, 404])
                        ),
                        host=rng.choice(HOSTS),
                        ms=float(
                            rng.randrange(1000, 4000) if spell == "slow" else rng.randrange(900)
                        ),
                    )
                )
            second += 1
    return hits


def accepted(hits: list[Hit], lateness: int) -> list[Hit]:
    newest: int | None = None
    kept = []
    for hit in hits:
        if newest is not None and hit.time < newest - lateness:
            continue
        newest = hit.time if newest is None else max(newest, hit.time)
        kept.append(hit)
    return kept


def matches(scope: Any, hit: Hit) -> bool:
    if scope is None:
        return True
    kind, value = scope.kind, scope.value
    if kind == "path":
        return hit.path.startswith(value)
    if kind == "code":
        return str(hit.status) == value
    if kind == "class":
        return f"{hit.status // 100}xx" == value
    if kind == "method":
        return hit.method.lower() == value.lower()
    if kind == "vhost":
        return hit.host == value
    assert kind == "source"
    return ipaddress.ip_address(hit.source) in ipaddress.ip_network(value)


def nearest(values: list[float], percent: int) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percent / 100 * len(ordered))) - 1]


def brute_force(hits: list[Hit], rules: list[str], *, lateness: int, window: int,
                threshold: float) -> tuple[list[dict[str, Any]], list[str]]:  # fmt: skip
    """The alert and recovery records (traffic first at a second, then each rule in
    order), and the rules active at the end."""
    kept = accepted(hits, lateness)
    if not kept:
        return [], []
    specs = [parse_rule(text) for text in rules]
    by_second: dict[int, list[Hit]] = {}
    for hit in kept:
        by_second.setdefault(hit.time, []).append(hit)
    first, last = min(by_second), max(by_second)

    def between(start: int, end: int) -> list[Hit]:
        return [h for s in range(start, end + 1) for h in by_second.get(s, ())]

    records: list[dict[str, Any]] = []
    since: dict[str, int | None] = {"traffic": None} | {spec.name: None for spec in specs}
    for second in range(first, last + 1):
        inside = between(second - window + 1, second)
        average = len(inside) / window
        if (since["traffic"] is None) == (average > threshold):
            raised = average > threshold
            since["traffic"] = second if raised else None
            records.append({"type": "alert" if raised else "recovery", "rule": "traffic",
                            "time": second, "value": average, "hits": len(inside),
                            "average": average, "threshold": threshold, "window": window})  # fmt: skip
        for spec in specs:
            inside = between(second - spec.window + 1, second)
            mine = [h for h in inside if matches(spec.scope, h)]
            limit = spec.threshold
            value: float | None
            if spec.kind == "rate":
                value = len(mine) / spec.window
            elif spec.kind == "share":
                value = 100 * len(mine) / len(inside) if len(inside) >= 20 else None
            elif spec.kind == "percentile":
                value = nearest([h.ms for h in inside], spec.percentile) if inside else None
            else:
                start = second - spec.window - spec.baseline + 1
                before = [h for h in between(start, second - spec.window) if matches(spec.scope, h)]
                value = len(mine) / spec.window
                limit = spec.threshold * len(before) / spec.baseline
                if start < first or not before:
                    value = None
            if value is None:
                continue
            holds = value > limit if spec.above else value < limit
            if (since[spec.name] is None) == holds:
                since[spec.name] = second if holds else None
                records.append({"type": "alert" if holds else "recovery", "rule": spec.name,
                                "time": second, "value": value, "threshold": limit,
                                "window": spec.window})  # fmt: skip
    return records, [name for name, start in since.items() if start is not None]


class BruteForceTest(unittest.TestCase):
    def check(self, seed: int) -> int:
        rng = random.Random(seed)
        hits = random_hits(rng)
        lateness, window, threshold = rng.randint(0, 4), rng.randint(5, 40), rng.uniform(0.5, 3)
        text = "".join(line_of(hit) for hit in hits)
        records = analyse(
            blocks_of(text, rng.randint(1, 200)),
            log_format="format",
            format_string=FORMAT,
            lateness=lateness,
            alert_window=window,
            threshold=threshold,
            alerts=tuple(parse_rule(rule) for rule in RULES),
        )
        got = [r for r in records if r["type"] in ("alert", "recovery")]
        expected, active = brute_force(
            hits, RULES, lateness=lateness, window=window, threshold=threshold
        )
        self.assertEqual(len(got), len(expected))
        for mine, theirs in zip(got, expected):
            for key in ("value", "threshold", "average"):  # (the same sums, in floats)
                if key in theirs:
                    self.assertAlmostEqual(mine.pop(key), theirs.pop(key), places=9)
            self.assertEqual(mine, theirs)
        self.assertEqual(records[-1]["active"], active)
        return len(expected)

    def test_random_logs_match_the_brute_force(self) -> None:
        seen = 0
        for seed in range(40 if SLOW else 3):  # (the slow group tries more)
            with self.subTest(seed=seed):
                seen += self.check(seed)
        self.assertGreater(seen, 20)

    def test_several_inputs_give_the_records_of_one(self) -> None:
        # The requests of one log dealt at random to three inputs (each in order, as
        # the servers of a site write them): the rules see the same seconds.
        rng = random.Random(7)
        hits = sorted(random_hits(rng), key=lambda hit: hit.time)
        inputs: list[list[str]] = [[], [], []]
        for hit in hits:
            rng.choice(inputs).append(line_of(hit))
        options: dict[str, Any] = {
            "log_format": "format",
            "format_string": FORMAT,
            "alerts": tuple(parse_rule(rule) for rule in RULES),
        }
        one = analyse(blocks_of("".join(line_of(hit) for hit in hits), 50), **options)
        several = analyse_several(["".join(lines) for lines in inputs], rng, **options)
        alerts = [r for r in one if r["type"] in ("alert", "recovery")]
        self.assertEqual([r for r in several if r["type"] in ("alert", "recovery")], alerts)
        self.assertGreater(len({r["rule"] for r in alerts}), 6)

    @slow
    def test_every_rule_fires_in_the_random_logs(self) -> None:
        # The comparison means something: each rule alerts and recovers somewhere.
        fired: set[str] = set()
        for seed in range(40):
            rng = random.Random(seed)
            hits = random_hits(rng)
            records, _ = brute_force(hits, RULES, lateness=2, window=20, threshold=2.0)
            fired |= {r["rule"] for r in records if r["type"] == "recovery"}
        self.assertEqual(fired, {parse_rule(rule).name for rule in RULES} | {"traffic"})


class SeriesTest(unittest.TestCase):
    def test_a_rules_samples_stay_bounded_and_keep_its_peaks(self) -> None:
        # What the report charts of a rule's value: at most MAX_SAMPLES samples over a
        # long run, each the largest value of its span (undefined ones skipped).
        rng = random.Random(5)
        series = Series()
        added: list[tuple[int, float | None]] = []
        for second in range(0, 300_000, 7):
            value = None if rng.random() < 0.1 else rng.random()
            added.append((second, value))
            series.add(second, value, 0.5)
        self.assertLessEqual(len(series.samples), MAX_SAMPLES)
        self.assertGreater(len(series.samples), MAX_SAMPLES // 2)
        span = series.span
        largest: dict[int, float] = {}
        for second, value in added:  # (the largest value of each span, added up here)
            start = second - second % span
            if value is not None and value > largest.get(start, -1.0):
                largest[start] = value
        for start, value, _ in series.samples:
            self.assertEqual(value, largest.get(start), start)


class ExpressionTest(unittest.TestCase):
    def test_what_rules_mean(self) -> None:
        cases = {
            "rate(/api) > 50/s over 1m": ("rate", True, 50.0, 60, "path", "/api"),
            "rate < 0.5/s over 5m": ("rate", False, 0.5, 300, None, None),
            "rate > 120/m over 30s": ("rate", True, 2.0, 30, None, None),
            "share(5xx) > 5% over 5m": ("share", True, 5.0, 300, "class", "5xx"),
            "share(ERROR) > 1% over 10m": ("share", True, 1.0, 600, "level", "40"),
            "share(level=35) > 1% over 10m": ("share", True, 1.0, 600, "level", "35"),
            "share(status=404) > 2 over 1h": ("share", True, 2.0, 3600, "code", "404"),
            "p99 > 800ms over 2m": ("percentile", True, 800.0, 120, None, None),
            "p95 > 1.5s over 90": ("percentile", True, 1500.0, 90, None, None),
            "rate > 3x baseline(1h) over 2m": ("baseline", True, 3.0, 120, None, None),
            "rate < 0.3x baseline(1h) over 5m": ("baseline", False, 0.3, 300, None, None),
            "rate(source=10.1.2.3/16) > 1/s over 10s": ("rate", True, 1.0, 10, "source", "10.1.0.0/16"),
            "rate(/caf%C3%A9) > 1/s over 1s": ("rate", True, 1.0, 1, "path", "/café"),
        }  # fmt: skip
        for text, (kind, above, threshold, window, scope, value) in cases.items():
            with self.subTest(text=text):
                spec = parse_rule(text)
                self.assertEqual((spec.kind, spec.above, spec.window), (kind, above, window))
                self.assertAlmostEqual(spec.threshold, threshold)
                self.assertEqual(spec.name, text)
                self.assertEqual(spec.scope and spec.scope.kind, scope)
                self.assertEqual(spec.scope and spec.scope.value, value)
        named = parse_rule("api down: rate(/api) < 1/s over 5m")
        self.assertEqual(named.name, "api down")
        self.assertEqual(parse_rule("p99 > 800ms over 2m").percentile, 99)
        self.assertEqual(parse_rule("rate > 3x baseline(1h) over 2m").baseline, 3600)

    def test_what_is_no_rule(self) -> None:
        for text in [
            "rate > 5 over 1m",  # (no /s)
            "rate > 5/s",  # (no window)
            "rate > 5/s over 0s",
            "rate > 5/s over 1500ms",
            "share > 5% over 1m",  # (what share?)
            "share(5xx) > 101% over 1m",
            "p0 > 1ms over 1m",
            "p101 > 1ms over 1m",
            "p99(/api) > 1ms over 1m",
            "rate(status=700) > 1/s over 1m",
            "rate(source=nowhere) > 1/s over 1m",
            "rate(level=LOUD) > 1/s over 1m",
            "rate(colour=red) > 1/s over 1m",
            "rate >> 1/s over 1m",
        ]:
            with self.subTest(text=text), self.assertRaises(ValueError):
                parse_rule(text)

    def test_usage_errors(self) -> None:
        for log, rule, said in [
            ("sample.log", "p99 > 800ms over 2m", "needs durations"),
            ("sample.log", "rate(vhost=x) > 1/s over 1m", "can't be told"),
            ("mongo-traffic.csv", "share(5xx) > 5% over 1m", "can't be told"),
            ("pylog.jsonl", "rate(/api) > 1/s over 1m", "can't be told"),
            ("sample.log", "share(ERROR) > 1% over 1m", "can't be told"),
            ("sample.log", "rate > five/s over 1m", "is no rule"),
        ]:
            with self.subTest(log=log, rule=rule):
                done = run_monitor(f"tests/data/{log}", "--alert", rule)
                self.assertEqual(done.returncode, 2)
                self.assertIn(said, done.stderr)
                self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)
                self.assertNotIn("Traceback", done.stderr)
        done = run_monitor("tests/data/sample.log", "--alert", "a: rate > 1/s over 1m",
                           "--alert", "a: rate < 1/s over 1m")  # fmt: skip
        self.assertEqual(done.returncode, 2)
        self.assertIn("two rules are named 'a'", done.stderr)


if __name__ == "__main__":
    unittest.main()
