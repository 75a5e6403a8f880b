"""docs/counting.md, "MongoDB" and the MongoDB parts of §6: pymongowatch CSV, query shapes, percentiles,
the slow-operations alert, on fixtures written by pymongowatch itself."""

from __future__ import annotations

import random
import unittest

from LogsMonitor2000.calculators.slow import SortedBag
from LogsMonitor2000.families.mongo import MongoBatch
from LogsMonitor2000.parsers import PARSERS, mongo
from LogsMonitor2000.parsers.detect import detect
from LogsMonitor2000.parsers.shapes import query_shape
from LogsMonitor2000.parsers.base import Rejects
from LogsMonitor2000.pipeline.reorder import Reorderer
from tests.parsing import KeepBatches, parse
from tests.reference import mongo_reference
from tests.support import DATA, json_lines, run_monitor, slow, time_zone

HEADER = (
    "WatcherName,WatchID,Iteration,StartTime,EndTime,DB,Collection,Operation,Filter,Duration,"
    "MatchedCount,InsertedCount,UpsertedCount,ModifiedCount,DeletedCount\n"
)
NOON_UTC = 1709294400  # 2024-03-01 12:00:00 UTC
HANDMADE_OPTIONS = [
    "--alert-window", "4", "--threshold", "0.5", "--stats-interval", "5", "--buffer", "1",
    "--slow-ms", "100",
]  # fmt: skip


def row(wid: str, iteration: str, end: str = "2024-03-01 12:00:00.500000", **fields: str) -> str:
    values = {
        "start": "2024-03-01 12:00:00.000000",
        "db": "shop",
        "collection": "orders",
        "operation": "find",
        "query": '"{""a"": 1}"',
        "duration": "0.01",
    }
    values.update(fields)
    return (
        f"pymongo.watcher.cursor,{wid},{iteration},{values['start']},{end},{values['db']},"
        f"{values['collection']},{values['operation']},{values['query']},{values['duration']},"
        ",,,,\n"
    )


class ShapeTest(unittest.TestCase):
    def test_json_filters(self) -> None:
        table = {
            '{"user": "alice", "age": {"$gt": 30}}': '{"user": ?, "age": {"$gt": ?}}',
            '{"tags": {"$in": ["a,b", "c"]}}': '{"tags": {"$in": [?]}}',
            '{"a": null, "b": true, "c": 1.5}': '{"a": ?, "b": ?, "c": ?}',
            '[{"$match": {"s": "A"}}, {"$limit": 5}]': '[{"$match": {"s": ?}}, {"$limit": ?}]',
            '{"$or": [{"a": 1}, {"b": [1, 2]}]}': '{"$or": [{"a": ?}, {"b": [?]}]}',
            "{}": "{}",
            '"just a string"': "?",
            "": "-",
            "None": "-",
        }
        for text, shape in table.items():
            with self.subTest(text=text):
                self.assertEqual(query_shape(text), shape)

    def test_python_repr_filters(self) -> None:
        table = {
            "{'_id': ObjectId('65e1c2d0aa00bb00cc999999'), 'when': "
            "datetime.datetime(2024, 3, 1, 12, 0, 4, 900000)}": '{"_id": ?, "when": ?}',
            "{'name': 'O\\'Brien, \"Bob\"', 'n': {'$in': [1, 2]}}": '{"name": ?, "n": {"$in": [?]}}',
            "{'a': Decimal128('1.5'), 'b': [{'c': Int64(3)}]}": '{"a": ?, "b": [{"c": ?}]}',
        }
        for text, shape in table.items():
            with self.subTest(text=text):
                self.assertEqual(query_shape(text), shape)

    def test_deep_nesting_is_cut_at_a_bounded_depth(self) -> None:
        # A few thousand brackets deep: no RecursionError, the same shape either way.
        for depth in (33, 3000, 100_000):
            as_json = '{"a": ' * depth + '"x"' + "}" * depth
            as_str = "{'a': " * depth + "ObjectId('{[x')" + "}" * depth
            lists = "[" * depth + "]" * depth
            with self.subTest(depth=depth):
                shape = query_shape(as_json)
                self.assertEqual(shape, '{"a": ' * 32 + "…" + "}" * 32)
                self.assertEqual(query_shape(as_str), shape)
                self.assertEqual(query_shape(lists), "[" * 32 + "…" + "]" * 32)
        self.assertEqual(
            query_shape('{"a": ' * 32 + "1" + "}" * 32), '{"a": ' * 32 + "?" + "}" * 32
        )

    def test_no_value_ever_leaks(self) -> None:
        rng = random.Random(11)
        secret = "s3cr3t"
        for _ in range(300):
            value = rng.choice([f"'{secret}'", f'"{secret},x"', f"ObjectId('{secret}')", "42"])
            key = rng.choice(["'k'", '"k"'])
            text = "{" + f"{key}: {value}, " * rng.randint(1, 3) + "'z': [" + value + "]}"
            with self.subTest(text=text):
                shape = query_shape(text)
                self.assertNotIn(secret, shape)
                self.assertNotIn("42", shape)


