"""Every view of the web UI names its permission (exception views cannot carry one)."""

from __future__ import annotations

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
