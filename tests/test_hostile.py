"""Hostile input: what one request, one line or one signal can do to the monitor - it
must never kill, starve or bloat it.  Each case was reproduced by hand before its fix
(``docs/security.md``); real clients and the monitor in a subprocess where that is the
point, ``cli.main`` in process where it is not."""

from __future__ import annotations

import base64
import gc
import io
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
from pathlib import Path
from typing import Any

from LogsMonitor2000.bounds import MAX_CLASSES, MAX_KEY_CHARS, OTHER
from LogsMonitor2000.inputs.listen import Inbox, ListenOptions, Received, Verdict
from LogsMonitor2000.inputs.listen import http as ingest
from LogsMonitor2000.inputs.listen.http import HttpReceiver
from LogsMonitor2000.cli import main
from tests.inputs.listen.test_listen import addresses, clf, listen, post, summary
from tests.live import PATIENCE, LiveMonitor, append
from tests.output.test_dashboard import TMUX, Terminal
from tests.sse import basic, get, served_url
from tests.support import TOP, environment, json_lines, monitor_command, run_monitor
from tests.support import run_process, slow, time_zone, working_directory

#: A logging record, as a JSON line.
RECORD_LINE = '{"name": "app", "msg": "hi", "levelname": "INFO", "levelno": 20, "created": 1e9}'
#: An access log line, as nginx's JSON log_format writes it.
ACCESS_LINE = (
    '{"time_iso8601": "2024-03-01T12:00:00+00:00", "remote_addr": "10.0.0.1", '
    '"request": "GET /a HTTP/1.1", "status": 200, "body_bytes_sent": 10}'
)
DEEP = "[" * 200_000


def resident_peak_kb(pid: int) -> int:
    """The peak resident memory of a process (``VmHWM``)."""
    return _status_kb(pid, "VmHWM")


def resident_kb(pid: int) -> int:
    """The resident memory of a process now (``VmRSS``)."""
    return _status_kb(pid, "VmRSS")


