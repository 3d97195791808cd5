"""Every ``taskdesk.*`` setting, parsed and validated once at start-up.

The table ``OPTIONS`` is the single definition of each key: its default, its parser and the
sentence the README's configuration reference shows. ``parse_settings`` turns the INI's raw
strings into a frozen :class:`TaskdeskSettings` that lives on the registry; nothing else reads
raw ``taskdesk.*`` strings.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from taskdesk.security.passwords import PRODUCTION_COST, Argon2Cost
from taskdesk.security.permissions import DEFAULT_ROLES, PROJECT_PERMISSIONS, Permission
from taskdesk.timezones import is_zone

STATUS_CATEGORIES = ("open", "active", "done", "cancelled")
#: Published values (docs, development.ini) that must never sign cookies outside development.
EXAMPLE_SECRETS = frozenset({
    "change-me", "changeme", "secret", "development-only-secret",
    "development-only-secret-not-for-production-use",
})
MIN_SECRET_LENGTH = 32
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class SettingsError(ValueError):
    """A setting has a value Taskdesk cannot use; the message is one line for the admin."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        super().__init__(f"invalid setting {key} = {value!r}: {allowed}")
        self.key = key


@dataclass(frozen=True)
class Status:
    name: str
    category: str

    @property
    def is_done(self) -> bool:
        return self.category == "done"

    @property
    def is_closed(self) -> bool:
        """Done or cancelled: nothing more is expected of the task."""
        return self.category in ("done", "cancelled")


@dataclass(frozen=True)
class Workflow:
    """The ordered statuses and priorities tasks move through."""

    statuses: tuple[Status, ...]
    priorities: tuple[str, ...]
    default_priority: str

    @property
    def status_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.statuses)

    @property
    def initial_status(self) -> str:
        return self.statuses[0].name

    def status(self, name: str) -> Status:
        for status in self.statuses:
            if status.name == name:
                return status
        raise KeyError(name)

    def names_in(self, *categories: str) -> tuple[str, ...]:
        return tuple(s.name for s in self.statuses if s.category in categories)

    @property
    def first_done(self) -> str:
        return self.names_in("done")[0]


#: What may be attached unless the admin says otherwise: images, PDF, office documents,
#: text, archives (as sniffed from their bytes by ``domain.attachments``).
DEFAULT_ATTACHMENT_TYPES = (
    "image/png image/jpeg image/gif image/webp application/pdf text/plain text/csv "
    "application/zip application/gzip "
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document "
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet "
    "application/vnd.openxmlformats-officedocument.presentationml.presentation "
    "application/vnd.oasis.opendocument.text application/vnd.oasis.opendocument.spreadsheet "
    "application/octet-stream"
)


@dataclass(frozen=True)
class TaskdeskSettings:
    environment: str = "production"
    includes: tuple[str, ...] = ()
    session_secret: str = ""
    https: bool = False
    session_idle_timeout: int = 8 * 3600
    session_max_age: int = 14 * 24 * 3600
    login_account_limit: int = 5
    login_address_limit: int = 30
    login_window: int = 900
    password_cost: Argon2Cost = PRODUCTION_COST
    mfa_require: str = "off"
    mfa_remember_days: int = 30
    mfa_trust_provider: bool = True
    project_creators: str = "everyone"
    workflow: Workflow = field(
        default_factory=lambda: Workflow(
            statuses=_parse_statuses("x", DEFAULT_STATUSES),
            priorities=tuple(DEFAULT_PRIORITIES.split()),
            default_priority="normal",
        )
    )
    roles: Mapping[str, frozenset[Permission]] = field(
        default_factory=lambda: {k: frozenset(v) for k, v in DEFAULT_ROLES.items()}
    )
    sqlite_busy_timeout: int = 5000
    api_default_limit: int = 50
    api_max_limit: int = 200
    api_max_offset: int = 10_000
    api_idempotency_window: int = 86400
    max_body_bytes: int = 1024 * 1024
    graphql_max_depth: int = 10
    graphql_max_aliases: int = 30
    graphql_max_tokens: int = 2000
    graphql_max_query_bytes: int = 16384
    graphql_max_nodes: int = 2000
    graphql_introspection: bool = True
    max_upload_bytes: int = 25 * 1024 * 1024
    #: Where attachment blobs are stored (a directory; see ``taskdesk.storage``).
    attachments_path: str = ""
    attachments_max_file_bytes: int = 20 * 1024 * 1024
    attachments_max_project_bytes: int = 1024 * 1024 * 1024
    attachments_types: tuple[str, ...] = tuple(DEFAULT_ATTACHMENT_TYPES.split())
    metrics_allow: tuple[IPNetwork, ...] = field(
        default_factory=lambda: _parse_networks("x", DEFAULT_METRICS_ALLOW)
    )
    metrics_token: str = ""
    time_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    queue_url: str = "memory:"
    queue_name: str = "taskdesk"
    live_url: str = "memory:"
    live_heartbeat_seconds: int = 15
    live_recheck_seconds: int = 30
    live_max_per_user: int = 10
    live_max_connections: int = 1000
    live_poll_seconds: int = 10
    events_keep_days: int = 30
    notifications_keep_days: int = 180
    public_url: str = ""
    webhooks_allow: WebhookAllowList = field(default_factory=lambda: WebhookAllowList((), ()))
    webhooks_timeout: int = 5
    webhooks_attempts: int = 8
    #: The SMTP server; empty: no e-mail is sent (notifications stay in the inbox).
    mail_host: str = ""
    mail_port: int = 587
    mail_security: str = "starttls"
    mail_username: str = ""
    #: From the environment variable ``taskdesk.mail.password_env`` names; never in the INI.
    mail_password: str = field(default="", repr=False)
    mail_from: str = ""
    mail_batch_seconds: int = 120
    mail_digest_hour: int = 8
    #: Who may sign in with a Taskdesk password: "on" (everyone), "admins", "off".
    local_passwords: str = "on"
    #: The OpenID provider's issuer URL; empty: no OpenID Connect sign-in.
    oidc_issuer: str = ""
    oidc_name: str = ""
    oidc_client_id: str = ""
    #: From the INI or the variable ``taskdesk.oidc.client_secret_env`` names.
    oidc_client_secret: str = field(default="", repr=False)
    oidc_scopes: tuple[str, ...] = ("openid", "email", "profile")
    oidc_link_claim: str = "sub"
    oidc_groups_claim: str = ""
    oidc_timeout: int = 10
    #: The directory server (``ldap://`` or ``ldaps://``); empty: no LDAP sign-in.
    ldap_url: str = ""
    ldap_starttls: bool = False
    ldap_ca_file: str = ""
    ldap_user_dn_template: str = ""
    ldap_base_dn: str = ""
    ldap_username_attribute: str = "uid"
    ldap_user_filter: str = ""
    ldap_bind_dn: str = ""
    #: From the variable ``taskdesk.ldap.bind_password_env`` names; never in the INI.
    ldap_bind_password: str = field(default="", repr=False)
    ldap_display_name_attribute: str = "cn"
    ldap_email_attribute: str = "mail"
    ldap_group_base_dn: str = ""
    ldap_group_filter: str = "(member={dn})"
    ldap_timeout: int = 5
    #: Directory group (name or DN, lower case) -> Taskdesk groups (and ``site-admin``).
    directory_groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def mail_enabled(self) -> bool:
        return bool(self.mail_host)

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer)

    @property
    def ldap_enabled(self) -> bool:
        return bool(self.ldap_url)

    @property
    def oidc_display_name(self) -> str:
        """The provider's name on the sign-in button: ``taskdesk.oidc.name``, else the
        issuer's host."""
        return self.oidc_name or (urlsplit(self.oidc_issuer).hostname or self.oidc_issuer)


