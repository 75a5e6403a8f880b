"""The panels (docs/panels.md) against a brute-force count of random logs.

The reference reads the log lines itself (a regular expression of its own), decides
lateness the obvious way (``tests.reference.accept``), and counts every panel with
plain sets and lists; URL decoding and browser families come from tables written by
hand next to the values the generator uses, not from the code under test.
"""

from __future__ import annotations

import json
import math
import pickle
import random
import shutil
import subprocess
import sys
import time
import tempfile
import unittest
from collections import defaultdict
from pathlib import Path
from typing import Any, NamedTuple

from LogsMonitor2000.calculators.distinct import visitor_id
from LogsMonitor2000.calculators.panels import MINUTE, MINUTES, Panels, chunk_minute_panels
from LogsMonitor2000.inputs.parallel import MIN_BYTES
from tests.reference import accept
from LogsMonitor2000.parsers import Rejects, parser_factory
from LogsMonitor2000.pipeline.batch import COMPACT_AT, Batch
from LogsMonitor2000.pipeline.reorder import Reorderer
from tests.parsing import KeepBatches
from tests.support import (
    DATA,
    SLOW,
    TOP,
    analyse,
    blocks_of,
    environment,
    run_process,
    slow,
    time_zone,
)

#: (as written, decoded): what the generator requests.
URLS = [
    ("/", "/"),
    ("/index.html", "/index.html"),
    ("/api/users?id=7", "/api/users?id=7"),
    ("/static/app.JS", "/static/app.JS"),  # static, whatever the case
    ("/img/logo.png?v=2", "/img/logo.png?v=2"),
    ("/caf%C3%A9/menu", "/café/menu"),
    ("/a%2Fb/c.css", "/a/b/c.css"),
    ("/bad%FFbyte", "/bad%FFbyte"),  # no UTF-8: stays as written
    ("/mixed%C3%A9%FF", "/mixed\u00e9%FF"),
    ("http://example.com/abs/x.gif", "http://example.com/abs/x.gif"),
]
STATIC = {"/static/app.JS", "/img/logo.png?v=2", "/a/b/c.css", "http://example.com/abs/x.gif"}
#: (referrer, its site or None)
REFERRERS = [
    ("-", None),
    ("https://www.google.com/search?q=x", "www.google.com"),
    ("http://user@blog.example.org:8080/post", "blog.example.org:8080"),
    ("android-app://com.slack", "com.slack"),
    ("not a url", None),
]
#: (user agent, browser, os)
AGENTS = [
    ("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", "Firefox", "Linux"),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0 Safari/537.36 Edg/120.0",
        "Edge",
        "Windows",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        "Safari",
        "iOS",
    ),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Crawlers", "Crawlers"),
    ("curl/8.4.0", "Crawlers", "Crawlers"),
    ("-", "Unknown", "Unknown"),
]  # fmt: skip
SOURCES = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "2001:db8::7", "192.168.1.9"]
USERS = ["-", "-", "bob smith", "ann"]
STATUSES = ["200", "200", "304", "404", "500", "201"]
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()

NGINX_TIMED = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent" $request_time'
)


class Hit(NamedTuple):
    time: int
    source: str
    user: str
    url: int  # index in URLS
    status: str
    size: int
    referrer: int
    agent: int
    ms: float | None


def clf_time(second: int) -> str:
    moment = time.gmtime(second)
    return (
        f"{moment.tm_mday:02d}/{_MONTHS[moment.tm_mon - 1]}/{moment.tm_year}:"
        f"{moment.tm_hour:02d}:{moment.tm_min:02d}:{moment.tm_sec:02d} +0000"
    )


def line_of(hit: Hit, timed: bool) -> str:
    line = (
        f'{hit.source} - {hit.user} [{clf_time(hit.time)}] "GET {URLS[hit.url][0]} HTTP/1.1" '
        f'{hit.status} {hit.size} "{REFERRERS[hit.referrer][0]}" "{AGENTS[hit.agent][0]}"'
    )
    return line + (f" {hit.ms / 1000:.3f}\n" if timed else "\n")


