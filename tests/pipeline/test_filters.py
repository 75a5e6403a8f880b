"""Filters (a filtered run equals a run on a pre-filtered copy of the log), the filtered
path against the fast one, and --anonymize."""

from __future__ import annotations

import ipaddress
import io
import random
import re
import tempfile
import unittest
from collections.abc import Callable
from pathlib import Path
from typing import Any

from LogsMonitor2000.cli import parse_settings
from LogsMonitor2000.pipeline.filters import Filter, Selection, anonymous, parse_time
from LogsMonitor2000.parsers import PARSERS, Rejects
from LogsMonitor2000.pipeline.reorder import Reorderer
from tools.generate import Request, write_clf, write_csv
from tests.parsing import KeepBatches
from tests.support import DATA, analyse, blocks_of, json_lines, run_monitor
from tests.inputs.test_parallel import GARBAGE

SOURCES = ["10.0.0.1", "10.0.0.2", "10.1.2.3", "192.168.1.7", "2001:db8:1:2::5", "::1", "host.example.com"]  # fmt: skip
PATHS = [
    "/",
    "/api/users",
    "/api",
    "/apiary",
    "/login?next=/x",
    "http://example.com/api/v2",
    "nopath",
]
METHODS = ["GET", "POST", "get", "DELETE"]


def random_requests(rng: random.Random, count: int) -> list[Request]:
    """Requests in arrival order, with disorder, silences and garbage."""
    clock = 1549573860
    requests = []
    for _ in range(count):
        clock += rng.choice([0, 0, 1, 1, 2, rng.randint(10, 200)])
        time = clock - (rng.randint(0, 12) if rng.random() < 0.3 else 0)
        garbage = rng.choice(GARBAGE) if rng.random() < 0.03 else None
        requests.append(
            Request(
                time,
                rng.choice(SOURCES),
                "-",
                rng.choice(METHODS),
                rng.choice(PATHS),
                rng.choice([200, 201, 302, 404, 500, 503, 999]),
                rng.randint(0, 5000),
                "t",
                garbage,
            )
        )
    return requests


def random_selection(rng: random.Random, first: int) -> Selection:
    choices: dict[str, Any] = {}
    if rng.random() < 0.4:
        choices["since"] = first + rng.randint(0, 600)
    if rng.random() < 0.4:
        choices["until"] = first + rng.randint(300, 2000)
    if rng.random() < 0.4:
        choices["paths"] = tuple(rng.sample(["/api", "/login", "/", "/nothing"], rng.randint(1, 2)))
    if rng.random() < 0.4:
        choices["statuses"] = frozenset(rng.sample(["200", "5xx", "404", "3xx"], rng.randint(1, 2)))
    if rng.random() < 0.4:
        choices["networks"] = tuple(
            ipaddress.ip_network(net)
            for net in rng.sample(["10.0.0.0/8", "::1", "2001:db8::/32"], 2)
        )
    if rng.random() < 0.3:
        choices["methods"] = frozenset(rng.sample(["get", "post"], 1))
    return Selection(**choices)


def kept(selection: Selection) -> Callable[[Request], bool]:
    """The test's own reading of the filters, on the values the log was written from."""

    def keeps(request: Request) -> bool:
        path = re.sub(r"^[a-z]+://[^/]+", "", request.path) or "/"
        try:
            address = ipaddress.ip_address(request.host)
        except ValueError:
            address = None
        return (
            (selection.since is None or request.time >= selection.since)
            and (selection.until is None or request.time < selection.until)
            and (not selection.paths or any(path.startswith(p) for p in selection.paths))
            and (
                not selection.statuses
                or str(request.status) in selection.statuses
                or f"{request.status // 100}xx" in selection.statuses
            )
            and (
                not selection.networks
                or (address is not None and any(address in n for n in selection.networks))
            )
            and (not selection.methods or request.method.lower() in selection.methods)
        )

    return keeps


