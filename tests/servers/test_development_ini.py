"""development.ini under pserve, as ``make run`` starts it: the port is chosen on the command
line (``make run PORT=...``), without editing a tracked file."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.support.servers import ROOT, Client, free_port, taskdesk, waitress

pytestmark = pytest.mark.slow


def development_ini(directory: Path) -> Path:
    """development.ini as shipped, but for a SQLite database in ``directory``."""
    text = (ROOT / "development.ini").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^sqlalchemy\.url = .*$",
                  f"sqlalchemy.url = sqlite:///{directory / 'taskdesk.sqlite'}", text)
    text = re.sub(r"(?m)^script_location = .*$", f"script_location = {ROOT / 'alembic'}", text)
    ini = directory / "development.ini"
    ini.write_text(text, encoding="utf-8")
    return ini


def test_pserve_serves_development_ini_on_the_port_given_as_http_port(tmp_path: Path) -> None:
    ini = development_ini(tmp_path)
    taskdesk(ini, "migrate")
    port = free_port()
    with waitress(ini, port, tmp_path / "pserve.log", f"http_port={port}") as server:
        assert Client(port).get("/healthz").status == 200
        assert f"Serving on http://127.0.0.1:{port}" in server.output()


def test_make_run_hands_its_port_to_pserve() -> None:
    planned = subprocess.run(
        ["make", "--dry-run", "--no-print-directory", "-C", str(ROOT), "run", "PORT=8123"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout.splitlines()
    assert planned[-1] == ".venv/bin/pserve development.ini http_port=8123"