@dataclass(frozen=True)
class WebhookAllowList:
    """Where webhooks may reach besides the public internet (``taskdesk.webhooks.allow``):
    IP networks, and host names (a name starting with a dot covers its subdomains)."""

    networks: tuple[IPNetwork, ...]
    hosts: tuple[str, ...]

    def names(self, host: str) -> bool:
        """Whether ``host`` (a lower-case name) is listed by name."""
        return any(host == entry or (entry.startswith(".") and host.endswith(entry))
                   for entry in self.hosts)


DEFAULT_STATUSES = "open:open in_progress:active blocked:active done:done wont_do:cancelled"
DEFAULT_PRIORITIES = "low normal high urgent"
DEFAULT_METRICS_ALLOW = "127.0.0.1 ::1"
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: Pyramid settings that must be off in production (their PYRAMID_* variables are read too).
DEBUG_SETTINGS = (
    "pyramid.reload_all", "pyramid.reload_templates", "pyramid.reload_assets",
    "pyramid.debug_all", "pyramid.debug_authorization", "pyramid.debug_notfound",
    "pyramid.debug_routematch",
)


def _words(value: str) -> list[str]:
    return value.replace(",", " ").split()


def _parse_text(key: str, value: str) -> str:
    """Any text, without surrounding blanks."""
    return value.strip()


def _parse_bool(key: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise SettingsError(key, value, "expected true or false")


def _int_parser(minimum: int, maximum: int) -> Callable[[str, str], int]:
    def parse(key: str, value: str) -> int:
        try:
            number = int(value.strip())
        except ValueError:
            number = minimum - 1
        if not minimum <= number <= maximum:
            raise SettingsError(key, value, f"expected a whole number from {minimum} to {maximum}")
        return number

    return parse


def _choice_parser(*choices: str) -> Callable[[str, str], str]:
    def parse(key: str, value: str) -> str:
        if value.strip() not in choices:
            raise SettingsError(key, value, "expected one of " + ", ".join(choices))
        return value.strip()

    return parse


def _parse_statuses(key: str, value: str) -> tuple[Status, ...]:
    statuses: list[Status] = []
    for item in _words(value):
        name, _, category = item.partition(":")
        if not _NAME.match(name) or category not in STATUS_CATEGORIES:
            raise SettingsError(
                key, value,
                "expected name:category pairs, names in lower case, categories one of "
                + ", ".join(STATUS_CATEGORIES),
            )
        statuses.append(Status(name, category))
    names = [s.name for s in statuses]
    if len(set(names)) != len(names):
        raise SettingsError(key, value, "status names must be unique")
    categories = {s.category for s in statuses}
    if "open" not in categories or "done" not in categories:
        raise SettingsError(key, value, "at least one status of category open and one of done")
    if statuses[0].category != "open":
        raise SettingsError(key, value, "the first status (new tasks) must be of category open")
    return tuple(statuses)


def _parse_priorities(key: str, value: str) -> tuple[str, ...]:
    names = _words(value)
    if not names or len(set(names)) != len(names) or not all(_NAME.match(n) for n in names):
        raise SettingsError(key, value, "expected unique lower-case names, lowest first")
    return tuple(names)


def _parse_includes(key: str, value: str) -> tuple[str, ...]:
    names = _words(value)
    for name in names:
        if not re.match(r"^[A-Za-z_][\w.]*$", name):
            raise SettingsError(key, value, "expected dotted Python package names")
        try:
            found = importlib.util.find_spec(name) is not None
        except ImportError:
            found = False
        if not found:
            raise SettingsError(key, value, f"no installed package named {name}")
    return tuple(names)


def _parse_networks(key: str, value: str) -> tuple[IPNetwork, ...]:
    try:
        return tuple(ipaddress.ip_network(word, strict=False) for word in _words(value))
    except ValueError:
        raise SettingsError(
            key, value, "expected IP addresses or networks, e.g. 127.0.0.1 ::1 10.0.0.0/8"
        ) from None


_HOST_NAME = re.compile(r"^\.?(?!-)[a-z0-9-]{1,63}(?:\.(?!-)[a-z0-9-]{1,63})*$")


def _parse_webhook_allow(key: str, value: str) -> WebhookAllowList:
    networks: list[IPNetwork] = []
    hosts: list[str] = []
    for word in _words(value.lower()):
        try:
            networks.append(ipaddress.ip_network(word, strict=False))
            continue
        except ValueError:
            pass
        if not _HOST_NAME.match(word):
            raise SettingsError(
                key, value, "expected IP addresses, networks or host names, e.g. "
                "10.0.0.0/8 ci.example.com .corp.example.com"
            )
        hosts.append(word)
    return WebhookAllowList(tuple(networks), tuple(hosts))


def _parse_role(key: str, value: str) -> frozenset[Permission]:
    known = {p.value for p in PROJECT_PERMISSIONS}
    words = _words(value)
    if words == ["*"]:
        return frozenset(PROJECT_PERMISSIONS)
    unknown = [w for w in words if w not in known]
    if unknown or not words:
        raise SettingsError(
            key, value, "unknown permission " + ", ".join(unknown) + "; expected * or some of "
            + ", ".join(sorted(known))
        )
    return frozenset(Permission(w) for w in words)


def _parse_queue_url(key: str, value: str) -> str:
    url = value.strip()
    if url and url != "memory:" and not re.match(r"^(sqlite:///.+|rediss?://.+)$", url):
        raise SettingsError(
            key, value, "expected sqlite:///path/to/queue.sqlite, redis://host:port/db, "
            "rediss://... or memory: (tests only)"
        )
    return url


def _parse_media_types(key: str, value: str) -> tuple[str, ...]:
    types = tuple(value.lower().split())
    for media_type in types:
        if not re.fullmatch(r"(\*/\*|[a-z0-9][a-z0-9.+-]*/(\*|[a-z0-9][a-z0-9.+-]*))", media_type):
            raise SettingsError(key, value, f"{media_type!r} is not a media type such as "
                                "image/png or image/*")
    return types


def _parse_directory(key: str, value: str) -> str:
    path = value.strip()
    if path and not path.startswith("/"):
        raise SettingsError(key, value, "expected an absolute directory path, e.g. "
                            "%(here)s/var/attachments in the INI")
    return path


def _parse_live_url(key: str, value: str) -> str:
    url = value.strip()
    pattern = r"^(rediss?|postgres(ql)?(\+psycopg)?)://.+$"
    if url and url != "memory:" and not re.match(pattern, url):
        raise SettingsError(
            key, value, "expected redis://host:port/db, rediss://..., "
            "postgresql://user@host/database or memory: (one process)"
        )
    return url


def _parse_queue_name(key: str, value: str) -> str:
    name = value.strip()
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
        raise SettingsError(key, value, "expected 1 to 64 letters, digits, dots, dashes or "
                            "underscores")
    return name
#: The port each ``taskdesk.mail.security`` uses when ``taskdesk.mail.port`` is empty.
MAIL_PORTS = {"none": 25, "starttls": 587, "tls": 465}


def _parse_port(key: str, value: str) -> int:
    """A TCP port, or 0 (empty) for the usual port of the chosen security."""
    return 0 if not value.strip() else _int_parser(1, 65535)(key, value)


def _parse_host(key: str, value: str) -> str:
    host = value.strip()
    if host and not re.fullmatch(r"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]+\]", host):
        raise SettingsError(key, value, "expected a host name or IP address, e.g. "
                            "smtp.example.com (empty: send no e-mail)")
    return host


def _parse_address(key: str, value: str) -> str:
    """An e-mail address, optionally with a display name: ``Taskdesk <tasks@example.com>``."""
    text = value.strip()
    if not text:
        return ""
    _name, address = parseaddr(text)
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in address):
        raise SettingsError(key, value, "expected an e-mail address such as "
                            "tasks@example.com or Taskdesk <tasks@example.com>")
    return text


