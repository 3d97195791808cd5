"""Settings: parsed and validated once; a bad value stops start-up with one clear line."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import make_url

import taskdesk
from taskdesk.security.permissions import DEFAULT_ROLES, Permission
from taskdesk.settings import (
    ENVIRONMENT_OPTIONS,
    OPTIONS,
    SettingsError,
    Status,
    TaskdeskSettings,
    parse_settings,
    resolve_database_url,
)
from tests.support.apps import SESSION_SECRET, app_settings
from tests.support.databases import ROOT

GOOD_SECRET = "a-perfectly-random-secret-" + "q" * 20


def start(tmp_path: Path, **overrides: str) -> SystemExit:
    """Start the real app with ``overrides`` and return the SystemExit it must raise."""
    url = f"sqlite:///{tmp_path / 'never-created.sqlite'}"
    with pytest.raises(SystemExit) as caught:
        taskdesk.main({}, **app_settings(url, **overrides))
    return caught.value


def one_line(exit_: SystemExit) -> str:
    message = exit_.code
    assert isinstance(message, str), "a settings error must exit with a message, not a code"
    assert "\n" not in message
    assert message.startswith("taskdesk: invalid setting ")
    return message


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("taskdesk.workflow.statuses", "open:open shipped:finished",
         "categories one of open, active, done, cancelled"),
        ("taskdesk.workflow.statuses", "open:open doing:active",
         "at least one status of category open and one of done"),
        ("taskdesk.workflow.statuses", "done:done open:open",
         "the first status (new tasks) must be of category open"),
        ("taskdesk.workflow.statuses", "open:open open:open done:done",
         "status names must be unique"),
        ("taskdesk.workflow.priorities", "low Normal high", "expected unique lower-case names"),
        ("taskdesk.workflow.priorities", "low low", "expected unique lower-case names"),
        ("taskdesk.workflow.default_priority", "critical", "expected one of low, normal"),
        ("taskdesk.roles.auditor", "view fly_to_moon", "unknown permission fly_to_moon"),
        ("taskdesk.roles.Auditor", "view", "role names are lower-case words"),
        ("taskdesk.includes", "taskdesk.web taskdesk.nosuchfeature",
         "no installed package named taskdesk.nosuchfeature"),
        ("taskdesk.includes", "taskdesk.web ../evil", "expected dotted Python package names"),
        ("taskdesk.login.account_limit", "0", "expected a whole number from 1 to 1000"),
        ("taskdesk.login.account_limit", "1001", "expected a whole number from 1 to 1000"),
        ("taskdesk.sqlite.busy_timeout", "five seconds",
         "expected a whole number from 0 to 600000"),
        ("taskdesk.max_body_bytes", "512", "expected a whole number from 1024 to 104857600"),
        ("taskdesk.https", "maybe", "expected true or false"),
        ("taskdesk.environment", "staging", "expected one of development, production"),
        ("taskdesk.projects.creators", "managers", "expected one of everyone, admins"),
        ("taskdesk.api.default_limit", "500", "must not exceed taskdesk.api.max_limit"),
        ("taskdesk.sesion.secret", "typo", "unknown setting"),
        ("taskdesk.time_zone", "Beijing", "expected an IANA time zone name"),
        ("taskdesk.time_zone", "asia/shanghai", "expected an IANA time zone name"),
        ("taskdesk.time_zone", "+08:00", "expected an IANA time zone name"),
        ("taskdesk.time_zone", "../../etc/passwd", "expected an IANA time zone name"),
    ],
)
def test_bad_value_stops_start_up_naming_key_value_and_allowed(
    tmp_path: Path, key: str, value: str, allowed: str
) -> None:
    message = one_line(start(tmp_path, **{key: value}))
    assert f"invalid setting {key} = " in message
    assert repr(value) in message or value in message
    assert allowed in message


def test_bad_database_url_stops_start_up() -> None:
    with pytest.raises(SystemExit) as caught:
        taskdesk.main({}, **app_settings("mysql://someone@db/taskdesk"))
    message = one_line(caught.value)
    assert "sqlalchemy.url" in message
    assert "expected a sqlite or postgresql URL" in message


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "short-secret",
        "change-me",
        # development.ini's value is public: it must not be accepted outside development.
        "development-only-secret-not-for-production-use",
    ],
)
def test_production_refuses_missing_short_or_example_session_secret(
    tmp_path: Path, secret: str
) -> None:
    message = one_line(start(tmp_path, **{"taskdesk.session.secret": secret}))
    assert "taskdesk.session.secret" in message
    if secret:
        assert secret not in message, "the secret itself must never be printed"
        assert "at least 32 characters" in message
    else:
        assert "a secret is required outside development" in message


def test_development_accepts_no_secret() -> None:
    settings = parse_settings({"taskdesk.environment": "development"})
    assert settings.environment == "development"
    assert settings.session_secret


def test_session_secret_comes_from_the_environment_variable_named_in_the_ini(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TD_TEST_SECRET", GOOD_SECRET)
    settings = parse_settings({
        "taskdesk.session.secret_env": "TD_TEST_SECRET",
        "taskdesk.session.secret": "short",  # the environment variable wins
    })
    assert settings.session_secret == GOOD_SECRET


def test_empty_secret_environment_variable_falls_back_and_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The error names the variable the INI points at: that is what the admin must set."""
    monkeypatch.setenv("TD_TEST_SECRET", "")
    with pytest.raises(SettingsError) as caught:
        parse_settings({"taskdesk.session.secret_env": "TD_TEST_SECRET"})
    assert caught.value.key == "taskdesk.session.secret_env"
    assert "the environment variable TD_TEST_SECRET is not set or empty" in str(caught.value)
    assert "export TD_TEST_SECRET" in str(caught.value)


