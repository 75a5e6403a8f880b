"""docs/counting.md, "Format detection": format detection from the first non-blank lines."""

import unittest

from LogsMonitor2000.parsers import PARSERS
from LogsMonitor2000.parsers.detect import SAMPLE_LINES, detect

CSV_HEADER = '"remotehost","rfc931","authuser","date","request","status","bytes"\n'
CSV_ROW = '"10.0.0.2","-","apache",1549573860,"GET /api/user HTTP/1.0",200,1234\n'
PATHLESS = (
    '10.0.0.9 - - [01/Jan/2020:00:00:00 +0000] "-" 400 0 "-" "-"\n'
    '10.0.0.9 - - [01/Jan/2020:00:00:01 +0000] "\\x16\\x03\\x01\\x00\\xa5\\x01" 400 157\n'
    '10.0.0.9 - - [01/Jan/2020:00:00:02 +0000] "OPTIONS * HTTP/1.1" 200 0\n'
    '10.0.0.9 - - [01/Jan/2020:00:00:03 +0000] "GET foo" 400 0\n'
)
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
            # docs/counting.md, "Access logs": what a scanner or a TLS client leaves in a log is still a request.
            "clf starting with pathless requests": (PATHLESS + CLF_LINE, "clf"),
            "only pathless requests": (PATHLESS * 20, "clf"),
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