def _parse_public_url(key: str, value: str) -> str:
    """The site's absolute address, without a trailing slash."""
    text = value.strip()
    if not text:
        return ""
    parts = urlsplit(text)
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.query
            or parts.fragment or parts.username or parts.password):
        raise SettingsError(key, value, "expected the address people open the site at, "
                            "such as https://tasks.example.com (no query or fragment)")
    return text.rstrip("/")


def _parse_https_url(key: str, value: str) -> str:
    """An issuer URL: https (http only for a loopback address, as in tests), no query."""
    text = value.strip().rstrip("/")
    if not text:
        return ""
    parts = urlsplit(text)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if (parts.scheme != "https" and not (parts.scheme == "http" and loopback)) \
            or not parts.hostname or parts.query or parts.fragment:
        raise SettingsError(key, value, "expected the provider's https:// issuer URL, e.g. "
                            "https://login.example.com/realms/staff")
    return text


def _parse_ldap_url(key: str, value: str) -> str:
    text = value.strip()
    if text and not re.fullmatch(r"ldaps?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?/?",
                                 text):
        raise SettingsError(key, value, "expected ldap://host:389 or ldaps://host:636")
    return text.rstrip("/")


def _parse_template(placeholder: str) -> Callable[[str, str], str]:
    def parse(key: str, value: str) -> str:
        text = value.strip()
        if text and text.count(placeholder) != 1:
            raise SettingsError(key, value, f"expected exactly one {placeholder}")
        return text

    return parse


def _parse_ldap_filter(key: str, value: str) -> str:
    text = value.strip()
    if text and not (text.startswith("(") and text.endswith(")")
                     and text.count("(") == text.count(")")):
        raise SettingsError(key, value, "expected an LDAP filter in parentheses, e.g. "
                            "(objectClass=person)")
    return text


def _parse_attribute(key: str, value: str) -> str:
    text = value.strip()
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,63}", text):
        raise SettingsError(key, value, "expected an LDAP attribute name such as uid")
    return text


def _parse_scopes(key: str, value: str) -> tuple[str, ...]:
    scopes = tuple(_words(value))
    if "openid" not in scopes or not all(re.fullmatch(r"[\x21\x23-\x5b\x5d-\x7e]+", s)
                                         for s in scopes):
        raise SettingsError(key, value, "expected scopes separated by spaces, openid among "
                            "them, e.g. openid email profile groups")
    return scopes


#: The Taskdesk target of a directory group mapping that makes its members site admins.
SITE_ADMIN_TARGET = "site-admin"


def _parse_group_map(key: str, value: str) -> dict[str, tuple[str, ...]]:
    """Lines ``directory group -> taskdesk group`` (a name or a DN on the left; on the right
    a Taskdesk group name or ``site-admin``); a directory group may map to several."""
    mapping: dict[str, list[str]] = {}
    for line in value.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        source, arrow, target = line.rpartition("->")
        source, target = source.strip(), target.strip()
        if not arrow or not source or not re.fullmatch(r"[^\s,]{1,64}", target):
            raise SettingsError(key, line, "expected lines such as `cn=devs,ou=groups,"
                                "dc=example,dc=com -> developers` or `admins -> site-admin`")
        targets = mapping.setdefault(source.lower(), [])
        if target not in targets:
            targets.append(target)
    return {source: tuple(targets) for source, targets in mapping.items()}


def default_queue_url(database_url: str) -> str | None:
    """The queue beside a SQLite database file (``var/taskdesk.sqlite`` ->
    ``var/taskdesk-queue.sqlite``); None when the database is not a SQLite file."""
    try:
        parsed = make_url(database_url)
    except ArgumentError:  # resolve_database_url reports the bad URL
        return "memory:"
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        return "memory:"
    stem, dot, _suffix = parsed.database.rpartition(".")
    return f"sqlite:///{stem if dot else parsed.database}-queue.sqlite"


def default_attachments_path(database_url: str) -> str | None:
    """Attachments beside a SQLite database file (``var/taskdesk.sqlite`` ->
    ``var/taskdesk-attachments``); a temporary directory for an in-memory database (tests);
    None when the database is not SQLite."""
    try:
        parsed = make_url(database_url)
    except ArgumentError:
        return ""
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        return os.path.join(tempfile.gettempdir(), "taskdesk-attachments")
    stem, dot, _suffix = parsed.database.rpartition(".")
    return f"{stem if dot else parsed.database}-attachments"


