"""The schema's SDL in the repository is the schema the code builds."""

from __future__ import annotations

import subprocess
import sys

from taskdesk.graphql.__main__ import SDL_PATH, sdl


def test_committed_sdl_matches_the_code() -> None:
    assert SDL_PATH.read_text(encoding="utf-8") == sdl(), (
        "src/taskdesk/graphql/schema.graphql is out of date: run python -m taskdesk.graphql")


def test_the_check_command_fails_on_drift(tmp_path, monkeypatch) -> None:
    from taskdesk.graphql import __main__ as export

    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { old: Int }\n", encoding="utf-8")
    monkeypatch.setattr(export, "SDL_PATH", stale)
    assert export.main(["--check"]) == 1
    assert export.main([]) == 0
    assert export.main(["--check"]) == 0
    assert stale.read_text(encoding="utf-8") == sdl()


def test_the_module_runs() -> None:
    result = subprocess.run([sys.executable, "-m", "taskdesk.graphql", "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
