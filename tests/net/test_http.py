"""The HTTP/1.1 core with an app of the test's, on 127.0.0.1, spoken to with raw sockets
and ``http.client``: framing, keep-alive, pipelining, answers given later from another
thread, refusals before the body, HEAD, streams, limits."""

from __future__ import annotations

import http.client
import re
import socket
import threading
import time
import unittest

from LogsMonitor2000.net import http as core
from LogsMonitor2000.net.http import Exchange, HttpServer, Reply, Request
from tests.support import slow

PATIENCE = 10.0


class Echo:
    """An app: ``/echo`` answers the body back; ``/later`` answers from another thread
    after a while; ``/hold`` is answered when the test says (``release``), and takes
    ``/hold?keep`` back from a late answer no more; ``/stream`` streams three lines;
    ``/no`` is refused before its body; the rest is 404."""

    def __init__(self) -> None:
        self.handled: list[str] = []
        self.held: list[Exchange] = []

    def refusal(self, request: Request) -> Reply | None:
        if request.path == "/no":
            return Reply(403, "no")
        if request.path not in ("/echo", "/later", "/hold", "/stream"):
            return Reply(404, "not here")
        return None

    def release(self) -> None:
        for exchange in self.held:
            exchange.reply_soon(Reply(200, "released"))

    def handle(self, request: Request, exchange: Exchange) -> None:
        self.handled.append(request.path)
        if request.path == "/hold":
            self.held.append(exchange)
            if request.query == "keep":
                exchange.on_late = lambda: False
        elif request.path == "/echo":
            exchange.reply(Reply(200, body=request.body or b"-", content_type="text/plain"))
        elif request.path == "/later":

            def answer() -> None:
                time.sleep(0.2)
                exchange.reply_soon(Reply(200, "later"))

            threading.Thread(target=answer).start()
        else:
            stream = exchange.stream({}, "text/event-stream")
            assert stream is not None
            for n in range(3):
                stream.write(f"data: {n}\n\n".encode())
            stream.close()


