"""End to end: ``python -m LogsMonitor2000`` as a subprocess on real files, pipes,
signals and terminals."""

from __future__ import annotations

import gzip
import json
import os
import pty
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

from LogsMonitor2000.cli.rules import parse_settings
from tools.generate import traffic, write_csv
from tests.support import (
    DATA,
    TOP,
    environment,
    json_lines,
    monitor_command,
    run_monitor,
    slow,
)

HANDMADE_CSV_OPTIONS = ["--alert-window", "4", "--threshold", "1", "--stats-interval", "5"]


class ExpectedOutputTest(unittest.TestCase):
    """Files in tests/data against records worked out by hand from docs/counting.md."""

    def test_handmade_csv(self) -> None:
        result = run_monitor(
            str(DATA / "handmade.csv"), "--output", "json", "--top", "2", *HANDMADE_CSV_OPTIONS
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        expected = json_lines((DATA / "handmade.csv.jsonl").read_text())
        self.assertEqual(json_lines(result.stdout), expected)

    def test_handmade_clf(self) -> None:
        result = run_monitor(str(DATA / "handmade.log"), "--output", "json")
        self.assertEqual(result.returncode, 0, result.stderr)
        expected = json_lines((DATA / "handmade.log.jsonl").read_text())
        self.assertEqual(json_lines(result.stdout), expected)

    def test_the_sample_twins_agree(self) -> None:
        csv = run_monitor(str(DATA / "sample.csv"), "--output", "json")
        clf = run_monitor(str(DATA / "sample.log"), "--output", "json")
        self.assertEqual(csv.returncode, 0, csv.stderr)
        # (access CSV has no referrer and no user agent: only the panels differ)
        self.assertEqual(json_lines(csv.stdout), json_lines(clf.stdout))
        kinds = [record["type"] for record in json_lines(csv.stdout)]
        self.assertEqual(kinds.count("alert"), 1)
        self.assertEqual(kinds.count("recovery"), 1)
        summary = json_lines(csv.stdout)[-1]
        self.assertGreater(summary["late"], 0)
        self.assertGreater(summary["invalid"], 0)

    def test_stdin_and_gzip_read_like_the_file(self) -> None:
        plain = run_monitor(str(DATA / "handmade.csv"), "--output", "json")
        with tempfile.TemporaryDirectory() as tmp:
            packed = Path(tmp) / "access.log.1"  # gzip is recognised by content
            packed.write_bytes(gzip.compress((DATA / "handmade.csv").read_bytes()))
            from_gzip = run_monitor(str(packed), "--output", "json")
        from_stdin = run_monitor("-", "--output", "json", input=(DATA / "handmade.csv").read_text())
        self.assertEqual(from_gzip.stdout, plain.stdout)
        self.assertEqual(from_stdin.stdout, plain.stdout)

    def test_explicit_format_and_older_option_spellings(self) -> None:
        new = run_monitor(str(DATA / "handmade.csv"), "--output", "json", *HANDMADE_CSV_OPTIONS)
        old = run_monitor(
            str(DATA / "handmade.csv"),
            "--format",
            "csv",
            "--output",
            "json",
            "--high_traffic_interval",
            "4",
            "--high_traffic_threshold",
            "1",
            "--stats_interval",
            "5",
        )
        self.assertEqual(old.returncode, 0, old.stderr)
        self.assertEqual(old.stdout, new.stdout)


class TextOutputTest(unittest.TestCase):
    def test_alert_and_recovery_wording_in_local_time(self) -> None:
        result = run_monitor(str(DATA / "handmade.csv"), *HANDMADE_CSV_OPTIONS, TZ="Asia/Kolkata")
        self.assertEqual(result.returncode, 0, result.stderr)
        words = " ".join(result.stdout.split())  # a sentence may wrap between words
        # 1002 s after the epoch is 05:46:42 in India (+05:30).
        self.assertIn(
            "High traffic generated an alert - hits = 5, triggered at 1970-01-01T05:46:42+05:30",
            words,
        )
        self.assertIn(
            "High traffic alert recovered - hits = 4, recovered at 1970-01-01T05:46:45+05:30",
            words,
        )
        self.assertNotIn("\x1b[", result.stdout)  # not a terminal: no colour

    def test_summary_suggests_a_buffer_for_late_lines(self) -> None:
        result = run_monitor(str(DATA / "handmade.csv"))
        self.assertIn("run again with --buffer 3", " ".join(result.stdout.split()))

    def test_every_line_fits_80_columns(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            odd = Path(tmp) / "odd.log"  # long keys, IPv6 sources, many distinct ones
            odd.write_text(
                "".join(
                    f"2001:db8:{i:x}:{i:x}:{i:x}:{i:x}:{i:x}:{i:x} - - [01/Jan/2020:00:00:{i % 60:02d}"
                    f' +0000] "GET /{"x" * (i * 7)}/y HTTP/1.1" {200 + i % 300} {10**i}\n'
                    for i in range(1, 40)
                )
            )
            runs = [
                [str(DATA / "sample.csv")],
                [str(DATA / "sample.log"), "--verbose", "--anonymize", "--path", "/api,/login"],
                [
                    str(DATA / "sample.csv"),
                    "--since",
                    "2019-02-07T21:15:00+05:30",
                    "--status",
                    "2xx,404",
                ],
                [
                    str(DATA / "mongo.csv"),
                    "--slow-ms",
                    "10",
                    "--alert-window",
                    "4",
                    "--threshold",
                    "0.5",
                ],
                [str(DATA / "mongo-traffic.csv"), "--slow-ms", "30", "--stats-interval", "60"],
                [str(DATA / "handmade.csv"), *HANDMADE_CSV_OPTIONS],
                [str(odd), "--threshold", "0.1", "--alert-window", "1", "--top", "9"],
            ]
            for args in runs:
                with self.subTest(args=args[1:]):
                    result = run_monitor(*args, TZ="America/St_Johns")
                    self.assertEqual(result.returncode, 0, result.stderr)
                    widest = max(result.stdout.splitlines(), key=len)
                    self.assertLessEqual(len(widest), 80, widest)

    def test_words_for_people(self) -> None:
        one = run_monitor(
            "-", "--format", "csv", input='"10.0.0.1",-,-,1000,"GET / HTTP/1.0",200,1\n'
        )
        self.assertIn("1 hit ", one.stdout)
        self.assertIn("Summary  1 hit ", one.stdout)
        self.assertNotIn("-v names", one.stdout)
        mongo = run_monitor(str(DATA / "mongo.csv"), "--alert-window", "4", "--threshold", "0.5")
        words = " ".join(mongo.stdout.split())
        self.assertIn("High traffic generated an alert - operations = 3, triggered at", words)
        self.assertIn("4 invalid records skipped: -v names the first ones", words)
        verbose = run_monitor(str(DATA / "mongo.csv"), "-v")
        self.assertNotIn("-v names", verbose.stdout)
        filtered = run_monitor(
            str(DATA / "sample.csv"), "--path", "/api", "--path", "login", "--status", "5xx",
            "--since", "2019-02-07T21:15:00Z", "--anonymize",
        )  # fmt: skip
        header = filtered.stdout.split("\n\n")[0]
        self.assertIn("--path /api,login", header)
        self.assertIn("--status 5xx", header)
        self.assertIn("--since 2019-02-07T21:15:00+00:00", header)
        self.assertIn("--anonymize", header)

    def test_the_summary_is_a_report_of_the_whole_run(self) -> None:
        text = run_monitor(str(DATA / "sample.csv"), "--top", "3").stdout
        summary = text[text.index("Summary") :]
        self.assertIn("status     2xx 3,227  3xx 459  4xx 453  5xx 205", summary)
        self.assertIn("sections   /static 883  / 866  /api 866", summary)
        self.assertIn("sources    10.0.0.1 1,030  10.0.0.2 488  10.0.0.3 325", summary)
        self.assertIn("92.4 MiB", summary)

    def test_colour_on_a_terminal_unless_no_color(self) -> None:
        for extra_env, options, coloured in [
            ({}, [], True),
            ({"NO_COLOR": "1"}, [], False),
            ({}, ["--no-color"], False),
        ]:
            with self.subTest(env=extra_env, options=options):
                args = [str(DATA / "handmade.csv"), *HANDMADE_CSV_OPTIONS, *options]
                output = self.run_on_terminal(args, extra_env)
                self.assertEqual("\x1b[" in output, coloured)
                self.assertIn("High traffic generated an alert", output)

    def run_on_terminal(self, args: list[str], extra_env: dict[str, str]) -> str:
        controller, terminal = pty.openpty()
        process = subprocess.Popen(
            monitor_command(*args),
            stdout=terminal,
            stderr=terminal,
            cwd=TOP,
            env=environment(**extra_env),
        )
        os.close(terminal)
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(controller)
        self.assertEqual(process.wait(timeout=60), 0)
        return b"".join(chunks).decode()


class InstallTest(unittest.TestCase):
    def test_help_names_the_command_it_was_started_as(self) -> None:
        as_module = run_monitor("--help")
        self.assertTrue(as_module.stdout.startswith("usage: python -m LogsMonitor2000 "))
        code = (
            "import sys\n"
            "sys.argv[0] = '/usr/local/bin/logsmonitor2000'\n"
            "from LogsMonitor2000.cli import main\n"
            "sys.exit(main(['--help']))\n"
        )
        installed = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=TOP, timeout=60
        )
        self.assertTrue(installed.stdout.startswith("usage: logsmonitor2000 "), installed.stdout)

    @slow
    def test_pip_install_gives_the_logsmonitor2000_command(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            venv = Path(tmp) / "venv"
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
            subprocess.run(
                [str(venv / "bin" / "pip"), "install", "--quiet", str(TOP)],
                check=True, capture_output=True, cwd=tmp, timeout=300,
            )  # fmt: skip
            command = str(venv / "bin" / "logsmonitor2000")
            helped = subprocess.run([command, "--help"], capture_output=True, text=True, cwd=tmp)
            ran = subprocess.run(
                [command, str(DATA / "sample.csv"), "--output", "json"],
                capture_output=True, text=True, cwd=tmp, env=environment(),
            )  # fmt: skip
        self.assertTrue(helped.stdout.startswith("usage: logsmonitor2000 "), helped.stdout)
        self.assertEqual(ran.returncode, 0, ran.stderr)
        self.assertEqual(
            ran.stdout, run_monitor(str(DATA / "sample.csv"), "--output", "json").stdout
        )


class BadInputTest(unittest.TestCase):
    def assert_one_line_error(self, result: subprocess.CompletedProcess[str], *words: str) -> None:
        self.assertEqual(result.returncode, 2)
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
        self.assertNotIn("Traceback", result.stderr)
        for word in words:
            self.assertIn(word, result.stderr)
        self.assertEqual(result.stdout, "")

    def test_user_errors_exit_2_with_one_line(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            table = {
                "missing file": ([str(Path(tmp) / "missing.log")], ["No such file"]),
                "directory": ([tmp], ["directory"]),
                "no file": ([], ["FILE"]),
                "bad option": ([str(DATA / "sample.csv"), "--frobnicate"], ["--frobnicate"]),
                "bad format": ([str(DATA / "sample.csv"), "--format", "xml"], ["xml"]),
                "zero interval": ([str(DATA / "sample.csv"), "--stats-interval", "0"], ["0"]),
                "negative window": ([str(DATA / "sample.csv"), "--alert-window", "-5"], ["-5"]),
                "zero window": ([str(DATA / "sample.csv"), "--alert-window", "0"], ["window"]),
                "negative threshold": ([str(DATA / "sample.csv"), "--threshold", "-1"], ["-1"]),
                "nan threshold": ([str(DATA / "sample.csv"), "--threshold", "nan"], ["nan"]),
                "negative buffer": ([str(DATA / "sample.csv"), "--buffer", "-1"], ["buffer"]),
                "word buffer": ([str(DATA / "sample.csv"), "--buffer", "two"], ["two"]),
                "negative top": ([str(DATA / "sample.csv"), "--top", "-1"], ["top"]),
            }
            for name, (args, words) in table.items():
                with self.subTest(name):
                    self.assert_one_line_error(run_monitor(*args), *words)

    def test_an_undetectable_format_names_the_option(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "notes.txt"
            path.write_text("dear diary,\ntoday nothing happened\n")
            self.assert_one_line_error(run_monitor(str(path)), "--format")
            binary = run_monitor("/bin/sh")
            self.assert_one_line_error(binary, "--format")

    def test_a_wrong_format_does_not_look_like_a_quiet_log(self) -> None:
        # None valid: exit 1, and stderr says which format would read the input.
        for log, wrong, right in [
            ("sample.csv", "clf", "csv"),
            ("sample.log", "csv", "clf"),
            ("mongo.csv", "csv", "mongo"),
        ]:
            with self.subTest(log=log, wrong=wrong):
                result = run_monitor(str(DATA / log), "--format", wrong, "--output", "json")
                self.assertEqual(result.returncode, 1)
                last = result.stderr.splitlines()[-1]  # (after a warning on the way)
                self.assertIn("error: none of the", last)
                self.assertIn(f"(--format {wrong})", last)
                self.assertIn("line 1", last)
                self.assertIn(f"try --format {right}", last)
                summary = json_lines(result.stdout)[-1]
                self.assertEqual(summary["events"], 0)
                self.assertGreater(summary["invalid"], 0)

    def test_mostly_invalid_but_some_valid_is_a_warning(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "mixed.log"
            lines = (DATA / "sample.log").read_text().splitlines(keepends=True)
            path.write_text("".join(lines[:3]) + "garbage\n" * 10)
            result = run_monitor(str(path), "--format", "clf", "--output", "json")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("warning: 10 of 13 records are invalid", result.stderr)

    def test_filtered_records_are_valid_ones(self) -> None:
        # Not "5 of 6 records are invalid": the filters turned 4,347 valid ones away.
        result = run_monitor(str(DATA / "sample.csv"), "--path", "/nothing", "--output", "json")
        self.assertEqual(result.returncode, 0)
        self.assertEqual(result.stderr, "")
        self.assertEqual(json_lines(result.stdout)[-1]["filtered"], 4347)
        header_only = run_monitor(
            "-", "--format", "csv", input=(DATA / "sample.csv").read_text()[:67]
        )
        self.assertEqual((header_only.returncode, header_only.stderr), (0, ""))

    def test_verbose_names_the_first_invalid_records(self) -> None:
        result = run_monitor(str(DATA / "handmade.csv"), "--verbose", "--output", "json")
        self.assertIn("line 8: invalid record", result.stderr)
        self.assertIn("line 14: invalid record (status is not 100-599)", result.stderr)

    def test_garbage_never_crashes(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "mixed.csv"
            valid = (DATA / "handmade.csv").read_bytes()
            path.write_bytes(
                valid
                + b"\xff\xfe\x00\x80 undecodable\n"
                + b"1.2.3.4,-,-,2000,GET /"
                + b"x" * 5_000_000
                + b" HTTP/1.0,200,1\n"  # cut
                + b"z" * 3_000_000
                + b"\n"
                + valid  # a header in the middle, then the same lines again
            )
            for output in ("json", "text"):
                with self.subTest(output=output):
                    result = run_monitor(str(path), "--output", output)
                    self.assertEqual(result.returncode, 0, result.stderr)
                    self.assertNotIn("Traceback", result.stderr)
            summary = json_lines(run_monitor(str(path), "--output", "json").stdout)[-1]
            self.assertEqual(summary["invalid"], 2 + 3 + 2)

    def test_a_truncated_gzip_reports_what_it_read(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "cut.gz"
            packed = gzip.compress((DATA / "sample.csv").read_bytes())
            path.write_bytes(packed[: len(packed) // 2])
            result = run_monitor(str(path), "--output", "json")
            self.assertEqual(result.returncode, 0)
            self.assertIn("input ended early", result.stderr)
            events = json_lines(result.stdout)[-1]["events"]
            self.assertGreater(events, 100)
            self.assertLess(events, 4000)


class MessagesTest(unittest.TestCase):
    """One line, the right words, what to type instead."""

    def test_a_mistyped_long_option_is_named(self) -> None:
        for given, meant in [
            ("--treshold", "--threshold"),
            ("--stat-interval=5", "--stats-interval"),
            ("--interval", "--stats-interval"),  # (not the older --stats_interval)
            ("--high-traffic-interval", "--alert-window"),
        ]:
            with self.subTest(given=given):
                done = run_monitor(str(DATA / "sample.log"), given, "5")
                self.assertEqual(done.returncode, 2)
                self.assertIn(f"did you mean {meant}?", done.stderr)
        done = run_monitor(str(DATA / "sample.log"), "--zzzz")
        self.assertNotIn("did you mean", done.stderr)

    def test_a_filter_that_cannot_apply_is_a_usage_error(self) -> None:
        for log, option, value in [
            ("sample.log", "--level", "ERROR"),
            ("sample.log", "--name", "app"),
            ("pylog.jsonl", "--status", "5xx"),
            ("pylog.jsonl", "--path", "/api"),
            ("mongo.csv", "--source", "10.0.0.0/8"),
        ]:
            with self.subTest(log=log, option=option):
                done = run_monitor(str(DATA / log), option, value)
                self.assertEqual(done.returncode, 2, done.stderr)
                self.assertEqual(len(done.stderr.splitlines()), 1, done.stderr)
                self.assertIn(f"{option} means nothing for", done.stderr)

    def test_a_wrong_format_is_one_message_with_one_count(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            log = Path(folder) / "access.log"
            log.write_text((DATA / "sample.log").read_text() * 3)  # (more than 1,000 records)
            done = run_monitor(str(log), "--format", "csv", "--output", "json")
        self.assertEqual(done.returncode, 1)
        lines = done.stderr.splitlines()
        self.assertEqual(len(lines), 1, done.stderr)
        invalid = json.loads(done.stdout.splitlines()[-1])["invalid"]
        self.assertIn(f"none of the {invalid:,} records is valid", lines[0])
        self.assertIn("try --format clf", lines[0])

    def test_a_custom_access_format_is_told_to_use_log_format(self) -> None:
        line = "10.0.0.1|07/Feb/2019:22:11:00 +0100|GET / HTTP/1.1|200|5|curl/8.4\n"
        done = run_monitor("-", input=line * 5)
        self.assertEqual(done.returncode, 2)
        self.assertIn("--log-format", done.stderr)
        done = run_monitor("-", input="hello\n" * 5)
        self.assertNotIn("--log-format", done.stderr)

    def test_levels_are_shown_by_name(self) -> None:
        done = run_monitor(str(DATA / "pylog.jsonl"), "--level", "40")
        self.assertIn("only --level ERROR", done.stdout)


class HelpTest(unittest.TestCase):
    def test_usage_description_groups_and_examples(self) -> None:
        done = run_monitor("--help")
        self.assertEqual(done.returncode, 0)
        text = done.stdout
        self.assertRegex(
            text.splitlines()[0],
            r"^usage: .* \[options\] FILE\.\.\. \| --listen URL \| --from-store FILE$",
        )
        for words in ("nginx", "Apache", "Caddy", "JSON", "logging records", "MongoDB",
                      "syslog", "HTTP", "--follow", "--listen"):  # fmt: skip
            self.assertIn(words, text.split("options:")[0])
        for group in ("what to read", "windows and alerts", "output", "live logs", "filters",
                      "history"):  # fmt: skip
            self.assertIn(f"\n{group}:", text)
        examples = text.split("examples:")[1].split("exit status:")[0]
        commands = examples.replace("\\\n", " ").strip().splitlines()
        self.assertGreaterEqual(len(commands), 5)
        for command in commands:
            with self.subTest(command=command):
                words = shlex.split(command, comments=True)
                self.assertEqual(words[:3], ["python", "-m", "LogsMonitor2000"])
                parse_settings(words[3:])  # (UsageError if it were wrong)


class ProcessTest(unittest.TestCase):
    """Pipes and signals."""

    def test_what_is_not_used_is_not_imported(self) -> None:
        # ssl, http.client and logging (alert forwarding) take 7 MB; multiprocessing
        # is for large files.  A run on the sample needs none of them.
        heavy = ("ssl", "http.client", "logging", "multiprocessing")
        # (What Python started with - coverage, in CI - is not the monitor's doing.)
        code = (
            "import os, sys\n"
            "before = set(sys.modules)\n"
            "from LogsMonitor2000.cli import main\n"
            "main(sys.argv[1:], stdout=open(os.devnull, 'w'))\n"
            f"print(' '.join(m for m in {heavy!r} if m in set(sys.modules) - before))\n"
        )

        def imported(*args: str) -> list[str]:
            done = subprocess.run(
                [sys.executable, "-c", code, str(DATA / "sample.csv"), *args],
                capture_output=True,
                text=True,
                cwd=TOP,
                env=environment(),
                timeout=60,
            )
            self.assertEqual(done.returncode, 0, done.stderr)
            return done.stdout.split()

        self.assertEqual(imported(), [])
        with tempfile.TemporaryDirectory() as tmp:
            alerts = imported("--alert-log", str(Path(tmp) / "alerts.log"))
        self.assertIn("logging", alerts)

    def test_output_piped_into_head_exits_quietly(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "long.csv"
            with open(path, "w") as out:
                write_csv(traffic(seed=1, start=0, seconds=60_000, base_rate=0.5), out)
            process = subprocess.Popen(
                monitor_command(str(path), "--output", "json"),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=TOP,
                env=environment(),
            )
            assert process.stdout is not None and process.stderr is not None
            first = process.stdout.readline()
            process.stdout.close()
            stderr = process.stderr.read()
            process.stderr.close()
            self.assertEqual(process.wait(timeout=60), 0)
        self.assertEqual(json.loads(first)["type"], "stats")
        self.assertEqual(stderr, b"")

    def test_signals_print_the_summary_of_what_was_read(self) -> None:
        # 60 lines, 3 a second, in one write of less than a page: read in one block.
        lines = "".join(
            f'"10.0.0.1","-","-",{1000 + i // 3},"GET /a HTTP/1.0",200,1\n' for i in range(60)
        )
        self.assertLess(len(lines), 4096)
        for signum, status in [(signal.SIGINT, 130), (signal.SIGTERM, 143)]:
            with self.subTest(signal=signum.name):
                process = subprocess.Popen(
                    monitor_command("-", "--output", "json"),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    cwd=TOP,
                    env=environment(),
                    bufsize=0,  # readline takes one line, communicate the rest
                )
                assert process.stdin is not None
                process.stdin.write(lines.encode())
                process.stdin.flush()  # and keep it open: the monitor waits for more
                records = self.read_until_stats(process)
                process.send_signal(signum)
                stdout, stderr = process.communicate(timeout=30)
                self.assertEqual(process.returncode, status, stderr)
                self.assertNotIn(b"Traceback", stderr)
                summary = json_lines(records + stdout.decode())[-1]
                self.assertEqual(summary["type"], "summary")
                self.assertEqual(summary["events"], 60)

    def test_ctrl_c_during_a_long_file(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "long.csv"
            with open(path, "w") as out:
                for second in range(100_000):  # 2 million lines
                    out.write(f'"10.0.0.1","-","-",{second},"GET /a HTTP/1.0",200,1\n' * 20)
            process = subprocess.Popen(
                monitor_command(str(path), "--output", "json"),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=TOP,
                env=environment(),
                bufsize=0,  # readline takes one line, communicate the rest
            )
            records = self.read_until_stats(process)
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=60)
        self.assertEqual(process.returncode, 130, stderr)
        self.assertNotIn(b"Traceback", stderr)
        summary = json_lines(records + stdout.decode())[-1]
        self.assertEqual(summary["type"], "summary")
        self.assertGreater(summary["events"], 0)
        self.assertLess(summary["events"], 2_000_000)

    def read_until_stats(self, process: subprocess.Popen[bytes]) -> str:
        """Read stdout until a stats record shows that the lines were processed."""
        assert process.stdout is not None
        seen = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline().decode()
            seen.append(line)
            if '"stats"' in line:
                return "".join(seen)
        self.fail("no stats record within 30 s")


if __name__ == "__main__":
    unittest.main()