class MongoParserTest(unittest.TestCase):
    def test_only_the_final_row_is_an_event(self) -> None:
        text = HEADER + row("w1", "1") + row("w1", "2") + row("w1", "final(2)", duration="0.25")
        batches, rejects, parser = parse("mongo", text)
        batch = batches[NOON_UTC]
        self.assertEqual(batch.hits, 1)
        self.assertEqual(batch.sections, {"shop.orders": 1})
        self.assertEqual(batch.operations, {"find": 1})
        self.assertEqual(batch.durations_ms, [250.0])
        self.assertEqual(batch.slowest, [(250.0, "shop.orders", "find", '{"a": ?}')])
        self.assertEqual((rejects.count, parser.headers, parser.skipped), (0, 1, 2))
        self.assertEqual(parser.unfinished(), 0)

    def test_times_of_a_known_second_are_read_as_the_first_one(self) -> None:
        # The first row of a second goes through MongoParser._time; the next ones take
        # the inlined fast path.  Both must agree on every form of time.
        forms = [
            "2024-03-01 12:00:00.500000",
            "2024-03-01 12:00:00.5",
            "2024-03-01 12:00:00",
            "2024-03-01 12:00:00.12345x",
            "2024-03-01 12:00:00.\u0663\u0663\u0663\u0663\u0663\u0663",
            "2024-03-01 12:00:00,500000",
            "2024-03-01 12:00:00.5000000",
            "None",
            "",
        ]
        for form in forms:
            with self.subTest(form=form):
                tested = row("w1", "final", end=form, start="None")
                cold = parse("mongo", tested)
                warm = parse("mongo", row("w0", "final") + tested)
                self.assertEqual(cold[1].count, warm[1].count)
                hits = warm[0][NOON_UTC].hits - 1 if NOON_UTC in warm[0] else 0
                self.assertEqual(sum(batch.hits for batch in cold[0].values()), hits)

    def test_rows_after_the_final_one_are_ignored(self) -> None:
        text = row("w1", "final") + row("w1", "final") + row("w1", "3")
        batches, rejects, parser = parse("mongo", text)
        self.assertEqual(batches[NOON_UTC].hits, 1)
        self.assertEqual((rejects.count, parser.unfinished()), (0, 0))

    def test_unfinished_operations(self) -> None:
        text = row("w1", "0") + row("w2", "1") + row("w2", "2") + row("w3", "final")
        _, _, parser = parse("mongo", text)
        self.assertEqual(parser.unfinished(), 2)

    def test_started_operations_are_remembered_within_bounds(self) -> None:
        many = mongo.REMEMBERED + 10
        text = "".join(row(f"w{n}", "1") for n in range(many))
        _, _, parser = parse("mongo", text)
        self.assertEqual(parser.unfinished(), many)
        self.assertEqual(len(parser.to_json()["started"]), mongo.REMEMBERED)

    def test_finished_operations_are_remembered_within_bounds(self) -> None:
        # The oldest finished operations are forgotten first: a final row repeated
        # after that counts again, while one of a remembered operation is ignored.
        many = mongo.REMEMBERED + 10
        finals = "".join(row(f"w{n}", "final") for n in range(many))
        batches, _, parser = parse("mongo", finals + row("w9", "final") + row("w11", "final"))
        self.assertEqual(sum(batch.hits for batch in batches.values()), many + 1)
        remembered = parser.to_json()["finished"]
        self.assertEqual(len(remembered), mongo.REMEMBERED)
        self.assertEqual(remembered[:2], ["w11", "w12"])  # w10 went when w9 came back
        self.assertEqual(remembered[-1], "w9")
        restored = PARSERS["mongo"](
            Reorderer(lateness_seconds=2, downstream=KeepBatches(), batch=MongoBatch), Rejects()
        )
        restored.restore(parser.to_json())
        self.assertEqual(restored.to_json()["finished"], remembered)

    def test_the_time_is_the_end_or_else_the_start(self) -> None:
        text = (
            row("w1", "final", end="None", start="2024-03-01 12:00:05.100000")
            + row("w2", "final", end="", start="2024-03-01 12:00:06.000000")
            + row("w3", "final", end="2024-03-01 12:00:07", start="None")
        )
        batches, rejects, _ = parse("mongo", text)
        self.assertEqual(sorted(batches), [NOON_UTC + 5, NOON_UTC + 6, NOON_UTC + 7])
        self.assertEqual(rejects.count, 0)

    def test_times_are_local(self) -> None:
        with time_zone("Asia/Tokyo"):
            batches, _, _ = parse("mongo", row("w1", "final"))
        self.assertEqual(sorted(batches), [NOON_UTC - 9 * 3600])

    def test_unknown_durations_count_but_have_no_duration(self) -> None:
        batches, rejects, _ = parse("mongo", row("w1", "final", duration="None"))
        self.assertEqual((batches[NOON_UTC].hits, batches[NOON_UTC].durations_ms), (1, []))
        self.assertEqual(rejects.count, 0)

    def test_invalid_rows(self) -> None:
        table = {
            "unreadable end": row("w1", "final", end="yesterday"),
            "unreadable start": row("w1", "1", start="2024-13-01 00:00:00.000000"),
            "bad fraction": row("w1", "final", end="2024-03-01 12:00:00.1234567"),
            "unreadable duration": row("w1", "final", duration="fast"),
            "infinite duration": row("w1", "final", duration="inf"),
            "not a number": row("w1", "final", duration="nan"),
            "negative duration": row("w1", "final", duration="-5"),
            "infinite in ms": row("w1", "final", duration="1e306"),
            "a huge number": row("w1", "final", duration="9" * 5000),
            "no WatchID": row("", "final"),
            "no time at all": row("w1", "final", end="None", start="None"),
            "too many columns": row("w1", "final").rstrip("\n") + ",extra\n",
            "too few columns": "pymongo.watcher.cursor,w1,final\n",
        }
        for name, text in table.items():
            with self.subTest(name):
                batches, rejects, _ = parse("mongo", text)
                self.assertEqual((batches, rejects.count), ({}, 1))

    def test_a_header_sets_the_columns_wherever_it_comes(self) -> None:
        reordered = "Duration,Operation,Collection,DB,EndTime,StartTime,Iteration,WatchID,Filter\n"
        later = "0.5,insert_one,items,shop,2024-03-01 12:00:09.000000,None,final,w9,\n"
        text = HEADER + row("w1", "final") + reordered + later + HEADER + row("w2", "final")
        batches, rejects, parser = parse("mongo", text)
        self.assertEqual(batches[NOON_UTC + 9].sections, {"shop.items": 1})
        self.assertEqual(batches[NOON_UTC + 9].durations_ms, [500.0])
        self.assertEqual(batches[NOON_UTC].hits, 2)
        self.assertEqual((rejects.count, parser.headers, parser.skipped), (0, 3, 0))

    def test_a_header_without_needed_columns_is_invalid(self) -> None:
        _, rejects, _ = parse("mongo", "WatchID,Iteration,StartTime\n")
        self.assertEqual(rejects.count, 1)

    def test_detection_with_and_without_header(self) -> None:
        text = (DATA / "mongo.csv").read_text()
        self.assertEqual(detect(text, PARSERS), "mongo")
        self.assertEqual(detect(text.split("\n", 1)[1], PARSERS), "mongo")


