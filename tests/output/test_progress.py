"""The progress line, on a real terminal: stderr is a pty; stdout stays the same."""

from __future__ import annotations

import os
import pty
import subprocess
import tempfile
import threading
import unittest
from pathlib import Path

from tests.live import PATIENCE, csv_row
from tests.support import DATA, TOP, environment, monitor_command, run_monitor, slow


def on_a_terminal(*args: str) -> tuple[str, bytes, int]:
    """Run with stderr on a pty: (stdout, what the terminal got, exit status)."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        monitor_command(*args),
        stdout=subprocess.PIPE,
        stderr=slave,
        cwd=TOP,
        env=environment(),
    )
    os.close(slave)
    seen = bytearray()

    def read() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the other end closed
                return
            if not chunk:
                return
            seen.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    stdout, _ = process.communicate(timeout=PATIENCE * 4)
    reader.join(timeout=PATIENCE)
    os.close(master)
    return stdout.decode(), bytes(seen), process.returncode


class ProgressTest(unittest.TestCase):
    @slow
    def test_a_large_file_shows_progress_on_the_terminal_only(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            log = Path(folder) / "big.csv"
            # About 36 MB, read in one process: long enough for a few redraws.
            row = csv_row(1_000_000)
            log.write_text(
                "".join(row.replace("1000000", str(1_000_000 + t // 40)) for t in range(600_000))
            )
            args = (str(log), "--output", "json", "--jobs", "1")
            stdout, terminal, status = on_a_terminal(*args)
            self.assertEqual(status, 0)
            self.assertIn(b"lines/s", terminal)
            self.assertIn(b"%", terminal)
            self.assertTrue(terminal.endswith(b"\r\x1b[K"), terminal[-80:])  # cleared
            self.assertEqual(stdout, run_monitor(*args).stdout)  # nothing of it on stdout
            last = terminal.rsplit(b"\r\x1b[K", 2)[-2].rsplit(b"\r", 1)[-1]
            self.assertLessEqual(len(last), 80)
            quiet = on_a_terminal(*args, "--quiet")
            self.assertNotIn(b"lines/s", quiet[1])
            self.assertEqual(quiet[0], stdout)

    def test_a_small_file_shows_none(self) -> None:
        _, terminal, status = on_a_terminal(str(DATA / "sample.log"), "--output", "json")
        self.assertEqual(status, 0)
        self.assertNotIn(b"lines/s", terminal)
