"""The ``taskdesk`` admin command against a temporary INI file: as a real process where the
process is the point (exit statuses, arguments, environment variables, start-up, several
processes at once), in the test's process (``run_command``) where its work is."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from taskdesk.security.passwords import verify_password
from taskdesk.settings import parse_settings
from tests.support.apps import SESSION_SECRET
from tests.support.cli import run_command
from tests.support.databases import ROOT, create_database, migrated_engine

pytestmark = pytest.mark.slow  # most tests start real processes or commands

SCRIPT = Path(sys.executable).with_name("taskdesk")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "taskdesk.cli"]
#: setuptools' deprecation warning about pkg_resources (imported by Pyramid) is not ours.
ENVIRONMENT = {**os.environ, "PYTHONWARNINGS": "ignore:pkg_resources is deprecated:UserWarning"}
WORKFLOW = parse_settings({"taskdesk.environment": "development"}).workflow


def write_ini(directory: Path, url: str | None = None, **settings: str) -> Path:
    """development.ini with its database in ``directory`` (or at ``url``) and the
    repository's migrations."""
    text = (ROOT / "development.ini").read_text(encoding="utf-8")
    url = url or f"sqlite:///{directory / 'taskdesk.sqlite'}"
    text = re.sub(r"(?m)^sqlalchemy\.url = .*$", f"sqlalchemy.url = {url}", text)
    text = re.sub(r"(?m)^script_location = .*$",
                  f"script_location = {ROOT / 'alembic'}", text)
    # The queue named, not derived from the database's path: required with PostgreSQL, and
    # a queue beside an unreachable database file would create its folder.
    text = re.sub(r"(?m)^taskdesk\.queue\.url =.*$",
                  f"taskdesk.queue.url = sqlite:///{directory / 'queue.sqlite'}", text)
    # Likewise the attachments' folder.
    text = re.sub(r"(?m)^taskdesk\.attachments\.path =.*$",
                  f"taskdesk.attachments.path = {directory / 'attachments'}", text)
    for key, value in settings.items():
        text = text.replace("[app:main]\n", f"[app:main]\n{key} = {value}\n", 1)
    ini = directory / "test.ini"
    ini.write_text(text, encoding="utf-8")
    return ini


def write_production_ini(directory: Path) -> Path:
    """production.ini as shipped, but for a SQLite database in ``directory`` and the
    repository's migrations (its secret comes from TASKDESK_SESSION_SECRET)."""
    parser = configparser.RawConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(ROOT / "production.ini", encoding="utf-8")
    parser["app:main"]["sqlalchemy.url"] = f"sqlite:///{directory / 'taskdesk.sqlite'}"
    parser["alembic"]["script_location"] = str(ROOT / "alembic")
    ini = directory / "production.ini"
    with ini.open("w", encoding="utf-8") as handle:
        parser.write(handle)
    return ini


def taskdesk(ini: Path | str, *args: str, stdin: str | None = None,
             env: Mapping[str, str] = ENVIRONMENT) -> subprocess.CompletedProcess[str]:
    """Run the command; output is decoded without newline translation (the bar uses \\r)."""
    result = subprocess.run(
        [*COMMAND, str(ini), *args], input=None if stdin is None else stdin.encode(),
        capture_output=True, timeout=300, env=dict(env), cwd=Path(str(ini)).parent,
        check=False,
    )
    return subprocess.CompletedProcess(result.args, result.returncode,
                                       result.stdout.decode(), result.stderr.decode())


#: An INFO/DEBUG record of the INI's log format (alembic logs its start-up at INFO).
LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|DEBUG) ")


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The process failed with exactly one line on stderr, and no traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if not LOG_RECORD.match(line)]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("taskdesk: ")
    return lines[0]


