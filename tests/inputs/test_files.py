"""Reading: complete lines only, long lines cut, bytes decoded, gzip by content."""

import gzip
import tempfile
import unittest
from pathlib import Path

from LogsMonitor2000.errors import InputError
from LogsMonitor2000.inputs import FinishedInput, open_input
from LogsMonitor2000.inputs.lines import MAX_LINE_BYTES, LineSplitter


class LineSplitterTest(unittest.TestCase):
    def test_a_partial_line_waits_for_its_newline(self) -> None:
        splitter = LineSplitter()
        self.assertEqual(splitter.feed(b"one\ntw"), "one\n")
        self.assertEqual(splitter.held, b"tw")
        self.assertEqual(splitter.feed(b"o"), "")
        self.assertEqual(splitter.feed(b"\nthree\nfo"), "two\nthree\n")
        self.assertEqual(splitter.flush(), "fo\n")
        self.assertEqual(splitter.flush(), "")

    def test_undecodable_bytes_are_replaced(self) -> None:
        self.assertEqual(LineSplitter().feed(b"a\xff\xfeb\n"), "a\ufffd\ufffdb\n")

    def test_a_multibyte_character_split_across_reads(self) -> None:
        splitter = LineSplitter()
        encoded = "héllo\n".encode()
        self.assertEqual(splitter.feed(encoded[:2]) + splitter.feed(encoded[2:]), "héllo\n")

    def test_a_leading_byte_order_mark_is_dropped(self) -> None:
        splitter = LineSplitter()
        self.assertEqual(
            splitter.feed(b"\xef\xbb\xbfremotehost\n\xef\xbb\xbf\n"), "remotehost\n\ufeff\n"
        )

    def test_an_endless_line_is_cut(self) -> None:
        splitter = LineSplitter()
        chunk = b"x" * (MAX_LINE_BYTES // 2)
        for _ in range(10):
            self.assertEqual(splitter.feed(chunk), "")
        self.assertEqual(len(splitter.held), MAX_LINE_BYTES)
        block = splitter.feed(b"yyy\nnext\n")
        self.assertEqual(block, "x" * MAX_LINE_BYTES + "\nnext\n")

    def test_discard_forgets_the_partial_line(self) -> None:
        splitter = LineSplitter()
        splitter.feed(b"half")
        self.assertEqual(splitter.discard(), b"half")
        self.assertEqual(splitter.flush(), "")


class OpenInputTest(unittest.TestCase):
    def test_gzip_is_recognised_by_its_content(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "plain-name.log"
            path.write_bytes(gzip.compress(b"a\nb"))
            source = FinishedInput(open_input(str(path)), print)
            try:
                self.assertEqual(list(source), ["a\n", "b\n"])
            finally:
                source.close()

    def test_errors_name_the_file(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            for path in [Path(tmp) / "missing", Path(tmp)]:
                with self.subTest(path=path), self.assertRaises(InputError) as caught:
                    open_input(str(path))
                self.assertIn(str(path), str(caught.exception))


if __name__ == "__main__":
    unittest.main()
