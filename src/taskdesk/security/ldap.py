"""Checking a password against LDAP or Active Directory (ldap3, pure Python).

Two ways to find the person: bind with their DN built from ``taskdesk.ldap.user_dn_template``,
or search for their entry as a service account and then bind with its DN. Values typed by
people go into DNs and filters escaped only (``*)(uid=*`` matches nobody). Every network step
is bounded by ``taskdesk.ldap.timeout``; a directory that cannot be reached raises
:class:`DirectoryUnavailable`, never a wrong-password answer.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

from ldap3 import BASE, NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

from taskdesk.settings import TaskdeskSettings

#: Active Directory's userAccountControl bit of a disabled account.
ACCOUNTDISABLE = 0x2


class DirectoryUnavailable(Exception):
    """The directory could not be reached or did not answer in time."""


@dataclass(frozen=True)
class LdapEntry:
    dn: str
    username: str
    display_name: str
    email: str
    groups: tuple[str, ...]


@dataclass(frozen=True)
class LdapOutcome:
    """What the directory said: the person's entry when the password was right; ``gone``
    when a search found no entry (search-then-bind only), ``disabled`` when the entry is
    disabled (Active Directory)."""

    entry: LdapEntry | None = None
    gone: bool = False
    disabled: bool = False


def _server(settings: TaskdeskSettings) -> Server:
    secure = settings.ldap_url.startswith("ldaps:") or settings.ldap_starttls
    tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=settings.ldap_ca_file or None) \
        if secure else None
    return Server(settings.ldap_url, use_ssl=settings.ldap_url.startswith("ldaps:"), tls=tls,
                  get_info=NONE, connect_timeout=settings.ldap_timeout)


def _connect(settings: TaskdeskSettings, server: Server, user: str, password: str) -> Any:
    """An open (STARTTLS'd if asked) connection bound as ``user``, or None when the
    directory refused the credentials."""
    connection = Connection(server, user=user, password=password, auto_bind=False,
                            read_only=True, receive_timeout=settings.ldap_timeout,
                            raise_exceptions=False, auto_referrals=False)
    connection.open()
    if settings.ldap_starttls and not connection.start_tls():
        raise DirectoryUnavailable("STARTTLS failed")
    if not connection.bind():
        connection.unbind()
        return None
    return connection


def _first(attributes: dict[str, Any], name: str) -> str:
    value = attributes.get(name)
    if isinstance(value, list):
        value = value[0] if value else ""
    return "" if value is None else str(value)


def authenticate(settings: TaskdeskSettings, username: str, password: str) -> LdapOutcome:
    """Check ``password`` for ``username``; an empty password is refused before anything is
    sent (a simple bind without one is an anonymous bind, which servers accept)."""
    username = username.strip()
    if not username or not password:
        return LdapOutcome()
    try:
        return _authenticate(settings, username, password)
    except LDAPException as error:
        raise DirectoryUnavailable(str(error)) from error


def _authenticate(settings: TaskdeskSettings, username: str, password: str) -> LdapOutcome:
    server = _server(settings)
    attribute = settings.ldap_username_attribute
    wanted = [attribute, settings.ldap_display_name_attribute, settings.ldap_email_attribute,
              "memberOf", "userAccountControl"]
    if settings.ldap_user_dn_template:
        dn = settings.ldap_user_dn_template.replace("{username}", escape_rdn(username))
        connection = _connect(settings, server, dn, password)
        if connection is None:
            return LdapOutcome()
        try:
            if "=" in dn.split(",", 1)[0]:
                connection.search(dn, "(objectClass=*)", BASE, attributes=wanted)
            else:  # user@domain (Active Directory): find the entry by its username
                connection.search(settings.ldap_base_dn, _user_filter(settings, username),
                                  SUBTREE, attributes=wanted, size_limit=2)
            entries = [e for e in connection.response or () if e.get("type") == "searchResEntry"]
            if len(entries) != 1:
                return LdapOutcome()
            return _outcome(settings, connection, entries[0], username)
        finally:
            connection.unbind()

    service = _connect(settings, server, settings.ldap_bind_dn, settings.ldap_bind_password)
    if service is None:
        raise DirectoryUnavailable("the service account's bind was refused")
    try:
        service.search(settings.ldap_base_dn, _user_filter(settings, username), SUBTREE,
                       attributes=wanted, size_limit=2)
        entries = [e for e in service.response or () if e.get("type") == "searchResEntry"]
        if len(entries) != 1:
            return LdapOutcome(gone=not entries)
        entry = entries[0]
        if _disabled(entry):
            return LdapOutcome(disabled=True)
        person = _connect(settings, server, entry["dn"], password)
        if person is None:
            return LdapOutcome()
        person.unbind()
        return _outcome(settings, service, entry, username)
    finally:
        service.unbind()


def _user_filter(settings: TaskdeskSettings, username: str) -> str:
    match = f"({settings.ldap_username_attribute}={escape_filter_chars(username)})"
    return f"(&{match}{settings.ldap_user_filter})" if settings.ldap_user_filter else match


def _disabled(entry: dict[str, Any]) -> bool:
    flags = _first(entry.get("attributes") or {}, "userAccountControl")
    return flags.isdigit() and bool(int(flags) & ACCOUNTDISABLE)


def _outcome(settings: TaskdeskSettings, connection: Any, entry: dict[str, Any],
             typed: str) -> LdapOutcome:
    if _disabled(entry):
        return LdapOutcome(disabled=True)
    attributes = entry.get("attributes") or {}
    groups: list[str] = [str(g) for g in attributes.get("memberOf") or ()]
    if settings.ldap_group_base_dn:
        search = settings.ldap_group_filter.replace("{dn}", escape_filter_chars(entry["dn"]))
        connection.search(settings.ldap_group_base_dn, search, SUBTREE, attributes=["cn"])
        groups += [str(found["dn"]) for found in connection.response or ()
                   if found.get("type") == "searchResEntry"]
    return LdapOutcome(LdapEntry(
        dn=str(entry["dn"]),
        username=_first(attributes, settings.ldap_username_attribute) or typed,
        display_name=_first(attributes, settings.ldap_display_name_attribute),
        email=_first(attributes, settings.ldap_email_attribute),
        groups=tuple(groups),
    ))
