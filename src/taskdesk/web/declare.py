"""``web_view``: the one way to declare a web UI view, the twin of the API's ``api_view``.

A view declared without a permission (or with a string instead of a :class:`Permission`) is
refused when its module is scanned, so the rule holds where views are declared. Error pages
are the exception: they keep Pyramid's ``exception_view_config``, ``forbidden_view_config``
and ``notfound_view_config`` (see ``taskdesk.web.views.errors``), because Pyramid refuses a
permission on exception views and an error page renders for everyone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import venusian  # type: ignore[import-untyped]
from pyramid.exceptions import ConfigurationError

from taskdesk.security.permissions import Permission

View = TypeVar("View", bound=Callable[..., Any])


def web_view(
    *, context: type, permission: Permission | None = None, name: str = "", **settings: Any
) -> Callable[[View], View]:
    """Register the decorated function as a web view of ``context`` (and ``name``).

    ``settings`` are ``add_view``'s other arguments (``renderer``, ``request_method``, ...).
    """
    if not isinstance(permission, Permission):
        raise ConfigurationError(
            f"web view {context.__name__}/{name or '(default)'} "
            f"{settings.get('request_method', '')} names no permission: pass "
            f"permission=Permission.<NAME>"
        )
    if issubclass(context, BaseException):
        raise ConfigurationError(
            f"web view for {context.__name__}: declare error pages with Pyramid's "
            f"exception_view_config, not web_view"
        )

    def decorate(view: View) -> View:
        def register(scanner: Any, _name: str, wrapped: Callable[..., Any]) -> None:
            # Relative renderer names resolve against the view's own package.
            config = scanner.config.with_package(info.module)
            config.add_view(wrapped, context=context, name=name, permission=permission,
                            **settings)

        info = venusian.attach(view, register, category="pyramid")
        return view

    return decorate
