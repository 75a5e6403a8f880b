"""--alert-url against real HTTP servers on 127.0.0.1 (taking, slow, failing, absent)
and --alert-log."""

from __future__ import annotations

import base64
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support import DATA, json_lines, run_monitor, run_process, slow

SAMPLE = str(DATA / "sample.csv")  # one alert and one recovery


class Endpoint(ThreadingHTTPServer):
    """A Chronologer-like endpoint: keeps the form-encoded records POSTed to it; over
    TLS when given a certificate and its key."""

    daemon_threads = True

    def __init__(
        self, *, status: int = 201, delay: float = 0.0, tls: tuple[str, str] | None = None
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.status = status
        self.delay = delay
        self.scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.socket = context.wrap_socket(self.socket, server_side=True)
            self.scheme = "https"
        self.received: list[tuple[str, dict[str, str], str | None]] = []

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}/api/v1/record"


class _Handler(BaseHTTPRequestHandler):
    server: Endpoint

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        fields = dict(urllib.parse.parse_qsl(body))
        self.server.received.append((self.path, fields, self.headers["Authorization"]))
        time.sleep(self.server.delay)
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serving(endpoint: Endpoint) -> Iterator[Endpoint]:
    thread = threading.Thread(target=endpoint.serve_forever, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        endpoint.shutdown()
        endpoint.server_close()


def dead_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ForwardTest(unittest.TestCase):
    def setUp(self) -> None:
        self.plain = run_monitor(SAMPLE, "--output", "json")
        self.assertEqual(self.plain.returncode, 0)

    def same_output(self, result_stdout: str, undelivered: int) -> None:
        records = json_lines(result_stdout)
        self.assertEqual(records[-1].pop("undelivered"), undelivered)
        self.assertEqual(records, json_lines(self.plain.stdout))

    def test_alerts_reach_the_endpoint_with_basic_auth(self) -> None:
        with serving(Endpoint()) as endpoint:
            url = endpoint.url.replace("//", "//monitor:s%40cret@")
            result = run_monitor(SAMPLE, "--output", "json", "--alert-url", url)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")
        self.same_output(result.stdout, undelivered=0)
        expected = [r for r in json_lines(self.plain.stdout) if r["type"] in ("alert", "recovery")]
        self.assertEqual(len(expected), 2)
        self.assertEqual(len(endpoint.received), 2)
        for (path, fields, authorization), record in zip(endpoint.received, expected):
            self.assertEqual(path, "/api/v1/record")
            self.assertEqual(authorization, "Basic " + base64.b64encode(b"monitor:s@cret").decode())
            self.assertEqual(fields["type"], record["type"])
            self.assertEqual(int(fields["time"]), record["time"])
            self.assertEqual(int(fields["hits"]), record["hits"])
            self.assertEqual(
                fields["levelname"], "WARNING" if record["type"] == "alert" else "INFO"
            )
            self.assertIn("High traffic", fields["msg"])

    @unittest.skipUnless(shutil.which("openssl"), "openssl makes the test certificate")
    def test_https_with_a_certificate_the_client_trusts(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            cert, key = str(Path(tmp) / "cert.pem"), str(Path(tmp) / "key.pem")
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                 "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1",
                 "-addext", "subjectAltName=IP:127.0.0.1"],
                check=True, capture_output=True,
            )  # fmt: skip
            with serving(Endpoint(tls=(cert, key))) as endpoint:
                trusted = run_process(
                    SAMPLE, "--output", "json", "--alert-url", endpoint.url, SSL_CERT_FILE=cert
                )
                received = len(endpoint.received)
                untrusted = run_process(SAMPLE, "--output", "json", "--alert-url", endpoint.url)
        self.assertEqual(trusted.returncode, 0, trusted.stderr)
        self.same_output(trusted.stdout, undelivered=0)
        self.assertEqual(received, 2)
        self.same_output(untrusted.stdout, undelivered=2)  # not its certificate: refused
        self.assertIn("CERTIFICATE_VERIFY_FAILED", untrusted.stderr)

    def test_a_dead_port_changes_nothing_but_the_count(self) -> None:
        url = f"http://127.0.0.1:{dead_port()}/api/v1/record"
        result = run_monitor(SAMPLE, "--output", "json", "--alert-url", url)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.same_output(result.stdout, undelivered=2)
        self.assertIn("not delivered", result.stderr)
        self.assertNotIn("Traceback", result.stderr)

    def test_an_error_status_is_not_a_delivery(self) -> None:
        with serving(Endpoint(status=500)) as endpoint:
            result = run_monitor(SAMPLE, "--output", "json", "--alert-url", endpoint.url)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.same_output(result.stdout, undelivered=2)
        self.assertEqual(len(endpoint.received), 2)

    @slow
    def test_a_slow_endpoint_does_not_hold_the_monitor(self) -> None:
        with serving(Endpoint(delay=60)) as endpoint:
            started = time.monotonic()
            result = run_monitor(SAMPLE, "--output", "json", "--alert-url", endpoint.url)
            took = time.monotonic() - started
        self.assertEqual(result.returncode, 0, result.stderr)
        self.same_output(result.stdout, undelivered=2)
        # At most 10 s of waiting at the end (before: logging's shutdown waited more).
        self.assertLess(took, 13)

    @slow
    def test_endpoints_that_never_answer_or_trickle_wait_at_most_10_s(self) -> None:
        # One accepts and never answers; the other sends a byte every 4 s, so that no
        # socket timeout ever fires (before: 15-25 s, and 148-296 s).
        for behaviour in ("silent", "trickle"):
            with self.subTest(behaviour), stubborn_server(behaviour) as url:
                started = time.monotonic()
                result = run_monitor(SAMPLE, "--output", "json", "--alert-url", url)
                took = time.monotonic() - started
                self.assertEqual(result.returncode, 0, result.stderr)
                self.same_output(result.stdout, undelivered=2)
                self.assertLess(took, 13)

    def test_the_text_summary_mentions_undelivered_alerts(self) -> None:
        url = f"http://127.0.0.1:{dead_port()}/"
        result = run_monitor(SAMPLE, "--alert-url", url)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("2 alerts undelivered", result.stdout)