def database(ini: Path) -> sqlite3.Connection:
    return sqlite3.connect(ini.parent / "taskdesk.sqlite")


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database migrated once by ``taskdesk migrate``, copied for each test."""
    ini = write_ini(tmp_path_factory.mktemp("template"))
    result = taskdesk(ini, "migrate")
    assert result.returncode == 0, result.stderr
    path = ini.parent / "taskdesk.sqlite"
    # Fold the write-ahead log into the file, so that copying the file copies everything.
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return path


@pytest.fixture
def make_ini(
    tmp_path_factory: pytest.TempPathFactory, migrated_template: Path
) -> Callable[..., Path]:
    """``make_ini(migrate=True)``: a fresh INI and database, migrated unless told not to."""

    def make(migrate: bool = True, **settings: str) -> Path:
        ini = write_ini(tmp_path_factory.mktemp("cli"), **settings)
        if migrate:
            shutil.copyfile(migrated_template, ini.parent / "taskdesk.sqlite")
        return ini

    return make


@pytest.fixture(params=["sqlite", "postgresql"])
def any_ini(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
    make_ini: Callable[..., Path],
) -> Iterator[Path]:
    """A development INI on a fresh, migrated database of each backend."""
    if request.param == "sqlite":
        yield make_ini()
        return
    for url in create_database("postgresql", tmp_path_factory):
        migrated_engine(url).dispose()
        yield write_ini(tmp_path_factory.mktemp("cli-pg"), url)


def create(ini: Path, username: str, *options: str) -> subprocess.CompletedProcess[str]:
    return run_command(ini, "create-user", username, *options, "--password-stdin",
                    stdin="a good password 1\n")


def user_rows(ini: Path, *options: str) -> list[list[str]]:
    """``list-users`` as rows of cells (header first); the columns are two spaces apart."""
    result = run_command(ini, "list-users", *options)
    assert result.returncode == 0, result.stderr
    *table, total = result.stdout.rstrip("\n").split("\n")
    assert re.fullmatch(r"\d+ users?", total), result.stdout
    assert len(table) == (int(total.split()[0]) + 1 if table else 0), result.stdout
    return [re.split(r" {2,}", line.strip()) for line in table]


# -- migrate and accounts ---------------------------------------------------------------------


def test_migrate_creates_the_schema(make_ini: Callable[..., Path]) -> None:
    ini = make_ini(migrate=False)
    result = taskdesk(ini, "migrate")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^database at revision \w+ \(head\)$", result.stdout, re.M)
    with database(ini) as connection:
        tables = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"users", "projects", "tasks", "alembic_version"} <= tables
    again = taskdesk(ini, "migrate")
    assert again.returncode == 0, again.stderr


def test_account_commands(make_ini: Callable[..., Path]) -> None:
    ini = make_ini()
    created = run_command(ini, "create-user", "Alice", "--display-name", "王伟", "--admin",
                       "--email", "alice@example.com", "--password-stdin",
                       stdin="first password 1\n")
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "created user alice (site admin)"
    with database(ini) as connection:
        row = connection.execute(
            "SELECT display_name, is_site_admin, is_active, password_hash FROM users "
            "WHERE username = 'alice'").fetchone()
    assert row[:3] == ("王伟", 1, 1)
    assert verify_password(row[3], "first password 1")[0]

    duplicate = run_command(ini, "create-user", "ALICE", "--password-stdin",
                         stdin="another password\n")
    assert "This username is taken." in one_line_error(duplicate)

    short = run_command(ini, "create-user", "bob", "--password-stdin", stdin="short\n")
    assert "password" in one_line_error(short)

    changed = run_command(ini, "set-password", "alice", "--password-stdin",
                       stdin="second password 2\n")
    assert changed.returncode == 0, changed.stderr
    with database(ini) as connection:
        (password_hash,) = connection.execute(
            "SELECT password_hash FROM users WHERE username = 'alice'").fetchone()
    assert verify_password(password_hash, "second password 2")[0]
    assert not verify_password(password_hash, "first password 1")[0]

    assert "no user named nobody" in one_line_error(
        run_command(ini, "set-password", "nobody", "--password-stdin", stdin="whatever 12345\n"))

    deactivated = run_command(ini, "deactivate-user", "alice")
    assert deactivated.returncode == 0, deactivated.stderr
    with database(ini) as connection:
        assert connection.execute(
            "SELECT is_active FROM users WHERE username = 'alice'").fetchone() == (0,)
    assert "no user named ghost" in one_line_error(run_command(ini, "deactivate-user", "ghost"))


def test_migrate_to_an_unknown_revision_answers_one_line(any_ini: Path) -> None:
    message = one_line_error(run_command(any_ini, "migrate", "--revision", "nosuch"))
    assert "cannot migrate to nosuch" in message
    assert "known revisions: 0001, " in message
    older = run_command(any_ini, "migrate", "--revision", "0001")  # says where it really is
    assert older.returncode == 0, older.stderr
    assert "(head)" in older.stdout


def test_wait_for_migrations_waits_for_the_migrate_job_and_never_migrates(
    make_ini: Callable[..., Path],
) -> None:
    ini = make_ini(migrate=False)
    gave_up = one_line_error(run_command(ini, "wait-for-migrations", "--timeout", "0.5"))
    assert gave_up.startswith("taskdesk: the database is not migrated after 0.5 s; this "
                              "version needs revision ")
    assert "run `taskdesk INI migrate` (the migrate job)" in gave_up
    with database(ini) as connection:  # it only looked
        assert connection.execute("SELECT name FROM sqlite_master WHERE name = "
                                  "'alembic_version'").fetchone() is None

    # Started before the migration (as a container's start-up gate), done once it ran.
    waiting = subprocess.Popen([*COMMAND, str(ini), "wait-for-migrations", "--timeout", "120"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=ENVIRONMENT, cwd=ini.parent)
    try:
        assert run_command(ini, "migrate").returncode == 0
        out, err = waiting.communicate(timeout=120)
    finally:
        waiting.kill()
    assert waiting.returncode == 0, err
    assert re.fullmatch(r"database at revision \w+ \(head\)\n", out)

    with database(ini) as connection:  # a newer version's migration: no wait would help
        connection.execute("UPDATE alembic_version SET version_num = 'ffff9999'")
    newer = one_line_error(run_command(ini, "wait-for-migrations", "--timeout", "60"))
    assert newer.startswith("taskdesk: the database is at revision ffff9999, which this "
                            "version does not know")


@pytest.mark.parametrize(("username", "reason"), [
    ("Bad Name", "username: Use 2-63 lower-case letters, digits, dots, dashes"),
    ("x", "username: Use 2-63 lower-case letters"),
    ("wang@wei", "username: Use 2-63 lower-case letters"),
    ("李娜", "username: Use 2-63 lower-case letters"),
])
def test_create_user_with_an_invalid_name_answers_one_line(
    any_ini: Path, username: str, reason: str
) -> None:
    message = one_line_error(create(any_ini, username))
    assert message.startswith(f"taskdesk: cannot create user {username!r}: {reason}")
    assert user_rows(any_ini) == []


def test_create_user_twice_or_with_a_bad_email_answers_one_line(any_ini: Path) -> None:
    assert create(any_ini, "lina", "--display-name", "李娜").returncode == 0
    assert one_line_error(create(any_ini, "LINA")) == (
        "taskdesk: cannot create user 'LINA': This username is taken.")
    assert one_line_error(create(any_ini, "wangwei", "--email", "not-an-address")) == (
        "taskdesk: cannot create user 'wangwei': email: Must be an email address")
    assert [row[0] for row in user_rows(any_ini)[1:]] == ["lina"]


def test_list_deactivate_and_reactivate_users(any_ini: Path) -> None:
    assert user_rows(any_ini) == []
    assert create(any_ini, "wangwei", "--display-name", "王伟", "--admin",
                  "--email", "wangwei@example.com").returncode == 0
    assert create(any_ini, "alice", "--display-name", "Alice Johnson").returncode == 0
    header, *rows = user_rows(any_ini)
    assert header == ["USERNAME", "DISPLAY NAME", "E-MAIL", "SITE ADMIN", "ACTIVE",
                      "LAST SEEN (UTC)"]
    assert rows == [["alice", "Alice Johnson", "-", "-", "yes", "-"],
                    ["wangwei", "王伟", "wangwei@example.com", "yes", "yes", "-"]]

    deactivated = run_command(any_ini, "deactivate-user", "Alice")
    assert deactivated.returncode == 0, deactivated.stderr
    assert deactivated.stdout.startswith("alice deactivated")
    assert one_line_error(run_command(any_ini, "deactivate-user", "alice")) == (
        "taskdesk: alice is deactivated already; nothing changed")
    assert [row[0] for row in user_rows(any_ini, "--inactive")[1:]] == ["alice"]
    assert [row[0] for row in user_rows(any_ini, "--active")[1:]] == ["wangwei"]
    assert [row[:5] for row in user_rows(any_ini, "ALICE")[1:]] == [
        ["alice", "Alice Johnson", "-", "-", "no"]]
    assert user_rows(any_ini, "nobody-matches") == []

    reactivated = run_command(any_ini, "reactivate-user", "alice")
    assert reactivated.returncode == 0, reactivated.stderr
    assert reactivated.stdout.startswith("alice reactivated")
    assert one_line_error(run_command(any_ini, "reactivate-user", "alice")) == (
        "taskdesk: alice is active already; nothing changed")
    assert user_rows(any_ini, "--inactive") == []
    assert "no user named ghost" in one_line_error(
        run_command(any_ini, "reactivate-user", "ghost"))


def test_reset_two_factor(make_ini: Callable[..., Path]) -> None:
    ini = make_ini()
    assert create(ini, "wangwei", "--admin").returncode == 0
    connection = database(ini)
    with connection:
        user_id = connection.execute("SELECT id FROM users").fetchone()[0]
        connection.execute("INSERT INTO two_factor (user_id, secret_box, enabled_at, created_at)"
                           " VALUES (?, x'00', '2026-12-03 10:00:00', '2026-12-03 10:00:00')",
                           (user_id,))
        connection.execute("INSERT INTO recovery_codes (user_id, code_hash, created_at) "
                           "VALUES (?, 'h', '2026-12-03 10:00:00')", (user_id,))
    connection.close()
    reset = run_command(ini, "reset-two-factor", "WangWei")
    assert reset.returncode == 0, reset.stderr
    assert reset.stdout.startswith("two-factor authentication of wangwei reset")
    connection = database(ini)
    assert connection.execute("SELECT count(*) FROM two_factor").fetchone() == (0,)
    assert connection.execute("SELECT count(*) FROM recovery_codes").fetchone() == (0,)
    connection.close()
    assert one_line_error(run_command(ini, "reset-two-factor", "wangwei")) == (
        "taskdesk: wangwei has no two-factor authentication; nothing changed")
    assert "no user named ghost" in one_line_error(run_command(ini, "reset-two-factor", "ghost"))


def test_list_users_shows_when_a_user_was_last_seen(make_ini: Callable[..., Path]) -> None:
    ini = make_ini()
    assert create(ini, "alice").returncode == 0
    assert create(ini, "bob").returncode == 0
    with database(ini) as connection:
        (alice,) = connection.execute("SELECT id FROM users WHERE username = 'alice'"
                                      ).fetchone()
        connection.execute(
            "INSERT INTO auth_sessions (user_id, token_hash, user_agent, created_at, "
            "last_seen_at) VALUES (?, 'h1', '', '2026-03-01 08:00:00.000000', "
            "'2026-03-02 09:30:00.000000')", (alice,))
        connection.execute(
            "INSERT INTO api_tokens (user_id, name, scope, prefix, token_hash, created_at, "
            "last_used_at) VALUES (?, 'ci', 'read', 'td_abcdef', 'h2', "
            "'2026-03-01 08:00:00.000000', '2026-03-04 17:05:00.000000')", (alice,))
        connection.commit()
    rows = {row[0]: row for row in user_rows(ini)[1:]}
    assert rows["alice"][-1] == "2026-03-04 17:05"
    assert rows["bob"][-1] == "-"


def test_create_user_without_a_terminal_asks_for_password_stdin(
    make_ini: Callable[..., Path],
) -> None:
    ini = make_ini()
    message = one_line_error(run_command(ini, "create-user", "carol", stdin=""))
    assert "--password-stdin" in message


# -- seed-demo ----------------------------------------------------------------------------------


def test_seed_demo_once(make_ini: Callable[..., Path]) -> None:
    ini = make_ini()
    first = run_command(ini, "seed-demo", "--tasks", "60")
    assert first.returncode == 0, first.stderr
    assert "Demo data loaded" in first.stdout
    assert "admin" in first.stdout
    assert "taskdesk-demo" in first.stdout
    with database(ini) as connection:
        counts = connection.execute(
            "SELECT (SELECT count(*) FROM tasks), (SELECT count(*) FROM comments), "
            "(SELECT count(*) FROM users)").fetchone()
        admin = connection.execute(
            "SELECT is_site_admin, password_hash FROM users WHERE username = 'admin'"
        ).fetchone()
    assert counts[0] == 60
    assert counts[1] > 0
    assert admin[0] == 1
    assert verify_password(admin[1], "taskdesk-demo")[0]

    second = run_command(ini, "seed-demo")
    assert second.returncode == 0, second.stderr
    assert "already there" in second.stdout
    assert "admin" in second.stdout
    assert "taskdesk-demo" in second.stdout
    with database(ini) as connection:
        assert connection.execute(
            "SELECT (SELECT count(*) FROM tasks), (SELECT count(*) FROM comments), "
            "(SELECT count(*) FROM users)").fetchone() == counts


PRODUCTION_ENVIRONMENT = {**ENVIRONMENT, "TASKDESK_SESSION_SECRET": SESSION_SECRET}


@pytest.fixture
def production_ini(tmp_path: Path, migrated_template: Path) -> Path:
    ini = write_production_ini(tmp_path)
    shutil.copyfile(migrated_template, tmp_path / "taskdesk.sqlite")
    return ini


@pytest.mark.parametrize(("command", "published"), [
    (("seed-demo", "--tasks", "10"), "'taskdesk-demo'"),
    (("generate-data", "--tasks", "10", "--quiet"), "'benchmark-password'"),
])
def test_demo_and_benchmark_data_are_refused_in_production(
    production_ini: Path, command: tuple[str, ...], published: str
) -> None:
    message = one_line_error(taskdesk(production_ini, *command, env=PRODUCTION_ENVIRONMENT))
    assert "taskdesk.environment = production" in message
    assert published in message
    assert "--i-know-this-is-production" in message
    with database(production_ini) as connection:
        assert connection.execute("SELECT count(*) FROM users").fetchone() == (0,)

    forced = taskdesk(production_ini, *command, "--i-know-this-is-production",
                      env=PRODUCTION_ENVIRONMENT)
    assert forced.returncode == 0, forced.stderr
    with database(production_ini) as connection:
        assert connection.execute("SELECT count(*) FROM tasks").fetchone() == (10,)


# -- generate-data ------------------------------------------------------------------------------


def check_generated_invariants(connection: sqlite3.Connection) -> None:
    done = WORKFLOW.names_in("done")
    marks = ", ".join("?" for _ in done)
    for project_id, counter, count, low, high, distinct in connection.execute(
        "SELECT p.id, p.task_counter, count(t.id), min(t.number), max(t.number), "
        "count(DISTINCT t.number) FROM projects p LEFT JOIN tasks t ON t.project_id = p.id "
        "GROUP BY p.id"
    ):
        if count:
            assert (low, high, distinct) == (1, count, count), f"project {project_id}"
        assert counter == count, f"project {project_id}: counter {counter}, {count} tasks"
    statuses = {row[0] for row in connection.execute("SELECT DISTINCT status FROM tasks")}
    assert statuses <= set(WORKFLOW.status_names)
    priorities = {row[0] for row in connection.execute("SELECT DISTINCT priority FROM tasks")}
    assert priorities <= set(WORKFLOW.priorities)
    assert connection.execute(
        f"SELECT count(*) FROM tasks WHERE (status IN ({marks})) <> (completed_at IS NOT NULL)",
        done,
    ).fetchone() == (0,)
    assert connection.execute(  # generated tasks were never edited (demo tasks were)
        "SELECT count(*) FROM tasks t JOIN projects p ON p.id = t.project_id "
        "WHERE p.slug LIKE 'bench-%' AND t.version <> 1"
    ).fetchone() == (0,)
    assert connection.execute(
        "SELECT count(*) FROM tasks WHERE updated_at < created_at").fetchone() == (0,)
    for column in ("reporter_id", "assignee_id"):  # members themselves or through a group
        assert connection.execute(
            f"SELECT count(*) FROM tasks t WHERE t.{column} IS NOT NULL AND NOT EXISTS ("
            "SELECT 1 FROM project_members m LEFT JOIN group_members g "
            "ON g.group_id = m.group_id WHERE m.project_id = t.project_id "
            f"AND t.{column} IN (m.user_id, g.user_id) AND m.role IN ('member', 'manager'))"
        ).fetchone() == (0,), column
    assert connection.execute(
        "SELECT count(*) FROM tasks WHERE reporter_id IS NULL").fetchone() == (0,)
    assert connection.execute(
        "SELECT (SELECT count(*) FROM tasks) - (SELECT count(*) FROM task_search)"
    ).fetchone() == (0,)


def test_generate_data(make_ini: Callable[..., Path]) -> None:
    ini = make_ini()
    result = run_command(ini, "generate-data", "--tasks", "2000", "--projects", "4",
                      "--users", "12")
    assert result.returncode == 0, result.stderr
    assert "\r[" in result.stderr
    assert "100% 2,000/2,000 tasks" in result.stderr
    assert "rows/s" in result.stdout
    assert "benchmark-password" in result.stdout
    with database(ini) as connection:
        assert connection.execute("SELECT count(*) FROM tasks").fetchone() == (2000,)
        assert connection.execute("SELECT count(*) FROM projects").fetchone() == (4,)
        usernames = [row[0] for row in connection.execute(
            "SELECT username FROM users ORDER BY id")]
        assert usernames == [f"bench{i:04d}" for i in range(1, 13)]
        assert connection.execute("SELECT count(*) FROM task_labels").fetchone()[0] > 0
        assert connection.execute("SELECT count(*) FROM comments").fetchone()[0] > 0
        (password_hash,) = connection.execute(
            "SELECT DISTINCT password_hash FROM users").fetchone()
        assert verify_password(password_hash, "benchmark-password")[0]
        check_generated_invariants(connection)

    again = run_command(ini, "generate-data", "--tasks", "700", "--projects", "2", "--users",
                     "3", "--quiet")
    assert again.returncode == 0, again.stderr
    assert "\r[" not in again.stderr
    with database(ini) as connection:
        assert connection.execute("SELECT count(*) FROM tasks").fetchone() == (2700,)
        assert connection.execute("SELECT count(*) FROM projects").fetchone() == (6,)
        assert connection.execute(
            "SELECT username FROM users WHERE id > 12 ORDER BY id").fetchall() == [
            ("bench0013",), ("bench0014",), ("bench0015",)]
        check_generated_invariants(connection)


def test_generate_data_after_the_demo_keeps_numbering_and_names_apart(
    make_ini: Callable[..., Path],
) -> None:
    ini = make_ini()
    assert run_command(ini, "seed-demo", "--tasks", "30").returncode == 0
    result = run_command(ini, "generate-data", "--tasks", "300", "--quiet")
    assert result.returncode == 0, result.stderr
    with database(ini) as connection:
        assert connection.execute("SELECT count(*) FROM tasks").fetchone() == (330,)
        check_generated_invariants(connection)


def test_generate_data_refuses_nonsense_counts(make_ini: Callable[..., Path]) -> None:
    ini = make_ini()
    assert "--users" in one_line_error(
        run_command(ini, "generate-data", "--tasks", "10", "--users", "0"))
    assert "--tasks" in one_line_error(run_command(ini, "generate-data", "--tasks", "-1"))


# -- errors ---------------------------------------------------------------------------------------


def test_wrong_ini_path(tmp_path: Path) -> None:
    message = one_line_error(run_command(tmp_path / "missing.ini", "migrate"))
    assert "no such INI file" in message


@pytest.mark.parametrize("content", ["just some text\n", "[app:other]\nuse = egg:taskdesk\n"])
def test_a_file_that_is_not_an_application_ini(tmp_path: Path, content: str) -> None:
    ini = tmp_path / "notes.ini"
    ini.write_text(content, encoding="utf-8")
    assert "not a usable application INI file" in one_line_error(run_command(ini, "migrate"))


def test_bad_setting_in_the_ini(tmp_path: Path) -> None:
    ini = write_ini(tmp_path, **{"taskdesk.workflow.priorities": "Low HIGH"})
    message = one_line_error(run_command(ini, "migrate"))
    assert "taskdesk.workflow.priorities" in message


def test_unreachable_database(tmp_path: Path) -> None:
    ini = write_ini(tmp_path)
    ini.write_text(ini.read_text(encoding="utf-8").replace(
        str(tmp_path / "taskdesk.sqlite"), str(tmp_path / "no" / "such" / "dir.sqlite")))
    assert "database error" in one_line_error(run_command(ini, "migrate"))


def test_production_ini_without_its_secret_names_the_environment_variable() -> None:
    """production.ini as shipped, nothing exported: the one line says what to export."""
    environment = {k: v for k, v in ENVIRONMENT.items() if k != "TASKDESK_SESSION_SECRET"}
    message = one_line_error(taskdesk(ROOT / "production.ini", "purge", env=environment))
    assert "taskdesk.session.secret_env = 'TASKDESK_SESSION_SECRET'" in message
    assert "export TASKDESK_SESSION_SECRET" in message


WRONG_ARGUMENTS = [
    (),
    ("frobnicate",),
    ("list-users", "--active", "--inactive"),
    ("reactivate-user",),
    ("seed-demo", "--i-know"),
    ("generate-data",),
    ("generate-data", "--tasks", "many"),
    ("create-user",),
    ("migrate", "--no-such-option"),
    ("worker", "--workers", "0"),
    ("worker", "--workers", "many"),
    ("worker", "--no-such-option"),
]


def usage_error(result: subprocess.CompletedProcess[str]) -> None:
    """argparse's usage line(s), then one error line; exit status 2; no traceback."""
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("usage: taskdesk")
    assert all(line.startswith(" ") for line in lines[1:-1]), result.stderr
    assert re.match(r"^taskdesk( ini [\w-]+)?: error: ", lines[-1]), result.stderr


