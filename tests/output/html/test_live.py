"""--serve for real: a followed file, the monitor in a subprocess, clients on 127.0.0.1
(http.client, curl, promtool), the records of /events against the JSON on stdout."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
from pathlib import Path

from LogsMonitor2000.output.html.live import DRAIN_SECONDS, LiveServer
from tests.live import PATIENCE, LiveMonitor, append, csv_row, stats
from tests.pages import read_page
from tests.sse import EventStream, basic, get, get_json, served_url
from tests.support import DATA, run_monitor, run_process, slow
from tests.test_hostile import resident_kb


def windows(first: int, count: int, step: int = 10) -> str:
    """One line per stats window: ``count`` windows from ``first``."""
    return "".join(csv_row(first + i * step) for i in range(count))


class ServeTest(unittest.TestCase):
    def setUp(self) -> None:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.folder = Path(folder.name)
        self.log = self.folder / "access.csv"
        self.log.write_text(csv_row(1000))

    def serve(self, *options: str) -> tuple[LiveMonitor, str]:
        live = LiveMonitor(str(self.log), "--serve", "127.0.0.1:0", *options)
        self.addCleanup(live.__exit__)
        return live, served_url(live)

    def wait_until(self, check: object, what: str) -> None:
        deadline = time.monotonic() + PATIENCE
        while not check():  # type: ignore[operator]
            self.assertLess(time.monotonic(), deadline, what)
            time.sleep(0.05)

    def test_events_are_the_json_records(self) -> None:
        live, url = self.serve()
        with EventStream(url) as stream:
            self.assertEqual(stream.status, 200)
            self.assertEqual(stream.headers["Content-Type"], "text/event-stream")
            self.wait_until(lambda: get_json(url, "/healthz")["subscribers"] == 1, "subscribed")
            append(self.log, windows(1010, 5))  # closes [1000, 1010) ... [1030, 1040)
            events = stream.take(4)
        records = live.wait_for(lambda records: len(stats(records)) >= 4)
        del records
        printed = stats(live.records)[:4]
        self.assertEqual([e.event for e in events], ["stats"] * 4)
        self.assertEqual([json.loads(e.data) for e in events], printed)
        ids = [e.id for e in events]
        self.assertEqual(ids, list(range(ids[0], ids[0] + 4)))
        # A client back after a break says the last one it saw: it gets the rest.
        with EventStream(url, last_event_id=ids[1]) as again:
            self.assertEqual([e.id for e in again.take(2)], ids[2:])
        # /summary is the run so far; the page shows the windows.
        self.wait_until(lambda: get_json(url, "/summary")["events"] == 6, "summary")
        summary = get_json(url, "/summary")
        self.assertEqual(summary["type"], "summary")
        self.assertEqual(summary["sources"], [["10.0.0.1", 6]])
        status, headers, body = get(url, "/")
        self.assertEqual(status, 200)
        page = read_page(body.decode())
        self.assertEqual(page.errors, [])
        self.assertEqual(page.scripts, 1)
        self.assertEqual(page.fetches, [])
        self.assertEqual([row[3] for row in page.timeline], ["1"] * 4)
        # Its cards count what its charts count: the windows so far, not the 2 seconds
        # still open (the summary's 6 events).
        self.assertEqual(page.cards["events in the windows so far"], "4")
        self.assertEqual(page.cards["hits/s on average"], f"{4 / 40:.2f}")
        self.assertEqual(live.stop(), 130)

    @slow
    def test_a_client_too_far_behind_is_told_to_reload(self) -> None:
        live, url = self.serve()
        append(self.log, windows(1010, 1100))
        live.wait_for(lambda records: len(stats(records)) >= 1099)
        self.wait_until(lambda: get_json(url, "/healthz")["records"] >= 1099, "published")
        with EventStream(url, last_event_id=1) as stream:
            event = stream.next()
            self.assertIsNotNone(event)
            assert event is not None
            self.assertEqual(event.event, "reload")
            self.assertIsNone(stream.next())  # and the stream ends
        with EventStream(url, path="/events?after=200") as stream:  # in the ring
            event = stream.next()
            assert event is not None
            self.assertEqual((event.id, event.event), (201, "stats"))
        self.assertEqual(live.stop(), 130)

    def test_bad_requests_get_a_status(self) -> None:
        live, url = self.serve("--serve-auth", "ops:s3cret pass")
        ok = basic("ops:s3cret pass")
        self.assertEqual(get(url, "/", headers=ok)[0], 200)
        self.assertEqual(get(url, "/", headers=ok, method="HEAD")[0], 200)
        self.assertEqual(get(url, "/metrics", headers=ok)[0], 200)
        status, headers, _ = get(url, "/")
        self.assertEqual(status, 401)
        self.assertIn("Basic", headers["WWW-Authenticate"])
        self.assertEqual(get(url, "/summary", headers=basic("ops:wrong"))[0], 401)
        self.assertEqual(get(url, "/events", headers={"Authorization": "Bearer x"})[0], 401)
        self.assertEqual(get(url, "/healthz")[0], 200)  # for load balancers
        self.assertEqual(get(url, "/../etc/passwd", headers=ok)[0], 404)
        self.assertEqual(get(url, "/report.html", headers=ok)[0], 404)
        status, headers, _ = get(url, "/", method="POST", headers=ok)
        self.assertEqual((status, headers["Allow"]), (405, "GET, HEAD"))
        self.assertEqual(get(url, "/", method="DELETE")[0], 405)
        self.assertEqual(get(url, "/", method="BREW")[0], 501)
        self.assertEqual(get(url, "/", headers={"X-Big": "x" * 70_000})[0], 431)
        self.assertEqual(get(url, "/" + "a" * 70_000)[0], 414)
        many = {f"X-{i}": "1" for i in range(120)}
        self.assertEqual(get(url, "/", headers=many)[0], 431)
        for garbage in [b"HELLO\r\n\r\n", b"\x16\x03\x01\x00\xa5\x01\x00\x00\r\n\r\n"]:
            self.assertTrue(_raw(url, garbage).startswith(b"HTTP/1.1 400 "))
        if shutil.which("curl"):
            done = subprocess.run(
                ["curl", "-s", "-u", "ops:s3cret pass", url + "summary"],
                capture_output=True,
                text=True,
                timeout=PATIENCE,
            )
            self.assertEqual(json.loads(done.stdout)["type"], "summary")
        self.assertEqual(live.stop(), 130)
        self.assertNotIn("Traceback", live.stderr)
        self.assertEqual(live.stderr.count("\n"), 1, live.stderr)  # "serving ..." only

    @slow
    def test_a_client_that_never_reads_is_dropped_and_slows_nothing(self) -> None:
        live, url = self.serve()
        stuck = socket.create_connection(("127.0.0.1", _port(url)))
        self.addCleanup(stuck.close)
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        self.wait_until(lambda: get_json(url, "/healthz")["subscribers"] == 1, "subscribed")
        # 20,000 windows: some 10 MB of records it never reads.
        append(self.log, windows(1010, 20_000))
        live.wait_for(lambda records: len(stats(records)) >= 19_999, timeout=60)
        self.wait_until(lambda: get_json(url, "/healthz")["subscribers"] == 0, "dropped")
        self.assertEqual(live.stop(), 130)

    @slow
    def test_a_stop_sends_every_reader_the_rest_and_the_summary(self) -> None:
        # A reader that keeps up, one that only reads once the stop came (slowly,
        # everything queued for it), and one that never reads: at SIGTERM the first
        # two get every record and the summary last; the third is dropped after 2 s,
        # and the monitor is gone soon after.
        live, url = self.serve()
        stuck = socket.create_connection(("127.0.0.1", _port(url)))
        self.addCleanup(stuck.close)
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        streams = [EventStream(url), EventStream(url)]
        for stream in streams:
            self.addCleanup(stream.close)
        self.wait_until(lambda: get_json(url, "/healthz")["subscribers"] == 3, "subscribed")
        got: list[list[str]] = [[], []]
        stopped = threading.Event()

        def read(index: int) -> None:
            if index == 1:
                stopped.wait(PATIENCE)
            while (event := streams[index].next()) is not None:
                got[index].append(event.event)
                if event.event == "summary":
                    got[index].append(event.data)
                if index == 1:
                    time.sleep(0.002)

        readers = [threading.Thread(target=read, args=(i,), daemon=True) for i in (0, 1)]
        for reader in readers:
            reader.start()
        append(self.log, windows(1010, 400))  # (within the ring of 1,000 records)
        live.wait_for(lambda records: len(stats(records)) >= 399)
        started = time.monotonic()
        stopped.set()
        self.assertEqual(live.stop(signal.SIGTERM), 143)
        self.assertLess(time.monotonic() - started, DRAIN_SECONDS + 3)
        for reader in readers:
            reader.join(PATIENCE)
        summary = live.records[-1]
        for events in got:
            self.assertEqual(events.count("stats"), len(stats(live.records)))
            self.assertEqual(events[-2], "summary")
            self.assertEqual(json.loads(events[-1]), summary)

    @slow
    def test_memory_levels_off_once_the_ring_and_the_timeline_are_full(self) -> None:
        # A run of many windows, its /events ring (1,000 records) and its pictures'
        # timeline (2,000 points) full early on: past that, it grows no more.
        live, url = self.serve("--stats-interval", "1")
        resident = []
        for part in range(4):
            append(self.log, windows(1001 + 6000 * part, 6000, step=1))
            live.wait_for(lambda records: len(stats(records)) >= 6000 * (part + 1) - 1)
            self.wait_until(
                lambda: get_json(url, "/healthz")["records"] >= 6000 * (part + 1) - 1, "published"
            )
            time.sleep(1)  # (the page published)
            resident.append(resident_kb(live.process.pid))
        self.assertLess(resident[3] - resident[1], 2048, resident)  # (KiB)
        self.assertEqual(live.stop(), 130)

    @slow
    def test_tls(self) -> None:
        if shutil.which("openssl") is None:
            self.skipTest("no openssl to make a certificate")
        cert, key = self.folder / "cert.pem", self.folder / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
            + ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
            + ["-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
            timeout=PATIENCE,
        )
        live, url = self.serve("--tls-cert", str(cert), "--tls-key", str(key))
        self.assertTrue(url.startswith("https://127.0.0.1:"))
        context = ssl.create_default_context(cafile=str(cert))
        self.assertEqual(get_json(url, "/healthz", tls=context)["status"], "ok")
        # Plain http on the https port: the handshake fails, nothing else.
        self.assertEqual(_raw(url, b"GET / HTTP/1.0\r\n\r\n"), b"")
        self.assertEqual(get_json(url, "/healthz", tls=context)["status"], "ok")
        self.assertEqual(live.stop(), 130)
        self.assertNotIn("Traceback", live.stderr)

    @slow
    def test_metrics(self) -> None:
        live, url = self.serve()
        append(self.log, windows(1010, 5))
        live.wait_for(lambda records: len(stats(records)) >= 5)
        self.wait_until(lambda: _samples(get(url, "/metrics")[2]).get("events_total", 0) >= 5, "")
        status, headers, body = get(url, "/metrics")
        self.assertEqual(headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        samples = _samples(body)
        events = samples["events_total"]
        self.assertEqual(samples['section_events_total{section="/api"}'], events)
        self.assertEqual(samples['section_events_total{section="other"}'], 0)
        self.assertEqual(samples['responses_total{status_class="2xx"}'], events)
        self.assertEqual(samples["alert_threshold_per_second"], 10.0)
        self.assertEqual(samples['alert_active{rule="traffic"}'], 0)
        if shutil.which("promtool") is None:
            live.stop()
            self.skipTest("no promtool (Debian package prometheus)")
        checked = subprocess.run(
            ["promtool", "check", "metrics"], input=body, capture_output=True, timeout=PATIENCE
        )
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)
        self.assertEqual(live.stop(), 130)


@slow
class MetricsFormatsTest(unittest.TestCase):
    """promtool on the metrics of each family: durations (a histogram), MongoDB."""

    def test_promtool_on_every_family(self) -> None:
        if shutil.which("promtool") is None:
            self.skipTest("no promtool (Debian package prometheus)")
        for data, options, marker in [
            ("mongo-traffic.csv", ["--slow-ms", "50"], b"duration_seconds_count"),
            ("caddy.json", ["--slow-ms", "400", "--path", "/api,/login"], b"duration_seconds"),
            ("pylog.jsonl", [], b'level_records_total{level="ERROR"}'),
        ]:
            with self.subTest(data), tempfile.TemporaryDirectory() as folder:
                log = Path(folder) / data
                shutil.copy(DATA / data, log)
                with LiveMonitor(str(log), "--serve", "127.0.0.1:0", *options) as live:
                    url = served_url(live)
                    deadline = time.monotonic() + PATIENCE
                    while marker not in get(url, "/metrics")[2]:
                        self.assertLess(time.monotonic(), deadline)
                        time.sleep(0.1)
                    body = get(url, "/metrics")[2]
                    live.stop()
                checked = subprocess.run(
                    ["promtool", "check", "metrics"], input=body, capture_output=True
                )
                self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)
                if data != "pylog.jsonl":
                    self.assertIn(b"logsmonitor2000_duration_seconds_bucket", body)


class ServeOptionsTest(unittest.TestCase):
    def test_user_errors(self) -> None:
        csv = str(DATA / "sample.csv")
        cases = [
            ([csv, "--serve", "8080"], "--serve needs a live input"),
            ([csv, "--follow", "--serve", "localhost:99999"], "not HOST:PORT"),
            ([csv, "--follow", "--serve", "::1:80"], "in brackets"),
            ([csv, "--follow", "--serve-auth", "a:b"], "only makes sense with --serve"),
            ([csv, "--follow", "--serve", "0", "--serve-auth", "nocolon"], "USER:PASSWORD"),
            ([csv, "--follow", "--serve", "0", "--serve-auth", "@/nonexistent"], "cannot read"),
            ([csv, "--follow", "--serve", "0", "--tls-cert", "/nonexistent"], "cannot use"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                done = run_monitor(*args)  # (refused at start: in this process)
                self.assertEqual(done.returncode, 2, done.stderr)
                self.assertIn(message, done.stderr)
                self.assertEqual(len(done.stderr.splitlines()), 1, done.stderr)

    def test_a_port_in_use(self) -> None:
        taken = socket.socket()
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_process(
            str(DATA / "sample.csv"), "--follow", "--serve", f"127.0.0.1:{port}", timeout=PATIENCE
        )
        self.assertEqual(done.returncode, 2)
        self.assertIn(f"--serve 127.0.0.1:{port}: cannot listen there", done.stderr)

    def test_credentials_from_a_file(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            secret = Path(folder) / "auth"
            secret.write_text("ops:from file\n")
            log = Path(folder) / "a.csv"
            log.write_text(csv_row(1000))
            with LiveMonitor(str(log), "--serve", "0", "--serve-auth", f"@{secret}") as live:
                url = served_url(live)
                self.assertEqual(get(url, "/summary")[0], 401)
                self.assertEqual(get(url, "/summary", headers=basic("ops:from file"))[0], 200)
                live.stop()


def _samples(body: bytes) -> dict[str, float]:
    """The samples of an exposition, without the logsmonitor2000_ prefix."""
    samples = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name.removeprefix("logsmonitor2000_")] = float(value)
    return samples


def _port(url: str) -> int:
    return int(url.rstrip("/").rsplit(":", 1)[1])


def _raw(url: str, request: bytes) -> bytes:
    """Send raw bytes; what comes back before the server closes."""
    with socket.create_connection(("127.0.0.1", _port(url)), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        try:
            while chunk := sock.recv(4096):
                answer += chunk
        except (ConnectionResetError, TimeoutError):
            pass
        return answer


class BroadcasterTest(unittest.TestCase):
    """The ring and its subscribers, in process, on a real server on 127.0.0.1."""

    def setUp(self) -> None:
        self.live = LiveServer(("127.0.0.1", 0))
        self.live.start()
        self.addCleanup(self.live.stop)
        for n in range(1, 4):
            self.live.broadcaster.publish("stats", json.dumps({"n": n}))

    def subscribe(self, last_event_id: int | str) -> bytes:
        """What a stream sends after ``Last-Event-ID``, until it ends or goes quiet."""
        port = _port(self.live.url)
        with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
            sock.sendall(
                b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + f"Last-Event-ID: {last_event_id}\r\n\r\n".encode()
            )
            sock.settimeout(0.5)
            answer = b""
            try:
                while chunk := sock.recv(4096):
                    answer += chunk
            except TimeoutError:
                pass
        return answer

    def test_the_head_first_then_what_was_missed_in_order(self) -> None:
        answer = self.subscribe(1)
        head, _, body = answer.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200 OK"), head)
        self.assertIn(b"Content-Type: text/event-stream", head)
        self.assertTrue(body.startswith(b"retry: 2000\n\n"), body)
        ids = [
            int(line.rpartition(b":")[2]) for line in body.split(b"\n") if line.startswith(b"id: ")
        ]
        self.assertEqual(ids, [2, 3])
        self.assertIn(b'data: {"n": 3}', body)

    @slow  # (the quick suite's time; the drain end to end is in the slow group too)
    def test_a_stop_drops_a_client_that_does_not_take_the_rest(self) -> None:
        # A client that never reads, its socket full and records still unsent: the
        # stop's drain waits for it no longer than it was given.
        port = _port(self.live.url)
        stuck = socket.create_connection(("127.0.0.1", port))
        self.addCleanup(stuck.close)
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        broadcaster = self.live.broadcaster
        deadline = time.monotonic() + PATIENCE
        while broadcaster.subscribers == 0:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.01)
        subscriber = broadcaster._subscribers[0]  # (what the server has not sent it)
        while not subscriber.stream.unsent:  # (half a MiB a round: below MAX_PENDING)
            self.assertLess(time.monotonic(), deadline, "its socket never filled")
            for _ in range(5):
                broadcaster.publish("stats", json.dumps({"pad": "x" * 100_000}))
            broadcaster.wake()
            time.sleep(0.12)  # (a round)
        started = time.monotonic()
        broadcaster.drain(0.5)
        self.assertLess(abs(time.monotonic() - started - 0.5), 0.4)
        self.assertEqual(broadcaster.subscribers, 0)

    def test_an_id_of_another_run_is_told_to_reload(self) -> None:
        # The ids carry the run: RUN:2 of this one gets 3; the same number of another
        # run (a monitor restarted, its numbers from 1 again) means nothing here.
        run = self.live.broadcaster.run
        answer = self.subscribe(f"{run}:2")
        self.assertIn(f"id: {run}:3\n".encode(), answer)
        self.assertNotIn(b"event: reload", answer)
        self.assertIn(b"event: reload", self.subscribe("0123abcd:2"))
        self.assertIn(b"event: reload", self.subscribe(":2"))  # (an empty run is another)

    def test_an_id_it_never_sent_is_told_to_reload(self) -> None:
        self.assertIn(b"event: reload", self.subscribe(7))  # (newer than its newest)
        self.assertNotIn(b"event: reload", self.subscribe(3))