def valid(request: Request) -> bool:
    """Whether the monitor will take the record as valid (filters never see the others)."""
    return request.garbage is None and 100 <= request.status <= 599  # "nopath" is in section -


def written(format_name: str, requests: list[Request]) -> str:
    out = io.StringIO()
    if format_name == "csv":
        write_csv(iter(requests), out)
    else:
        write_clf(iter(requests), out, utc_offset_minutes=60)
    return out.getvalue()


class FilterTest(unittest.TestCase):
    def test_a_filtered_run_is_a_run_on_the_matching_records(self) -> None:
        for seed in range(40):
            rng = random.Random(seed)
            format_name = rng.choice(["csv", "clf"])
            requests = random_requests(rng, rng.randint(0, 700))
            selection = random_selection(rng, 1549573860)
            keeps = kept(selection)
            matching = [r for r in requests if not valid(r) or keeps(r)]
            options = {
                "log_format": format_name,
                "lateness": rng.randint(0, 5),
                "alert_window": rng.randint(1, 60),
                "threshold": rng.choice([0.0, 0.5, 1.0]),
                "stats_interval": rng.randint(1, 15),
            }
            with self.subTest(seed=seed, selection=selection, **options):
                lines = rng.randint(1, 50)
                got = analyse(
                    blocks_of(written(format_name, requests), lines), selection=selection, **options
                )
                expected = analyse(blocks_of(written(format_name, matching), lines), **options)
                summary = got[-1]
                filtered = summary.pop("filtered", 0)
                self.assertEqual(got, expected)
                self.assertEqual(filtered, len(requests) - len(matching))

    def test_the_filtered_path_counts_as_the_fast_one(self) -> None:
        # With filters, HttpEvents takes its plain, record-by-record path; a filter
        # that keeps everything must count exactly as the fast path does.
        for seed in range(30):
            rng = random.Random(seed)
            format_name = rng.choice(["csv", "clf"])
            text = written(format_name, random_requests(rng, rng.randint(0, 500)))
            blocks = blocks_of(text, rng.randint(1, 60))
            with self.subTest(seed=seed, format=format_name):
                keep_all = Filter(Selection())
                self.assertEqual(
                    parsed(format_name, blocks, keep_all), parsed(format_name, blocks, None)
                )
                self.assertEqual(keep_all.filtered, 0)

    def test_the_random_logs_are_worth_comparing(self) -> None:
        rng = random.Random(5)
        requests = random_requests(rng, 700)
        got = analyse([written("csv", requests)], log_format="csv")[-1]
        self.assertGreater(got["late"], 0)
        self.assertGreater(got["invalid"], 0)

    def test_times(self) -> None:
        self.assertEqual(parse_time("2019-02-07T21:20:00Z"), 1549574400)
        self.assertEqual(parse_time("2019-02-07T22:20:00+01:00"), 1549574400)
        self.assertEqual(parse_time("2019-02-07T21:20:00.5Z"), 1549574401)  # the next whole second
        self.assertEqual(parse_time("2019-02-07"), 1549497600)  # local midnight; TZ=UTC here
        for bad in ("yesterday", "2019-02-30", "", "1549574400"):
            with self.assertRaises(ValueError, msg=bad):
                parse_time(bad)

    def test_mongo_filters_keep_whole_operations(self) -> None:
        header = (
            "WatcherName,WatchID,Iteration,StartTime,EndTime,DB,Collection,Operation,Filter,"
            "Duration,MatchedCount,InsertedCount,UpsertedCount,ModifiedCount,DeletedCount\n"
        )

        def row(wid: str, iteration: str, collection: str, operation: str) -> str:
            return (
                f"w,{wid},{iteration},2024-03-01 12:00:00.1,2024-03-01 12:00:00.5,shop,"
                f'{collection},{operation},"{{""a"": 1}}",0.4,1,0,0,0,0\n'
            )

        log = header + "".join(
            [
                row("1", "0", "orders", "find"),
                row("1", "final", "orders", "find"),
                row("2", "0", "users", "find"),  # never finishes, filtered out
                row("3", "final", "users", "find"),
                row("3", "final", "users", "find"),  # repeated after its final
                row("4", "0", "orders", "aggregate"),  # never finishes, kept
            ]
        )
        got = analyse([log], log_format="mongo", selection=Selection(paths=("shop.orders",)))
        self.assertEqual(got[-1]["events"], 1)
        self.assertEqual(got[-1]["filtered"], 1)
        self.assertEqual(got[-1]["unfinished"], 1)
        by_method = analyse(
            [log], log_format="mongo", selection=Selection(methods=frozenset({"aggregate"}))
        )
        self.assertEqual(by_method[-1]["events"], 0)
        self.assertEqual(by_method[-1]["filtered"], 2)
        self.assertEqual(by_method[-1]["unfinished"], 1)