def _parse_time_zone(key: str, value: str) -> ZoneInfo:
    name = value.strip()
    if not is_zone(name):
        raise SettingsError(
            key, value, "expected an IANA time zone name such as UTC or Asia/Shanghai "
            "(case matters)"
        )
    return ZoneInfo(name)


@dataclass(frozen=True)
class Option:
    key: str
    attribute: str
    default: str
    parse: Callable[[str, str], Any]
    doc: str


OPTIONS: tuple[Option, ...] = (
    Option("taskdesk.environment", "environment", "production",
           _choice_parser("development", "production"),
           "`development` relaxes the session-secret checks; anything served to people is "
           "`production`."),
    Option("taskdesk.includes", "includes", "", _parse_includes,
           "Feature packages to switch on, included after the core, e.g. "
           "`taskdesk.web taskdesk.api`."),
    Option("taskdesk.session.secret", "session_secret", "", _parse_text,
           "Secret signing session cookies (at least 32 characters). Prefer "
           "`taskdesk.session.secret_env`."),
    Option("taskdesk.https", "https", "false", _parse_bool,
           "The site is served over HTTPS: cookies get the `Secure` flag and HSTS is sent. "
           "Over plain HTTP nobody can sign in then; the sign-in page and the log say so."),
    Option("taskdesk.session.idle_timeout", "session_idle_timeout", "28800",
           _int_parser(60, 365 * 86400),
           "Seconds of inactivity after which a signed-in session ends (at most a twelfth of "
           "it, and at most a minute, later: a session's last use is recorded that often). "
           "The sign-in page and the API say why a session ended."),
    Option("taskdesk.session.max_age", "session_max_age", "1209600",
           _int_parser(60, 365 * 86400),
           "Seconds after sign-in after which a session ends however active it is."),
    Option("taskdesk.login.account_limit", "login_account_limit", "5", _int_parser(1, 1000),
           "Failed sign-ins per account within the window before that account is throttled."),
    Option("taskdesk.login.address_limit", "login_address_limit", "30", _int_parser(1, 100000),
           "Failed sign-ins and bad API tokens per client address within the window before it "
           "is throttled (the API answers 429)."),
    Option("taskdesk.login.window", "login_window", "900", _int_parser(10, 86400),
           "The throttling window in seconds."),
    Option("taskdesk.passwords.argon2_time_cost", "argon2_time_cost",
           str(PRODUCTION_COST.time_cost), _int_parser(1, 100),
           "Argon2id passes over memory for each password hash. Lower costs are for test "
           "suites only: a stored hash made at another cost is replaced at its next sign-in."),
    Option("taskdesk.passwords.argon2_memory_cost", "argon2_memory_cost",
           str(PRODUCTION_COST.memory_cost), _int_parser(8, 4 * 1024 * 1024),
           "KiB of memory each password hash takes (at least 8 per lane)."),
    Option("taskdesk.passwords.argon2_parallelism", "argon2_parallelism",
           str(PRODUCTION_COST.parallelism), _int_parser(1, 64),
           "Argon2id lanes for each password hash."),
    Option("taskdesk.mfa.require", "mfa_require", "off",
           _choice_parser("off", "admins", "everyone"),
           "Who must use two-factor authentication: nobody (`off`; anybody may choose to), "
           "site `admins`, or `everyone`. Who must and has not set it up is taken to the "
           "set-up page at sign-in and can do nothing else until done."),
    Option("taskdesk.mfa.remember_days", "mfa_remember_days", "30", _int_parser(0, 365),
           "Days a browser may skip the second factor when the user ticks \"remember this "
           "device\" (0: the option is not offered)."),
    Option("taskdesk.mfa.trust_provider", "mfa_trust_provider", "true", _parse_bool,
           "Sign-ins through OIDC or LDAP trust the provider's own second factor, and ask "
           "for none here; `false` asks for Taskdesk's too."),
    Option("taskdesk.projects.creators", "project_creators", "everyone",
           _choice_parser("everyone", "admins"),
           "Who may create projects: `everyone` signed in, or site `admins` only."),
    Option("taskdesk.workflow.statuses", "statuses", DEFAULT_STATUSES, _parse_statuses,
           "Ordered task statuses as `name:category` (categories: open, active, done, "
           "cancelled); the first is the status of new tasks."),
    Option("taskdesk.workflow.priorities", "priorities", DEFAULT_PRIORITIES, _parse_priorities,
           "Task priorities, lowest first."),
    Option("taskdesk.workflow.default_priority", "default_priority", "normal",
           _parse_text, "Priority of a new task when none is given."),
    Option("taskdesk.sqlite.busy_timeout", "sqlite_busy_timeout", "5000",
           _int_parser(0, 600_000),
           "Milliseconds a SQLite writer waits for the lock before giving up."),
    Option("taskdesk.api.default_limit", "api_default_limit", "50", _int_parser(1, 1000),
           "Items per page of a JSON list when the client gives no `limit`."),
    Option("taskdesk.api.max_limit", "api_max_limit", "200", _int_parser(1, 1000),
           "Largest `limit` a client may ask for."),
    Option("taskdesk.api.max_offset", "api_max_offset", "10000", _int_parser(0, 10_000_000),
           "Largest `offset` accepted (deeper pages use the cursor)."),
    Option("taskdesk.api.idempotency_window", "api_idempotency_window", "86400",
           _int_parser(60, 30 * 86400),
           "Seconds an `Idempotency-Key` of a creating API request is remembered: a retry "
           "with the same key within this time gets the first answer instead of creating "
           "again (`purge` removes older keys)."),
    Option("taskdesk.graphql.max_depth", "graphql_max_depth", "10", _int_parser(2, 50),
           "Deepest nesting of fields a GraphQL query may have (`taskdesk.graphql` "
           "included); deeper ones are refused before anything runs."),
    Option("taskdesk.graphql.max_aliases", "graphql_max_aliases", "30", _int_parser(0, 1000),
           "Most aliases (`a: task(...)`) one GraphQL query may use."),
    Option("taskdesk.graphql.max_tokens", "graphql_max_tokens", "2000",
           _int_parser(50, 100_000),
           "Most tokens (names, braces, strings...) of one GraphQL query; longer ones are "
           "refused while parsing."),
    Option("taskdesk.graphql.max_query_bytes", "graphql_max_query_bytes", "16384",
           _int_parser(256, 1024 * 1024),
           "Largest GraphQL query text in bytes (413 beyond it)."),
    Option("taskdesk.graphql.max_nodes", "graphql_max_nodes", "2000",
           _int_parser(1, 100_000),
           "Most objects (tasks, comments, members...) one GraphQL answer may hold; `first` "
           "is at most `taskdesk.api.max_limit` in every list, as in the JSON API."),
    Option("taskdesk.graphql.introspection", "graphql_introspection", "true", _parse_bool,
           "Whether GraphQL clients may ask the schema (`__schema`, `__type`); the schema is "
           "also in the repository (`src/taskdesk/graphql/schema.graphql`)."),
    Option("taskdesk.max_body_bytes", "max_body_bytes", "1048576",
           _int_parser(1024, 100 * 1024 * 1024),
           "Largest request body in bytes; larger ones get 413."),
    Option("taskdesk.max_upload_bytes", "max_upload_bytes", "26214400",
           _int_parser(1024, 10 * 1024 * 1024 * 1024),
           "Largest upload (a `multipart/form-data` request body) in bytes; larger ones get "
           "413 before the body is read. Keep the servers' own body limits just above it."),
    Option("taskdesk.attachments.path", "attachments_path", "", _parse_directory,
           "Directory holding attachment files (created at start-up; it must be writable). "
           "Empty: a folder beside a SQLite database file (`taskdesk-attachments`); "
           "required with PostgreSQL. Keep it outside the installed package and back it up "
           "with the database."),
    Option("taskdesk.attachments.max_file_bytes", "attachments_max_file_bytes", "20971520",
           _int_parser(1, 10 * 1024 * 1024 * 1024),
           "Largest attached file in bytes."),
    Option("taskdesk.attachments.max_project_bytes", "attachments_max_project_bytes",
           "1073741824", _int_parser(1, 2**50),
           "Total size in bytes of the files attached in one project (counted per "
           "attachment, even where identical files are stored once)."),
    Option("taskdesk.attachments.types", "attachments_types", DEFAULT_ATTACHMENT_TYPES,
           _parse_media_types,
           "Media types people may attach, as sniffed from the file's bytes (the name and "
           "the client's claim are not trusted); `type/*` allows a whole family, `*/*` "
           "anything. Only PNG, JPEG, GIF and WebP images are ever shown inline."),
    Option("taskdesk.metrics.allow", "metrics_allow", DEFAULT_METRICS_ALLOW, _parse_networks,
           "Client addresses or networks (the server's `REMOTE_ADDR`) that may read "
           "`/metrics` when `taskdesk.metrics` is included; empty to allow none."),
    Option("taskdesk.metrics.token", "metrics_token", "", _parse_text,
           "A bearer token that also grants `/metrics` (`Authorization: Bearer ...`) from "
           "any address; empty for none."),
    Option("taskdesk.time_zone", "time_zone", "UTC", _parse_time_zone,
           "The site's time zone (an IANA name such as `Asia/Shanghai`): pages show times "
           "and count \"today\" and \"overdue\" in it for people who chose none in their "
           "profile. The API and CSV exports stay in UTC."),
    Option("taskdesk.queue.url", "queue_url", "", _parse_queue_url,
           "Where the task queue keeps its jobs: `sqlite:///path` (one machine), "
           "`redis://host:6379/0` (web processes and workers on several machines) or "
           "`memory:` (one process; tests). Empty: a SQLite file beside a SQLite database "
           "(`taskdesk-queue.sqlite`); required with PostgreSQL."),
    Option("taskdesk.queue.name", "queue_name", "taskdesk", _parse_queue_name,
           "The queue's name in its store: installations (or test runs) sharing one Redis "
           "need different names."),
    Option("taskdesk.live.url", "live_url", "", _parse_live_url,
           "Where live updates travel between processes: `redis://host:6379/0` (Redis "
           "pub/sub), `postgresql://user@host/database` (PostgreSQL LISTEN/NOTIFY, for sites "
           "without Redis) or `memory:` (one process only). Empty: the queue's Redis when "
           "`taskdesk.queue.url` is one, else `memory:`."),
    Option("taskdesk.live.heartbeat_seconds", "live_heartbeat_seconds", "15",
           _int_parser(1, 300),
           "Seconds between heartbeats (a comment line) on an idle event stream, so proxies "
           "keep it open and a gone client is noticed."),
    Option("taskdesk.live.recheck_seconds", "live_recheck_seconds", "30",
           _int_parser(1, 3600),
           "Seconds between re-checks of an open event stream's session and permission: "
           "someone signed out or removed from the project stops receiving within this time."),
    Option("taskdesk.live.max_per_user", "live_max_per_user", "10", _int_parser(1, 1000),
           "Open event streams one person may hold in one process (one per open page); "
           "beyond it a stream is refused with 429 and the page polls instead."),
    Option("taskdesk.live.max_connections", "live_max_connections", "1000",
           _int_parser(1, 1_000_000),
           "Open event streams one process serves; beyond it a stream is refused with 503 "
           "and the page polls instead. Each holds a file descriptor."),
    Option("taskdesk.live.poll_seconds", "live_poll_seconds", "10", _int_parser(2, 3600),
           "Seconds between a page's polls for changes where no event stream is served "
           "(Waitress) or one was refused."),
    Option("taskdesk.events.keep_days", "events_keep_days", "30", _int_parser(1, 3650),
           "Days a dispatched event stays in the outbox before the daily purge deletes it "
           "(pending and parked events stay)."),
    Option("taskdesk.notifications.keep_days", "notifications_keep_days", "180",
           _int_parser(0, 3650),
           "Days a read notification stays in its reader's inbox before the daily purge "
           "deletes it; unread ones stay. 0 keeps them all."),
    Option("taskdesk.public_url", "public_url", "", _parse_public_url,
           "The site's address as people reach it, e.g. `https://tasks.example.com`: links "
           "sent outside a request (e-mails, webhook payloads) start with it. Required when "
           "e-mail is on; without it webhook payloads carry no links."),
    Option("taskdesk.webhooks.allow", "webhooks_allow", "", _parse_webhook_allow,
           "Where webhooks may deliver besides public addresses: IP addresses, networks and "
           "host names (`.example.com` covers its subdomains). Empty: loopback, private, "
           "link-local (the cloud metadata address 169.254.169.254 too) and other "
           "non-public addresses are refused, when a hook is saved and again at every "
           "delivery. A listed name may resolve to private addresses, but never to "
           "link-local ones unless their network is listed."),
    Option("taskdesk.webhooks.timeout", "webhooks_timeout", "5", _int_parser(1, 60),
           "Seconds a webhook delivery may take (connecting, sending and reading the "
           "answer) before it counts as failed and is retried."),
    Option("taskdesk.webhooks.attempts", "webhooks_attempts", "8", _int_parser(1, 20),
           "Attempts of a webhook delivery that fails with a network error, a timeout, a 5xx "
           "or a 429 before it is parked (retried after 1, 2, 4... minutes, at most 6 hours "
           "apart)."),
    Option("taskdesk.mail.host", "mail_host", "", _parse_host,
           "The SMTP server e-mail is sent through. Empty: no e-mail is sent (the log says so "
           "at start) and notifications stay in the inbox."),
    Option("taskdesk.mail.port", "mail_port", "", _parse_port,
           "Its port; empty for the usual one of `taskdesk.mail.security` (25, 587 or 465)."),
    Option("taskdesk.mail.security", "mail_security", "starttls",
           _choice_parser(*MAIL_PORTS),
           "`starttls` (upgrade a plain connection, usually port 587), `tls` (TLS from the "
           "start, usually 465) or `none` (a relay on the same machine or network only). The "
           "server's certificate is verified against the system's certificate authorities."),
    Option("taskdesk.mail.username", "mail_username", "", _parse_text,
           "The SMTP user name; empty to send without signing in. Its password comes from "
           "the variable `taskdesk.mail.password_env` names."),
    Option("taskdesk.mail.from", "mail_from", "", _parse_address,
           "The sender of every mail, e.g. `Taskdesk <tasks@example.com>`. Required when "
           "e-mail is on."),
    Option("taskdesk.mail.batch_seconds", "mail_batch_seconds", "120",
           _int_parser(0, 3600),
           "Seconds a notification waits for others before its e-mail is sent, so a burst "
           "of changes arrives as one mail (the mail job runs every minute)."),
    Option("taskdesk.mail.digest_hour", "mail_digest_hour", "8", _int_parser(0, 23),
           "The hour (0-23) of the daily digest, in each recipient's time zone."),
    Option("taskdesk.auth.local_passwords", "local_passwords", "on",
           _choice_parser("on", "admins", "off"),
           "Who may sign in with a password kept by Taskdesk: `on` (everyone), `admins` "
           "(site admins only, e.g. as a way in when the directory is down) or `off` "
           "(directory sign-in only; needs OpenID Connect or LDAP). `taskdesk INI "
           "set-password` works in every mode (see the README on recovery)."),
    Option("taskdesk.oidc.issuer", "oidc_issuer", "", _parse_https_url,
           "The OpenID provider's issuer URL; its discovery document "
           "(`/.well-known/openid-configuration`) names everything else. Empty: no "
           "\"Sign in with ...\" button."),
    Option("taskdesk.oidc.name", "oidc_name", "", _parse_text,
           "The provider's name on the sign-in button; empty: the issuer's host name."),
    Option("taskdesk.oidc.client_id", "oidc_client_id", "", _parse_text,
           "The client id Taskdesk is registered under at the provider (the redirect URI to "
           "register is `<site>/oidc-callback`)."),
    Option("taskdesk.oidc.client_secret", "oidc_client_secret", "", _parse_text,
           "The client's secret; prefer `taskdesk.oidc.client_secret_env`."),
    Option("taskdesk.oidc.scopes", "oidc_scopes", "openid email profile", _parse_scopes,
           "Scopes asked for; add the one that releases the groups claim if the provider "
           "needs it."),
    Option("taskdesk.oidc.link_claim", "oidc_link_claim", "sub", _choice_parser("sub", "email"),
           "How a first sign-in finds its account: `sub` (a new account per provider "
           "subject) or `email` (an existing account with the same address is linked, only "
           "when the provider says `email_verified`)."),
    Option("taskdesk.oidc.groups_claim", "oidc_groups_claim", "", _parse_text,
           "The ID token or userinfo claim listing the person's groups (e.g. `groups`), for "
           "`taskdesk.directory.groups`; empty: OpenID sign-ins change no groups."),
    Option("taskdesk.oidc.timeout", "oidc_timeout", "10", _int_parser(1, 60),
           "Seconds each request to the provider (discovery, keys, token) may take."),
    Option("taskdesk.ldap.url", "ldap_url", "", _parse_ldap_url,
           "The LDAP or Active Directory server, `ldap://host:389` or `ldaps://host:636`. "
           "Empty: no LDAP. With it, the sign-in form checks passwords against the "
           "directory (accounts are created at the first sign-in)."),
    Option("taskdesk.ldap.starttls", "ldap_starttls", "false", _parse_bool,
           "Upgrade an `ldap://` connection with STARTTLS before sending any password."),
    Option("taskdesk.ldap.ca_file", "ldap_ca_file", "", _parse_text,
           "Certificate authorities (a PEM file) for LDAPS and STARTTLS; empty: the "
           "system's. The server's certificate is always verified."),
    Option("taskdesk.ldap.user_dn_template", "ldap_user_dn_template", "",
           _parse_template("{username}"),
           "Bind as the person: their DN with `{username}` in it, e.g. "
           "`uid={username},ou=people,dc=example,dc=com` (or `{username}@corp.example.com` "
           "for Active Directory). Empty: search-then-bind with `taskdesk.ldap.bind_dn`."),
    Option("taskdesk.ldap.base_dn", "ldap_base_dn", "", _parse_text,
           "Where people's entries are searched, e.g. `ou=people,dc=example,dc=com`."),
    Option("taskdesk.ldap.username_attribute", "ldap_username_attribute", "uid",
           _parse_attribute,
           "The attribute holding the username (`sAMAccountName` in Active Directory)."),
    Option("taskdesk.ldap.user_filter", "ldap_user_filter", "", _parse_ldap_filter,
           "An extra filter people's entries must match, e.g. `(objectClass=person)`."),
    Option("taskdesk.ldap.bind_dn", "ldap_bind_dn", "", _parse_text,
           "The service account searching for people (search-then-bind); its password comes "
           "from the variable `taskdesk.ldap.bind_password_env` names."),
    Option("taskdesk.ldap.display_name_attribute", "ldap_display_name_attribute", "cn",
           _parse_attribute, "The attribute holding a person's display name."),
    Option("taskdesk.ldap.email_attribute", "ldap_email_attribute", "mail", _parse_attribute,
           "The attribute holding a person's e-mail address."),
    Option("taskdesk.ldap.group_base_dn", "ldap_group_base_dn", "", _parse_text,
           "Where groups are searched (with `taskdesk.ldap.group_filter`); empty: a "
           "person's groups are read from their `memberOf` attribute."),
    Option("taskdesk.ldap.group_filter", "ldap_group_filter", "(member={dn})",
           _parse_ldap_filter,
           "The filter finding a person's groups; `{dn}` is their DN (escaped). "
           "`(uniqueMember={dn})` for `groupOfUniqueNames`."),
    Option("taskdesk.ldap.timeout", "ldap_timeout", "5", _int_parser(1, 60),
           "Seconds connecting to and each answer from the directory may take."),
    Option("taskdesk.directory.groups", "directory_groups", "", _parse_group_map,
           "Directory groups to Taskdesk groups, one `directory group -> taskdesk group` per "
           "line (a group's name or DN on the left; `site-admin` on the right grants site "
           "admin rights). At each directory sign-in the mapped Taskdesk groups are set to "
           "follow the directory (added and removed); unmapped ones are left alone."),
)

