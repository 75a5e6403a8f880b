"""The examples of the README and of docs/ are what the monitor prints.

A code block after ``<!-- output: ARGS -->`` is the output of ``python -m
LogsMonitor2000 ARGS`` with ``TZ=UTC``: a JSON block's objects appear in the output in
that order; a text block's parts between lines of ``...`` appear in that order as
consecutive lines.  The documents stand on their own, and their links lead somewhere.
"""

from __future__ import annotations

import json
import re
import shlex
import unittest

from tests.support import TOP, json_lines, run_monitor

README = (TOP / "README.md").read_text(encoding="utf-8")
DOCUMENTS = {
    path.relative_to(TOP).as_posix(): path.read_text(encoding="utf-8")
    for path in [TOP / "README.md", *sorted((TOP / "docs").glob("*.md"))]
}
EXAMPLE = re.compile(r"<!-- output: (.*?) -->\n```(\w*)\n(.*?)\n```", re.DOTALL)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def in_order(parts: list[list[str]], lines: list[str]) -> bool:
    """Whether each part is a run of consecutive ``lines``, each after the one before."""
    at = 0
    for part in parts:
        while at + len(part) <= len(lines) and lines[at : at + len(part)] != part:
            at += 1
        if at + len(part) > len(lines):
            return False
        at += len(part)
    return True


class ReadmeTest(unittest.TestCase):
    def test_the_examples_are_real_output(self) -> None:
        examples = [
            (name, *example)
            for name, text in DOCUMENTS.items()
            for example in EXAMPLE.findall(text)
        ]
        self.assertGreaterEqual(len(examples), 5)
        for name, args, kind, block in examples:
            with self.subTest(document=name, args=args):
                result = run_monitor(*shlex.split(args), TZ="UTC")
                self.assertIn(result.returncode, (0, 1), result.stderr)
                if kind == "json":
                    wanted = [json.loads(line) for line in block.splitlines()]
                    printed = json_lines(result.stdout)
                    found = iter(printed)
                    for record in wanted:  # a subsequence of what was printed
                        self.assertIn(record, found, record)
                else:
                    parts = [part.strip("\n").split("\n") for part in block.split("\n...\n")]
                    self.assertTrue(in_order(parts, result.stdout.splitlines()), block)

    def test_the_first_commands_are_the_sample_and_the_tests(self) -> None:
        first = re.search(r"```sh\n(.*?)\n```", README, re.DOTALL)
        assert first is not None
        commands = [line.split("#")[0].strip() for line in first.group(1).splitlines()]
        self.assertEqual(
            commands, ["python -m LogsMonitor2000 tests/data/sample.log", "python -m unittest"]
        )

    def test_it_stands_on_its_own(self) -> None:
        words = (r"\bSPEC\b", r"\.\./shared", r"\bissues?\b", r"this machine", r"workplace")
        for name, text in DOCUMENTS.items():
            for pattern in words:
                with self.subTest(document=name, words=pattern):
                    found = re.search(pattern, text, re.IGNORECASE if pattern.islower() else 0)
                    self.assertIsNone(found, found and text[found.start() - 80 : found.end() + 80])

    def test_the_readme_is_short(self) -> None:
        self.assertLessEqual(len(README.splitlines()), 300)

    def test_links_lead_to_files_and_sections(self) -> None:
        for name, text in DOCUMENTS.items():
            for target in LINK.findall(text):
                if target.startswith(("http://", "https://")):
                    continue
                with self.subTest(document=name, link=target):
                    path, _, anchor = target.partition("#")
                    where = (TOP / name).parent / path if path else TOP / name
                    self.assertTrue(where.exists(), where)
                    if anchor and where.suffix == ".md":
                        headings = re.findall(r"(?m)^#+ (.*)$", where.read_text(encoding="utf-8"))
                        self.assertIn(anchor, [_anchor(heading) for heading in headings])


def _anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation out, spaces as -."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


if __name__ == "__main__":
    unittest.main()