class HttpCoreTest(unittest.TestCase):
    def setUp(self) -> None:
        self.app = Echo()
        self.server = HttpServer(
            ("127.0.0.1", 0),
            self.app,
            name="test",
            max_connections=8,
            max_body=1000,
            idle_seconds=5,
        )
        self.server.start()
        self.addCleanup(self.server.stop)
        self.port = int(self.server.url("http").rpartition(":")[2])

    def raw(self, data: bytes) -> bytes:
        """Send ``data``, read until the server closes or goes quiet."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=PATIENCE) as sock:
            sock.sendall(data)
            sock.settimeout(0.5)
            answer = b""
            try:
                while chunk := sock.recv(65536):
                    answer += chunk
            except (TimeoutError, ConnectionResetError):  # (closed with our request unread)
                pass
        return answer

    def test_keep_alive_with_http_client(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=PATIENCE)
        for body in (b"one", b"two"):
            connection.request("POST", "/echo", body=body)
            response = connection.getresponse()
            self.assertEqual((response.status, response.read()), (200, body))
        connection.close()

    def test_pipelined_requests_are_answered_in_order_even_when_one_waits(self) -> None:
        answer = self.raw(
            b"GET /later HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            b"POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nfirst"
            b"GET /no HTTP/1.1\r\n\r\n"
            b"POST /echo HTTP/1.1\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecond"
        )
        statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)
        self.assertEqual(statuses, [b"200", b"200", b"403", b"200"])
        self.assertLess(answer.index(b"later"), answer.index(b"first"))
        self.assertLess(answer.index(b"first"), answer.index(b"second"))
        self.assertEqual(self.app.handled, ["/later", "/echo", "/echo"])  # (not /no)

    def test_continue_then_the_body(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=PATIENCE) as sock:
            sock.sendall(
                b"POST /echo HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"
            )
            self.assertTrue(sock.recv(100).startswith(b"HTTP/1.1 100 Continue"))
            sock.sendall(b"abc")
            self.assertIn(b"\r\n\r\nabc", sock.recv(1000))

    def test_head_has_no_body(self) -> None:
        answer = self.raw(b"HEAD /echo HTTP/1.1\r\nConnection: close\r\n\r\n")
        self.assertIn(b"Content-Length: 1\r\n", answer)
        self.assertTrue(answer.endswith(b"\r\n\r\n"), answer)

    def test_a_stream_is_written_after_its_head_and_ends_with_a_close(self) -> None:
        answer = self.raw(b"GET /stream HTTP/1.1\r\n\r\n")
        head, _, body = answer.partition(b"\r\n\r\n")
        self.assertIn(b"Content-Type: text/event-stream", head)
        self.assertNotIn(b"Content-Length", head)
        self.assertEqual(body, b"data: 0\n\ndata: 1\n\ndata: 2\n\n")

    def test_refusals_are_a_status_and_a_line(self) -> None:
        cases = {
            b"HELLO\r\n\r\n": b"400",
            b"GET /echo HTTP/2.0\r\n\r\n": b"505",
            b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n": b"411",
            b"POST /echo HTTP/1.1\r\n\r\n": b"411",
            b"POST /echo HTTP/1.1\r\nContent-Length: 5000\r\n\r\n": b"413",
            b"GET /" + b"a" * 70_000: b"414",
            b"GET / HTTP/1.1\r\nX: " + b"a" * 70_000: b"431",
            b"GET /elsewhere HTTP/1.1\r\nConnection: close\r\n\r\n": b"404",
        }
        for data, status in cases.items():
            with self.subTest(request=data[:40]):
                answer = self.raw(data)
                self.assertTrue(answer.startswith(b"HTTP/1.1 " + status + b" "), answer[:80])
                self.assertTrue(answer.endswith(b"\n"), answer[-80:])
        self.assertEqual(self.app.handled, [])

    def connect(self, count: int) -> list[socket.socket]:
        """``count`` connections, once the server has them all."""
        held = [socket.create_connection(("127.0.0.1", self.port)) for _ in range(count)]
        self.addCleanup(lambda: [sock.close() for sock in held])
        deadline = time.monotonic() + PATIENCE
        while len(self.server.connections) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return held

    def test_when_every_connection_is_busy_the_next_gets_a_503(self) -> None:
        for sock in self.connect(8):
            sock.sendall(b"GET /hold HTTP/1.1\r\n\r\n")
        deadline = time.monotonic() + PATIENCE
        while len(self.app.held) < 8 and time.monotonic() < deadline:
            time.sleep(0.01)
        with socket.create_connection(("127.0.0.1", self.port), timeout=PATIENCE) as sock:
            self.assertTrue(sock.recv(100).startswith(b"HTTP/1.1 503 "))
        self.app.release()

    def test_a_new_connection_takes_the_place_of_the_idlest(self) -> None:
        slow, *idle = self.connect(8)
        slow.sendall(b"GET /echo HTT")  # (the first to begin: the idlest)
        time.sleep(0.05)
        for sock in idle:
            sock.sendall(b"GET /ec")
        with socket.create_connection(("127.0.0.1", self.port), timeout=PATIENCE) as sock:
            sock.sendall(b"GET /echo HTTP/1.1\r\nConnection: close\r\n\r\n")
            self.assertTrue(sock.recv(100).startswith(b"HTTP/1.1 200 "))
        slow.settimeout(PATIENCE)
        try:
            self.assertEqual(slow.recv(100), b"")  # (let go: closed)
        except ConnectionResetError:
            pass
        self.assertEqual(self.server.evicted, 1)
        for sock in idle:  # (still there)
            sock.sendall(b"ho HTTP/1.1\r\nConnection: close\r\n\r\n")
            sock.settimeout(PATIENCE)
            self.assertTrue(sock.recv(100).startswith(b"HTTP/1.1 200 "))

    def test_a_head_sent_a_byte_at_a_time_is_cut_off(self) -> None:
        self.shorten("HEAD_SECONDS", 0.5)
        with socket.create_connection(("127.0.0.1", self.port), timeout=PATIENCE) as sock:
            started = time.monotonic()
            answer = b""
            for byte in b"GET /echo HTTP/1.1\r\nX-Slow: yes":
                try:
                    sock.sendall(bytes([byte]))
                except OSError:
                    break
                time.sleep(0.05)  # (each byte well inside the idle time)
                sock.setblocking(False)
                try:
                    answer += sock.recv(1000)
                except BlockingIOError:
                    pass
                sock.setblocking(True)
                if answer:
                    break
        self.assertTrue(answer.startswith(b"HTTP/1.1 408 "), answer)
        self.assertLess(time.monotonic() - started, 3.5)
        self.assertEqual(self.app.handled, [])

    @slow
    def test_a_body_slower_than_the_least_rate_is_cut_off(self) -> None:
        self.shorten("BODY_SECONDS", 1.0)
        with socket.create_connection(("127.0.0.1", self.port), timeout=PATIENCE) as sock:
            sock.sendall(b"POST /echo HTTP/1.1\r\nContent-Length: 900\r\n\r\n" + b"x" * 10)
            answer = sock.recv(1000)
        self.assertTrue(answer.startswith(b"HTTP/1.1 408 "), answer)
        self.assertEqual(self.app.handled, [])

    @slow
    def test_a_body_at_the_least_rate_is_taken(self) -> None:
        self.shorten("BODY_SECONDS", 0.5)
        with socket.create_connection(("127.0.0.1", self.port), timeout=PATIENCE) as sock:
            sock.sendall(b"POST /echo HTTP/1.1\r\nContent-Length: 900\r\n\r\n")
            for _ in range(3):  # (600 bytes a second: above 500)
                sock.sendall(b"x" * 300)
                time.sleep(0.5)
            self.assertTrue(sock.recv(1000).startswith(b"HTTP/1.1 200 "))

    @slow
    def test_a_late_answer_is_a_503_unless_the_app_still_gives_it(self) -> None:
        self.server.answer_seconds = 0.5
        answers = {}
        for query in ("", "keep"):
            with socket.create_connection(("127.0.0.1", self.port), timeout=PATIENCE) as sock:
                sock.sendall(f"GET /hold?{query} HTTP/1.1\r\n\r\n".encode())
                if query == "keep":
                    time.sleep(1.6)  # (a sweep past the time: still awaited)
                    self.app.release()
                answers[query] = sock.recv(100)
        self.assertTrue(answers[""].startswith(b"HTTP/1.1 503 "), answers)
        self.assertTrue(answers["keep"].startswith(b"HTTP/1.1 200 "), answers)

    def shorten(self, name: str, seconds: float) -> None:
        """A limit of the core, shorter for the test."""
        was = getattr(core, name)
        setattr(core, name, seconds)
        self.addCleanup(setattr, core, name, was)


if __name__ == "__main__":
    unittest.main()