#: Keys documented outside ``OPTIONS`` because their value is a name, not the value itself.
ENVIRONMENT_OPTIONS: tuple[tuple[str, str], ...] = (
    ("taskdesk.session.secret_env",
     "Name of an environment variable holding the session secret; wins over "
     "`taskdesk.session.secret` when that variable is set."),
    ("taskdesk.database.url_env",
     "Name of an environment variable holding the database URL; when that variable is set "
     "it wins over `sqlalchemy.url` (one INI for every container: deploy/container.ini)."),
    ("taskdesk.database.password_env",
     "Name of an environment variable holding the database password, inserted into "
     "`sqlalchemy.url`."),
    ("taskdesk.queue.url_env",
     "Name of an environment variable holding the task queue's URL; when that variable is "
     "set it wins over `taskdesk.queue.url`."),
    ("taskdesk.mail.password_env",
     "Name of an environment variable holding the SMTP password (with "
     "`taskdesk.mail.username`); start fails when it names an unset variable."),
    ("taskdesk.oidc.client_secret_env",
     "Name of an environment variable holding the OpenID client secret; wins over "
     "`taskdesk.oidc.client_secret` when that variable is set."),
    ("taskdesk.ldap.bind_password_env",
     "Name of an environment variable holding the password of `taskdesk.ldap.bind_dn`; start "
     "fails when it names an unset variable."),
    ("taskdesk.roles.<name>",
     "A project role and the permissions it grants (`*` for all). Defaults: viewer, member, "
     "manager; add keys to define more."),
)