def random_hits(rng: random.Random, count: int, timed: bool) -> list[Hit]:
    """Around two local midnights, with disorder (some late)."""
    second = 1_700_000_000 - rng.randrange(0, 3 * 86400)
    hits = []
    for _ in range(count):
        second += rng.choice([0, 0, 1, 2, 30, 600, 3000])
        hits.append(
            Hit(
                time=second - rng.choice([0, 0, 0, 1, 3, 8]),
                source=rng.choice(SOURCES),
                user=rng.choice(USERS),
                url=rng.randrange(len(URLS)),
                status=rng.choice(STATUSES),
                size=rng.randrange(0, 5000),
                referrer=rng.randrange(len(REFERRERS)),
                agent=rng.randrange(len(AGENTS)),
                ms=rng.randrange(0, 3000) if timed else None,
            )
        )
    return hits


def nearest_rank(values: list[float], percent: int) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percent / 100 * len(ordered))) - 1]


def reference_panels(hits: list[Hit], *, lateness: int, top: int, timed: bool) -> dict[str, Any]:
    """docs/panels.md, counted the obvious way over the accepted hits."""
    accepted, _, _ = accept(hits, lateness)  # type: ignore[arg-type]
    panels: dict[str, dict[str, list[Hit]]] = defaultdict(lambda: defaultdict(list))
    for hit in accepted:
        url = URLS[hit.url][1]
        kind = (
            "not_found"
            if hit.status == "404"
            else "static_requests" if url in STATIC else "requests"
        )
        panels[kind][url].append(hit)
        panels["status_codes"][hit.status].append(hit)
        panels["referrers"][REFERRERS[hit.referrer][0]].append(hit)
        site = REFERRERS[hit.referrer][1]
        if site is not None:
            panels["referring_sites"][site].append(hit)
        panels["browsers"][AGENTS[hit.agent][1]].append(hit)
        panels["os"][AGENTS[hit.agent][2]].append(hit)
        panels["remote_users"][hit.user].append(hit)
        local = time.localtime(hit.time)
        panels["visit_time"][f"{local.tm_hour:02d}"].append(hit)
        panels["visitors"][time.strftime("%Y-%m-%d", local)].append(hit)

    def entry(key: str, group: list[Hit]) -> dict[str, Any]:
        data: dict[str, Any] = {
            "key": key,
            "hits": len(group),
            "visitors": len({(h.source, time.strftime("%Y-%m-%d", time.localtime(h.time)), h.agent) for h in group}),
            "bytes": sum(h.size for h in group),
        }  # fmt: skip
        if timed:
            times = [float(h.ms) for h in group if h.ms is not None]
            data["avg_ms"] = round(sum(times) / len(times), 3) if times else None
            data["max_ms"] = max(times) if times else None
            data["p95_ms"] = nearest_rank(times, 95) if times else None
        return data

    result: dict[str, Any] = {}
    for key in ("requests", "static_requests", "not_found", "status_codes", "referrers",
                "referring_sites", "browsers", "os", "remote_users"):  # fmt: skip
        ranked = sorted(panels[key].items(), key=lambda item: (-len(item[1]), item[0]))
        result[key] = [entry(name, group) for name, group in ranked[:top]]
    result["visit_time"] = [
        entry(f"{hour:02d}", panels["visit_time"][f"{hour:02d}"]) for hour in range(24)
    ]
    result["visitors"] = [entry(day, group) for day, group in sorted(panels["visitors"].items())]
    result["unique_visitors"] = len(
        {(h.source, time.strftime("%Y-%m-%d", time.localtime(h.time)), h.agent) for h in accepted}
    )  # fmt: skip
    return result