@pytest.mark.parametrize("args", WRONG_ARGUMENTS)
def test_wrong_arguments(tmp_path: Path, args: tuple[str, ...]) -> None:
    usage_error(run_command(write_ini(tmp_path), *args))


@pytest.mark.parametrize("args", [WRONG_ARGUMENTS[1], WRONG_ARGUMENTS[-3]])
def test_wrong_arguments_end_a_real_process_with_status_2(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    usage_error(taskdesk(write_ini(tmp_path), *args))


def test_help_in_a_real_process() -> None:
    result = subprocess.run([*COMMAND, "--help"], capture_output=True, text=True, timeout=60,
                            env=ENVIRONMENT, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: taskdesk")
    assert "create-user" in result.stdout


def test_no_arguments_at_all() -> None:
    result = subprocess.run(COMMAND, capture_output=True, text=True, timeout=60,
                            env=ENVIRONMENT, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("taskdesk: error: ")


def test_purge(make_ini: Callable[..., Path]) -> None:
    ini = make_ini()
    with database(ini) as connection:
        connection.execute(
            "INSERT INTO login_failures (key, created_at) VALUES "
            "('address:10.0.0.9', '2000-01-01 00:00:00.000000')"
        )
        connection.execute(
            "INSERT INTO events (kind, data, created_at, dispatched_at, attempts, last_error) "
            "VALUES ('task.created', '{}', '2000-01-01 00:00:00.000000', "
            "'2000-01-01 00:00:01.000000', 0, '')"
        )
        connection.commit()
    result = run_command(ini, "purge")
    assert result.returncode == 0, result.stderr
    assert ("removed 0 expired sessions, 1 old sign-in failures, 0 expired idempotency keys, "
            "1 dispatched events, 0 read notifications and 0 unused attachment files"
            ) in result.stdout
    with database(ini) as connection:
        assert connection.execute("SELECT count(*) FROM login_failures").fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM events").fetchone() == (0,)


def test_analyze_gives_the_planner_row_counts(make_ini: Callable[..., Path]) -> None:
    ini = make_ini()
    with database(ini) as connection:
        connection.execute("INSERT INTO groups (name, description, created_at) VALUES "
                           "('ops', '', '2026-01-01 00:00:00.000000')")
        connection.commit()
    result = run_command(ini, "analyze")
    assert result.returncode == 0, result.stderr
    assert "statistics refreshed for every table" in result.stdout
    with database(ini) as connection:
        assert connection.execute(
            "SELECT stat FROM sqlite_stat1 WHERE tbl = 'groups' AND idx IS NOT NULL"
        ).fetchone()[0].startswith("1 ")


@pytest.mark.parametrize(("url", "reason"), [
    ("memory:", "keeps jobs inside the process that enqueued them"),
    ("redis://127.0.0.1:1/0", "does not answer"),
])
def test_a_worker_refuses_a_queue_it_cannot_serve(
    make_ini: Callable[..., Path], url: str, reason: str
) -> None:
    ini = make_ini()
    ini.write_text(re.sub(r"(?m)^taskdesk\.queue\.url =.*$", f"taskdesk.queue.url = {url}",
                          ini.read_text(encoding="utf-8")), encoding="utf-8")
    message = one_line_error(taskdesk(ini, "worker"))
    assert reason in message