def _environment_value(raw: Mapping[str, Any], key: str) -> str | None:
    name = str(raw.get(key, "") or "").strip()
    if not name:
        return None
    value = os.environ.get(name)
    return value if value else None


def _database_url(raw: Mapping[str, Any]) -> str:
    """The URL from the variable ``taskdesk.database.url_env`` names, or ``sqlalchemy.url``."""
    from_environment = _environment_value(raw, "taskdesk.database.url_env")
    return (from_environment or str(raw.get("sqlalchemy.url", "") or "")).strip()


def resolve_database_url(raw: Mapping[str, Any]) -> str:
    """The database URL (:func:`_database_url`) with the password from the environment
    variable the INI names."""
    url = _database_url(raw)
    if not url:
        raise SettingsError("sqlalchemy.url", url, "a database URL is required")
    key, shown = "sqlalchemy.url", url
    if _environment_value(raw, "taskdesk.database.url_env") is not None:
        # Name the variable, not its value: a URL may carry a password.
        key = "taskdesk.database.url_env"
        shown = str(raw[key]).strip()
    try:
        parsed = make_url(url)
    except Exception:
        raise SettingsError(key, shown, "expected a SQLAlchemy database URL") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise SettingsError(key, shown, "expected a sqlite or postgresql URL")
    password = _environment_value(raw, "taskdesk.database.password_env")
    if password is not None:
        parsed = parsed.set(password=password)
    return parsed.render_as_string(hide_password=False)


