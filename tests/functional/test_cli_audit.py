"""``taskdesk INI audit verify|export`` and ``taskdesk INI explain``, run in the test's process
on a SQLite database (the admin command's own changes are audited too)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from taskdesk.domain import projects
from taskdesk.models import User
from taskdesk.security.permissions import Permission
from taskdesk.settings import parse_settings
from tests.functional.test_cli import one_line_error, write_ini
from tests.support.apps import app_settings
from tests.support.cli import run_command

pytestmark = pytest.mark.slow

PASSWORD = "a long enough password\n"


@pytest.fixture(scope="module")
def ini(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with lina and boss (created by the command) and boss's project acme,
    in which lina is a viewer."""
    ini = write_ini(tmp_path_factory.mktemp("audit"))
    assert run_command(ini, "migrate").returncode == 0
    for name in ("lina", "boss"):
        created = run_command(ini, "create-user", name, "--password-stdin", stdin=PASSWORD)
        assert created.returncode == 0, created.stderr
    url = f"sqlite:///{ini.parent / 'taskdesk.sqlite'}"
    engine = create_engine(url)
    with Session(engine) as dbsession:
        users = {user.username: user for user in dbsession.scalars(select(User))}
        project = projects.create_project(dbsession, users["boss"], {"slug": "acme",
                                                                     "name": "Acme"})
        projects.set_member(dbsession, parse_settings(app_settings(url)), project,
                            users["lina"], users["boss"], {"role": "viewer"})
        dbsession.commit()
    engine.dispose()
    return ini


def test_verify_export_and_tampering(ini: Path, tmp_path: Path) -> None:
    verified = run_command(ini, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("audit log intact: 4 entries; head hash ")

    out = tmp_path / "audit.jsonl"
    exported = run_command(ini, "audit", "export", "--since", "2020-01-01", "--output", str(out))
    assert exported.returncode == 0, exported.stderr
    assert "exported 4 audit entries" in exported.stderr
    entries = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(e["kind"], e["actor"]) for e in entries] == [
        ("user.created", None), ("user.created", None), ("membership.changed", "boss"),
        ("membership.changed", "boss")]
    assert entries[-1]["hash"] in verified.stdout
    later = run_command(ini, "audit", "export", "--since", "2999-01-01T00:00:00Z")
    assert (later.returncode, later.stdout) == (0, "")
    bad = run_command(ini, "audit", "export", "--since", "last tuesday")
    assert bad.returncode == 2
    assert "not a date" in bad.stderr

    copy = tmp_path / "copy"
    copy.mkdir()
    tampered_ini = write_ini(copy)
    source = sqlite3.connect(ini.parent / "taskdesk.sqlite")
    target = sqlite3.connect(copy / "taskdesk.sqlite")
    source.backup(target)
    source.close()
    target.execute("UPDATE audit_log SET details = '{\"username\": \"mallory\"}' WHERE id = 2")
    target.commit()
    target.close()
    broken = run_command(tampered_ini, "audit", "verify")
    assert broken.returncode == 1
    assert "audit log broken at entry 2: its contents do not match its hash" in broken.stderr


def test_explain(ini: Path) -> None:
    answer = run_command(ini, "explain", "lina", "acme", "manage_members", "--if-role", "manager")
    assert answer.returncode == 0, answer.stderr
    lines = answer.stdout.splitlines()
    assert lines[0] == "DENIED: lina (lina) may not manage_members on /projects/acme"
    assert "  role: Direct member of acme with the built-in role “viewer” (view)." in lines
    assert "What if: role manager" in lines
    assert "ALLOWED: lina (lina) may manage_members on /projects/acme" in lines
    unchanged = run_command(ini, "explain", "lina", "acme", "manage_members")
    assert unchanged.stdout.startswith("DENIED")
    refused = one_line_error(run_command(ini, "explain", "nobody", "acme#7", "fly"))
    assert refused.startswith("taskdesk: permission: Unknown value: fly. Allowed: "
                              + ", ".join(Permission))
    assert "; user: No user has this username; path: Nothing is found at this path" in refused