@contextmanager
def stubborn_server(behaviour: str) -> Iterator[str]:
    """A server on 127.0.0.1 that takes connections and never answers them in full."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve(connection: socket.socket) -> None:
        connection.recv(65536)
        if behaviour == "trickle":
            connection.sendall(b"HTTP/1.1 200 OK\r\n")
            while not stop.wait(4.0):
                try:
                    connection.sendall(b"X")
                except OSError:
                    return

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            held.append(connection)
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/v1/record"
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


class AlertLogTest(unittest.TestCase):
    def test_alerts_are_appended_to_the_file(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            log = Path(tmp) / "alerts.log"
            log.write_text("kept\n")
            for _ in range(2):
                result = run_monitor(SAMPLE, "--output", "json", "--alert-log", str(log))
                self.assertEqual(result.returncode, 0, result.stderr)
            lines = log.read_text().splitlines()
            missing = run_monitor(SAMPLE, "--alert-log", str(Path(tmp) / "no" / "such"))
        self.assertEqual(lines[0], "kept")
        self.assertEqual(len(lines), 5)
        # The log's time leads; the wall clock of the writing comes last, marked.
        self.assertTrue(
            lines[1].startswith(
                "2019-02-07T21:16:18+00:00 WARNING High traffic generated an alert - hits = 1219"
            ),
            lines[1],
        )
        self.assertRegex(lines[1], r" \[written \d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+\]$")
        self.assertTrue(
            lines[2].startswith("2019-02-07T21:18:44+00:00 INFO High traffic alert recovered")
        )
        self.assertEqual(missing.returncode, 2)
        self.assertEqual(len(missing.stderr.splitlines()), 1, missing.stderr)


if __name__ == "__main__":
    unittest.main()