def _refuse_debug_in_production(raw: Mapping[str, Any]) -> None:
    """Debug settings and the debug toolbar expose internals; refuse them in production."""
    for key in DEBUG_SETTINGS:
        variable = "PYRAMID_" + key.removeprefix("pyramid.").upper()
        for name, value in ((key, raw.get(key)), (variable, os.environ.get(variable))):
            if value is not None and str(value).strip().lower() in ("true", "yes", "on", "1"):
                raise SettingsError(
                    name, value, "debug settings must be off when taskdesk.environment = "
                    "production"
                )
    for key in ("pyramid.includes", "taskdesk.includes"):
        if "pyramid_debugtoolbar" in _words(str(raw.get(key, "") or "")):
            raise SettingsError(
                key, "pyramid_debugtoolbar", "the debug toolbar must not be included when "
                "taskdesk.environment = production"
            )


def _check_session_secret(secret: str, variable: str, from_environment: bool) -> None:
    """Refuse a missing, short or published secret, naming where it was looked for: the
    environment variable the INI points at (``taskdesk.session.secret_env``) or the INI key."""
    advice = (f"a random secret of at least {MIN_SECRET_LENGTH} characters, e.g. from "
              "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'")
    if not secret:
        if variable:
            raise SettingsError(
                "taskdesk.session.secret_env", variable,
                f"the environment variable {variable} is not set or empty; export {variable} "
                f"with {advice}",
            )
        raise SettingsError(
            "taskdesk.session.secret", "", "a secret is required outside development "
            "(set it, or name an environment variable in taskdesk.session.secret_env)"
        )
    if secret.lower() in EXAMPLE_SECRETS or len(secret) < MIN_SECRET_LENGTH:
        if from_environment:
            raise SettingsError(
                "taskdesk.session.secret_env", variable,
                f"the environment variable {variable} holds a short or example secret; use "
                f"{advice}",
            )
        raise SettingsError("taskdesk.session.secret", "<hidden>",
                            f"use {advice}, not an example value")


def settings_of(registry: Any) -> TaskdeskSettings:
    """The settings ``make_configurator`` validated and put on the Pyramid registry: the one
    typed way to read them (``settings_of(request.registry)``)."""
    settings: TaskdeskSettings = registry.taskdesk_settings
    return settings


