"""Templates name permissions from the enum: ``h.can(P.ASSIGN, context)``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pyramid.testing import DummyRequest

from taskdesk.security.permissions import Permission
from taskdesk.web.helpers import Helpers

TEMPLATES = Path(__file__).resolve().parents[3] / "src" / "taskdesk" / "web" / "templates"


def test_every_permission_a_template_asks_for_is_a_member_of_the_enum():
    calls = [(path.name, match.group(1)) for path in sorted(TEMPLATES.rglob("*.jinja2"))
             for match in re.finditer(r"h\.can\(\s*([^,)]+)", path.read_text("utf-8"))]
    assert calls  # the check reads something
    for name, argument in calls:
        member = re.fullmatch(r"P\.([A-Z_]+)", argument.strip())
        assert member, f"{name}: h.can({argument}) does not name P.<NAME>"
        assert member.group(1) in Permission.__members__, f"{name}: no {argument}"


def test_a_permission_given_as_a_string_is_refused_at_render_time():
    with pytest.raises(TypeError, match="needs a Permission"):
        Helpers(DummyRequest()).can("assign")  # type: ignore[arg-type]
