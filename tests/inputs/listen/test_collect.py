"""The README's sender configurations with the real programs, on 127.0.0.1: nginx's
``access_log syslog:`` and an rsyslog relay (octet-counted RFC 5424 over TCP), each
skipped when the program is absent (Debian packages nginx-light and rsyslog, which
.ci/run installs)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

from tests.live import PATIENCE
from tests.support import slow
from tests.inputs.listen.test_listen import addresses, clf, listen, summary

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
RSYSLOGD = shutil.which("rsyslogd") or (
    "/usr/sbin/rsyslogd" if Path("/usr/sbin/rsyslogd").exists() else None
)
LOGGER = shutil.which("logger")


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def udp_bound(port: int) -> bool:
    """Whether something listens on 127.0.0.1:``port`` (UDP), from /proc/net/udp."""
    wanted = f"0100007F:{port:04X}"
    with open("/proc/net/udp") as table:
        return any(line.split()[1] == wanted for line in list(table)[1:])


class Daemon:
    """A program in the foreground, stopped at the end of the test."""

    def __init__(self, *command: str) -> None:
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )

    def stop(self) -> str:
        self.process.terminate()
        try:
            output, _ = self.process.communicate(timeout=PATIENCE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            output, _ = self.process.communicate()
        return output.decode(errors="replace")


@slow
class SendersTest(unittest.TestCase):
    @unittest.skipIf(NGINX is None, "no nginx (Debian package nginx-light)")
    def test_nginx_access_log_to_syslog(self) -> None:
        assert NGINX is not None
        with (
            tempfile.TemporaryDirectory() as folder,
            listen("--listen", "syslog+udp://127.0.0.1:0") as live,
        ):
            ((_, _, udp),) = addresses(live, 1)
            web = free_port()
            config = Path(folder) / "nginx.conf"
            temp = " ".join(
                f"{kind}_temp_path {folder}/{kind};"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            )
            config.write_text(f"""
worker_processes 1;
master_process off;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{}}
http {{
  {temp}
  access_log syslog:server=127.0.0.1:{udp},tag=nginx combined;
  server {{
    listen 127.0.0.1:{web};
    location / {{ return 200 "ok\\n"; }}
    location /missing {{ return 404; }}
  }}
}}
""")
            nginx = Daemon(NGINX, "-p", folder, "-c", str(config))
            self.addCleanup(nginx.stop)
            deadline = time.monotonic() + PATIENCE
            while True:  # until nginx answers
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{web}/api/ready", timeout=1)
                    break
                except OSError:
                    self.assertLess(time.monotonic(), deadline, "nginx did not start")
                    time.sleep(0.1)
            for path in ["/api/orders", "/api/users", "/static/app.js", "/missing"]:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{web}{path}", timeout=PATIENCE)
                except urllib.error.HTTPError as error:
                    self.assertEqual(error.code, 404)
            live.wait_for(lambda records: sum(r["hits"] for r in records) >= 5)
            live.stop()
        done = summary(live)
        self.assertEqual(done["events"], 5)
        self.assertEqual(done["invalid"], 0)
        self.assertEqual(dict(done["sections"]), {"/api": 3, "/static": 1, "/missing": 1})
        self.assertEqual(done["status"], {"2xx": 4, "4xx": 1})
        self.assertEqual(done["hosts"], [[socket.gethostname(), 5]])

    @unittest.skipIf(RSYSLOGD is None or LOGGER is None, "no rsyslogd or logger")
    def test_an_rsyslog_relay(self) -> None:
        assert RSYSLOGD is not None and LOGGER is not None
        with (
            tempfile.TemporaryDirectory() as folder,
            listen("--listen", "syslog+tcp://127.0.0.1:0") as live,
        ):
            ((_, _, tcp),) = addresses(live, 1)
            relay = free_port(socket.SOCK_DGRAM)
            config = Path(folder) / "rsyslog.conf"
            config.write_text(f"""
global(workDirectory="{folder}")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="{relay}")
action(type="omfwd" target="127.0.0.1" port="{tcp}" protocol="tcp"
       TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
""")
            rsyslog = Daemon(RSYSLOGD, "-n", "-f", str(config), "-i", f"{folder}/rsyslog.pid")
            self.addCleanup(rsyslog.stop)
            deadline = time.monotonic() + PATIENCE
            while not udp_bound(relay):  # (a datagram sent before is lost on its side)
                self.assertLess(time.monotonic(), deadline, "rsyslog did not start")
                time.sleep(0.05)
            for i in range(5):
                subprocess.run(
                    [LOGGER, "--udp", "-n", "127.0.0.1", "-P", str(relay), "-t", "nginx"]
                    + ["--", clf(f"10.0.0.{i}", "/relay")],
                    check=True,
                )
            live.wait_for(lambda records: sum(r["hits"] for r in records) >= 5)
            live.stop()
        done = summary(live)
        self.assertEqual(done["events"], 5)
        self.assertEqual(done["invalid"], 0)
        self.assertEqual(done["sections"], [["/relay", 5]])
        self.assertEqual(done["hosts"], [[socket.gethostname(), 5]], "the HOSTNAME kept")