def test_environment_secret_is_checked_like_an_ini_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TD_TEST_SECRET", "too-short")
    with pytest.raises(SettingsError) as caught:
        parse_settings({"taskdesk.session.secret_env": "TD_TEST_SECRET"})
    assert "too-short" not in str(caught.value)
    assert "the environment variable TD_TEST_SECRET holds a short or example secret" in str(
        caught.value)


def test_database_password_comes_from_the_environment_variable_named_in_the_ini(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TD_TEST_DB_PASSWORD", "s3cr:et@/pw")
    url = resolve_database_url({
        "sqlalchemy.url": "postgresql+psycopg://taskdesk@db.internal:5432/taskdesk",
        "taskdesk.database.password_env": "TD_TEST_DB_PASSWORD",
    })
    parsed = make_url(url)
    assert parsed.password == "s3cr:et@/pw"
    assert (parsed.username, parsed.host, parsed.database) == ("taskdesk", "db.internal",
                                                               "taskdesk")


def test_database_url_unchanged_without_the_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TD_TEST_DB_PASSWORD", raising=False)
    url = "postgresql+psycopg://taskdesk:fromini@db.internal/taskdesk"
    assert make_url(resolve_database_url({
        "sqlalchemy.url": url, "taskdesk.database.password_env": "TD_TEST_DB_PASSWORD",
    })).password == "fromini"


def test_the_database_url_comes_from_the_environment_variable_named_in_the_ini(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TD_TEST_DB_URL", "postgresql+psycopg://taskdesk@postgres:5432/td")
    monkeypatch.setenv("TD_TEST_DB_PASSWORD", "pw")
    raw = {"sqlalchemy.url": "sqlite:////var/lib/taskdesk/taskdesk.sqlite",
           "taskdesk.database.url_env": "TD_TEST_DB_URL",
           "taskdesk.database.password_env": "TD_TEST_DB_PASSWORD",
           "taskdesk.session.secret": SESSION_SECRET}
    parsed = make_url(resolve_database_url(raw))
    assert (parsed.host, parsed.database, parsed.password) == ("postgres", "td", "pw")
    # PostgreSQL from the environment: the INI's SQLite file no longer implies the queue.
    with pytest.raises(SettingsError, match=r"taskdesk\.queue\.url.*required when the database"):
        parse_settings(raw)

    monkeypatch.setenv("TD_TEST_DB_URL", "mysql://taskdesk:hunter2@db/td")
    with pytest.raises(SettingsError) as caught:
        resolve_database_url(raw)
    assert str(caught.value) == ("invalid setting taskdesk.database.url_env = 'TD_TEST_DB_URL': "
                                 "expected a sqlite or postgresql URL")

    monkeypatch.delenv("TD_TEST_DB_URL")
    assert resolve_database_url(raw) == "sqlite:////var/lib/taskdesk/taskdesk.sqlite"
    assert parse_settings(raw).queue_url == "sqlite:////var/lib/taskdesk/taskdesk-queue.sqlite"


def test_the_queue_url_comes_from_the_environment_variable_named_in_the_ini(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = {"taskdesk.queue.url": "sqlite:////var/lib/q.sqlite",
           "taskdesk.queue.url_env": "TD_TEST_QUEUE_URL",
           "taskdesk.session.secret": SESSION_SECRET}
    monkeypatch.delenv("TD_TEST_QUEUE_URL", raising=False)
    assert parse_settings(raw).queue_url == "sqlite:////var/lib/q.sqlite"
    monkeypatch.setenv("TD_TEST_QUEUE_URL", "redis://:pw@redis:6379/1")
    assert parse_settings(raw).queue_url == "redis://:pw@redis:6379/1"
    monkeypatch.setenv("TD_TEST_QUEUE_URL", "http://:hunter2@redis")
    with pytest.raises(SettingsError) as caught:
        parse_settings(raw)
    assert "the environment variable TD_TEST_QUEUE_URL holds no queue URL" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_started_app_uses_the_environment_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TD_TEST_SECRET", GOOD_SECRET)
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    overrides = {"taskdesk.session.secret": "", "taskdesk.session.secret_env": "TD_TEST_SECRET",
                 "taskdesk.includes": ""}
    app = taskdesk.main({}, **app_settings(url, **overrides))
    assert app.registry.taskdesk_settings.session_secret == GOOD_SECRET


def test_defaults() -> None:
    settings = parse_settings({"taskdesk.session.secret": SESSION_SECRET})
    assert settings == TaskdeskSettings(session_secret=SESSION_SECRET,
                                        attachments_path=settings.attachments_path)
    assert settings.environment == "production"
    assert settings.includes == ()
    assert settings.workflow.statuses == (
        Status("open", "open"), Status("in_progress", "active"), Status("blocked", "active"),
        Status("done", "done"), Status("wont_do", "cancelled"),
    )
    assert settings.workflow.priorities == ("low", "normal", "high", "urgent")
    assert settings.workflow.default_priority == "normal"
    assert settings.workflow.first_done == "done"
    assert {name: set(perms) for name, perms in settings.roles.items()} == {
        name: set(perms) for name, perms in DEFAULT_ROLES.items()
    }
    assert settings.login_account_limit == 5
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.https is False
    assert settings.time_zone == ZoneInfo("UTC")


def test_site_time_zone_is_an_iana_zone() -> None:
    settings = parse_settings({"taskdesk.session.secret": SESSION_SECRET,
                               "taskdesk.time_zone": " Asia/Shanghai "})
    assert settings.time_zone == ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("ini", ["development.ini", "production.ini"])
def test_shipped_configurations_name_the_site_time_zone(ini: str) -> None:
    text = (ROOT / ini).read_text(encoding="utf-8")
    assert re.search(r"^taskdesk\.time_zone = UTC$", text, re.MULTILINE)
    assert "Asia/Shanghai" in text


def test_every_option_default_parses_to_the_dataclass_default() -> None:
    """The README shows ``Option.default``; it must be what an empty INI really gets."""
    parsed = parse_settings({"taskdesk.session.secret": SESSION_SECRET})
    for option in OPTIONS:
        if option.attribute in ("statuses", "priorities", "default_priority"):
            continue  # folded into settings.workflow, checked in test_defaults
        if option.attribute.startswith("argon2_"):  # folded into settings.password_cost
            cost = getattr(parsed.password_cost, option.attribute.removeprefix("argon2_"))
            assert cost == option.parse(option.key, option.default)
            continue
        if option.attribute in ("session_secret", "queue_url", "mail_port",
                                "attachments_path", "live_url"):
            # The queue's and the attachments' defaults are derived from the database URL,
            # the mail port's from taskdesk.mail.security, the live broker's from the queue:
            # tested below.
            continue
        assert getattr(parsed, option.attribute) == option.parse(option.key, option.default)


@pytest.mark.parametrize(("settings", "live"), [
    ({}, "memory:"),
    ({"taskdesk.queue.url": "sqlite:///var/q.sqlite"}, "memory:"),
    ({"taskdesk.queue.url": "redis://cache:6379/1"}, "redis://cache:6379/1"),
    ({"taskdesk.queue.url": "redis://cache:6379/1", "taskdesk.live.url": "memory:"}, "memory:"),
    ({"taskdesk.live.url": "postgresql+psycopg://u@db/t"}, "postgresql+psycopg://u@db/t"),
])
def test_live_updates_use_the_queues_redis_unless_told_otherwise(
        settings: dict[str, str], live: str) -> None:
    parsed = parse_settings({"taskdesk.session.secret": SESSION_SECRET, **settings})
    assert parsed.live_url == live


def test_a_live_url_of_another_kind_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"taskdesk\.live\.url"):
        parse_settings({"taskdesk.session.secret": SESSION_SECRET,
                        "taskdesk.live.url": "amqp://broker"})


@pytest.mark.parametrize(("database", "queue"), [
    ("sqlite:////srv/taskdesk/var/taskdesk.sqlite", "sqlite:////srv/taskdesk/var/taskdesk-queue.sqlite"),
    ("sqlite:///var/db", "sqlite:///var/db-queue.sqlite"),
    ("sqlite://", "memory:"),
])
def test_the_queue_defaults_to_a_file_beside_a_sqlite_database(database: str, queue: str) -> None:
    parsed = parse_settings({"sqlalchemy.url": database, "taskdesk.session.secret": SESSION_SECRET})
    assert parsed.queue_url == queue


def test_the_queue_must_be_named_beside_postgresql() -> None:
    raw = {"sqlalchemy.url": "postgresql+psycopg://taskdesk@127.0.0.1/taskdesk",
           "taskdesk.session.secret": SESSION_SECRET}
    with pytest.raises(SettingsError, match=r"taskdesk\.queue\.url.*required when the database"):
        parse_settings(raw)
    raw["taskdesk.attachments.path"] = "/srv/taskdesk/files"
    assert parse_settings({**raw, "taskdesk.queue.url": "redis://127.0.0.1:6379/0"}).queue_url \
        == "redis://127.0.0.1:6379/0"


def test_attachments_live_beside_a_sqlite_file_and_must_be_named_beside_postgresql() -> None:
    beside = parse_settings({"sqlalchemy.url": "sqlite:////srv/taskdesk/var/taskdesk.sqlite",
                             "taskdesk.session.secret": SESSION_SECRET})
    assert beside.attachments_path == "/srv/taskdesk/var/taskdesk-attachments"
    raw = {"sqlalchemy.url": "postgresql+psycopg://taskdesk@127.0.0.1/taskdesk",
           "taskdesk.queue.url": "redis://127.0.0.1:6379/0",
           "taskdesk.session.secret": SESSION_SECRET}
    with pytest.raises(SettingsError, match=r"taskdesk\.attachments\.path.*required when"):
        parse_settings(raw)
    with pytest.raises(SettingsError, match="expected an absolute directory path"):
        parse_settings({**raw, "taskdesk.attachments.path": "var/files"})
    assert parse_settings({**raw, "taskdesk.attachments.path": "/srv/files"}
                          ).attachments_path == "/srv/files"


def test_attachment_types_are_media_types() -> None:
    raw = {"taskdesk.session.secret": SESSION_SECRET}
    assert parse_settings({**raw, "taskdesk.attachments.types": "image/* Application/PDF"}
                          ).attachments_types == ("image/*", "application/pdf")
    with pytest.raises(SettingsError, match="is not a media type"):
        parse_settings({**raw, "taskdesk.attachments.types": "png"})


@pytest.mark.parametrize("url", ["postgresql://x", "redis:", "sqlite://relative", "memory"])
def test_a_queue_url_of_an_unknown_kind_is_refused(url: str) -> None:
    with pytest.raises(SettingsError, match=r"expected sqlite:///path/to/queue\.sqlite"):
        parse_settings({"taskdesk.queue.url": url, "taskdesk.session.secret": SESSION_SECRET})


def test_custom_workflow_and_roles() -> None:
    settings = parse_settings({
        "taskdesk.environment": "development",
        "taskdesk.workflow.statuses": "new:open, doing:active, shipped:done, dropped:cancelled",
        "taskdesk.workflow.priorities": "p3 p2 p1",
        "taskdesk.workflow.default_priority": "p2",
        "taskdesk.roles.reporter": "view comment set_status",
        "taskdesk.roles.owner": "*",
    })
    workflow = settings.workflow
    assert workflow.status_names == ("new", "doing", "shipped", "dropped")
    assert workflow.initial_status == "new"
    assert workflow.first_done == "shipped"
    assert workflow.priorities == ("p3", "p2", "p1")  # lowest first: p1 ranks highest
    assert settings.roles["reporter"] == {Permission.VIEW, Permission.COMMENT,
                                          Permission.SET_STATUS}
    assert Permission.MANAGE_MEMBERS in settings.roles["owner"]
    assert "manager" in settings.roles


def test_readme_configuration_table_lists_every_key() -> None:
    """Every key, with its default, is in the README's configuration reference table."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table_rows = [line for line in readme.splitlines() if line.lstrip().startswith("|")]
    documented = set()
    for row in table_rows:
        first_cell = row.strip().strip("|").split("|")[0]
        documented.update(re.findall(r"`([^`]+)`", first_cell) or [first_cell.strip()])
    missing = [option.key for option in OPTIONS if option.key not in documented]
    missing += [key for key, _doc in ENVIRONMENT_OPTIONS if key not in documented]
    assert not missing, f"README.md's configuration table lacks {missing}"
    rows_by_key = {}
    for row in table_rows:
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        for key in re.findall(r"`([^`]+)`", cells[0]):
            rows_by_key[key] = cells
    for option in OPTIONS:
        if option.default and len(option.default) < 40:
            row_text = " ".join(rows_by_key[option.key][1:])
            assert option.default in row_text, f"README lacks the default of {option.key}"


# -- e-mail ------------------------------------------------------------------------------------

MAIL = {"taskdesk.session.secret": SESSION_SECRET, "taskdesk.mail.host": "smtp.example.com",
        "taskdesk.mail.from": "Taskdesk <tasks@example.com>",
        "taskdesk.public_url": "https://tasks.example.com/"}


def test_mail_is_off_without_a_host() -> None:
    settings = parse_settings({"taskdesk.session.secret": SESSION_SECRET})
    assert settings.mail_enabled is False
    assert (settings.mail_security, settings.mail_port) == ("starttls", 587)
    assert (settings.mail_batch_seconds, settings.mail_digest_hour) == (120, 8)


@pytest.mark.parametrize(("security", "port"), [("starttls", 587), ("tls", 465), ("none", 25)])
def test_the_mail_port_follows_the_security_unless_given(security: str, port: int) -> None:
    settings = parse_settings({**MAIL, "taskdesk.mail.security": security})
    assert settings.mail_enabled is True
    assert (settings.mail_security, settings.mail_port) == (security, port)
    assert settings.public_url == "https://tasks.example.com"
    given = parse_settings({**MAIL, "taskdesk.mail.security": security,
                            "taskdesk.mail.port": "2525"})
    assert given.mail_port == 2525


def test_the_mail_password_comes_from_the_environment_variable_named_in_the_ini(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = {**MAIL, "taskdesk.mail.username": "tasks",
           "taskdesk.mail.password_env": "TD_TEST_SMTP_PASSWORD"}
    monkeypatch.setenv("TD_TEST_SMTP_PASSWORD", "s3cret smtp")
    settings = parse_settings(raw)
    assert (settings.mail_username, settings.mail_password) == ("tasks", "s3cret smtp")
    assert "s3cret" not in repr(settings)
    monkeypatch.delenv("TD_TEST_SMTP_PASSWORD")
    with pytest.raises(SettingsError, match=r"taskdesk\.mail\.password_env = "
                       r"'TD_TEST_SMTP_PASSWORD'.*TD_TEST_SMTP_PASSWORD is not set"):
        parse_settings(raw)


def test_the_mail_password_is_not_an_ini_key() -> None:
    with pytest.raises(SettingsError, match=r"taskdesk\.mail\.password = .*unknown setting"):
        parse_settings({**MAIL, "taskdesk.mail.password": "in the file"})


@pytest.mark.parametrize(("key", "value", "allowed"), [
    ("taskdesk.mail.security", "ssl", "expected one of none, starttls, tls"),
    ("taskdesk.mail.port", "99999", "expected a whole number from 1 to 65535"),
    ("taskdesk.mail.host", "smtp example", "expected a host name or IP address"),
    ("taskdesk.mail.from", "tasks", "expected an e-mail address"),
    ("taskdesk.mail.from", "Taskdesk <tasks@localhost>", "expected an e-mail address"),
    ("taskdesk.public_url", "tasks.example.com", "expected the address people open the site at"),
    ("taskdesk.public_url", "https://tasks.example.com/?x=1", "expected the address"),
    ("taskdesk.public_url", "ftp://tasks.example.com", "expected the address"),
    ("taskdesk.mail.batch_seconds", "-1", "expected a whole number from 0 to 3600"),
    ("taskdesk.mail.digest_hour", "24", "expected a whole number from 0 to 23"),
])
def test_bad_mail_settings_are_refused(key: str, value: str, allowed: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(f"invalid setting {key} = {value!r}: "
                                                      f"{allowed}")):
        parse_settings({**MAIL, key: value})


@pytest.mark.parametrize("missing", ["taskdesk.mail.from", "taskdesk.public_url"])
def test_a_mail_host_needs_a_sender_and_the_sites_address(missing: str) -> None:
    raw = {key: value for key, value in MAIL.items() if key != missing}
    with pytest.raises(SettingsError, match=re.escape(missing) + r".*required when "
                       r"taskdesk\.mail\.host is set"):
        parse_settings(raw)


def test_the_log_says_once_at_start_that_mail_is_off(caplog: pytest.LogCaptureFixture) -> None:
    url = "sqlite://"
    with caplog.at_level("INFO", logger="taskdesk.notify.mail"):
        taskdesk.main({}, **app_settings(url, **{
            "taskdesk.includes": "taskdesk.web taskdesk.notify"}))
    said = [r.getMessage() for r in caplog.records if r.name == "taskdesk.notify.mail"]
    assert said == ["e-mail is off: taskdesk.mail.host is not set, so notifications stay in "
                    "the inbox"]