def parsed(format_name: str, blocks: list[Any], selection: Filter | None) -> tuple[Any, ...]:
    keep = KeepBatches()
    factory = PARSERS[format_name]
    reorderer = Reorderer(lateness_seconds=3, downstream=keep, batch=factory.family.batch)
    rejects = Rejects(name_first=1000)
    parser = factory(reorderer, rejects, selection)
    for block in blocks:
        parser.feed(block)
        reorderer.release()
    parser.finish()
    reorderer.finish()
    return (
        sorted((second, repr(batch)) for second, batch in keep.batches.items()),
        rejects.examples,
        reorderer.late,
        reorderer.max_lateness,
        parser.skipped,
    )


class CommandLineFilterTest(unittest.TestCase):
    def test_filters_against_a_prefiltered_copy(self) -> None:
        rng = random.Random(11)
        requests = random_requests(rng, 3000)
        since, until = "2019-02-07T21:15:00Z", "2019-02-07T22:00:00+00:00"
        selection = Selection(
            since=parse_time(since),
            until=parse_time(until),
            paths=("/api", "/login"),
            statuses=frozenset({"2xx", "404"}),
            networks=(ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1")),
        )
        keeps = kept(selection)
        with tempfile.TemporaryDirectory() as tmp:
            full, prefiltered = Path(tmp) / "full.log", Path(tmp) / "prefiltered.log"
            full.write_text(written("clf", requests))
            prefiltered.write_text(
                written("clf", [r for r in requests if not valid(r) or keeps(r)])
            )
            filters = ["--since", since, "--until", until, "--path", "/api,/login"]
            filters += ["--status", "2xx,404", "--source", "10.0.0.0/8,::1"]
            got = run_monitor(str(full), "--output", "json", *filters)
            expected = run_monitor(str(prefiltered), "--output", "json")
        self.assertEqual(got.returncode, 0, got.stderr)
        records, want = json_lines(got.stdout), json_lines(expected.stdout)
        self.assertGreater(records[-1].pop("filtered"), 0)
        self.assertGreater(want[-1]["events"], 0)
        self.assertEqual(records, want)

    def test_repeating_a_list_option_adds_to_the_list(self) -> None:
        sample = str(DATA / "sample.csv")
        for repeated, commas in [
            (["--path", "/api", "--path", "/login"], ["--path", "/api,/login"]),
            (["--status", "404", "--status", "5xx"], ["--status", "404,5xx"]),
            (
                ["--source", "10.0.0.1", "--source", "10.0.0.2/31"],
                ["--source", "10.0.0.1,10.0.0.2/31"],
            ),
            (["--method", "POST", "--method", "put"], ["--method", "POST,PUT"]),
        ]:
            with self.subTest(repeated=repeated):
                self.assertEqual(
                    parse_settings([sample, *repeated]), parse_settings([sample, *commas])
                )
        got = run_monitor(sample, "--output", "json", "--path", "/api", "--path", "/login")
        want = run_monitor(sample, "--output", "json", "--path", "/api,/login")
        self.assertEqual(got.stdout, want.stdout)
        sections = {key for r in json_lines(got.stdout)[:-1] for key, _ in r.get("sections", [])}
        self.assertEqual(sections, {"/api", "/login"})

    def test_a_path_without_its_slash(self) -> None:
        # --path api is --path /api for an access log; a namespace never starts with /.
        sample = str(DATA / "sample.csv")
        bare = run_monitor(sample, "--output", "json", "--path", "api")
        slashed = run_monitor(sample, "--output", "json", "--path", "/api")
        self.assertEqual(bare.returncode, 0, bare.stderr)
        self.assertEqual(bare.stdout, slashed.stdout)
        self.assertGreater(json_lines(bare.stdout)[-1]["events"], 0)
        mongo = str(DATA / "mongo.csv")
        plain = run_monitor(mongo, "--output", "json", "--path", "shop.orders")
        slash = run_monitor(mongo, "--output", "json", "--path", "/shop.orders")
        self.assertEqual(slash.stdout, plain.stdout)
        self.assertGreater(json_lines(plain.stdout)[-1]["events"], 0)

    def test_bad_filters_are_usage_errors(self) -> None:
        for options in (
            ["--since", "tomorrow"],
            ["--status", "600"],
            ["--status", "2xx,"],
            ["--source", "10.0.0.0/33"],
            ["--since", "2020-01-02", "--until", "2020-01-01"],
            ["--format", "mongo", "--status", "5xx"],
            ["--alert-url", "ftp://example.com/"],
        ):
            with self.subTest(options=options):
                result = run_monitor("tests/data/mongo.csv", *options)
                self.assertEqual(result.returncode, 2)
                self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
                self.assertNotIn("Traceback", result.stderr)


class AnonymizeTest(unittest.TestCase):
    def test_anonymous_forms(self) -> None:
        self.assertEqual(anonymous("10.1.2.3"), "10.1.2.0")
        self.assertEqual(anonymous("2001:db8:1:2:3:4:5:6"), "2001:db8:1::")
        self.assertEqual(anonymous("::1"), "::")
        self.assertEqual(anonymous("a.b.example.com"), "*.example.com")
        self.assertEqual(anonymous("localhost"), "*")

    def test_no_full_address_anywhere(self) -> None:
        lines = [
            '"10.1.2.3","-","alice",1000,"GET /a?token=s3cret HTTP/1.0",200,1\n',
            '"10.1.2.99","-","-",1000,"GET /b HTTP/1.0",200,1\n',
            '"2001:db8:1:2::5","-","-",1001,"GET /c HTTP/1.0",200,1\n',
            '"10.9.9.9","-","bob",1001,"GET /d?x=1 HTTP/1.0",999,1\n',  # invalid
            '"10.8.8.8","-","-",1001,"GET /e HTTP/1.0",200,1.5\n',  # invalid
        ]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "access.csv"
            path.write_text("".join(lines))
            for output in ("text", "json"):
                result = run_monitor(str(path), "--output", output, "--anonymize", "--verbose")
                with self.subTest(output=output):
                    self.assertEqual(result.returncode, 0, result.stderr)
                    everything = result.stdout + result.stderr
                    for secret in ("10.1.2.3", "10.1.2.99", "2001:db8:1:2::5", "10.9.9.9",
                                   "10.8.8.8", "alice", "bob", "s3cret", "x=1"):  # fmt: skip
                        self.assertNotIn(secret, everything)
                    self.assertIn("10.1.2.0", result.stdout)
                    self.assertIn("2001:db8:1::", result.stdout)
                    self.assertIn("line 4", result.stderr)  # still named, not shown
            stats = json_lines(run_monitor(str(path), "--output", "json", "--anonymize").stdout)[0]
        self.assertEqual(stats["sources"], [["10.1.2.0", 2], ["2001:db8:1::", 1]])


if __name__ == "__main__":
    unittest.main()
