"""docs/counting.md, "Access logs": Common and Combined Log Format records."""

import random
import unittest

from LogsMonitor2000.parsers.clf import _LINE, _PLAIN_LINE, clf_epoch
from tests.parsing import parse

NEW_YEAR_2020 = 1577836800  # 2020-01-01T00:00:00Z


class ClfTimestampTest(unittest.TestCase):
    def test_offsets_convert_to_utc(self) -> None:
        self.assertEqual(clf_epoch("01/Jan/2020:00:00:00 +0000"), NEW_YEAR_2020)
        self.assertEqual(clf_epoch("31/Dec/2019:19:00:00 -0500"), NEW_YEAR_2020)
        self.assertEqual(clf_epoch("01/Jan/2020:05:30:00 +0530"), NEW_YEAR_2020)
        self.assertEqual(clf_epoch("10/Oct/2000:13:55:36 -0700"), 971211336)
        self.assertEqual(clf_epoch("29/Feb/2020:00:00:00 +0000"), NEW_YEAR_2020 + 59 * 86400)

    def test_month_names_ignore_case(self) -> None:
        self.assertEqual(clf_epoch("01/JAN/2020:00:00:00 +0000"), NEW_YEAR_2020)

    def test_invalid_timestamps(self) -> None:
        for stamp in [
            "32/Jan/2020:00:00:00 +0000",
            "29/Feb/2019:00:00:00 +0000",
            "01/Foo/2020:00:00:00 +0000",
            "01/Jan/2020:24:00:00 +0000",
            "01/Jan/2020:00:60:00 +0000",
            "01/Jan/2020:00:00:61 +0000",
            "01/Jan/2020:00:00:00 +0060",
            "01/Jan/2020:00:00:00",
            "1/Jan/2020:00:00:00 +0000",
            "2020-01-01T00:00:00Z",
        ]:
            with self.subTest(stamp=stamp):
                self.assertIsNone(clf_epoch(stamp))


class ClfRecordTest(unittest.TestCase):
    def test_common_and_combined_lines(self) -> None:
        text = (
            '10.0.0.1 - frank [01/Jan/2020:00:00:00 +0000] "GET /api/user HTTP/1.0" 200 2326\n'
            '10.0.0.2 - - [01/Jan/2020:00:00:00 +0000] "POST /login HTTP/1.1" 302 - '
            '"http://example.com/" "Mozilla/5.0 (X11)"\n'
        )
        batches, rejects, _ = parse("clf", text)
        batch = batches[NEW_YEAR_2020]
        self.assertEqual(batch.hits, 2)
        self.assertEqual(batch.sections, {"/api": 1, "/login": 1})
        self.assertEqual(batch.sources, {"10.0.0.1": 1, "10.0.0.2": 1})
        self.assertEqual(batch.statuses, {"2xx": 1, "3xx": 1})
        self.assertEqual(batch.bytes_total, 2326)
        self.assertEqual(rejects.count, 0)

    def test_the_request_ends_at_the_first_quote_followed_by_status_and_bytes(self) -> None:
        text = '10.0.0.3 - - [01/Jan/2020:00:00:00 +0000] "GET /a?x=" 200 5" 200 7\n'
        batches, rejects, _ = parse("clf", text)
        # The request is 'GET /a?x=" 200 5': "5\"" is not a bytes field.
        self.assertEqual(batches[NEW_YEAR_2020].bytes_total, 7)
        self.assertEqual(batches[NEW_YEAR_2020].sections, {"/a": 1})
        self.assertEqual(rejects.count, 0)

    def test_crlf_line_endings(self) -> None:
        text = '10.0.0.1 - - [01/Jan/2020:00:00:00 +0000] "GET / HTTP/1.0" 200 1\r\n'
        batches, rejects, _ = parse("clf", text)
        self.assertEqual(batches[NEW_YEAR_2020].hits, 1)
        self.assertEqual(rejects.count, 0)

    def test_invalid_lines(self) -> None:
        for line in [
            '10.0.0.1 - - [32/Jan/2020:00:00:00 +0000] "GET / HTTP/1.0" 200 1',
            '10.0.0.1 - - [01/Jan/2020:00:00:00 +0000] "GET / HTTP/1.0" 600 1',
            '10.0.0.1 - - [01/Jan/2020:00:00:00 +0000] "GET / HTTP/1.0" 200 x1',
            '10.0.0.1 - - [01/Jan/2020:00:00:00 +0000] "GET / HTTP/1.0" 200',
            '10.0.0.1 - [01/Jan/2020:00:00:00 +0000] "GET / HTTP/1.0" 200 1',
            '"10.0.0.2","-","apache",1549573860,"GET /api/user HTTP/1.0",200,1234',
            "garbage",
        ]:
            with self.subTest(line=line):
                batches, rejects, _ = parse("clf", line + "\n")
                self.assertEqual(batches, {})
                self.assertEqual(rejects.count, 1)

    def test_blank_lines_are_ignored_and_line_numbers_counted(self) -> None:
        text = '\n  \n10.0.0.1 - - [01/Jan/2020:00:00:00 +0000] "GET / HTTP/1.0" 200 1\n'
        batches, rejects, _ = parse("clf", text, "junk\n")
        self.assertEqual(batches[NEW_YEAR_2020].hits, 1)
        self.assertEqual(rejects.first, (4, "'junk'"))


if __name__ == "__main__":
    unittest.main()


class FastPathTest(unittest.TestCase):
    def test_the_plain_line_regex_matches_as_the_full_one(self) -> None:
        # ClfParser asks _PLAIN_LINE first, then _LINE where it finds nothing: wherever
        # the first matches, the second gives the same groups.
        rng = random.Random(4)
        pieces = ['"', '\\"', " ", "a", "/x", " 200 1", ' "-" "', "HTTP/1.1", "]", "[", "\\"]
        matched = 0
        for _ in range(20_000):
            request = "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 8)))
            tail = rng.choice([' 200 12 "-" "curl"', " 404 -", ' 200 1 "r" "a\\"b"', " 99 1", ""])
            line = f'10.0.0.1 - u [01/Jan/2020:00:00:00 +0000] "{request}"{tail}'
            plain, full = _PLAIN_LINE.match(line), _LINE.match(line)
            if plain is not None:
                matched += 1
                self.assertIsNotNone(full, line)
                assert full is not None
                self.assertEqual(plain.groups(), full.groups(), line)
        self.assertGreater(matched, 1000)
