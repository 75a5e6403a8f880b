"""docs/counting.md, "Several inputs": several inputs, one run - against ``reference.py`` on random inputs (in
process), and on real files, a ``.gz`` and standard input among them (the command line).

Each input is judged late on its own; a second closes once every input that has not
ended has closed it; the records are those of all the inputs' accepted events together.
"""

from __future__ import annotations

import gzip
import random
import tempfile
import time
import unittest
from pathlib import Path
from typing import Any

from LogsMonitor2000.pipeline.monitor import Monitor
from LogsMonitor2000.settings import Settings
from tools.generate import Request, write_clf
from tests.reference import Event, reference_several
from tests.live import LiveMonitor, append, csv_row, hits_seen
from tests.support import (
    Blocks,
    Collector,
    DATA,
    SLOW,
    blocks_of,
    csv_line,
    json_lines,
    run_monitor,
    run_process,
    slow,
)
from tests.pipeline.test_bruteforce import random_events

GARBAGE = "this is not a log line\n"
FAST = ["--stats-interval", "1", "--buffer", "0"]


def as_log(events: list[Event], format_name: str, garbage: list[int]) -> str:
    """The events as access CSV or Combined Log Format, a garbage line before each
    index of ``garbage``."""
    lines = []
    for index, event in enumerate(events):
        if index in garbage:
            lines.append(GARBAGE)
        if format_name == "csv":
            lines.append(csv_line(*event[:5]))
        else:
            out: Any = _Lines()
            request = Request(event.time, event.source, "-", "GET", event.section + "/page",
                              event.status, event.size, "t")  # fmt: skip
            write_clf(iter([request]), out, utc_offset_minutes=60)
            lines.append(out.text)
    return "".join(lines)


def aligned(events: list[Event], start: int) -> list[Event]:
    """The events moved in time so that the first is at ``start``."""
    base = events[0].time if events else 0
    return [event._replace(time=event.time - base + start) for event in events]


class _Lines:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text


def analyse_several(texts: list[str], rng: random.Random, **options: Any) -> list[dict[str, Any]]:
    collector = Collector()
    names = [f"{i}" for i in range(len(texts))]
    monitor = Monitor(Settings(paths=tuple(names), **options), collector, warn=lambda _: None)
    monitor.run([Blocks(blocks_of(text, rng.randint(1, 60))) for text in texts])
    assert collector.summary is not None
    return collector.records + [collector.summary]


class SeveralInputsTest(unittest.TestCase):
    def test_random_inputs_match_the_reference(self) -> None:
        for seed in range(40 if SLOW else 15):  # the slow group tries more
            rng = random.Random(seed)
            options = {
                "lateness": rng.randint(0, 5),
                "alert_window": rng.randint(1, 40),
                "threshold": rng.choice([0.0, 0.5, 1.0, 2.5]),
                "stats_interval": rng.randint(1, 15),
                "top": rng.randint(0, 5),
            }
            inputs, texts, invalid = [], [], []
            start = rng.randint(10**8, 10**9)
            for _ in range(rng.randint(2, 4)):
                events = random_events(rng, rng.choice([0, 5, rng.randint(20, 400)]))
                shift = rng.choice([0, rng.randint(-300, 300), 86_400])  # overlap, or a day
                events = aligned(events, start + shift)
                garbage = sorted(
                    rng.sample(range(len(events)), min(len(events), rng.randint(0, 3)))
                )
                inputs.append(events)
                texts.append(as_log(events, rng.choice(["csv", "clf"]), garbage))
                invalid.append(len(garbage))
            with self.subTest(seed=seed, **options):
                got = analyse_several(texts, rng, **options)
                expected = reference_several(inputs, **options)
                summary = expected[-1]
                summary["invalid"] = sum(invalid)
                for entry, count in zip(summary["inputs"], invalid):
                    entry["invalid"] = count
                if not any(texts):  # no input said which format it is: no totals
                    for key in ("sections", "sources", "status", "bytes"):
                        del summary[key]
                self.assertEqual(got, expected)

    def test_the_random_inputs_need_lateness_per_input(self) -> None:
        # The comparison above is worth something only if judging lateness over all
        # the inputs at once (one M) would give other records.
        differs = 0
        for seed in range(20):
            rng = random.Random(seed)
            a = aligned(random_events(rng, 60), 10**6)
            b = aligned(random_events(rng, 60), 10**6 - 3600)
            one_m = reference_several([a + b])[-1]
            own_m = reference_several([a, b])[-1]
            differs += one_m["late"] != own_m["late"]
        self.assertGreater(differs, 15)


