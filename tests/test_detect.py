"""SPEC §1.5: format detection from the first non-blank lines."""

import unittest

from LogsMonitor2000.parsers import PARSERS
from LogsMonitor2000.parsers.detect import SAMPLE_LINES, detect

CSV_HEADER = '"remotehost","rfc931","authuser","date","request","status","bytes"\n'
CSV_ROW = '"10.0.0.2","-","apache",1549573860,"GET /api/user HTTP/1.0",200,1234\n'
CLF_LINE = '10.0.0.1 - - [01/Jan/2020:00:00:00 +0000] "GET / HTTP/1.0" 200 1 "-" "a, b"\n'


class DetectTest(unittest.TestCase):
    def test_formats(self) -> None:
        table = {
            "csv with a header": (CSV_HEADER + CSV_ROW, "csv"),
            "csv header only": (CSV_HEADER, "csv"),
            "csv without header": (CSV_ROW * 3, "csv"),
            "clf": (CLF_LINE * 3, "clf"),
            "blank lines first": ("\n\n   \n" + CLF_LINE, "clf"),
            "mostly clf with garbage": ("junk\n" + CLF_LINE * 2 + "junk\n", "clf"),
        }
        for name, (text, expected) in table.items():
            with self.subTest(name):
                self.assertEqual(detect(text, PARSERS), expected)

    def test_nothing_fits(self) -> None:
        for text in ["", "\n\n", "hello world\n", "\x7fELF\x00\x01\x02\n" * 5]:
            with self.subTest(text=text):
                self.assertIsNone(detect(text, PARSERS))

    def test_only_the_first_lines_count(self) -> None:
        text = "junk\n" * SAMPLE_LINES + CSV_ROW * 10
        self.assertIsNone(detect(text, PARSERS))


if __name__ == "__main__":
    unittest.main()
