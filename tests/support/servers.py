"""Real server processes for the server tests: INI files, processes, a small HTTP client.

Everything binds 127.0.0.1 on a free port; :class:`ServerProcess` is a context manager whose
exit always stops the process (SIGTERM, then SIGKILL after a timeout).
"""

from __future__ import annotations

import configparser
import http.client
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode

from tests.support.cli import run_command

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SESSION_SECRET = "server-test-secret-" + "s" * 40
PASSWORD = "correct horse battery staple"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(ini: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["TASKDESK_SESSION_SECRET"] = SESSION_SECRET
    env["TASKDESK_INI"] = str(ini)
    env["PYTHONWARNINGS"] = "ignore"
    return env


def write_ini(directory: Path, database_url: str, port: int,
              app_overrides: Mapping[str, str] | None = None,
              server_overrides: Mapping[str, str] | None = None) -> Path:
    """production.ini with another database and port; its server and logging sections kept
    (but for ``server_overrides``)."""
    parser = configparser.RawConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(ROOT / "production.ini", encoding="utf-8")
    parser["app:main"]["sqlalchemy.url"] = database_url
    for key, value in (app_overrides or {}).items():
        parser["app:main"][key] = value
    parser["alembic"]["script_location"] = str(ROOT / "alembic")
    parser["server:main"]["listen"] = f"127.0.0.1:{port}"
    for key, value in (server_overrides or {}).items():
        parser["server:main"][key] = value
    # production.ini keeps the task queue in var/ beside itself.
    (directory / "var").mkdir(exist_ok=True)
    path = directory / f"production-{port}.ini"
    (directory / "var").mkdir(exist_ok=True)  # production.ini's queue file lives there
    with path.open("w", encoding="utf-8") as handle:
        parser.write(handle)
    return path


def taskdesk(ini: Path, *args: str, stdin: str | None = None) -> str:
    """Run the admin command; fail the test with its output when it fails."""
    result = subprocess.run(
        [str(BIN / "taskdesk"), str(ini), *args], input=stdin, capture_output=True,
        text=True, env=server_env(ini), timeout=120, check=False,
    )
    assert result.returncode == 0, f"taskdesk {' '.join(args)}: {result.stderr[-2000:]}"
    return result.stdout


def prepare_database(ini: Path, *usernames: str) -> None:
    """Migrate, and create the users with ``PASSWORD``: the admin command, run in this
    process (two processes would cost ~5 s for each server test)."""
    environ = {"TASKDESK_SESSION_SECRET": SESSION_SECRET, "TASKDESK_INI": str(ini)}
    for args, stdin in [(("migrate",), None), *(
            (("create-user", name, "--password-stdin"), PASSWORD + "\n") for name in usernames)]:
        result = run_command(ini, *args, stdin=stdin, environ=environ)
        assert result.returncode == 0, f"taskdesk {' '.join(args)}: {result.stderr[-2000:]}"


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def header(self, name: str) -> str:
        return str(self.headers.get(name, ""))


@dataclass
class Client:
    """A browser-like client: keeps cookies (Secure ones too: the tests speak plain HTTP to a
    server configured for HTTPS behind a proxy) and reads CSRF tokens from pages."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""
    token: str = ""

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: Mapping[str, str] | None = None, timeout: float = 30) -> Response:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            sent = dict(headers or {})
            if self.cookies:
                sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            connection.request(method, path, body=body, headers=sent)
            raw = connection.getresponse()
            response = Response(raw.status, raw.headers, raw.read())
        finally:
            connection.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in cookie.lower() or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        match = CSRF_INPUT.search(response.text) if response.body else None
        if match:
            self.csrf = match.group(1)
        return response

    def get(self, path: str, **headers: str) -> Response:
        return self.request("GET", path, headers=headers)

    def post_form(self, path: str, fields: Mapping[str, str]) -> Response:
        data = dict(fields)
        data.setdefault("csrf_token", self.csrf)
        return self.request("POST", path, urlencode(data).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def api(self, method: str, path: str, data: Any = None, **headers: str) -> Response:
        """A JSON API call, with the bearer token if there is one, else cookies + CSRF."""
        sent = {"Accept": "application/json", **headers}
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        else:
            sent["X-CSRF-Token"] = self.csrf
        body = None
        if data is not None:
            body = json.dumps(data).encode()
            sent["Content-Type"] = "application/json"
        return self.request(method, path, body, sent)

    def create_token(self) -> str:
        """A write-scope API token for the signed-in user (needs a page's CSRF token)."""
        self.get("/")
        created = self.api("POST", "/api/v1/me/tokens", {"name": "tests", "scope": "write"})
        assert created.status == 201, created.text[:500]
        self.token = str(json.loads(created.body)["secret"])
        return self.token

    def login(self, username: str, password: str = PASSWORD) -> Response:
        page = self.get("/login")
        assert page.status == 200, page.text[:300]
        return self.post_form("/login", {"username": username, "password": password})


class ChildProcess:
    """A Taskdesk process run from ``ini``'s folder with its output in ``log``, started on
    enter (and ready: :meth:`wait_ready`) and always stopped on exit (:meth:`stop`)."""

    #: Open ``log`` for appending rather than truncating it (a restarted process keeps the
    #: output of the one before).
    append_log = False

    def __init__(self, command: Sequence[str], ini: Path, log: Path) -> None:
        self.command = list(command)
        self.ini = ini
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        with self.log.open("ab" if self.append_log else "wb") as out:
            self.process = subprocess.Popen(
                self.command, cwd=self.ini.parent, env=server_env(self.ini), stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text("utf-8", "replace")

    def wait_ready(self, timeout: float = 60) -> None:
        raise NotImplementedError

    def signal(self, number: int) -> None:
        assert self.process is not None
        self.process.send_signal(number)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self) -> None:
        raise NotImplementedError

    def _kill_after(self, timeout: float) -> None:
        assert self.process is not None
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


class ServerProcess(ChildProcess):
    """A server process on 127.0.0.1:``port``, ready once ``/healthz`` answers 200."""

    def __init__(self, command: Sequence[str], ini: Path, port: int, log: Path) -> None:
        super().__init__(command, ini, log)
        self.port = port

    def wait_ready(self, timeout: float = 60) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited at start-up:\n{self.output()[-3000:]}")
            try:
                if Client(self.port).get("/healthz").status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"server not ready in {timeout} s:\n{self.output()[-3000:]}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # The second signal skips the servers' drain period (taskdesk.asgi and
        # taskdesk.waitress_server keep accepting for drain_seconds after the first).
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(0.2)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGTERM)
        self._kill_after(20)


def waitress(ini: Path, port: int, log: Path, *options: str) -> ServerProcess:
    """pserve (Waitress) on ``ini``; ``options`` are ``key=value`` INI variables."""
    return ServerProcess([str(BIN / "pserve"), str(ini), *options], ini, port, log)


def hypercorn(ini: Path, port: int, log: Path, *options: str,
              config: Path = ROOT / "hypercorn.toml") -> ServerProcess:
    """Hypercorn as production runs it (``python -m taskdesk.asgi``) with ``config``
    (default: the repository's hypercorn.toml)."""
    return ServerProcess(
        [sys.executable, "-m", "taskdesk.asgi", "--config", str(config),
         "--bind", f"127.0.0.1:{port}", *options],
        ini, port, log,
    )


def hypercorn_config(directory: Path, **overrides: object) -> Path:
    """A copy of hypercorn.toml with ``overrides`` (TOML values), for shortened timeouts."""
    text = (ROOT / "hypercorn.toml").read_text("utf-8")
    lines = [line for line in text.splitlines()
             if line.split("=", 1)[0].strip() not in overrides]
    lines += [f"{key} = {json.dumps(value)}" for key, value in overrides.items()]
    path = directory / "hypercorn.toml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


@contextmanager
def raw_connection(port: int, timeout: float = 10) -> Iterator[socket.socket]:
    """A plain socket to the server, for requests http.client cannot send (slow, partial)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        yield sock
    finally:
        sock.close()


def trickle(sock: socket.socket, data: bytes, interval: float, within: float) -> float:
    """Send ``data`` a byte every ``interval`` seconds (a slow client); the seconds until the
    server closed the connection, or ``within`` when it did not (nor did it answer)."""
    started = time.monotonic()
    for byte in data:
        if time.monotonic() - started > within:
            break
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            break  # reset by the server
        if peer_closed(sock):
            break
        time.sleep(interval)
    return min(time.monotonic() - started, within)


def peer_closed(sock: socket.socket) -> bool:
    """Whether the server has closed ``sock`` (without waiting; any answer is skipped)."""
    while select.select([sock], [], [], 0)[0]:
        try:
            if sock.recv(65536) == b"":
                return True
        except OSError:
            return True
    return False


def read_status(sock: socket.socket) -> int:
    """The status code of the response arriving on ``sock`` (reads the status line)."""
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", data)
    assert match, f"no HTTP status line in {data[:200]!r}"
    return int(match.group(1))


SERVERS: dict[str, Callable[..., ServerProcess]] = {"waitress": waitress, "hypercorn": hypercorn}


@dataclass
class Site:
    """A production-like INI on a fresh, migrated database with the user ``alice``."""

    directory: Path
    ini: Path
    port: int
    database: Path

    def server(self, kind: str, *options: str, **settings: Any) -> ServerProcess:
        return SERVERS[kind](self.ini, self.port, self.directory / f"{kind}.log", *options,
                             **settings)


def make_site(directory: Path, app_overrides: dict[str, str] | None = None,
              server_overrides: dict[str, str] | None = None) -> Site:
    port = free_port()
    database = directory / "taskdesk.sqlite"
    ini = write_ini(directory, f"sqlite:///{database}", port, app_overrides, server_overrides)
    prepare_database(ini, "alice")
    return Site(directory, ini, port, database)


class WorkerProcess(ChildProcess):
    """``taskdesk INI worker`` as a process (SIGTERM to stop, then SIGKILL after a timeout);
    ready once it logs that it started. Its log is appended to: a restarted worker's test
    reads both."""

    append_log = True

    def __init__(self, ini: Path, log: Path, *options: str) -> None:
        super().__init__([str(BIN / "taskdesk"), str(ini), "worker", *options], ini, log)

    def wait_ready(self, timeout: float = 60) -> None:
        assert self.process is not None
        starts = self.output().count("worker started") + 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited at start-up:\n{self.output()[-3000:]}")
            if self.output().count("worker started") >= starts:
                return
            time.sleep(0.1)
        raise AssertionError(f"worker not started in {timeout} s:\n{self.output()[-3000:]}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        self._kill_after(30)


def wait_until(condition: Callable[[], bool], timeout: float, what: str,
               interval: float = 0.1) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"not within {timeout} s: {what}")
