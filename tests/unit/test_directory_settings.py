"""The directory sign-in settings: OpenID Connect, LDAP, group mapping, local passwords."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest

from taskdesk.settings import SettingsError, parse_settings

BASE = {"sqlalchemy.url": "sqlite://", "taskdesk.environment": "development"}
OIDC = {"taskdesk.oidc.issuer": "https://login.example.com/realms/staff/",
        "taskdesk.oidc.client_id": "taskdesk"}
LDAP = {"taskdesk.ldap.url": "ldaps://ldap.example.com:636",
        "taskdesk.ldap.user_dn_template": "uid={username},ou=people,dc=example,dc=com"}


def parse(**raw: str) -> object:
    return parse_settings({**BASE, **raw})


def test_nothing_is_on_by_default() -> None:
    settings = parse_settings(BASE)
    assert not settings.oidc_enabled
    assert not settings.ldap_enabled
    assert settings.local_passwords == "on"


def test_openid_settings_and_the_secret_from_the_environment(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_OIDC_SECRET", "from-the-environment")
    settings = parse_settings({**BASE, **OIDC, "taskdesk.oidc.client_secret": "in-the-ini",
                               "taskdesk.oidc.client_secret_env": "TEST_OIDC_SECRET"})
    assert settings.oidc_issuer == "https://login.example.com/realms/staff"
    assert settings.oidc_display_name == "login.example.com"
    assert settings.oidc_client_secret == "from-the-environment"
    assert "from-the-environment" not in repr(settings)
    assert settings.oidc_scopes == ("openid", "email", "profile")


@pytest.mark.parametrize(("raw", "key"), [
    ({"taskdesk.oidc.issuer": "http://login.example.com", "taskdesk.oidc.client_id": "x"},
     "taskdesk.oidc.issuer"),
    ({"taskdesk.oidc.issuer": "https://login.example.com"}, "taskdesk.oidc.client_id"),
    ({**OIDC, "taskdesk.oidc.scopes": "email profile"}, "taskdesk.oidc.scopes"),
    ({**OIDC, "taskdesk.oidc.link_claim": "name"}, "taskdesk.oidc.link_claim"),
    ({"taskdesk.ldap.url": "http://ldap.example.com"}, "taskdesk.ldap.url"),
    ({"taskdesk.ldap.url": "ldap://ldap.example.com"}, "taskdesk.ldap.user_dn_template"),
    ({**LDAP, "taskdesk.ldap.starttls": "true"}, "taskdesk.ldap.starttls"),
    ({**LDAP, "taskdesk.ldap.user_dn_template": "uid=x,dc=example"},
     "taskdesk.ldap.user_dn_template"),
    ({**LDAP, "taskdesk.ldap.user_filter": "objectClass=person"}, "taskdesk.ldap.user_filter"),
    ({**LDAP, "taskdesk.ldap.user_dn_template": "{username}@corp.example.com"},
     "taskdesk.ldap.base_dn"),
    ({**LDAP, "taskdesk.ldap.bind_password_env": "TEST_UNSET_LDAP_PASSWORD"},
     "taskdesk.ldap.bind_password_env"),
    ({"taskdesk.directory.groups": "devs developers"}, "taskdesk.directory.groups"),
    ({"taskdesk.auth.local_passwords": "off"}, "taskdesk.auth.local_passwords"),
    ({"taskdesk.auth.local_passwords": "some"}, "taskdesk.auth.local_passwords"),
])
def test_bad_directory_settings_are_refused(raw: dict[str, str], key: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings({**BASE, **raw})
    assert caught.value.key == key


def test_local_passwords_may_be_off_once_a_directory_is_set_up() -> None:
    assert parse_settings({**BASE, **LDAP, "taskdesk.auth.local_passwords": "off"}
                          ).local_passwords == "off"


def test_group_map_lines() -> None:
    settings = parse_settings({**BASE, "taskdesk.directory.groups": """
        CN=Devs,OU=Groups,DC=example,DC=com -> developers
        # a comment
        devs -> reviewers
        devs -> developers
        it-admins -> site-admin
    """})
    assert settings.directory_groups == {
        "cn=devs,ou=groups,dc=example,dc=com": ("developers",),
        "devs": ("reviewers", "developers"),
        "it-admins": ("site-admin",),
    }


def test_the_readme_examples_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each INI example of the README's sign-in section starts an app's settings."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Company sign-in", 1)[1].split("\n## ", 1)[0]
    examples = re.findall(r"```ini\n(.*?)```", section, re.S)
    assert len(examples) == 4
    monkeypatch.setenv("TASKDESK_LDAP_PASSWORD", "from-the-environment")
    for example in examples:
        parser = configparser.ConfigParser(interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string("[app:main]\n" + example)
        settings = parse_settings({**BASE, **dict(parser["app:main"])})
        assert settings.oidc_enabled or settings.ldap_enabled or settings.directory_groups
