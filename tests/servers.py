"""Real web servers for the tests, on 127.0.0.1: nginx, Apache and Caddy (Debian's
packages ``nginx-light``, ``apache2`` and ``caddy``, which ``.ci/run`` installs), each
started in the foreground with a configuration of the test's, writing its access log
into the test's folder, and stopped at the end.  ``request`` and ``raw`` are the
clients, and remember the status each request got."""

from __future__ import annotations

import base64
import http.client
import shutil
import socket
import subprocess
import time
from pathlib import Path

PATIENCE = 15.0


def program(name: str, *places: str) -> str | None:
    """Where a program is (None: not installed)."""
    found = shutil.which(name)
    if found:
        return found
    return next((place for place in places if Path(place).exists()), None)


NGINX = program("nginx", "/usr/sbin/nginx")
APACHE = program("apache2", "/usr/sbin/apache2")
CADDY = program("caddy")
MODULES = Path("/usr/lib/apache2/modules")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server in the foreground: started, waited for, stopped."""

    def __init__(self, command: list[str], port: int, folder: Path) -> None:
        self.port = port
        self.folder = folder
        self.log = folder / "server.out"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        #: The status each request got, in order.
        self.statuses: list[int] = []
        deadline = time.monotonic() + PATIENCE
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"{command[0]} did not start: {self.log.read_text()}")
                time.sleep(0.05)

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        user: str | None = None,
        body: bytes | None = None,
    ) -> int:
        """A request with ``http.client``; its status."""
        given = dict(headers or {})
        if user is not None:
            given["Authorization"] = "Basic " + base64.b64encode(user.encode()).decode()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=PATIENCE)
        try:
            connection.request(method, path, body=body, headers=given)
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
        self.statuses.append(response.status)
        return response.status

    def raw(self, data: bytes) -> int:
        """Bytes sent as they are; the status of the answer (0: none)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=PATIENCE) as sock:
            sock.sendall(data)
            answer = b""
            try:
                while chunk := sock.recv(65536):
                    answer += chunk
            except OSError:
                pass
        words = answer.split(b" ", 2)
        status = int(words[1]) if len(words) > 1 and words[1].isdigit() else 0
        self.statuses.append(status)
        return status

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=PATIENCE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def nginx(folder: Path, formats: dict[str, str], extra: str = "") -> Server:
    """nginx writing its access log in each of ``formats`` (name -> log_format) to
    ``folder/NAME.log``; ``/proxy/`` goes to an upstream pool whose first server is
    down (every request is a fail-over), ``/missing`` is a 404, the rest a 200."""
    assert NGINX is not None
    port, backend, dead = free_port(), free_port(), free_port()
    temp = " ".join(
        f"{kind}_temp_path {folder}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    formats_text = "\n".join(f"  log_format {name} '{text}';" for name, text in formats.items())
    logs = "\n".join(f"    access_log {folder}/{name}.log {name};" for name in formats)
    config = folder / "nginx.conf"
    config.write_text(f"""daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{}}
http {{
  {temp}
{formats_text}
  upstream pool {{
    server 127.0.0.1:{dead} max_fails=0;
    server 127.0.0.1:{backend} backup;
  }}
  server {{
    listen 127.0.0.1:{port};
{logs}
    location /proxy/ {{ proxy_pass http://pool; }}
    location /missing {{ return 404; }}
    location / {{ return 200 "ok\\n"; }}
    {extra}
  }}
  server {{
    listen 127.0.0.1:{backend};
    access_log off;
    location / {{ return 200 "backend\\n"; }}
  }}
}}
""")
    return Server([NGINX, "-p", str(folder), "-c", str(config)], port, folder)


def apache(folder: Path, formats: dict[str, str]) -> Server:
    """Apache writing its access log in each of ``formats`` (name -> LogFormat) to
    ``folder/NAME.log``: files under ``/`` (``a b.html`` among them), and
    ``/private`` asking for basic auth (no user is right)."""
    assert APACHE is not None
    port = free_port()
    root = folder / "www"
    root.mkdir()
    (root / "index.html").write_text("ok\n")
    (root / "a b.html").write_text("spaced\n")
    (root / "private").mkdir()
    folder.chmod(0o755)
    root.chmod(0o755)
    (folder / "users").write_text("")  # (nobody gets in)
    modules = ["mpm_event", "authz_core", "authn_core", "authn_file", "auth_basic",
               "authz_user", "dir", "mime"]  # fmt: skip
    loads = "\n".join(f"LoadModule {name}_module {MODULES}/mod_{name}.so" for name in modules)
    formats_text = "\n".join(
        f'LogFormat "{text.replace(chr(34), chr(92) + chr(34))}" {name}'
        for name, text in formats.items()
    )
    logs = "\n".join(f"CustomLog {folder}/{name}.log {name}" for name in formats)
    config = folder / "apache.conf"
    config.write_text(f"""ServerRoot {folder}
{loads}
ServerName localhost
TypesConfig /dev/null
Listen 127.0.0.1:{port}
PidFile {folder}/apache.pid
DefaultRuntimeDir {folder}
Mutex file:{folder} default
User nobody
Group nogroup
ErrorLog {folder}/error.log
DocumentRoot {root}
DirectoryIndex index.html
<Directory {root}>
  Require all granted
</Directory>
<Location /private>
  AuthType Basic
  AuthName private
  AuthUserFile {folder}/users
  Require valid-user
</Location>
{formats_text}
{logs}
""")
    return Server([APACHE, "-f", str(config), "-DFOREGROUND"], port, folder)


def caddy(folder: Path) -> Server:
    """Caddy writing its JSON access log and its other logs (the errors of a proxy
    whose upstream is down) to ``folder/caddy.log``."""
    assert CADDY is not None
    port, dead = free_port(), free_port()
    config = folder / "Caddyfile"
    config.write_text(f"""{{
  admin off
  auto_https off
  storage file_system {folder}/storage
  log {{
    output file {folder}/caddy.log
    format json
  }}
}}
http://127.0.0.1:{port} {{
  log {{
    output file {folder}/caddy.log
    format json
  }}
  handle /up/* {{
    reverse_proxy 127.0.0.1:{dead}
  }}
  handle /missing {{
    respond 404
  }}
  handle {{
    respond "ok" 200
  }}
}}
""")
    env_home = folder / "home"
    env_home.mkdir()
    command = [CADDY, "run", "--config", str(config), "--adapter", "caddyfile"]
    return Server(["env", f"HOME={env_home}", f"XDG_DATA_HOME={env_home}", *command], port, folder)