def parse_settings(raw: Mapping[str, Any]) -> TaskdeskSettings:
    """Validate every ``taskdesk.*`` key; raise :class:`SettingsError` on the first bad one."""
    known = {o.key for o in OPTIONS} | {k for k, _ in ENVIRONMENT_OPTIONS}
    for key in raw:
        if key.startswith("taskdesk.") and key not in known and not key.startswith(
            "taskdesk.roles."
        ):
            raise SettingsError(key, raw[key], "unknown setting (see the README's table)")

    values: dict[str, Any] = {}
    for option in OPTIONS:
        text = raw.get(option.key)
        text = option.default if text is None else str(text)
        values[option.attribute] = option.parse(option.key, text)

    secret_variable = str(raw.get("taskdesk.session.secret_env", "") or "").strip()
    from_environment = _environment_value(raw, "taskdesk.session.secret_env")
    secret = from_environment or values["session_secret"]
    environment = values["environment"]
    if environment == "production":
        _refuse_debug_in_production(raw)
    if environment != "development":
        _check_session_secret(secret, secret_variable, from_environment is not None)
    elif not secret:
        secret = "development-only-secret"
    values["session_secret"] = secret

    priorities = values.pop("priorities")
    default_priority = values.pop("default_priority")
    if default_priority not in priorities:
        raise SettingsError(
            "taskdesk.workflow.default_priority", default_priority,
            "expected one of " + ", ".join(priorities),
        )
    values["workflow"] = Workflow(values.pop("statuses"), priorities, default_priority)

    cost = Argon2Cost(values.pop("argon2_time_cost"), values.pop("argon2_memory_cost"),
                      values.pop("argon2_parallelism"))
    if cost.memory_cost < 8 * cost.parallelism:
        raise SettingsError("taskdesk.passwords.argon2_memory_cost", cost.memory_cost,
                            f"expected at least 8 KiB per lane ({8 * cost.parallelism})")
    values["password_cost"] = cost

    roles = {name: frozenset(perms) for name, perms in DEFAULT_ROLES.items()}
    for key, value in raw.items():
        if key.startswith("taskdesk.roles."):
            name = key.removeprefix("taskdesk.roles.")
            if not _NAME.match(name):
                raise SettingsError(key, value, "role names are lower-case words")
            roles[name] = _parse_role(key, str(value))
    values["roles"] = roles

    queue_from_environment = _environment_value(raw, "taskdesk.queue.url_env")
    if queue_from_environment is not None:
        variable = str(raw["taskdesk.queue.url_env"]).strip()
        try:
            values["queue_url"] = _parse_queue_url(variable, queue_from_environment)
        except SettingsError:  # the message would show the URL, and a password in it
            raise SettingsError(
                "taskdesk.queue.url_env", variable, f"the environment variable {variable} "
                "holds no queue URL: expected sqlite:///path, redis://host:port/db or "
                "rediss://...") from None
    if not values["queue_url"]:
        derived = default_queue_url(_database_url(raw) or "sqlite://")
        if derived is None:
            raise SettingsError(
                "taskdesk.queue.url", "", "required when the database is not a SQLite file: "
                "redis://host:6379/0 for several machines, sqlite:///path for one"
            )
        values["queue_url"] = derived

    if not values["attachments_path"]:
        derived_path = default_attachments_path(_database_url(raw) or "sqlite://")
        if derived_path is None:
            raise SettingsError(
                "taskdesk.attachments.path", "", "required when the database is not a SQLite "
                "file: a writable directory outside the package, e.g. /var/lib/taskdesk/files"
            )
        values["attachments_path"] = derived_path
    if not values["live_url"]:
        queue = values["queue_url"]
        values["live_url"] = queue if queue.startswith(("redis://", "rediss://")) else "memory:"

    _check_mail(raw, values)
    _check_directory(raw, values)

    if values["api_default_limit"] > values["api_max_limit"]:
        raise SettingsError(
            "taskdesk.api.default_limit", values["api_default_limit"],
            "must not exceed taskdesk.api.max_limit",
        )
    return TaskdeskSettings(**values)


def _check_mail(raw: Mapping[str, Any], values: dict[str, Any]) -> None:
    """The password from the environment, the port from the security, and what e-mail needs
    once a host is set (a sender and the site's address for links)."""
    variable = str(raw.get("taskdesk.mail.password_env", "") or "").strip()
    if variable:
        password = _environment_value(raw, "taskdesk.mail.password_env")
        if password is None:
            raise SettingsError("taskdesk.mail.password_env", variable,
                                f"the environment variable {variable} is not set or empty")
        values["mail_password"] = password
    if not values["mail_port"]:
        values["mail_port"] = MAIL_PORTS[values["mail_security"]]
    if values["mail_host"]:
        if not values["mail_from"]:
            raise SettingsError("taskdesk.mail.from", "", "required when taskdesk.mail.host "
                                "is set, e.g. Taskdesk <tasks@example.com>")
        if not values["public_url"]:
            raise SettingsError("taskdesk.public_url", "", "required when taskdesk.mail.host "
                                "is set: links in e-mails need the site's address, e.g. "
                                "https://tasks.example.com")


def _check_directory(raw: Mapping[str, Any], values: dict[str, Any]) -> None:
    """Secrets from the environment, and what each sign-in method needs once it is on."""
    secret = _environment_value(raw, "taskdesk.oidc.client_secret_env")
    if secret is not None:
        values["oidc_client_secret"] = secret
    variable = str(raw.get("taskdesk.ldap.bind_password_env", "") or "").strip()
    if variable:
        password = _environment_value(raw, "taskdesk.ldap.bind_password_env")
        if password is None:
            raise SettingsError("taskdesk.ldap.bind_password_env", variable,
                                f"the environment variable {variable} is not set or empty")
        values["ldap_bind_password"] = password
    if values["oidc_issuer"] and not values["oidc_client_id"]:
        raise SettingsError("taskdesk.oidc.client_id", "", "required when "
                            "taskdesk.oidc.issuer is set")
    if values["ldap_url"]:
        if not values["ldap_user_dn_template"] and not (
                values["ldap_bind_dn"] and values["ldap_base_dn"]):
            raise SettingsError("taskdesk.ldap.user_dn_template", "", "LDAP needs either a "
                                "DN template (bind as the person) or taskdesk.ldap.bind_dn "
                                "and taskdesk.ldap.base_dn (search, then bind)")
        template = values["ldap_user_dn_template"]
        if template and "=" not in template.split(",", 1)[0] and not values["ldap_base_dn"]:
            raise SettingsError("taskdesk.ldap.base_dn", "", "required with a template that "
                                "is not a DN (such as {username}@corp.example.com): the "
                                "person's entry is searched there")
        if values["ldap_starttls"] and values["ldap_url"].startswith("ldaps:"):
            raise SettingsError("taskdesk.ldap.starttls", "true", "STARTTLS is for ldap:// "
                                "URLs; ldaps:// is encrypted from the start")
    if values["local_passwords"] == "off" and not (values["oidc_issuer"]
                                                   or values["ldap_url"]):
        raise SettingsError("taskdesk.auth.local_passwords", "off", "nobody could sign in: "
                            "set up taskdesk.oidc.issuer or taskdesk.ldap.url first")


def configuration_table() -> str:
    """The README's configuration reference, as Markdown, from the definitions above."""
    lines = ["| key | default | meaning |", "|---|---|---|"]
    for option in OPTIONS:
        default = " ".join(option.default.split())
        shown = f"`{default}`" if default else "(empty)"
        lines.append(f"| `{option.key}` | {shown} | {option.doc} |")
    for key, doc in ENVIRONMENT_OPTIONS:
        lines.append(f"| `{key}` | (unset) | {doc} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - `python -m taskdesk.settings` prints the table
    print(configuration_table(), end="")
