"""docs/counting.md, "Access logs": request, status, bytes and section rules shared by the HTTP formats."""

import unittest

from LogsMonitor2000.parsers.access_fields import (
    STATUS_CLASSES,
    parse_digits,
    request_parts,
    request_section,
)
from tests.parsing import parse


class RequestSectionTest(unittest.TestCase):
    def test_sections(self) -> None:
        table = {
            "GET /api/user HTTP/1.0": "/api",
            "GET /report HTTP/1.0": "/report",
            "GET / HTTP/1.0": "/",
            "GET /api?x=/a/b HTTP/1.1": "/api",
            "GET /api#frag/x HTTP/1.1": "/api",
            "GET /?q=1 HTTP/1.1": "/",
            "GET //double HTTP/1.1": "/",
            "POST /login": "/login",
            "GET /a/b/c/d": "/a",
            "  GET   /spaced/x   HTTP/1.0": "/spaced",
            "GET\t/tab/x\tHTTP/1.0": "/tab",
            "GET http://example.com/api/v1 HTTP/1.1": "/api",
            "GET https://example.com HTTP/1.1": "/",
            "GET http://example.com?x=1 HTTP/1.1": "/",
            "GET http://example.com/ HTTP/1.1": "/",
            "GET ftp+x.y://h:21/pub/file HTTP/1.1": "/pub",
        }
        for request, section in table.items():
            with self.subTest(request=request):
                self.assertEqual(request_section(request), section)

    def test_requests_without_a_path_are_in_section_dash(self) -> None:
        # docs/counting.md, "Access logs": their time, status and bytes are the server's own: events.
        for request in [
            "",
            "GET",
            "/api/user",
            "-",
            "GET api/user HTTP/1.0",
            "OPTIONS * HTTP/1.1",
            "CONNECT example.com:443 HTTP/1.1",
            "GET http:// HTTP/1.1",
            "GET ://host/x HTTP/1.1",
            "GET 1http://host/x HTTP/1.1",
            "\x16\x03\x01\x02\x00",
        ]:
            with self.subTest(request=request):
                self.assertEqual(request_section(request), "-")

    def test_method_and_path(self) -> None:
        table = {
            "GET /api/user?id=1 HTTP/1.0": ("GET", "/api/user?id=1"),
            "  post   /login": ("post", "/login"),
            "GET http://example.com/api/v1 HTTP/1.1": ("GET", "/api/v1"),
            "GET http://example.com?x=1 HTTP/1.1": ("GET", "/?x=1"),
            "GET https://example.com HTTP/1.1": ("GET", "/"),
            "": ("-", None),
            "-": ("-", None),
            "OPTIONS * HTTP/1.1": ("OPTIONS", None),
            "GET foo HTTP/1.0": ("GET", None),
            "GET http:// HTTP/1.1": ("GET", None),
            "\x16\x03\x01\x02\x00": ("\x16\x03\x01\x02\x00", None),
        }
        for request, parts in table.items():
            with self.subTest(request=request):
                self.assertEqual(request_parts(request), parts)

    def test_pathless_requests_are_events_in_both_formats(self) -> None:
        clf = '10.0.0.1 - - [01/Jan/2020:00:00:00 +0000] "{}" 400 0\n'
        csv = '"10.0.0.1","-","-",1577836800,"{}",400,0\n'
        for request in ["-", "\\x16\\x03\\x01\\x00\\xa5", "OPTIONS * HTTP/1.1", "GET foo", ""]:
            for name, template in (("clf", clf), ("csv", csv)):
                with self.subTest(request=request, format=name):
                    batches, rejects, _ = parse(name, template.format(request))
                    self.assertEqual(rejects.count, 0)
                    batch = batches[1577836800]
                    self.assertEqual((batch.hits, batch.sections), (1, {"-": 1}))
                    self.assertEqual(batch.statuses, {"4xx": 1})


class StatusAndBytesTest(unittest.TestCase):
    def test_status_classes(self) -> None:
        self.assertEqual(STATUS_CLASSES["100"], "1xx")
        self.assertEqual(STATUS_CLASSES["200"], "2xx")
        self.assertEqual(STATUS_CLASSES["599"], "5xx")
        for bad in ["99", "099", "600", "999", "2000", "20a", " 200", "", "２００"]:
            with self.subTest(status=bad):
                self.assertNotIn(bad, STATUS_CLASSES)

    def test_digits(self) -> None:
        self.assertEqual(parse_digits("0"), 0)
        self.assertEqual(parse_digits("1234"), 1234)
        for bad in ["", "-", "-1", "+1", "1.5", "1_000", " 1", "12a", "²", "١٢", "9" * 5000]:
            with self.subTest(text=bad):
                self.assertIsNone(parse_digits(bad))

    def test_bytes(self) -> None:
        line = '"10.0.0.1","-","-",100,"GET / HTTP/1.0",200,{}\n'
        for size, expected in [("0", 0), ("1234", 1234), ("-", 0), ("007", 7)]:
            with self.subTest(size=size):
                batches, rejects, _ = parse("csv", line.format(size))
                self.assertEqual((batches[100].bytes_total, rejects.count), (expected, 0))
        largest = str(2**63 - 1)
        for size, expected in [(largest, 2**63 - 1), ("0" * 30 + "12", 12)]:
            for name in ("csv", "clf"):
                with self.subTest(size=size, format=name):
                    batches, rejects, _ = parse(name, self.line(name, size))
                    self.assertEqual((batches[100].bytes_total, rejects.count), (expected, 0))
        too_big = [str(2**63), "9" * 309, "9" * 4301, "1" * 100_000]
        for bad in ["", "--", "-1", "+1", "1.5", "1_000", " 1", "12a", "²", "١٢", *too_big]:
            with self.subTest(size=bad[:30]):
                batches, rejects, _ = parse("csv", line.format(bad))
                self.assertEqual((batches, rejects.count), ({}, 1))
                batches, rejects, _ = parse("clf", self.line("clf", bad))
                self.assertEqual(batches, {})

    def line(self, format_name: str, size: str) -> str:
        if format_name == "csv":
            return f'"10.0.0.1","-","-",100,"GET / HTTP/1.0",200,{size}\n'
        return f'10.0.0.1 - - [01/Jan/1970:00:01:40 +0000] "GET / HTTP/1.0" 200 {size}\n'

    def test_times_beyond_the_year_9999_are_invalid(self) -> None:
        line = '"10.0.0.1","-","-",{},"GET / HTTP/1.0",200,1\n'
        batches, rejects, _ = parse("csv", line.format(253402300799))
        self.assertEqual((list(batches), rejects.count), ([253402300799], 0))
        for bad in ["253402300800", "9" * 4301]:
            with self.subTest(time=bad[:20]):
                batches, rejects, _ = parse("csv", line.format(bad))
                self.assertEqual((batches, rejects.count), ({}, 1))


if __name__ == "__main__":
    unittest.main()