class SortedBagTest(unittest.TestCase):
    def test_against_a_sorted_list(self) -> None:
        rng = random.Random(2)
        bag, plain = SortedBag(), []
        for _ in range(5000):
            if plain and rng.random() < 0.4:
                value = rng.choice(plain)
                plain.remove(value)
                bag.remove(value)
            else:
                value = float(rng.randint(0, 300))
                plain.append(value)
                bag.add(value)
            plain.sort()
            self.assertEqual(bag.size, len(plain))
            if plain:
                index = rng.randrange(len(plain))
                self.assertEqual(bag[index], plain[index])
        self.assertEqual(list(bag), plain)


class MongoEndToEndTest(unittest.TestCase):
    def run_json(self, *args: str, **env: str) -> list[dict[str, object]]:
        result = run_monitor(*args, "--output", "json", **env)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json_lines(result.stdout)

    def test_the_handmade_file(self) -> None:
        expected = json_lines((DATA / "mongo.csv.jsonl").read_text())
        got = self.run_json(str(DATA / "mongo.csv"), *HANDMADE_OPTIONS)
        self.assertEqual(got, expected)
        no_header = self.run_json(str(DATA / "mongo-noheader.csv"), *HANDMADE_OPTIONS)
        self.assertEqual(no_header, expected)

    def test_another_time_zone_shifts_every_record(self) -> None:
        expected = json_lines((DATA / "mongo.csv.jsonl").read_text())
        got = self.run_json(str(DATA / "mongo.csv"), *HANDMADE_OPTIONS, TZ="America/New_York")
        shift = 5 * 3600  # EST on 2024-03-01
        for record in expected:
            for key in ("time", "start", "end", "first", "last"):
                if isinstance(record.get(key), int):
                    record[key] += shift  # type: ignore[operator]
        self.assertEqual(got, expected)

    @slow
    def test_real_traffic_against_the_reference(self) -> None:
        text = (DATA / "mongo-traffic.csv").read_text()
        for options in [
            {},
            {"alert_window": 30, "threshold": 3.0, "stats_interval": 10, "slow_ms": 40.0},
        ]:
            with self.subTest(**options):
                args = []
                for key, value in options.items():
                    args += ["--" + key.replace("_", "-"), str(value)]
                with time_zone("UTC"):
                    expected = mongo_reference(text, **options)  # type: ignore[arg-type]
                self.assertEqual(self.run_json(str(DATA / "mongo-traffic.csv"), *args), expected)

    def test_no_filter_value_appears_anywhere(self) -> None:
        secrets = [
            "alice", "O'Brien", "Bob", "cancelled", "a,b", "65e1c2d0aa00bb00cc999999",
            "user4", "commas, and", "quotes", "$cust", "$amount",
        ]  # fmt: skip
        for path in ("mongo.csv", "mongo-traffic.csv"):
            for output in ("text", "json"):
                with self.subTest(path=path, output=output):
                    result = run_monitor(
                        str(DATA / path), "--output", output, "--slow-ms", "1", "-v"
                    )
                    for secret in secrets:
                        self.assertNotIn(secret, result.stdout)

    def test_rejected_rows_are_shown_without_filter_values(self) -> None:
        text = (
            row("w1", "final", end="yesterday", query='"{""user"": ""alice""}"')
            + row("w2", "final", query='"{""user"": ""bob""}"').rstrip("\n")
            + ',"{""x"": ""carol""}"\n'
            + 'pymongo.watcher.cursor,w3,final,{"user": "dave", "x": 1},\n'
        )
        result = run_monitor("-", "--format", "mongo", "--verbose", "--output", "json", input=text)
        self.assertEqual(json_lines(result.stdout)[-1]["invalid"], 3)
        self.assertIn('{"user": ?}', result.stderr)
        for secret in ("alice", "bob", "carol", "dave"):
            self.assertNotIn(secret, result.stderr)
            self.assertNotIn(secret, result.stdout)

    def test_text_shows_the_slowest_query_shapes(self) -> None:
        result = run_monitor(str(DATA / "mongo.csv"), *HANDMADE_OPTIONS)
        self.assertIn("slowest", result.stdout)
        self.assertIn('shop.items  find  {"tags": {"$in": [?]}}', result.stdout)
        self.assertIn("p95 300.0 ms", result.stdout)
        self.assertIn("Slow operations - p95 = 300.0 ms", result.stdout)
        self.assertIn("2 unfinished", result.stdout)

    def test_slow_ms_needs_a_mongodb_log(self) -> None:
        result = run_monitor(str(DATA / "sample.csv"), "--slow-ms", "5")
        self.assertEqual(result.returncode, 2)
        self.assertIn("--slow-ms", result.stderr)


if __name__ == "__main__":
    unittest.main()