class PanelsTest(unittest.TestCase):
    def run_case(self, seed: int, *, timed: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        rng = random.Random(seed)
        hits = random_hits(rng, rng.randrange(50, 700), timed)
        lateness, top = rng.randint(0, 5), rng.randint(1, 12)
        text = "".join(line_of(hit, timed) for hit in hits)
        options: dict[str, Any] = {"lateness": lateness, "top": top, "stats_interval": 60}
        if timed:
            options.update(log_format="format", format_string=NGINX_TIMED)
        else:
            options.update(log_format="clf")
        summary = analyse(blocks_of(text, rng.randint(1, 90)), panels=True, **options)[-1]
        got = {key: summary[key] for key in reference_panels([], lateness=0, top=0, timed=timed)}
        return got, reference_panels(hits, lateness=lateness, top=top, timed=timed)

    def test_a_busy_second_is_added_up_as_it_comes(self) -> None:
        # Thousands of requests in a second: a second's visit log adds them up past
        # COMPACT_AT (its memory is then that of its distinct visits); the panels are
        # the reference's all the same, in blocks of either size.
        rng = random.Random(8)
        for timed in (False, True) if SLOW else (True,):  # (the slow group tries both)
            hits = [hit._replace(time=1_700_000_000 + i // 6000) for i, hit in
                    enumerate(random_hits(rng, 3 * COMPACT_AT, timed))]  # fmt: skip
            text = "".join(line_of(hit, timed) for hit in hits)
            options: dict[str, Any] = {"top": 20}
            if timed:
                options.update(log_format="format", format_string=NGINX_TIMED)
            else:
                options.update(log_format="clf")
            for lines in (len(hits), 700) if SLOW else (700,):
                with self.subTest(timed=timed, lines=lines):
                    summary = analyse(blocks_of(text, lines), panels=True, **options)[-1]
                    expected = reference_panels(hits, lateness=2, top=20, timed=timed)
                    self.assert_panels_equal({key: summary[key] for key in expected}, expected)

    def test_random_logs_match_the_reference(self) -> None:
        for zone in ("UTC", "Asia/Kolkata"):
            with time_zone(zone):
                for seed in range(12):
                    for timed in (False, True):
                        with self.subTest(zone=zone, seed=seed, timed=timed):
                            got, expected = self.run_case(seed, timed=timed)
                            self.assert_panels_equal(got, expected)

    def assert_panels_equal(self, got: dict[str, Any], expected: dict[str, Any]) -> None:
        """Equal, but for request times: the average and maximum to rounding (ms from
        seconds in floating point), p95 within the
        sketch's 1% (docs/panels.md)."""
        for key, value in expected.items():
            if not isinstance(value, list):
                self.assertEqual(got[key], value, key)
                continue
            self.assertEqual(len(got[key]), len(value), key)
            for mine, theirs in zip(got[key], value):
                near = {"avg_ms": 1e-9, "max_ms": 1e-9, "p95_ms": 0.01}
                for name, tolerance in near.items():
                    a, b = mine.get(name), theirs.get(name)
                    if b is None:
                        self.assertEqual(a, b, (key, name))
                    else:
                        self.assertLessEqual(abs(a - b), tolerance * b + 1e-6, (key, mine, theirs))
                strip = {k: v for k, v in mine.items() if k not in near}
                self.assertEqual(strip, {k: v for k, v in theirs.items() if k not in near}, key)

    def test_the_reference_sees_what_it_claims(self) -> None:
        # The random logs cross midnights, hold late hits, 404s, static files and
        # referring sites: the comparison above means something.
        rng = random.Random(3)
        hits = random_hits(rng, 700, True)
        expected = reference_panels(hits, lateness=2, top=20, timed=True)
        self.assertGreater(len(expected["visitors"]), 1)
        self.assertLess(sum(e["hits"] for e in expected["visitors"]), len(hits))
        for key in ("not_found", "static_requests", "referring_sites", "remote_users"):
            self.assertTrue(expected[key], key)

    def test_halves_merged_are_the_whole(self) -> None:
        # Two chunks of a file counted apart (workers), merged: the whole.  The cut is
        # inside a day, so the halves share its visitors and entries.
        for seed in range(6):
            with self.subTest(seed=seed), time_zone("UTC"):
                whole, first, second = counted_halves(timed_batches(seed))
                first.merge(second)
                self.assertEqual(first.value(50), whole.value(50))
                self.assertGreater(len(whole.value(50)["visitors"]), 1)

    def test_panels_shipped_between_processes_count_as_the_others(self) -> None:
        # A worker's panels reach the main process pickled, their visitors' ids packed
        # (distinct.packed): merged from the bytes, they are the panels that never
        # crossed; merged into, or counting on, they are the whole.
        for seed in range(4):
            with self.subTest(seed=seed), time_zone("UTC"):
                batches = timed_batches(seed)
                whole, first, second = counted_halves(batches)
                first.settle()
                second.settle()
                plain = Panels()
                plain.merge(first)
                plain.merge(second)
                shipped = Panels()
                shipped.merge(pickle.loads(pickle.dumps(first)))
                shipped.merge(pickle.loads(pickle.dumps(second)))
                self.assertEqual(shipped.value(50), plain.value(50))
                self.assertEqual(shipped.to_json(), plain.to_json())
                self.assertEqual(plain.value(50), whole.value(50))
                merged_into = pickle.loads(pickle.dumps(first))
                merged_into.merge(pickle.loads(pickle.dumps(second)))
                self.assertEqual(merged_into.value(50), whole.value(50))
                counting_on = pickle.loads(pickle.dumps(first))
                self.assertEqual(counting_on.to_json(), first.to_json())
                seconds = sorted(batches)
                for at in seconds[len(seconds) // 2 :]:  # (the second half's)
                    counting_on.count(batches[at])
                self.assertEqual(counting_on.value(50), whole.value(50))

    def test_the_minutes_of_a_chunk_are_each_minute_counted_alone(self) -> None:
        # With a store, a worker counts each minute of its chunk apart; the minutes
        # share what they remember (whether a URL is static, a user agent's browser),
        # never what they counted.
        for seed in range(3):
            with self.subTest(seed=seed), time_zone("UTC"):
                alone: dict[int, Panels] = {}
                for at, batch in sorted(timed_batches(seed).items()):
                    alone.setdefault(at - at % MINUTE, Panels()).count(batch)
                minutes = chunk_minute_panels(list(timed_batches(seed).values()))[MINUTES]
                self.assertEqual(sorted(minutes), sorted(alone))
                self.assertGreater(len(minutes), 3)
                for minute, panels in minutes.items():
                    self.assertEqual(panels.to_json(), alone[minute].to_json(), minute)

    def test_a_long_log_keeps_the_visitors_of_three_days(self) -> None:
        # Twelve days: the visitors of each day and in all are the reference's, while
        # the panels hold the visitors' ids of three days at most (the first and the
        # latest two), the days' own entries none: memory follows the days counted
        # at once, not the log's length.
        hits = twelve_days()
        with time_zone("UTC"):
            panels = Panels()
            held = 0
            for _, batch in sorted(batches_of(hits).items()):
                panels.count(batch)
                panels.unique_visitors()  # (spread what is pending)
                self.assertLessEqual(len(panels.visitors), 3)
                for table in panels.days.values():
                    for entry in table.entries.values():
                        self.assertEqual(entry.visitor_days(), {})
                for table in (*panels.tables.values(), *panels.hours.values()):
                    for entry in table.entries.values():
                        self.assertLessEqual(len(entry.visitor_days()), 3)
                held = max(held, sum(len(day.known()) for day in panels.visitors.values()))
            expected = reference_panels(hits, lateness=2, top=50, timed=True)
            got = panels.value(50)
            self.assert_panels_equal({key: got[key] for key in expected}, expected)
        self.assertEqual(len(expected["visitors"]), 12)
        self.assertLess(held, expected["unique_visitors"] / 3)

    def test_a_checkpoint_of_an_earlier_version_counts_on(self) -> None:
        # Before, a day's own entry listed the day's visitors as the day's
        # ``visitors`` did: restored, they are counted once, and a finished day keeps
        # its number.
        for seed in range(3):
            with self.subTest(seed=seed), time_zone("UTC"):
                batches = timed_batches(seed) if seed else batches_of(twelve_days())
                seconds = sorted(batches)
                whole, before = Panels(), Panels()
                for at in seconds:
                    whole.count(batches[at])
                for at in seconds[: len(seconds) // 2]:
                    before.count(batches[at])
                days: dict[str, set[int]] = defaultdict(set)
                for at in seconds[: len(seconds) // 2]:
                    day = time.strftime("%Y-%m-%d", time.localtime(at))
                    days[day] |= {visitor_id(key[0], key[5]) for key in batches[at].visits.keys}
                state = json.loads(json.dumps(before.to_json()))
                for day, table in state["days"].items():
                    entry = table["entries"][""]
                    entry[3], entry[4] = 0, {day: sorted(days[day])}  # (done, days)
                self.assertEqual(sorted(state["days"]), sorted(days))
                earlier = Panels()
                earlier.restore(state)
                self.assertEqual(earlier.value(50), before.value(50))
                for at in seconds[len(seconds) // 2 :]:
                    earlier.count(batches[at])
                self.assertEqual(earlier.value(50), whole.value(50))

    def test_a_checkpoint_and_what_follows_is_the_whole(self) -> None:
        # Panels written to JSON halfway and read back (--state), then counting on.
        for seed in range(6):
            with self.subTest(seed=seed), time_zone("UTC"):
                batches = timed_batches(seed)
                seconds = sorted(batches)
                whole, before = Panels(), Panels()
                for at in seconds:
                    whole.count(batches[at])
                for at in seconds[: len(seconds) // 3]:
                    before.count(batches[at])
                after = Panels()
                after.restore(json.loads(json.dumps(before.to_json())))
                self.assertEqual(after.value(50), before.value(50))
                for at in seconds[len(seconds) // 3 :]:
                    after.count(batches[at])
                self.assertEqual(after.value(50), whole.value(50))


def timed_batches(seed: int) -> dict[int, Batch]:
    """The Batches of a random nginx log with request times, parsed for real."""
    return batches_of(sorted(random_hits(random.Random(seed), 500, True)))


def counted_halves(batches: dict[int, Batch]) -> tuple[Panels, Panels, Panels]:
    """The panels of all the seconds, of the first half and of the second half."""
    seconds = sorted(batches)
    cut = seconds[len(seconds) // 2]
    whole, first, second = Panels(), Panels(), Panels()
    for at in seconds:
        whole.count(batches[at])
        (first if at < cut else second).count(batches[at])
    return whole, first, second


def twelve_days() -> list[Hit]:
    """60 random hits a day (UTC) for twelve days, in order."""
    rng = random.Random(5)
    start = 1_699_920_000  # (a midnight, UTC)
    return sorted(
        random_hits(rng, 1, True)[0]._replace(time=start + day * 86400 + rng.randrange(86400))
        for day in range(12)
        for _ in range(60)
    )


def batches_of(hits: list[Hit]) -> dict[int, Batch]:
    """The Batches of an nginx log with request times, parsed for real."""
    text = "".join(line_of(hit, True) for hit in hits)
    factory = parser_factory("format", format_string=NGINX_TIMED)
    keep = KeepBatches()
    reorderer = Reorderer(lateness_seconds=10**12, downstream=keep, batch=factory.family.batch)
    parser = factory(reorderer, Rejects())
    parser.feed(text)
    parser.finish()
    reorderer.finish()
    return keep.batches


#: Runs the monitor with the arguments given; prints its peak resident memory, in KiB.
PEAK = (
    "import resource, subprocess, sys\n"
    "subprocess.run([sys.executable, '-m', 'LogsMonitor2000', *sys.argv[1:]],"
    " stdout=subprocess.DEVNULL, check=True)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


class WholeFilesTest(unittest.TestCase):
    @slow
    def test_workers_count_what_one_process_counts(self) -> None:
        # A file large enough for --jobs 2, disorder across the chunks' starts and a
        # local midnight inside: the panels the workers count equal one process's, and
        # so do the records of rules that read a second's counts and durations.
        rng = random.Random(11)
        hits = random_hits(rng, 70_000, True)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "access.log"
            path.write_text("".join(line_of(hit, True) for hit in hits))
            self.assertGreater(path.stat().st_size, MIN_BYTES)
            rules = [
                "--slow-ms",
                "1500",
                "--alert",
                "p90 > 2s over 30s",
                "--alert",
                "e: share(5xx) > 17% over 1d",
                "--alert",
                "rate(/api) > 0.0003/s over 1h",
            ]
            outputs = [
                run_process(str(path), "--output", "json", "--log-format", NGINX_TIMED,
                            "--top", "50", "--jobs", jobs, *rules, TZ="UTC").stdout
                for jobs in ("1", "2")
            ]  # fmt: skip
        self.assertEqual(outputs[0], outputs[1])
        records = [json.loads(line) for line in outputs[0].splitlines()]
        fired = {r.get("rule", r["type"]) for r in records if r["type"] != "stats"}
        self.assertLessEqual(
            {"e", "p90 > 2s over 30s", "rate(/api) > 0.0003/s over 1h", "slow"}, fired
        )
        summary = records[-1]
        self.assertGreater(len(summary["visitors"]), 1)
        self.assertGreater(summary["late"], 0)

    @slow
    def test_distinct_long_urls_stay_within_80_mb(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "access.log"
            with path.open("w") as out:
                for i in range(120_000):
                    second = 1_700_000_000 + i // 50
                    out.write(
                        f"10.0.{i % 200}.{i % 250} - - [{clf_time(second)}] "
                        f'"GET /u/{i:06d}/{"x" * 1010} HTTP/1.1" 200 {i % 9999} "-" "curl/8"\n'
                    )
            for jobs in ("1", "2"):
                with self.subTest(jobs=jobs):
                    # (the peak of the monitor's process alone: a child of this one)
                    result = subprocess.run(
                        [sys.executable, "-c", PEAK, str(path), "--output", "json", "--jobs", jobs],
                        capture_output=True, text=True, cwd=TOP, env=environment(), timeout=300,
                    )  # fmt: skip
                    self.assertEqual(result.returncode, 0, result.stderr)
                    self.assertLess(int(result.stdout) / 1024, 80, "MB at the peak")


@unittest.skipUnless(shutil.which("goaccess"), "GoAccess is not installed")
class GoAccessTest(unittest.TestCase):
    """The bundled sample against GoAccess's JSON, where docs/panels.md and GoAccess
    agree: hits and bytes per URL, static file, 404 and status code, hits per hour and
    per day, visitors per day and in all, hits per client.  (GoAccess keeps late lines: the monitor is
    run with a lateness that accepts them all; it shows the hour as the log writes it
    (+01:00 here): the monitor is run in that time zone.)"""

    def test_the_sample_agrees_with_goaccess(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "goaccess.json"
            subprocess.run(
                ["goaccess", str(DATA / "sample.log"), "--log-format=COMBINED", "-o", str(report),
                 "--http-method=no", "--http-protocol=no", "--no-progress"],
                check=True, capture_output=True, timeout=60,
            )  # fmt: skip
            theirs = json.loads(report.read_text())
        result = run_process(str(DATA / "sample.log"), "--output", "json", "--buffer", "600",
                             "--top", "100", TZ="Etc/GMT-1")  # fmt: skip
        ours = json.loads(result.stdout.splitlines()[-1])
        self.assertEqual(ours["late"], 0)

        def counts(entries: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
            return {e["data"]: (e["hits"]["count"], e["bytes"]["count"]) for e in entries}

        def mine(key: str) -> dict[str, tuple[int, int]]:
            return {e["key"]: (e["hits"], e["bytes"]) for e in ours[key]}

        for panel in ("requests", "static_requests", "not_found"):
            with self.subTest(panel=panel):
                self.assertEqual(mine(panel), counts(theirs[panel]["data"]))
        codes = [item for group in theirs["status_codes"]["data"] for item in group["items"]]
        self.assertEqual(
            mine("status_codes"),
            {code.split()[0]: value for code, value in counts(codes).items()},
        )
        hours = {key: value for key, value in mine("visit_time").items() if value[0]}
        self.assertEqual(hours, counts(theirs["visit_time"]["data"]))
        days = {
            e["key"].replace("-", ""): (e["hits"], e["bytes"], e["visitors"])
            for e in ours["visitors"]
        }
        self.assertEqual(
            days,
            {e["data"]: (e["hits"]["count"], e["bytes"]["count"], e["visitors"]["count"])
             for e in theirs["visitors"]["data"]},
        )  # fmt: skip
        self.assertEqual(ours["unique_visitors"], theirs["general"]["unique_visitors"])
        self.assertEqual(
            {key: count for key, count in ours["sources"]},
            {e["data"]: e["hits"]["count"] for e in theirs["hosts"]["data"]},
        )


if __name__ == "__main__":
    unittest.main()
