"""docs/counting.md, "Access logs": access CSV records."""

import unittest

from tests.parsing import parse

HEADER = '"remotehost","rfc931","authuser","date","request","status","bytes"\n'
VALID = '"10.0.0.2","-","apache",1549573860,"GET /api/user HTTP/1.0",200,1234\n'


class AccessCsvTest(unittest.TestCase):
    def test_a_valid_row_is_an_event(self) -> None:
        batches, rejects, parser = parse("csv", HEADER + VALID)
        batch = batches[1549573860]
        self.assertEqual(batch.hits, 1)
        self.assertEqual(batch.sections, {"/api": 1})
        self.assertEqual(batch.sources, {"10.0.0.2": 1})
        self.assertEqual(batch.statuses, {"2xx": 1})
        self.assertEqual(batch.bytes_total, 1234)
        self.assertEqual(rejects.count, 0)
        self.assertEqual((parser.headers, parser.skipped), (1, 0))

    def test_unquoted_fields_and_dash_bytes(self) -> None:
        batches, rejects, _ = parse("csv", "10.0.0.9,-,-,100,GET /x HTTP/1.0,304,-\n")
        self.assertEqual(batches[100].bytes_total, 0)
        self.assertEqual(batches[100].statuses, {"3xx": 1})
        self.assertEqual(rejects.count, 0)

    def test_any_row_starting_with_remotehost_is_a_header(self) -> None:
        text = HEADER + '"remotehost",-,-,100,"GET /x HTTP/1.0",200,1\n' + "remotehost\n"
        batches, rejects, parser = parse("csv", text)
        self.assertEqual(batches, {})
        self.assertEqual(rejects.count, 0)
        self.assertEqual((parser.headers, parser.skipped), (3, 0))

    def test_invalid_rows_are_counted_with_line_numbers(self) -> None:
        bad = [
            '"10.0.0.2","-","apache",1549573860,"GET /api/user HTTP/1.0",200\n',  # 6 fields
            '"10.0.0.2","-","apache",1549573860,"GET /api HTTP/1.0",200,1,extra\n',  # 8 fields
            '"10.0.0.2","-","apache",15495x,"GET /api HTTP/1.0",200,1\n',  # date
            '"10.0.0.2","-","apache",-15,"GET /api HTTP/1.0",200,1\n',  # date
            '"10.0.0.2","-","apache",,"GET /api HTTP/1.0",200,1\n',  # date
            '"10.0.0.2","-","apache",١٢,"GET /api HTTP/1.0",200,1\n',  # non-ASCII digits
            '"10.0.0.2","-","apache",100,"GET /api HTTP/1.0",99,1\n',  # status
            '"10.0.0.2","-","apache",100,"GET /api HTTP/1.0",600,1\n',  # status
            '"10.0.0.2","-","apache",100,"GET /api HTTP/1.0",200,1.5\n',  # bytes
            "garbage\n",
        ]
        for line in bad:
            with self.subTest(line=line):
                batches, rejects, _ = parse("csv", VALID + line)
                self.assertEqual(rejects.count, 1)
                self.assertEqual(rejects.first, (2, repr(line.rstrip("\n"))))
                self.assertEqual(sum(b.hits for b in batches.values()), 1)

    def test_blank_lines_are_ignored(self) -> None:
        batches, rejects, _ = parse("csv", "\n   \n" + VALID + "\r\n\t\n" + VALID)
        self.assertEqual(batches[1549573860].hits, 2)
        self.assertEqual(rejects.count, 0)

    def test_a_row_may_span_lines_inside_quotes(self) -> None:
        text = '"10.0.0.2","-","apache",100,"GET /first\nsecond HTTP/1.0",200,1\n' + VALID
        batches, rejects, _ = parse("csv", text)
        # The path is "/first": the line break inside the quotes separates tokens.
        self.assertEqual(batches[100].sections, {"/first": 1})
        self.assertEqual(rejects.count, 0)

    def test_a_row_split_across_blocks_is_read_whole(self) -> None:
        first = '"10.0.0.2","-","apache",100,"GET /a\n'
        second = 'b HTTP/1.0",200,1\n' + VALID
        batches, rejects, _ = parse("csv", VALID + first, second)
        self.assertEqual(batches[100].sections, {"/a": 1})
        self.assertEqual(batches[1549573860].hits, 2)
        self.assertEqual(rejects.count, 0)

    def test_line_numbers_continue_across_blocks(self) -> None:
        _, rejects, _ = parse("csv", VALID + VALID, VALID + "bad\n")
        self.assertEqual(rejects.first, (4, "'bad'"))

    def test_an_unclosed_quote_at_the_end_is_one_invalid_record(self) -> None:
        batches, rejects, _ = parse("csv", VALID + '"10.0.0.2","-","apa\n')
        self.assertEqual(rejects.count, 1)
        self.assertEqual(batches[1549573860].hits, 1)

    def test_undecodable_and_nul_bytes_do_not_crash(self) -> None:
        text = VALID + "\ufffd\x00\x01,\x00\n" + '"a\x00",-,-,100,"GET /\x00 HTTP/1.0",200,1\n'
        batches, rejects, _ = parse("csv", text)
        self.assertEqual(batches[1549573860].hits, 1)
        self.assertGreaterEqual(rejects.count, 1)

    def test_a_huge_field_is_invalid(self) -> None:
        text = '"10.0.0.2","-","apache",100,"GET /' + "x" * 5_000_000 + ' HTTP/1.0",200\n'
        batches, rejects, _ = parse("csv", text + VALID)
        self.assertEqual(rejects.count, 1)
        self.assertEqual(batches[1549573860].hits, 1)

    def test_a_held_record_gives_up_after_many_lines(self) -> None:
        opened = '"10.0.0.2","-","apache",100,"GET /a\n' + "more\n" * 2000
        batches, rejects, _ = parse("csv", opened, VALID, finish=False)
        self.assertEqual(rejects.count, 1)


if __name__ == "__main__":
    unittest.main()
