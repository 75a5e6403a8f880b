"""--listen for real: the monitor in a subprocess, real clients on 127.0.0.1 (the stdlib's
SysLogHandler and HTTPHandler, util-linux logger, curl, http.client, ssl), and the
receivers in process against a full inbox (503, dropped datagrams, TCP backpressure)."""

from __future__ import annotations

import contextlib
import csv
import http.client
import json
import logging
import logging.handlers
import re
import select
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import warnings
from pathlib import Path
from typing import Any

from LogsMonitor2000.inputs.listen import RECORD, Inbox, ListenOptions, Received
from LogsMonitor2000.inputs.listen import check_listen_url
from LogsMonitor2000.net.addresses import (
    EVERY_INTERFACE,
    listen_address,
    reachable_from_outside,
)
from LogsMonitor2000.parsers.syslog_header import parse_message
from tests.live import PATIENCE, LiveMonitor
from tests.sse import basic
from tests.support import DATA, run_monitor, slow

LOGGER = shutil.which("logger")
CURL = shutil.which("curl")
OPENSSL = shutil.which("openssl")


def clf(source: str, section: str, status: int = 200, when: float | None = None) -> str:
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(when or time.time()))
    return f'{source} - - [{stamp}] "GET {section}/x HTTP/1.1" {status} 100'


def addresses(live: LiveMonitor, count: int) -> list[tuple[str, str, int]]:
    """(scheme, host, port) of each listener, from the monitor's stderr."""
    deadline = time.monotonic() + PATIENCE
    while len(re.findall(r"listening on ", live.stderr)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(live.stderr)
        time.sleep(0.02)
    found = re.findall(r"listening on (\S+)://([\d.]+):(\d+)", live.stderr)
    return [(scheme, host, int(port)) for scheme, host, port in found]


def summary(live: LiveMonitor) -> dict[str, Any]:
    records = [r for r in live.records if r["type"] == "summary"]
    assert records, live.stderr
    return records[-1]


def listen(*options: str) -> LiveMonitor:
    return LiveMonitor(*options, "--stats-interval", "1")


def post(
    port: int,
    body: bytes,
    kind: str = "text/plain",
    *,
    auth: str | None = None,
    method: str = "POST",
    path: str = "/ingest",
    tls: ssl.SSLContext | None = None,
) -> tuple[int, str, dict[str, str]]:
    connection: http.client.HTTPConnection
    if tls is not None:
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=PATIENCE, context=tls)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=PATIENCE)
    headers = {"Content-Type": kind}
    if auth is not None:
        headers.update(basic(auth))
    try:
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read().decode(), dict(answer.getheaders())
    finally:
        connection.close()