class CommandLineTest(unittest.TestCase):
    def test_a_rotated_set_is_one_run(self) -> None:
        # access.log.2.gz, access.log.1, access.log: the sample cut in three, the
        # oldest compressed, in command-line order - as one file would be read.
        sample = (DATA / "sample.log").read_text().splitlines(keepends=True)
        whole = run_monitor(str(DATA / "sample.log"), "--output", "json")
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            third = len(sample) // 3
            (folder / "access.log.2.gz").write_bytes(
                gzip.compress("".join(sample[:third]).encode())
            )
            (folder / "access.log.1").write_text("".join(sample[third : 2 * third]))
            (folder / "access.log").write_text("".join(sample[2 * third :]))
            names = [str(folder / n) for n in ("access.log.2.gz", "access.log.1", "access.log")]
            got = run_monitor(*names, "--output", "json", "--buffer", "10")
            alone = run_monitor(str(DATA / "sample.log"), "--output", "json", "--buffer", "10")
        self.assertEqual(got.returncode, 0, got.stderr)
        records, expected = json_lines(got.stdout), json_lines(alone.stdout)
        summary = records[-1]
        inputs = summary.pop("inputs")
        self.assertEqual([i["name"] for i in inputs], names)
        self.assertEqual(sum(i["events"] for i in inputs), summary["events"])
        # With a buffer that takes every late line, the cut changes nothing.
        self.assertEqual(records, expected)
        self.assertEqual(json_lines(whole.stdout)[-1]["late"], 3)

    def test_several_servers_and_standard_input(self) -> None:
        rng = random.Random(3)
        inputs = [aligned(random_events(rng, 300), 1549573860 + 30 * i) for i in range(3)]
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for i, events in enumerate(inputs[:2]):
                paths.append(Path(tmp) / f"web{i}.log")
                paths[-1].write_text(as_log(events, ["csv", "clf"][i], []))
            got = run_monitor(
                str(paths[0]), "-", str(paths[1]), "--output", "json",
                input=as_log(inputs[2], "csv", [1, 2]),
            )  # fmt: skip
        self.assertEqual(got.returncode, 0, got.stderr)
        names = [str(paths[0]), "-", str(paths[1])]
        expected = reference_several([inputs[0], inputs[2], inputs[1]], names=names)
        expected[-1]["invalid"] = 2
        expected[-1]["inputs"][1]["invalid"] = 2
        self.assertEqual(json_lines(got.stdout), expected)

    def test_bad_lists_of_inputs(self) -> None:
        for args, words in [
            (["-", "-"], "only once"),
            ([str(DATA / "sample.csv"), str(DATA / "mongo.csv")], "can't be read in one run"),
        ]:
            with self.subTest(args=args):
                result = run_monitor(*args, input="")
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
                self.assertIn(words, result.stderr)


class FollowSeveralTest(unittest.TestCase):
    """--follow on several files: tail -F a b, each rotated and checkpointed on its own."""

    def setUp(self) -> None:
        self.folder = tempfile.TemporaryDirectory()
        self.addCleanup(self.folder.cleanup)
        self.a = Path(self.folder.name) / "a.log"
        self.b = Path(self.folder.name) / "b.log"
        self.state = Path(self.folder.name) / "state.json"

    def rows(self, count: int, source: str) -> str:
        return csv_row(int(time.time()), source) * count

    @slow
    def test_each_file_is_followed_and_rotated_on_its_own(self) -> None:
        append(self.a, self.rows(2, "10.0.0.1"))
        with LiveMonitor(str(self.a), str(self.b), *FAST) as monitor:  # b: not there yet
            monitor.wait_for(lambda r: hits_seen(r) == 2)
            append(self.b, self.rows(3, "10.0.0.2"))
            monitor.wait_for(lambda r: hits_seen(r) == 5)
            self.a.rename(self.a.with_suffix(".log.1"))
            append(self.a, self.rows(1, "10.0.0.3"))
            append(self.b, self.rows(1, "10.0.0.2"))
            monitor.wait_for(lambda r: hits_seen(r) == 7)
            self.assertEqual(monitor.stop(), 130)
        summary = monitor.records[-1]
        self.assertEqual([i["events"] for i in summary["inputs"]], [3, 4])
        self.assertIn("waiting for", monitor.stderr)

    @slow
    def test_a_checkpoint_holds_every_input_and_refuses_another_list(self) -> None:
        append(self.a, self.rows(2, "10.0.0.1"))
        append(self.b, self.rows(1, "10.0.0.2"))
        options = ["--state", str(self.state), *FAST]
        with LiveMonitor(str(self.a), str(self.b), *options) as first:
            first.wait_for(lambda r: hits_seen(r) == 3)
            self.assertEqual(first.stop(), 130)
        append(self.a, self.rows(1, "10.0.0.1"))
        append(self.b, self.rows(2, "10.0.0.2"))
        with LiveMonitor(str(self.a), str(self.b), *options) as second:
            second.wait_for(lambda r: hits_seen(r) == 3)  # only what is new
            self.assertEqual(second.stop(), 130)
        self.assertEqual([i["events"] for i in second.records[-1]["inputs"]], [3, 3])
        self.assertEqual(second.stderr.count("resuming"), 2)
        other = run_process(str(self.b), str(self.a), "--follow", *options, timeout=30)
        self.assertEqual(other.returncode, 2)
        self.assertIn("holds the state of 2 inputs", other.stderr)


if __name__ == "__main__":
    unittest.main()
