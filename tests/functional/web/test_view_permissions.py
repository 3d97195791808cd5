"""Every view of the web UI names its permission (exception views cannot carry one)."""

from __future__ import annotations

import pytest

from taskdesk.domain.errors import ValidationError
from taskdesk.domain.schemas import PROJECT_CREATE, RESERVED_SLUGS
from taskdesk.resources import ProjectContainer
from taskdesk.security.permissions import Permission


def test_every_web_view_names_a_permission(wsgi_app):
    introspector = wsgi_app.registry.introspector
    checked = 0
    for item in introspector.get_category("views"):
        view = item["introspectable"]
        callable_ = view["callable"]
        module = getattr(callable_, "__module__", "") or ""
        if not module.startswith("taskdesk.web"):
            continue
        context = view["context"]
        if view["exception_only"] or (
                isinstance(context, type) and issubclass(context, BaseException)):
            continue
        permissions = [r for r in item["related"] if r.category_name == "permissions"]
        assert permissions, f"{module}.{view['callable'].__name__} names no permission"
        assert all(p["value"] in set(Permission) for p in permissions)
        checked += 1
    assert checked >= 30


def test_every_view_name_on_the_projects_container_is_a_reserved_slug(wsgi_app):
    """A project slugged like a page of ``/projects/`` would hide that page."""
    names = {
        item["introspectable"]["name"]
        for item in wsgi_app.registry.introspector.get_category("views")
        if item["introspectable"]["context"] is ProjectContainer
    } - {""}
    assert names  # the web UI's "new" at least
    assert names <= RESERVED_SLUGS
    for name in names:
        with pytest.raises(ValidationError) as refused:
            PROJECT_CREATE.validate({"slug": name, "name": "x"})
        assert set(refused.value.fields) == {"slug"}