def _status_kb(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(field + r":\s+(\d+) kB", status)
    assert found, status
    return int(found.group(1))


def last_summary(stdout: str) -> dict[str, Any]:
    return [record for record in json_lines(stdout) if record["type"] == "summary"][-1]


class DecodersTest(unittest.TestCase):
    """Nesting deeper than Python's recursion, and lone surrogates."""

    def setUp(self) -> None:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.folder = Path(folder.name)

    def test_deep_nesting_in_a_file_is_an_invalid_record(self) -> None:
        for fmt, valid in [("pylog", RECORD_LINE), ("json", ACCESS_LINE), ("auto", RECORD_LINE)]:
            with self.subTest(format=fmt):
                log = self.folder / f"{fmt}.jsonl"
                deeper = '{"name": "x", "msg": ' + DEEP
                log.write_text(f"{valid}\n{DEEP}\n{deeper}\n{valid}\n")
                done = run_monitor(str(log), "--format", fmt, "--output", "json")
                self.assertEqual(done.returncode, 0, done.stderr)
                self.assertNotIn("internal error", done.stderr)
                self.assertEqual(
                    (last_summary(done.stdout)["events"], last_summary(done.stdout)["invalid"]),
                    (2, 2),
                )

    def test_deep_nesting_posted_is_a_400_and_the_run_goes_on(self) -> None:
        with listen("--listen", "http://127.0.0.1:0", "--format", "pylog") as live:
            ((_, _, port),) = addresses(live, 1)
            for body in (DEEP, "[" + RECORD_LINE + "," + DEEP):
                status, text, _ = post(port, body.encode(), "application/json")
                self.assertEqual(status, 400, text)
            status, text, _ = post(port, RECORD_LINE.encode(), "application/json")
            self.assertEqual((status, json.loads(text)), (200, {"records": 1, "invalid": 0}))
            self.assertEqual(live.stop(), 130, live.stderr)
        self.assertNotIn("internal error", live.stderr)
        self.assertEqual(summary(live)["events"], 1)

    def test_lone_surrogates_reach_every_view(self) -> None:
        record = json.loads(RECORD_LINE)
        lines = [
            json.dumps({**record, "name": "app\ud800", "levelname": "E\udc00"}),
            json.dumps({**record, "name": "\ud83d\ude00"}),  # (a pair: an emoji)
        ]
        report = self.folder / "report.html"
        empty = self.folder / "empty.log"
        empty.write_text("")
        with LiveMonitor(
            str(empty),
            "--listen",
            "http://127.0.0.1:0",
            "--format",
            "pylog",
            "--serve",
            "127.0.0.1:0",
            "--report",
            str(report),
            "--stats-interval",
            "1",
        ) as live:
            ((_, _, port),) = addresses(live, 1)
            url = served_url(live)
            status, text, _ = post(port, "\n".join(lines).encode(), "application/json")
            self.assertEqual(status, 200, text)
            deadline = time.monotonic() + PATIENCE
            while True:
                status, _, metrics = get(url, "/metrics")
                if "\ufffd" in metrics.decode("utf-8") or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            self.assertEqual(status, 200)
            self.assertIn('logger="app\ufffd"', metrics.decode("utf-8"))
            self.assertIn("\U0001f600", metrics.decode("utf-8"))
            status, _, body = get(url, "/summary")
            self.assertEqual(status, 200)
            json.loads(body)
            self.assertEqual(live.stop(), 130, live.stderr)
        self.assertNotIn("internal error", live.stderr)
        self.assertEqual(summary(live)["events"], 2)
        self.assertIn("app\ufffd", report.read_text(encoding="utf-8"))


class BoundsTest(unittest.TestCase):
    """Keys bounded in bytes, lists of a few keys in number."""

    def setUp(self) -> None:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.folder = Path(folder.name)

    def test_a_key_is_cut_at_1024_characters(self) -> None:
        log = self.folder / "access.log"
        long = "/" + "a" * 3000
        log.write_text(
            "".join(clf(f"10.0.0.{i % 3}", f"{long}{i}", when=1e9) + "\n" for i in range(50))
            + "".join(clf("1" * 2000 + str(i), "/b", when=1e9) + "\n" for i in range(3))
        )
        done = run_monitor(str(log), "--output", "json", "--top", "4")
        final = last_summary(done.stdout)
        self.assertEqual(final["sections"][0], [long[:MAX_KEY_CHARS], 50])
        self.assertIn(["1" * MAX_KEY_CHARS, 3], final["sources"])
        self.assertTrue(all(len(key) <= MAX_KEY_CHARS for key, _ in final["sections"]))

    def test_level_names_are_a_few_then_other(self) -> None:
        record = json.loads(RECORD_LINE)
        log = self.folder / "records.jsonl"
        with open(log, "w", encoding="utf-8") as out:
            for i in range(2000):
                out.write(json.dumps({**record, "levelname": f"L{i:04}" + "x" * 1000}) + "\n")
        done = run_monitor(str(log), "--format", "pylog", "--output", "json")
        levels = last_summary(done.stdout)["levels"]
        self.assertLessEqual(len(levels), MAX_CLASSES + 1)
        self.assertEqual(sum(levels.values()), 2000)
        self.assertEqual(levels[OTHER], 2000 - MAX_CLASSES)
        self.assertLess(max(len(line) for line in done.stdout.splitlines()), 64 << 10)

    @slow
    def test_long_paths_through_a_listener_take_no_memory(self) -> None:
        """Before: every distinct request was remembered whole (65,536 of them), and
        each request's objects waited for the cyclic collector: 90 bodies of 1 MiB
        cost 115 MB more than 30 did."""
        with listen("--listen", "http://127.0.0.1:0") as live:
            ((_, _, port),) = addresses(live, 1)
            sizes = {}
            for body in range(90):
                lines = [clf("10.0.0.1", f"/p{body}-{i}-" + "x" * 50_000) for i in range(20)]
                status, text, _ = post(port, "\n".join(lines).encode())
                self.assertEqual(status, 200, text)
                if body + 1 in (30, 90):
                    sizes[body + 1] = resident_kb(live.process.pid)
            self.assertEqual(live.stop(), 130)
        self.assertEqual(summary(live)["events"], 1800)
        self.assertLess(sizes[90] - sizes[30], 10_000, "kB")

    def test_a_request_leaves_no_cycle_behind(self) -> None:
        """What a request made is freed when it is answered, not when the cyclic
        collector comes (the monitor runs it seldom: see ``__main__``)."""
        inbox = Inbox()
        receiver = HttpReceiver(("127.0.0.1", 0), inbox, ListenOptions())
        receiver.start()
        self.addCleanup(inbox.close)
        self.addCleanup(receiver.close)
        port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        self.addCleanup(gc.set_debug, 0)
        self.addCleanup(gc.garbage.clear)
        for _ in range(3):
            answer: list[int] = []
            sender = threading.Thread(target=lambda: answer.append(post(port, b"x\n")[0]))
            sender.start()
            taken: list[Received] = []
            while not taken:
                taken = inbox.take()
            for item in taken:
                self.assertTrue(item.claim())
                assert item.settle is not None
                item.settle(Verdict(records=1))
            del taken, item
            sender.join(PATIENCE)
            self.assertEqual(answer, [200])
        time.sleep(0.2)
        gc.collect()
        kinds = {type(thing).__name__ for thing in gc.garbage}
        self.assertFalse(kinds & {"Received", "Exchange", "_Connection", "Request"}, kinds)

    @slow
    def test_an_octet_count_frame_is_never_held_whole(self) -> None:
        with listen("--listen", "syslog+tcp://127.0.0.1:0", "--format", "pylog") as live:
            ((_, _, port),) = addresses(live, 1)
            with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
                sock.sendall(b"<14>warm\n")
                time.sleep(0.5)
                before = resident_peak_kb(live.process.pid)
                sock.sendall(b"999999999 <14>")
                chunk = b"x" * (1 << 20)
                for _ in range(200):  # (200 MiB of one frame, never ended)
                    sock.sendall(chunk)
            grown = resident_peak_kb(live.process.pid) - before
            self.assertEqual(live.stop(), 130)
        self.assertLess(grown, 30_000, "kB")  # (before: the frame was buffered whole)


class StarvationTest(unittest.TestCase):
    def test_slow_and_silent_connections_cant_keep_a_sender_out(self) -> None:
        """Before: 256 connections that each sent a byte made every real sender get 503."""
        with listen("--listen", "http://127.0.0.1:0", "--listen-auth", "app:secret") as live:
            ((_, _, port),) = addresses(live, 1)
            holders = []
            for _ in range(256):
                sock = socket.create_connection(("127.0.0.1", port), timeout=PATIENCE)
                sock.sendall(b"P")
                holders.append(sock)
            time.sleep(0.5)
            status, text, _ = post(port, clf("10.0.0.1", "/a").encode(), auth="app:secret")
            self.assertEqual(status, 200, text)
            for sock in holders:
                sock.close()
            self.assertEqual(live.stop(), 130)
        self.assertEqual(summary(live)["events"], 1)

    @slow
    def test_bodies_that_cost_the_most_hold_a_sender_seconds_not_minutes(self) -> None:
        """Five 1 MiB bodies of ``{}`` lines (each line invalid) posted at once, then one
        record: before, 4.8 s of CPU a body, and the record waited them all."""
        body = b"{}\n" * ((1 << 20) // 3)
        with listen("--listen", "http://127.0.0.1:0", "--format", "json") as live:
            ((_, _, port),) = addresses(live, 1)
            answers: list[int] = []
            senders = [
                threading.Thread(
                    target=lambda: answers.append(post(port, body, "application/json")[0])
                )
                for _ in range(5)
            ]
            for sender in senders:
                sender.start()
            time.sleep(0.3)
            started = time.monotonic()
            status, text, _ = post(port, ACCESS_LINE.encode(), "application/json")
            waited = time.monotonic() - started
            for sender in senders:
                sender.join()
            cpu = live.cpu_seconds()
            self.assertEqual(live.stop(), 130)
        self.assertEqual(status, 200, text)
        self.assertEqual(answers, [400] * 5)
        self.assertLess(waited, 10.0)
        self.assertLess(cpu, 12.0)


class AcknowledgementTest(unittest.TestCase):
    """An HTTP request answered with an error is never counted."""

    @slow
    def test_a_late_answer_is_a_503_and_the_payload_is_never_counted(self) -> None:
        was = ingest.ANSWER_SECONDS
        ingest.ANSWER_SECONDS = 0.2
        self.addCleanup(setattr, ingest, "ANSWER_SECONDS", was)
        inbox = Inbox()
        receiver = HttpReceiver(("127.0.0.1", 0), inbox, ListenOptions())
        receiver.start()
        self.addCleanup(inbox.close)
        self.addCleanup(receiver.close)
        port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
        status, text, _ = post(port, b"a line\n")  # (nobody counts it)
        self.assertEqual((status, text), (503, "not counted in time\n"))
        (late,) = inbox.take()
        self.assertFalse(late.claim(), "answered 503: the pipeline must skip it")

        answer: list[tuple[int, str, dict[str, str]]] = []
        sender = threading.Thread(target=lambda: answer.append(post(port, b"another\n")))
        sender.start()
        deadline = time.monotonic() + PATIENCE
        taken: list[Received] = []
        while not taken and time.monotonic() < deadline:
            taken = inbox.take()
        (claimed,) = taken
        self.assertTrue(claimed.claim())  # (being counted: its answer is awaited)
        time.sleep(1.5)  # (past its time, a sweep or two)
        assert claimed.settle is not None
        claimed.settle(Verdict(records=1))
        sender.join(PATIENCE)
        self.assertEqual(answer[0][0], 200)


class HangUpTest(unittest.TestCase):
    def setUp(self) -> None:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.folder = Path(folder.name)
        self.log = self.folder / "access.log"
        self.log.write_text(clf("10.0.0.1", "/a") + "\n")
        self.state = self.folder / "state.json"

    def test_sighup_ends_the_run_with_its_summary_and_lets_the_state_go(self) -> None:
        for run in range(2):  # (the second run finds the state file free, and carries on)
            with LiveMonitor(str(self.log), "--state", str(self.state)) as live:
                self.started(live)
                self.assertEqual(live.stop(signal.SIGHUP), 129, live.stderr)
            self.assertEqual(summary(live)["events"], run + 1)
            self.assertNotIn("in use by another monitor", live.stderr)
            append(self.log, clf("10.0.0.2", "/b") + "\n")

    def started(self, live: LiveMonitor) -> None:
        """Once the run has taken its state file (its signal handlers are set)."""
        lock = Path(f"{self.state}.lock")
        deadline = time.monotonic() + PATIENCE
        while not lock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)

    @slow
    def test_under_nohup_sighup_is_ignored(self) -> None:
        process = subprocess.Popen(
            monitor_command(str(self.log), "--follow", "--output", "json"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=TOP,
            env=environment(),
            preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
        )
        time.sleep(1.0)
        process.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        self.assertIsNone(process.poll(), "it ended")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=PATIENCE)
        self.assertEqual(process.returncode, 130, err)
        self.assertEqual(last_summary(out.decode())["events"], 1)

    @unittest.skipIf(TMUX is None, "no tmux")
    @slow
    def test_a_dashboard_whose_terminal_closes_ends_and_gives_it_back(self) -> None:
        """Before: it went on after its terminal closed, rewriting --state, holding its
        lock; SIGTERM then ended it with a traceback."""
        pid_file, errors = self.folder / "pid", self.folder / "stderr"
        command = monitor_command(
            str(self.log), "--follow", "--dashboard", "--state", str(self.state)
        )
        script = f"echo $$ > {pid_file}; exec {shlex.join(command)} 2> {errors}"
        terminal = Terminal(["sh", "-c", script], width=100, height=30, env={"TZ": "UTC"})
        self.addCleanup(terminal.close)
        terminal.wait_for("q quits")
        pid = int(pid_file.read_text())
        terminal.close()  # (the terminal goes away: its processes hear SIGHUP)
        deadline = time.monotonic() + PATIENCE
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertFalse(Path(f"/proc/{pid}").exists(), "still running")
        self.assertNotIn("Traceback", errors.read_text())
        with LiveMonitor(str(self.log), "--state", str(self.state)) as live:
            self.started(live)
            self.assertEqual(live.stop(), 130, live.stderr)
        self.assertNotIn("in use by another monitor", live.stderr)


class CrossSiteTest(unittest.TestCase):
    def test_serve_answers_to_its_own_names_only(self) -> None:
        """DNS rebinding: a page whose name now points at 127.0.0.1 reads nothing."""
        with tempfile.TemporaryDirectory() as folder:
            log = Path(folder) / "access.log"
            log.write_text(clf("10.0.0.1", "/a") + "\n")
            for auth in (None, "me:secret"):
                options = ["--serve-auth", auth] if auth else []
                with LiveMonitor(str(log), "--serve", "127.0.0.1:0", *options) as live:
                    url = served_url(live)
                    port = url.rsplit(":", 1)[1].strip("/")
                    credentials = basic(auth) if auth else {}
                    for host, status in [
                        ("evil.example", 200 if auth else 421),
                        (f"evil.example:{port}", 200 if auth else 421),
                        (f"127.0.0.1:{port}", 200),
                        (f"localhost:{port}", 200),
                        ("[::1]", 200),
                    ]:
                        with self.subTest(host=host, auth=auth):
                            answer = get(url, "/summary", headers={"Host": host, **credentials})
                            self.assertEqual(answer[0], status, answer[2])
                    live.stop()

    def test_a_web_page_cannot_send_records(self) -> None:
        with listen("--listen", "http://127.0.0.1:0") as live:
            ((_, _, port),) = addresses(live, 1)
            line = clf("10.0.0.1", "/a").encode()
            for headers, status in [
                ({"Origin": "http://evil.example"}, 403),
                ({"Origin": f"http://127.0.0.1:{port}"}, 403),  # (a rebound name)
                ({"Sec-Fetch-Site": "cross-site"}, 403),
                ({"Sec-Fetch-Site": "none"}, 200),  # (typed in the address bar)
                ({}, 200),
            ]:
                with self.subTest(headers=headers):
                    found = raw_post(port, line, headers)
                    self.assertEqual(found, status)
            self.assertEqual(live.stop(), 130)
        self.assertEqual(summary(live)["events"], 2)


def raw_post(port: int, body: bytes, headers: dict[str, str]) -> int:
    """The status of a POST /ingest with ``headers``."""
    head = [
        "POST /ingest HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: text/plain",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        answer = sock.recv(100)
    found = re.match(rb"HTTP/1\.1 (\d{3}) ", answer)
    assert found, answer
    return int(found.group(1))


class CutShortTest(unittest.TestCase):
    def test_a_syslog_message_cut_short_is_invalid_and_said_once(self) -> None:
        """Before: not counted, not invalid, nothing said."""
        with listen("--listen", "syslog+tcp://127.0.0.1:0", "--format", "pylog") as live:
            ((_, _, port),) = addresses(live, 1)
            for data in [b"<14>app: whole\n<14>app: cut sh", b"60 <14>app: a frame", b"12"]:
                with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
                    sock.sendall(data)
            live.wait_for_stderr("in the middle of a message")
            time.sleep(0.5)
            self.assertEqual(live.stop(), 130)
        self.assertEqual((summary(live)["events"], summary(live)["invalid"]), (1, 3))
        self.assertEqual(live.stderr.count("in the middle of a message"), 1, live.stderr)


class SmallerTest(unittest.TestCase):
    def setUp(self) -> None:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.folder = Path(folder.name)
        self.log = self.folder / "access.log"
        self.log.write_text(clf("10.0.0.1", "/a") + "\n")

    def test_an_event_id_of_other_digits_is_no_number(self) -> None:
        with LiveMonitor(str(self.log), "--serve", "127.0.0.1:0") as live:
            port = int(served_url(live).rsplit(":", 1)[1].strip("/"))
            with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
                sock.sendall("GET /events HTTP/1.1\r\nLast-Event-ID: ²\r\n\r\n".encode())
                self.assertTrue(sock.recv(100).startswith(b"HTTP/1.1 200 "))
            live.stop()

    def test_metrics_carry_no_control_characters(self) -> None:
        self.log.write_text(clf("10.0.0.1", "/\x1b]0;owned\x07\u202e") + "\n")
        with LiveMonitor(str(self.log), "--serve", "127.0.0.1:0", "--buffer", "0") as live:
            url = served_url(live)
            deadline = time.monotonic() + PATIENCE
            while True:
                metrics = get(url, "/metrics")[2].decode()
                if "section_events_total{" in metrics or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            live.stop()
        self.assertIn('section="/\ufffd]0;owned\ufffd\ufffd"', metrics)
        self.assertIsNone(re.search("[\x00-\x09\x0b-\x1f\x7f\u202e]", metrics))

    def test_a_file_name_is_shown_escaped(self) -> None:
        odd = self.folder / "a\x1b[2Jb.log"
        odd.write_text(self.log.read_text())
        done = run_monitor(str(odd))
        self.assertIn("a\\x1b[2Jb.log", done.stdout)
        self.assertNotIn("\x1b", done.stdout)
        missing = run_monitor(str(self.folder / "gone\x07.log"))
        self.assertEqual(missing.returncode, 2)
        self.assertNotIn("\x07", missing.stderr)

    def test_the_files_a_run_writes_are_no_input_and_not_one_another(self) -> None:
        state = str(self.folder / "state.json")
        for options in [
            ["--follow", "--state", state, "--report", state],
            ["--alert-log", str(self.log)],
            ["--report", str(self.folder / "." / "access.log")],
        ]:
            with self.subTest(options=options):
                done = run_monitor(str(self.log), *options)
                self.assertEqual(done.returncode, 2, done.stderr)
                self.assertEqual(len(done.stderr.splitlines()), 1, done.stderr)
        link = self.folder / "link.log"
        link.symlink_to(self.log)
        done = run_monitor(str(self.log), "--alert-log", str(link))
        self.assertEqual(done.returncode, 2, done.stderr)

    def test_the_state_lock_is_never_opened_through_a_link(self) -> None:
        target = self.folder / "precious"
        target.write_text("keep me")
        state = self.folder / "state.json"
        Path(f"{state}.lock").symlink_to(target)
        done = run_process(str(self.log), "--follow", "--state", str(state))
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn("symbolic link", done.stderr)
        self.assertEqual(target.read_text(), "keep me")

    def test_a_report_that_cant_be_written_at_the_end_is_an_error(self) -> None:
        folder = self.folder / "reports"
        folder.mkdir()
        reader, writer = os.pipe()
        done: list[subprocess.CompletedProcess[str]] = []

        def run() -> None:  # (cli.main reading the pipe as its standard input)
            out, err = io.StringIO(), io.StringIO()
            args = ["-", "--report", str(folder / "r.html")]
            with open(reader, "rb") as stdin, time_zone("UTC"), working_directory(TOP):
                status = main(args, stdout=out, stderr=err, stdin=stdin)
            done.append(subprocess.CompletedProcess(args, status, out.getvalue(), err.getvalue()))

        thread = threading.Thread(target=run)
        thread.start()
        with open(writer, "w") as lines:
            lines.write(clf("10.0.0.1", "/a") + "\n")
            lines.flush()
            time.sleep(0.5)  # (its report's folder was checked at the start)
            folder.rmdir()
        thread.join(PATIENCE)
        self.assertEqual(done[0].returncode, 1, done[0].stderr)
        self.assertIn("cannot write the report", done[0].stderr)
        self.assertIn("Summary", done[0].stdout)

    def test_credentials_files(self) -> None:
        endless = run_monitor("--listen", "http://127.0.0.1:0", "--listen-auth", "@/dev/zero")
        self.assertEqual(endless.returncode, 2, endless.stderr)
        shared = self.folder / "auth"
        shared.write_text("app:secret\n")
        shared.chmod(0o644)
        with listen("--listen", "http://127.0.0.1:0", "--listen-auth", f"@{shared}") as live:
            ((_, _, port),) = addresses(live, 1)
            token = base64.b64encode(b"app:secret").decode()
            for scheme in ("Basic", "basic", "BASIC"):
                with self.subTest(scheme=scheme):
                    status = raw_post(
                        port, clf("10.0.0.1", "/a").encode(), {"Authorization": f"{scheme} {token}"}
                    )
                    self.assertEqual(status, 200)
            live.stop()
        self.assertIn("can be read by other users", live.stderr)

    @slow
    def test_datagrams_the_system_dropped_are_counted(self) -> None:
        """The monitor stopped (SIGSTOP) while datagrams pour in: those the socket's
        buffer could not hold are in ``dropped``, with the others counted."""
        with listen("--listen", "syslog+udp://127.0.0.1:0", "--format", "pylog") as live:
            ((_, _, port),) = addresses(live, 1)
            live.process.send_signal(signal.SIGSTOP)
            sent = 20_000
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
                for i in range(sent):
                    sender.sendto(b"<14>app: " + b"x" * 500, ("127.0.0.1", port))
            live.process.send_signal(signal.SIGCONT)
            time.sleep(2.0)
            self.assertEqual(live.stop(), 130)
        final = summary(live)
        self.assertGreater(final["dropped"], 0)
        self.assertEqual(final["events"] + final["dropped"], sent)
