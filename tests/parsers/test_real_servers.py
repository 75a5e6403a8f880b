"""Lines real servers write, read back: nginx, Apache and Caddy driven on 127.0.0.1 with
ordinary and odd requests (a user with a space in its Basic credentials, a request the
server could not read, a fail-over between upstreams, a path with a space, a user
agent with quotes, a Host with a space), their access logs then read by the monitor.
Every request the clients made must be one event - none invalid - with the status the
client got.  Each server is skipped when it is not installed (Debian's nginx-light,
apache2 and caddy: ``.ci/run`` installs them).

``tests/data/real/`` holds logs these servers wrote (``python -m tools.capture``), read
by the same checks whether the servers are installed or not."""

from __future__ import annotations

import json
import tempfile
import unittest
from collections import Counter
from pathlib import Path
from typing import Any

from tests import servers
from tests.support import DATA, json_lines, run_monitor

#: nginx's formats: what its documentation and real sites use, and odder ones.
NGINX_FORMATS = {
    "comb": '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent"',
    "upstreams": '$remote_addr - $remote_user [$time_local] "$request" $status '
    '$body_bytes_sent "$http_referer" "$http_user_agent" $host rt=$request_time '
    'urt="$upstream_response_time" ust=$upstream_status',
    "piped": "$remote_addr|$remote_user|$time_local|$request|$status|$body_bytes_sent"
    "|$http_user_agent|$request_time",
    "quoted_host": '$remote_addr [$time_local] "$http_host" "$request" $status $body_bytes_sent',
}
#: Apache's: the common format, and one with the decoded path (``%U``, spaces and all).
APACHE_FORMATS = {
    "common": '%h %l %u %t "%r" %>s %b',
    "decoded": '%h %l %u %t "%m %U%q %H" %>s %b "%{Referer}i" "%{User-Agent}i" %D',
}
AGENT = 'Mozilla/5.0 (X11; Linux x86_64) "quoted" x'
REAL = DATA / "real"


def class_counts(statuses: list[int]) -> dict[str, int]:
    return dict(sorted(Counter(f"{status // 100}xx" for status in statuses).items()))


def read(log: Path, *options: str) -> dict[str, Any]:
    """The monitor's summary of ``log``."""
    done = run_monitor(str(log), "--output", "json", *options)
    assert done.returncode == 0, done.stderr
    return json_lines(done.stdout)[-1]


def drive_nginx(server: servers.Server) -> None:
    server.request("GET", "/")
    server.request("GET", "/missing")
    server.request("GET", "/private", user="bob smith:secret")  # (a user with a space)
    server.request("GET", "/proxy/orders")  # (a fail-over: two upstream times)
    server.request("POST", "/proxy/orders", body=b"x=1")
    server.request("GET", "/a%20b?q=1", headers={"User-Agent": AGENT})
    server.request("HEAD", "/")
    server.raw(b"GARBAGE\r\n\r\n")  # (read as no request: $host empty)
    server.raw(b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n")  # (a Host with a space)
    server.raw(b"\x16\x03\x01\x00\xa5\x01\x00\x00\r\n\r\n")  # (TLS on a plain port)


def drive_apache(server: servers.Server) -> None:
    server.request("GET", "/")
    server.request("GET", "/a%20b.html?x=1", headers={"User-Agent": AGENT})
    server.request("GET", "/private/", user="bob smith:secret")  # (a 401, %u written)
    server.request("GET", "/nothing")
    server.raw(b"GARBAGE\r\n\r\n")


def drive_caddy(server: servers.Server) -> None:
    server.request("GET", "/")
    server.request("GET", "/up/orders")  # (a 502: an access line and an error line)
    server.request("GET", "/missing")
    server.request("GET", "/", user="bob smith:x", headers={"User-Agent": AGENT})


class LiveServersTest(unittest.TestCase):
    def setUp(self) -> None:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.folder = Path(folder.name)

    @unittest.skipIf(servers.NGINX is None, "no nginx (Debian package nginx-light)")
    def test_nginx(self) -> None:
        server = servers.nginx(self.folder, NGINX_FORMATS)
        drive_nginx(server)
        server.stop()
        for name, fmt in NGINX_FORMATS.items():
            with self.subTest(format=name):
                self.check(self.folder / f"{name}.log", server.statuses, "--log-format", fmt)
        with self.subTest(format="clf"):  # (the combined log, as Common Log Format)
            self.check(self.folder / "comb.log", server.statuses, "--format", "clf")

    @unittest.skipIf(servers.APACHE is None, "no Apache (Debian package apache2)")
    def test_apache(self) -> None:
        server = servers.apache(self.folder, APACHE_FORMATS)
        drive_apache(server)
        server.stop()
        for name, fmt in APACHE_FORMATS.items():
            with self.subTest(format=name):
                self.check(self.folder / f"{name}.log", server.statuses, "--log-format", fmt)
        with self.subTest(format="auto"):
            self.check(self.folder / "common.log", server.statuses)

    @unittest.skipIf(servers.CADDY is None, "no Caddy (Debian package caddy)")
    def test_caddy(self) -> None:
        server = servers.caddy(self.folder)
        drive_caddy(server)
        server.stop()
        log = self.folder / "caddy.log"
        summary = self.check(log, server.statuses)
        lines = [json.loads(line) for line in log.read_text().splitlines()]
        others = [
            line for line in lines if not line.get("logger", "").startswith("http.log.access")
        ]
        self.assertTrue(any(line.get("logger", "").startswith("http.log.error") for line in others))
        self.assertEqual(summary["other"], len(others))

    def check(self, log: Path, statuses: list[int], *options: str) -> dict[str, Any]:
        """The log's summary: an event per request, with the statuses the clients got."""
        summary = read(log, *options)
        self.assertEqual(summary["invalid"], 0, log.read_text())
        self.assertEqual(summary["events"], len(statuses), log.read_text())
        self.assertEqual(summary["status"], class_counts(statuses))
        return summary


class CapturedLinesTest(unittest.TestCase):
    """The same, on logs the servers wrote (``tests/data/real/``)."""

    def test_captured_logs(self) -> None:
        expected = json.loads((REAL / "expected.json").read_text())
        self.assertGreaterEqual(len(expected), 7)
        for name, wanted in expected.items():
            with self.subTest(log=name):
                summary = read(REAL / wanted["file"], *wanted["options"])
                self.assertEqual(summary["invalid"], 0)
                self.assertEqual(summary["events"], wanted["events"])
                self.assertEqual(summary["status"], wanted["status"])
                self.assertEqual(summary.get("other", 0), wanted.get("other", 0))
                if "duration_max" in wanted:
                    self.assertEqual(summary["duration"]["max"], wanted["duration_max"])


if __name__ == "__main__":
    unittest.main()
