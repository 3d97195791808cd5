"""taskdesk.wsgi: the module-level app, built in a fresh interpreter as a server would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import free_port, server_env, write_ini

pytestmark = pytest.mark.slow

PROBE = """
import gc, io
import taskdesk.wsgi as w
statuses = []
def start_response(status, headers, exc_info=None):
    statuses.append(status)
environ = {"REQUEST_METHOD": "HEAD", "PATH_INFO": "/healthz", "SERVER_NAME": "x",
           "SERVER_PORT": "80", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
           "wsgi.errors": io.StringIO(), "QUERY_STRING": ""}
body = list(w.app(environ, start_response))
print(statuses[0], body, gc.get_freeze_count() > 1000)
"""


def run_probe(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)


def test_app_is_built_from_taskdesk_ini_and_frozen(tmp_path: Path) -> None:
    ini = write_ini(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", free_port())
    result = run_probe(server_env(ini), tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    # A HEAD answer still yields one (empty) chunk, which Hypercorn needs to start a response.
    assert result.stdout.split("\n")[-2] == "200 OK [b''] True"


def test_missing_ini_is_one_clear_line(tmp_path: Path) -> None:
    env = server_env(tmp_path / "absent.ini")
    result = run_probe(env, tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"taskdesk: no INI file at {tmp_path / 'absent.ini'} (set TASKDESK_INI)"
    )


def test_default_is_production_ini_in_the_working_directory(tmp_path: Path) -> None:
    env = server_env(tmp_path / "unused.ini")
    del env["TASKDESK_INI"]
    result = run_probe(env, tmp_path)
    assert f"no INI file at {tmp_path / 'production.ini'}" in result.stderr
