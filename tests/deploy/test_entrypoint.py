"""The image's entry point (deploy/entrypoint.sh) with deploy/container.ini, run on this
machine instead of in a container: the same commands, INI and variables, so they are tested
wherever no container engine runs (tests/deploy/test_image.py runs them in the image)."""

from __future__ import annotations

import configparser
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.servers import Client, ServerProcess, free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"


@pytest.fixture
def ini(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """deploy/container.ini with the repository's migrations, and the variables the
    deployment files set: a SQLite database and queue in ``tmp_path`` (the data volume)."""
    parser = configparser.RawConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(ROOT / "deploy" / "container.ini", encoding="utf-8")
    parser["alembic"]["script_location"] = str(ROOT / "alembic")
    path = tmp_path / "container.ini"
    with path.open("w", encoding="utf-8") as handle:
        parser.write(handle)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("TASKDESK_INI", str(path))
    monkeypatch.setenv("TASKDESK_HYPERCORN_CONFIG", str(ROOT / "hypercorn.toml"))
    monkeypatch.setenv("TASKDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'taskdesk.sqlite'}")
    monkeypatch.setenv("TASKDESK_QUEUE_URL", f"sqlite:///{tmp_path / 'queue.sqlite'}")
    return path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([str(ENTRYPOINT), *args], capture_output=True, text=True,
                          timeout=120, env=environment, check=False)


def test_migrate_serve_worker_and_the_cli_through_the_entry_point(
    ini: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TASKDESK_SESSION_SECRET", "entrypoint-test-secret-" + "x" * 32)
    assert "wait-for-migrations" in run("--help").stdout

    waited = run("wait-for-migrations", "--timeout", "0")
    assert waited.returncode == 2
    assert "the database is not migrated" in waited.stderr
    migrated = run("migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.rstrip().endswith("(head)")
    assert run("wait-for-migrations").returncode == 0

    port = free_port()
    monkeypatch.setenv("TASKDESK_BIND", f"127.0.0.1:{port}")
    with ServerProcess([str(ENTRYPOINT), "serve"], ini, port, tmp_path / "serve.log") as web:
        assert Client(port).get("/readyz").status == 200
        web.signal(signal.SIGTERM)
        assert web.wait(40) == 0  # the drain, then a clean exit

    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen([str(ENTRYPOINT), "worker", "--workers", "1"], stdout=out,
                                  stderr=subprocess.STDOUT,
                                  env={**os.environ, "PYTHONWARNINGS": "ignore"})
    try:
        deadline = time.monotonic() + 60
        while "worker started" not in log.read_text():
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0
    finally:
        worker.kill()
    assert "worker stopped" in log.read_text()

    listed = run("list-users")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip() == "0 users"