class SyslogTest(unittest.TestCase):
    def test_syslog_handler_records_read_as_logging_records(self) -> None:
        # What SysLogHandler sends: <PRI>message - the level in PRI, the logger's name
        # only where a formatter or an ident puts it in front.
        with listen("--listen", "syslog+udp://127.0.0.1:0", "--format", "pylog") as live:
            ((_, _, port),) = addresses(live, 1)
            plain = logging.handlers.SysLogHandler(("127.0.0.1", port))
            named = logging.handlers.SysLogHandler(("127.0.0.1", port))
            named.setFormatter(logging.Formatter("%(name)s: %(message)s"))
            ident = logging.handlers.SysLogHandler(("127.0.0.1", port))
            ident.ident = "billing: "
            sent = [
                (plain, "test_listen.plain", logging.ERROR),
                (named, "app.db", logging.WARNING),
                (ident, "test_listen.ident", logging.CRITICAL),
                (named, "app.db", logging.INFO),
            ]
            for handler, name, level in sent:
                logger = logging.Logger(name)  # (outside logging's registry)
                logger.addHandler(handler)
                logger.log(level, "disk %s full", "/var")
            for handler in (plain, named, ident):
                handler.close()
            self.assertEqual(live.stop(), 130)
        result = summary(live)
        self.assertEqual(result["events"], 4, live.stderr)
        self.assertEqual(result["invalid"], 0)
        self.assertEqual(result["levels"], {"CRITICAL": 1, "ERROR": 1, "WARNING": 1, "INFO": 1})
        self.assertEqual(sorted(result["sections"]), [["-", 1], ["app.db", 2], ["billing", 1]])

    @slow
    def test_syslog_handler_and_logger_over_udp_and_tcp(self) -> None:
        with listen(
            "--listen", "syslog+udp://127.0.0.1:0", "--listen", "syslog+tcp://127.0.0.1:0"
        ) as live:
            (_, _, udp), (_, _, tcp) = addresses(live, 2)
            logger = logging.getLogger("test_listen.syslog")
            logger.propagate = False
            handlers = [
                logging.handlers.SysLogHandler(("127.0.0.1", udp)),
                logging.handlers.SysLogHandler(("127.0.0.1", tcp), socktype=socket.SOCK_STREAM),
            ]
            for handler in handlers:
                logger.addHandler(handler)
                logger.warning(clf("10.0.0.1", "/api"))
                logger.removeHandler(handler)
                handler.close()
            sent = 2
            if LOGGER is not None:
                for flags in (
                    ["--rfc3164", "--udp"],
                    ["--rfc3164", "--tcp"],
                    ["--rfc5424", "--udp"],
                    ["--rfc5424", "--tcp"],
                ):
                    port = udp if "--udp" in flags else tcp
                    subprocess.run(
                        [LOGGER, *flags, "-n", "127.0.0.1", "-P", str(port), "-t", "nginx"]
                        + ["--", clf("10.0.0.2", "/login", 404)],
                        check=True,
                    )
                    sent += 1
            live.wait_for(lambda records: sum(r["hits"] for r in records) >= sent)
            live.stop()
        done = summary(live)
        self.assertEqual(done["events"], sent)
        self.assertEqual(done["invalid"], 0)
        self.assertEqual(done["dropped"], 0)
        hosts = dict(done["hosts"])
        self.assertEqual(hosts.get("127.0.0.1"), 2, "no HOSTNAME: the sender's address")
        if LOGGER is not None:
            self.assertEqual(hosts.get(socket.gethostname()), 4, "logger's HOSTNAME")
            self.assertEqual(dict(done["status"]), {"2xx": 2, "4xx": 4})

    @slow
    def test_a_stop_reads_what_a_tcp_sender_sent(self) -> None:
        # No acknowledgement over TCP: what was sent before the stop is all counted,
        # whether in the inbox, taken from it, or still in the kernel's buffers.
        lines = "".join(clf("10.0.0.1", "/a") + "\n" for _ in range(1000)).encode()
        for _ in range(3):
            with listen("--listen", "syslog+tcp://127.0.0.1:0", "--buffer", "3600") as live:
                ((_, _, port),) = addresses(live, 1)
                with socket.create_connection(("127.0.0.1", port)) as sock:
                    for _ in range(50):
                        sock.sendall(lines)
                live.stop()
            self.assertEqual(summary(live)["events"], 50_000)

    @slow
    def test_a_stop_reads_the_datagrams_already_received(self) -> None:
        datagram = clf("10.0.0.1", "/a").encode()
        with listen("--listen", "syslog+udp://127.0.0.1:0", "--buffer", "3600") as live:
            ((_, _, port),) = addresses(live, 1)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
                for _ in range(300):
                    sender.sendto(datagram, ("127.0.0.1", port))
            live.stop()  # (at once: most are still in the socket's buffer)
        done = summary(live)
        self.assertEqual(done["events"] + done["dropped"], 300)

    def test_messages_of_every_kind(self) -> None:
        line = clf("10.0.0.1", "/api")
        noon = 1796126400.0  # 2026-12-01T12:00:00Z
        for message, host, facts in [
            (f"<13>Dec  1 12:00:00 web1 nginx: {line}", "web1", (5, "nginx", None)),
            (f"<13>Dec 11 12:00:00 web1 app[42]: {line}\n", "web1", (5, "app", None)),
            (
                f"<11>1 2026-12-01T12:00:00.5Z web2 nginx - - - {line}",
                "web2",
                (3, "nginx", noon + 0.5),
            ),
            (
                f'<13>1 2026-12-01T12:00:00Z web3 a - - [x y="a\\"]"][z] \ufeff{line}',
                "web3",
                (5, "a", noon),
            ),
            (f"<13>2026-12-01T12:00:00+00:00 relay nginx: {line}", "relay", (5, "nginx", noon)),
            (f"<13>{line}\x00", None, (5, None, None)),
            (f"<15>1 2026-12-01T12:00:00Z - - - - - {line}", None, (7, None, noon)),
            (line, None, (None, None, None)),
        ]:
            with self.subTest(message=message):
                parsed = parse_message(message.encode())
                self.assertEqual((parsed.host, parsed.text), (host, line))
                self.assertEqual((parsed.severity, parsed.tag, parsed.time), facts)

    @slow
    def test_octet_counting_newlines_and_tls(self) -> None:
        lines = [clf("10.0.0.1", "/a"), clf("10.0.0.2", "/b"), clf("10.0.0.3", "/c")]
        frames = b""
        for i, line in enumerate(lines):
            message = f"<13>Dec  1 12:00:00 host{i} nginx: {line}".encode()
            frames += f"{len(message)} ".encode() + message if i != 1 else message + b"\n"
        options = ["--listen", "syslog+tcp://127.0.0.1:0"]
        with tempfile.TemporaryDirectory() as folder:
            tls = certificate(Path(folder)) if OPENSSL else None
            if tls is not None:
                options += ["--listen", "syslog+tls://127.0.0.1:0", "--tls-cert", tls[0]]
            with listen(*options) as live:
                found = addresses(live, len(options) // 2 - (tls is not None))
                with socket.create_connection(found[0][1:], timeout=PATIENCE) as sock:
                    for i in range(0, len(frames), 7):  # frames cut anywhere
                        sock.sendall(frames[i : i + 7])
                expected = 3
                if tls is not None:
                    context = ssl.create_default_context(cafile=tls[0])
                    context.check_hostname = False
                    raw = socket.create_connection(found[1][1:], timeout=PATIENCE)
                    with context.wrap_socket(raw) as sock:
                        sock.sendall(frames)
                    expected = 6
                live.wait_for(lambda records: sum(r["hits"] for r in records) >= expected)
                live.stop()
        self.assertEqual(sorted(dict(summary(live)["hosts"])), ["host0", "host1", "host2"])
        self.assertEqual(summary(live)["events"], expected)


def certificate(folder: Path) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (key in the same file)."""
    pem = folder / "cert.pem"
    subprocess.run(
        [OPENSSL or "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        + ["-keyout", str(pem), "-out", str(pem)],
        check=True,
        capture_output=True,
    )
    return str(pem), str(pem)


class HttpTest(unittest.TestCase):
    def setUp(self) -> None:
        # HTTPHandler leaves its connections to the garbage collector.
        warnings.simplefilter("ignore", ResourceWarning)
        self.addCleanup(warnings.resetwarnings)

    def test_curl_of_a_log_file_counts_as_the_file(self) -> None:
        if CURL is None:
            self.skipTest("no curl")
        expected = json.loads(
            run_monitor(str(DATA / "sample.log"), "--output", "json").stdout.splitlines()[-1]
        )
        with listen("--listen", "http://127.0.0.1:0") as live:
            ((_, _, port),) = addresses(live, 1)
            answer = subprocess.run(
                [CURL, "-sS", "--fail", "--data-binary", f"@{DATA / 'sample.log'}"]
                + ["-H", "Content-Type: text/plain", f"http://127.0.0.1:{port}/ingest"],
                capture_output=True,
                check=True,
                text=True,
            )
            live.stop()
        done = summary(live)
        counted = json.loads(answer.stdout)
        self.assertEqual(
            counted["records"], expected["events"] + expected["invalid"] + expected["late"]
        )
        self.assertEqual(counted["invalid"], expected["invalid"])
        for key in ("events", "invalid", "late", "first", "last", "status", "sections"):
            self.assertEqual(done[key], expected[key], key)

    def test_json_lines_posted_count_as_the_file(self) -> None:
        log = DATA / "caddy.json"
        expected = json.loads(run_monitor(str(log), "--output", "json").stdout.splitlines()[-1])
        with listen("--listen", "http://127.0.0.1:0") as live:
            ((_, _, port),) = addresses(live, 1)
            status, text, _ = post(port, log.read_bytes(), "application/x-ndjson")
            self.assertEqual(status, 200, text)
            live.stop()
        done = summary(live)
        for key in ("events", "invalid", "late", "status", "sections", "sources", "duration"):
            self.assertEqual(done[key], expected[key], key)

    @slow
    def test_http_handler_get_and_post_with_credentials(self) -> None:
        auth = ("alice", "pa:ss word")
        options = ["--listen", "http://127.0.0.1:0", "--listen-auth", ":".join(auth)]
        with listen(*options) as live:
            ((_, _, port),) = addresses(live, 1)
            logger = logging.getLogger("shop.api")
            logger.propagate = False
            logger.setLevel(logging.DEBUG)
            for method in ("GET", "POST"):
                handler = logging.handlers.HTTPHandler(
                    f"127.0.0.1:{port}", "/ingest", method=method, credentials=auth
                )
                logger.addHandler(handler)
                logger.info("an order from %s", "bob")
                logger.error("no stock")
                try:
                    {}["missing"]
                except KeyError:
                    logger.exception("secret message text")
                logger.removeHandler(handler)
            status, _, headers = post(port, b"name=x&created=1&levelname=INFO", RECORD_TYPE)
            self.assertEqual(status, 401)
            self.assertIn("Basic", headers["WWW-Authenticate"])
            live.wait_for(lambda records: sum(r["hits"] for r in records) >= 6)
            live.stop()
        done = summary(live)
        self.assertEqual(done["events"], 6)
        self.assertEqual(done["levels"], {"ERROR": 4, "INFO": 2})
        self.assertEqual(done["sections"], [["shop.api", 6]])
        self.assertEqual(done["sources"], [["127.0.0.1", 6]])
        self.assertEqual(done["exceptions"], [["KeyError", 2]])
        self.assertNotIn("secret", json.dumps(live.records) + live.stderr)

    def test_level_and_name_filter_records(self) -> None:
        options = ["--listen", "http://127.0.0.1:0", "--level", "WARNING", "--name", "app."]
        with listen(*options) as live:
            ((_, _, port),) = addresses(live, 1)
            now = time.time()
            records = [("app.db", "ERROR"), ("app.db", "INFO"), ("other", "ERROR")]
            records += [("app.web", "WARNING"), ("apple", "CRITICAL")]
            body = "\n".join(
                json.dumps({"name": name, "levelname": level, "created": now})
                for name, level in records
            )
            status, text, _ = post(port, body.encode(), "application/x-ndjson")
            self.assertEqual((status, json.loads(text)), (200, {"records": 5, "invalid": 0}))
            live.stop()
        done = summary(live)
        self.assertEqual((done["events"], done["filtered"]), (2, 3))
        self.assertEqual(done["levels"], {"ERROR": 1, "WARNING": 1})

    def test_pymongowatch_records_are_operations_as_in_the_csv(self) -> None:
        # The fixture's rows that a record can carry (not those with a column too many
        # or too few), as a file and as records.
        with open(DATA / "mongo.csv", newline="") as file:
            header, *rows = list(csv.reader(file))
        rows = [row for row in rows if len(row) == len(header)]
        with tempfile.TemporaryDirectory() as folder:
            log = Path(folder) / "mongo.csv"
            with open(log, "w", newline="") as file:
                csv.writer(file).writerows([header, *rows])
            done = run_monitor(str(log), "--output", "json")
        expected = json.loads(done.stdout.splitlines()[-1])
        with listen("--listen", "http://127.0.0.1:0") as live:
            ((_, _, port),) = addresses(live, 1)
            handler = logging.handlers.HTTPHandler(f"127.0.0.1:{port}", "/ingest", "POST")
            for i, row in enumerate(dict(zip(header, row)) for row in rows):
                logger = logging.getLogger(row.pop("WatcherName"))
                logger.propagate = False
                logger.addHandler(handler)
                fields = {key: value or None for key, value in row.items() if key}
                if i % 2:  # the fields as the record's attributes
                    logger.warning("watched", extra=fields)
                else:  # the fields in its message, as WatchMessage writes them
                    logger.warning(watch_message(fields))
                logger.removeHandler(handler)
            live.stop()
        self.assertGreater(expected["events"], 5)
        done = summary(live)
        for key in ("events", "invalid", "unfinished", "sections", "methods", "duration"):
            self.assertEqual(done[key], expected[key], key)

    def test_lines_no_format_recognises(self) -> None:
        with listen("--listen", "http://127.0.0.1:0") as live:
            ((_, _, port),) = addresses(live, 1)
            status, text, _ = post(port, b"what is this\n")
            self.assertEqual(status, 400)
            self.assertIn("--format", text)
            status = live.stop()
        self.assertEqual(status, 130)
        self.assertEqual(summary(live)["invalid"], 1)
        self.assertNotIn("internal error", live.stderr)
        self.assertIn("no format recognises its lines", live.stderr)
        self.assertNotIn("what is this", live.stderr)

    def test_bad_requests_get_a_status_and_a_reason(self) -> None:
        with listen("--listen", "http://127.0.0.1:0", "--max-body", "1K") as live:
            ((_, _, port),) = addresses(live, 1)
            status, text, _ = post(port, clf("10.0.0.1", "/a").encode() + b"\nrubbish\n")
            self.assertEqual((status, json.loads(text)), (200, {"records": 2, "invalid": 1}))
            cases = [
                (post(port, b"x", path="/other"), 404),
                (post(port, b"x", method="PUT"), 405),
                (post(port, b"x" * 2000), 413),
                (post(port, b"x", "image/png"), 415),
                (post(port, b"{not json", "application/json"), 400),
                (post(port, b"", "text/plain"), 400),
                (post(port, b"GET", method="GET"), 400),
                (post(port, b"name=x&levelname=INFO", RECORD_TYPE), 400),  # a clf run
            ]
            for (status, text, _), expected in cases:
                with self.subTest(expected=expected, text=text):
                    self.assertEqual(status, expected)
                    self.assertEqual(text.count("\n"), 1, "one line of reason")
            # curl --data-binary @access.log, its content type left to curl's default:
            lines = clf("10.0.0.1", "/a?q=1").encode() + b"\n"
            status, text, _ = post(port, lines, RECORD_TYPE)
            self.assertEqual(status, 400)
            self.assertIn("Content-Type: text/plain", text)
            # a real record, to a run of access logs: the run's format is the matter
            status, text, _ = post(port, b"name=app&msg=hi&levelname=INFO", RECORD_TYPE)
            self.assertEqual(status, 400)
            self.assertIn("--format pylog", text)
            with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
                sock.sendall(b"POST /ingest HTTP/1.1\r\nHost: x\r\n\r\n")  # no length
                self.assertIn(b" 411 ", sock.recv(200))
            live.stop()
        self.assertNotIn("Traceback", live.stderr)
        self.assertEqual(summary(live)["events"], 1)

    def test_keep_alive_pipelining_continue_and_half_close(self) -> None:
        """The receiver's HTTP/1.1 with real clients: a connection reused, requests
        pipelined in one write, ``Expect: 100-continue``, HTTP/1.0, a client that shuts
        its side after sending, and heads that are no HTTP."""
        line = clf("10.0.0.1", "/a").encode() + b"\n"

        def request(body: bytes, *extra: str, version: str = "1.1") -> bytes:
            head = [f"POST /ingest HTTP/{version}", "Host: x", f"Content-Length: {len(body)}"]
            return ("\r\n".join(head + list(extra)) + "\r\n\r\n").encode() + body

        def answers(sock: socket.socket, count: int) -> list[bytes]:
            """The status lines of ``count`` answers, read to the end of their bodies."""
            data, found = b"", []
            while len(found) < count:
                head_end = data.find(b"\r\n\r\n")
                if head_end < 0:
                    more = sock.recv(65536)
                    self.assertTrue(more, f"closed after {found}")
                    data += more
                    continue
                head = data[:head_end].decode()
                length = int(re.search(r"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
                while len(data) < head_end + 4 + length:
                    data += sock.recv(65536)
                found.append(head.split("\r\n")[0].encode())
                data = data[head_end + 4 + length :]
            return found

        with listen("--listen", "http://127.0.0.1:0", "--buffer", "60") as live:  # (one stamp)
            ((_, _, port),) = addresses(live, 1)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=PATIENCE)
            for _ in range(3):  # (one connection, three requests)
                connection.request("POST", "/ingest", body=line)
                self.assertEqual(connection.getresponse().read(), b'{"records": 1, "invalid": 0}')
            connection.close()
            with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
                other = b"GET /other HTTP/1.1\r\n\r\n"
                sock.sendall(request(line) + other + request(line + line) + request(b""))
                self.assertEqual(
                    answers(sock, 4),
                    [b"HTTP/1.1 200 OK", b"HTTP/1.1 404 Not Found"]
                    + [b"HTTP/1.1 200 OK", b"HTTP/1.1 400 Bad Request"],
                )
                for start in range(0, len(request(line)), 7):  # (a few bytes at a time)
                    sock.sendall(request(line)[start : start + 7])
                    time.sleep(0.001)
                self.assertEqual(answers(sock, 1), [b"HTTP/1.1 200 OK"])
            with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
                sock.sendall(request(line, "Expect: 100-continue")[: -len(line)])
                self.assertEqual(sock.recv(100), b"HTTP/1.1 100 Continue\r\n\r\n")
                sock.sendall(line)
                self.assertEqual(answers(sock, 1), [b"HTTP/1.1 200 OK"])
            for ending in ("1.0", "half-close"):
                with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
                    sock.sendall(request(line, version="1.0" if ending == "1.0" else "1.1"))
                    if ending == "half-close":
                        sock.shutdown(socket.SHUT_WR)
                    self.assertEqual(answers(sock, 1), [b"HTTP/1.1 200 OK"])
                    self.assertEqual(sock.recv(100), b"", "closed after its answer")
            refused = {
                b"GET\r\n\r\n": b" 400 ",
                b"GET /ingest?a=1 HTTP/2.0\r\n\r\n": b" 505 ",
                b"POST /ingest HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n": b" 411 ",
                b"POST /ingest HTTP/1.1\r\nno colon\r\n\r\n": b" 400 ",
                b"GET /ingest?" + b"a" * 70_000: b" 414 ",
                b"GET /ingest?a=1 HTTP/1.1\r\nX-Big: " + b"a" * 70_000: b" 431 ",
                b"GET http://[::1/ingest?a=1 HTTP/1.1\r\n\r\n": b" 400 ",
            }
            for head, status in refused.items():
                with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
                    sock.sendall(head)
                    answer = b""
                    while more := sock.recv(4096):  # (to the end: it is closed)
                        answer += more
                    self.assertIn(status, answer, head[:40])
                    self.assertIn(b"Connection: close", answer)
            live.stop()
        self.assertNotIn("Traceback", live.stderr)
        self.assertEqual(summary(live)["events"], 3 + 4 + 1 + 2)

    @slow
    def test_a_client_that_reads_no_answer_is_held_back_alone(self) -> None:
        """Requests pipelined by a client that reads no answer: the monitor stops
        reading it (its sends block) with its memory bounded, and serves others; once
        it reads, every request it sent is answered, in order."""

        def resident_kb(pid: int) -> int:
            status = Path(f"/proc/{pid}/status").read_text()
            return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]

        ask = b"GET /other HTTP/1.1\r\n\r\n"
        chunk = ask * 1000
        # (the last record waits behind 100,000s of requests: seconds, under load)
        with listen("--listen", "http://127.0.0.1:0", "--buffer", "60") as live:
            ((_, _, port),) = addresses(live, 1)
            before = resident_kb(live.process.pid)
            greedy = socket.create_connection(("127.0.0.1", port))
            greedy.setblocking(False)
            sent = 0
            while select.select([], [greedy], [], 2)[1]:  # (until it is not read any more)
                sent += greedy.send(chunk[sent % len(chunk) :])
                self.assertLess(sent, 200 << 20, "never held back")
            status, _, _ = post(port, clf("10.0.0.1", "/a").encode())
            self.assertEqual(status, 200, "another client is served meanwhile")
            self.assertLess(resident_kb(live.process.pid) - before, 16 << 10, f"{sent:,} sent")
            greedy.setblocking(True)
            greedy.settimeout(PATIENCE)
            answers = bytearray()

            def read_all() -> None:  # (it reads at last)
                while b'"records": 1' not in answers[-100:] and (more := greedy.recv(1 << 16)):
                    answers.extend(more)

            reader = threading.Thread(target=read_all)
            reader.start()
            rest = chunk[sent % len(chunk) :]  # (the request cut short, and the chunk's others)
            line = clf("10.0.0.2", "/b").encode()
            last = b"POST /ingest HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (len(line), line)
            greedy.sendall(rest + last)
            reader.join(PATIENCE)
            self.assertEqual(
                answers.count(b"HTTP/1.1 404 Not Found\r\n"), (sent + len(rest)) // len(ask)
            )
            self.assertTrue(answers.endswith(b'{"records": 1, "invalid": 0}'))
            greedy.close()
            held = socket.create_connection(("127.0.0.1", port))  # (held back at the stop)
            held.setblocking(False)
            while select.select([], [held], [], 2)[1]:
                held.send(chunk)
            started = time.monotonic()
            live.stop()
            self.assertLess(time.monotonic() - started, 1.5, "a stop waits for nothing it holds")
            held.close()
        self.assertNotIn("Traceback", live.stderr)
        self.assertEqual(summary(live)["events"], 2)

    def test_https(self) -> None:
        if OPENSSL is None:
            self.skipTest("no openssl to make a certificate")
        with tempfile.TemporaryDirectory() as folder:
            cert, _ = certificate(Path(folder))
            with listen("--listen", "https://127.0.0.1:0", "--tls-cert", cert) as live:
                ((scheme, _, port),) = addresses(live, 1)
                self.assertEqual(scheme, "https")
                context = ssl.create_default_context(cafile=cert)
                status, text, _ = post(port, clf("10.0.0.1", "/a").encode(), tls=context)
                self.assertEqual(status, 200)
                with self.assertRaises(ssl.SSLError):  # not trusted without the cert
                    post(port, b"x", tls=ssl.create_default_context())
                with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
                    sock.sendall(b"POST /ingest HTTP/1.1\r\n\r\n")  # (no TLS: let go)
                    with contextlib.suppress(ConnectionResetError):
                        self.assertEqual(sock.recv(100), b"")
                status, text, _ = post(port, clf("10.0.0.2", "/a").encode(), tls=context)
                self.assertEqual(status, 200)
                live.stop()
        self.assertEqual(summary(live)["events"], 2)

    @slow
    def test_a_stop_counts_everything_acknowledged(self) -> None:
        with listen("--listen", "http://127.0.0.1:0") as live:
            ((_, _, port),) = addresses(live, 1)
            acknowledged: list[int] = []
            stop = threading.Event()

            def send() -> None:
                body = "\n".join(clf("10.0.0.1", "/a") for _ in range(200)).encode()
                while not stop.is_set():
                    try:
                        status, text, _ = post(port, body)
                    except (OSError, http.client.HTTPException):
                        return
                    if status == 200:
                        acknowledged.append(json.loads(text)["records"])

            senders = [threading.Thread(target=send) for _ in range(4)]
            for sender in senders:
                sender.start()
            while sum(acknowledged) < 2000:
                time.sleep(0.01)
            live.stop()
            stop.set()
            for sender in senders:
                sender.join(PATIENCE)
        self.assertGreaterEqual(summary(live)["events"], sum(acknowledged))


RECORD_TYPE = "application/x-www-form-urlencoded"


def watch_message(fields: dict[str, str | None]) -> str:
    """``str(WatchMessage(fields))``: pymongowatch's message (quoted strings, times
    as '2024-03-01 12:00:00,250', JSON filters)."""
    parts = []
    for key, value in fields.items():
        if value is None:
            shown = "None"
        elif re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", value):
            shown = f"'{value[:19]},{value[20:23]}'"
        elif key == "Filter" or re.fullmatch(r"[\d.]+", value):
            shown = value
        else:
            shown = "'" + repr('"' + value)[2:]
        parts.append(f"{key}={shown}")
    return " ".join(parts)


class PylogFileTest(unittest.TestCase):
    def test_logging_records_in_a_file(self) -> None:
        # Counted here from the fixture's JSON, the obvious way.
        levels: dict[str, int] = {}
        loggers: dict[str, int] = {}
        exceptions: dict[str, int] = {}
        invalid = 0
        for line in (DATA / "pylog.jsonl").read_text().splitlines():
            try:
                record = json.loads(line)
                created = float(record["created"])
            except (ValueError, KeyError):
                invalid += 1
                continue
            del created
            levels[record["levelname"]] = levels.get(record["levelname"], 0) + 1
            loggers[record["name"]] = loggers.get(record["name"], 0) + 1
            found = re.match(r"\(<class '(\w+)'>", record.get("exc_info", ""))
            if found is None and "exc_text" in record:
                found = re.match(r"(\w+):", record["exc_text"].splitlines()[-1])
            if found is not None:
                exceptions[found.group(1)] = exceptions.get(found.group(1), 0) + 1
        done = run_monitor(str(DATA / "pylog.jsonl"), "--output", "json", "--top", "10")
        self.assertEqual(done.returncode, 0, done.stderr)
        result = json.loads(done.stdout.splitlines()[-1])
        self.assertEqual(result["invalid"], invalid)
        self.assertEqual(result["events"], sum(levels.values()))
        self.assertEqual(result["levels"], levels)
        self.assertEqual(dict(result["sections"]), loggers)
        self.assertEqual(dict(result["exceptions"]), exceptions)
        self.assertNotIn("not shown", done.stdout + done.stderr)
        hidden = run_monitor(str(DATA / "pylog.jsonl"), "--output", "json", "--anonymize")
        self.assertEqual(json.loads(hidden.stdout.splitlines()[-1])["sources"], [["10.1.0.0", 60]])


class LevelsTest(unittest.TestCase):
    def test_levels_by_name_number_and_custom(self) -> None:
        from LogsMonitor2000.families.pylog import LogBatch
        from LogsMonitor2000.parsers.base import Rejects
        from LogsMonitor2000.parsers.pylog import PylogParser

        class Sink:
            batch = LogBatch(0)

            def batch_for(self, second: int) -> LogBatch:
                return self.batch

        sink, rejects = Sink(), Rejects()
        records = [
            {"name": "a", "levelname": "TRACE", "levelno": 5},  # a custom level
            {"name": "b", "levelno": 40},
            {"name": "c", "levelname": "warning"},
            {"name": "d"},  # no level: invalid
            {"name": "e", "levelname": "LOUD"},  # unknown, no number: invalid
        ]
        lines = [json.dumps({**record, "created": 1709294400.5}) for record in records]
        PylogParser(sink, rejects).feed("".join(line + "\n" for line in lines))
        self.assertEqual(sink.batch.levels, {"TRACE": 1, "ERROR": 1, "WARNING": 1})
        self.assertEqual(rejects.count, 2)

    def test_form_fields_read_as_parse_qs_does(self) -> None:
        """The fast form reader against the stdlib's, on what HTTPHandler sends and on
        random forms of what a form can hold (escapes, +, blanks, repeats, bad %)."""
        import random
        import urllib.parse

        from LogsMonitor2000.parsers.pylog import COUNTED, form_fields

        record = logging.LogRecord("app.db", logging.ERROR, "/a b.py", 3, "x %d&y=é", (1,), None)
        forms = [
            urllib.parse.urlencode(logging.handlers.HTTPHandler("h", "/").mapLogRecord(record))
        ]
        pieces = ["a", "b", "=", "&", "+", "%2", "%26", "%3D", "%zz", "%C3%A9", "é", " ", ""]
        randomness = random.Random(15)
        for _ in range(3000):
            forms.append("".join(randomness.choices(pieces, k=randomness.randint(0, 12))))
        for form in forms:
            with self.subTest(form=form):
                expected = urllib.parse.parse_qs(form, keep_blank_values=True)
                self.assertEqual(form_fields(form), {k: v[0] for k, v in expected.items()})
                wanted = frozenset({"a", "b", "a b", "=", "", *COUNTED})
                self.assertEqual(
                    form_fields(form, wanted),
                    {k: v[0] for k, v in expected.items() if k in wanted},
                )


class InboxTest(unittest.TestCase):
    """The receivers in process with a full inbox: real sockets, nothing taken."""

    def started(self, receiver: Any, inbox: Inbox) -> int:
        """Start ``receiver`` (closed after the test, with ``inbox``); its port."""
        receiver.start()
        self.addCleanup(inbox.close)
        self.addCleanup(receiver.close)
        return int(re.search(r":(\d+)", receiver.url.split("://")[1]).group(1))  # type: ignore[union-attr]

    def test_a_full_inbox_drops_datagrams_and_counts_them(self) -> None:
        from LogsMonitor2000.inputs.listen.syslog import UdpReceiver

        inbox = Inbox(max_items=3)
        port = self.started(UdpReceiver(("127.0.0.1", 0), inbox, ListenOptions()), inbox)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for i in range(10):
                sender.sendto(f"<13>message {i}".encode(), ("127.0.0.1", port))
        deadline = time.monotonic() + PATIENCE
        while inbox.dropped < 7 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(inbox.dropped, 7)
        self.assertEqual(len(inbox.take()), 3)

    def test_a_full_inbox_answers_503_with_retry_after(self) -> None:
        from LogsMonitor2000.inputs.listen.http import HttpReceiver

        inbox = Inbox(max_items=1)
        inbox.offer(Received(RECORD, "x", body=b"waiting"))
        port = self.started(HttpReceiver(("127.0.0.1", 0), inbox, ListenOptions()), inbox)
        status, _, headers = post(port, b"a line\n")
        self.assertEqual(status, 503)
        self.assertEqual(headers["Retry-After"], "1")

    @slow
    def test_a_full_inbox_stops_reading_a_tcp_sender(self) -> None:
        from LogsMonitor2000.inputs.listen.syslog import TcpReceiver

        inbox = Inbox(max_items=1)
        port = self.started(TcpReceiver(("127.0.0.1", 0), inbox, ListenOptions()), inbox)
        message = b"<13>" + b"x" * 1000 + b"\n"
        with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
            sock.settimeout(1.0)
            sent = 0
            with self.assertRaises(TimeoutError):  # the monitor reads no more
                while sent < 100 << 20:
                    sock.sendall(message)
                    sent += len(message)
            self.assertLess(sent, 50 << 20)
            taken = sum(len(item.messages) for item in inbox.take())
            self.assertGreater(taken, 0)


class UsageTest(unittest.TestCase):
    def test_user_errors(self) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            busy = taken.getsockname()[1]
            for options in [
                ["--listen", "ftp://127.0.0.1:1"],
                ["--listen", "http://127.0.0.1:1/other"],
                ["--listen", "syslog+udp://127.0.0.1:x"],
                ["--listen", f"http://127.0.0.1:{busy}"],
                ["--listen", "https://127.0.0.1:0"],  # no --tls-cert
                ["--listen", "http://127.0.0.1:0", "--follow", "--state", "s.json"],
                ["--listen-auth", "a:b", str(DATA / "sample.log")],
                ["--level", "LOUD", "--listen", "http://127.0.0.1:0"],
                [],
            ]:
                with self.subTest(options=options):
                    done = run_monitor(*options)
                    self.assertEqual(done.returncode, 2, done.stderr)
                    self.assertEqual(len(done.stderr.splitlines()), 1, done.stderr)
                    self.assertNotIn("Traceback", done.stderr)
            done = run_monitor("--listen", f"http://127.0.0.1:{busy}")
            self.assertIn(f"--listen http://127.0.0.1:{busy}: cannot listen there", done.stderr)


class AddressTest(unittest.TestCase):
    def test_port_alone_is_loopback_and_colon_port_is_every_interface(self) -> None:
        for text, address, outside in [
            ("8514", ("127.0.0.1", 8514), False),
            (":8514", (EVERY_INTERFACE, 8514), True),
            ("127.0.0.1:80", ("127.0.0.1", 80), False),
            ("[::1]:80", ("::1", 80), False),
            ("localhost:80", ("localhost", 80), False),
            ("0.0.0.0:80", ("0.0.0.0", 80), True),
            ("10.1.2.3:80", ("10.1.2.3", 80), True),
            ("logs.example:80", ("logs.example", 80), True),
        ]:
            with self.subTest(text=text):
                self.assertEqual(listen_address(text), address)
                self.assertEqual(reachable_from_outside(address[0]), outside)
        self.assertEqual(check_listen_url("syslog+tcp://:5514")[2], EVERY_INTERFACE)

    def test_no_warning_on_loopback(self) -> None:
        with listen(
            "--listen", "http://127.0.0.1:0", "--listen", "syslog+udp://127.0.0.1:0"
        ) as live:
            addresses(live, 2)
            self.assertEqual(live.stop(), 130)
        self.assertNotIn("warning", live.stderr)


@slow
class LimitsTest(unittest.TestCase):
    def test_idle_connections_are_closed_and_connections_are_bounded(self) -> None:
        """256 connections at most: a new one takes the place of the idlest, and when
        every one is busy (a body under way) it gets a 503; an idle one is closed
        after 30 s, one whose body stopped coming after 10 s (408)."""
        with listen(
            "--listen", "http://127.0.0.1:0", "--listen", "syslog+tcp://127.0.0.1:0"
        ) as live:
            (_, _, http_port), (_, _, tcp_port) = addresses(live, 2)
            idle = socket.create_connection(("127.0.0.1", tcp_port))
            started = time.monotonic()
            busy = [socket.create_connection(("127.0.0.1", http_port)) for _ in range(256)]
            for sock in busy:
                sock.sendall(b"POST /ingest HTTP/1.1\r\nContent-Length: 10\r\n\r\nhalf")
            time.sleep(0.5)
            with socket.create_connection(("127.0.0.1", http_port), timeout=PATIENCE) as extra:
                self.assertIn(b" 503 ", extra.recv(100))
            for sock in busy:  # (cut off for the body that stopped coming)
                sock.settimeout(20)
                self.assertIn(b" 408 ", sock.recv(100))
                sock.close()
            self.assertLess(time.monotonic() - started, 20)
            idle.settimeout(40)
            self.assertEqual(idle.recv(100), b"", "closed")
            self.assertGreater(time.monotonic() - started, 25)
            idle.close()
            live.stop()

    def test_a_tls_handshake_never_finished_is_let_go(self) -> None:
        """A client that connects to an https listener and says nothing is closed
        after 10 s, and meanwhile a real client is served."""
        if OPENSSL is None:
            self.skipTest("no openssl to make a certificate")
        with tempfile.TemporaryDirectory() as folder:
            cert, _ = certificate(Path(folder))
            with listen("--listen", "https://127.0.0.1:0", "--tls-cert", cert) as live:
                ((_, _, port),) = addresses(live, 1)
                silent = socket.create_connection(("127.0.0.1", port))
                started = time.monotonic()
                context = ssl.create_default_context(cafile=cert)
                status, _, _ = post(port, clf("10.0.0.1", "/a").encode(), tls=context)
                self.assertEqual(status, 200)
                silent.settimeout(20)
                with contextlib.suppress(ConnectionResetError):
                    self.assertEqual(silent.recv(100), b"", "closed")
                self.assertGreater(time.monotonic() - started, 9)
                silent.close()
                live.stop()
        self.assertEqual(summary(live)["events"], 1)
