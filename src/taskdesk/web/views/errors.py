"""HTML error pages in the site layout: 400 (expired form), 403, 404, 500, and 503 while
the database is unavailable.

They have no ``route_name``, so they answer the web UI; the JSON API registers its own
exception views with ``route_name="api_v1"``, which Pyramid prefers for API requests.
Pyramid refuses a permission on exception views: an error page renders for everyone.
"""

from __future__ import annotations

import logging
from typing import Any

from pyramid.csrf import BadCSRFToken
from pyramid.httpexceptions import HTTPException, HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.location import lineage
from pyramid.renderers import render_to_response
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config

from taskdesk.messages import _
from taskdesk.ops import outage_answer
from taskdesk.resources import ProjectContainer
from taskdesk.security.actions import hidden_project
from taskdesk.security.transport import plain_http_problem

log = logging.getLogger(__name__)

TEMPLATE = "errors/error.jinja2"
#: The last resort when even the layout cannot be rendered (e.g. the database is down).
PLAIN_500 = (
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error · Taskdesk"
    "</title></head><body><h1>Something went wrong</h1><p>The error has been logged. Please "
    "try again in a moment.</p></body></html>"
)


def _page(request: Request, status: int, heading: Any, explanation: Any) -> Response:
    response = render_to_response(
        TEMPLATE,
        {"code": status, "heading": _translated(request, heading),
         "explanation": _translated(request, explanation), "nav": None},
        request=request,
    )
    response.status = status
    return response


def _translated(request: Request, message: Any) -> str:
    return str(request.localizer.translate(message))


def not_found_page(request: Request) -> Response:
    return _page(request, 404, _("Page not found"),
                 _("There is nothing here, or you are not allowed to see it."))


def _login_redirect(request: Request) -> HTTPSeeOther:
    return HTTPSeeOther(
        request.resource_url(request.root, "login", query={"next": request.path_qs})
    )


def _anonymous_read(request: Request) -> bool:
    return request.identity is None and request.method in ("GET", "HEAD")


@notfound_view_config()
def not_found(exc: HTTPNotFound, request: Request) -> Response:
    # An anonymous visitor is sent to sign in for a missing project exactly as for an
    # existing private one, so the answer does not tell whether a project exists.
    if _anonymous_read(request) and any(
        isinstance(resource, ProjectContainer) for resource in lineage(request.context)
    ):
        return _login_redirect(request)
    return not_found_page(request)


@forbidden_view_config()
def forbidden(exc: HTTPForbidden, request: Request) -> Response:
    if _anonymous_read(request):
        return _login_redirect(request)
    if hidden_project(request, request.context):
        return not_found_page(request)
    if request.identity is None:
        return _page(request, 403, _("Please sign in"),
                     _("Your session has ended. Sign in and try again."))
    return _page(request, 403, _("Not allowed"),
                 _("You do not have permission to do this."))


@exception_view_config(BadCSRFToken)
def bad_csrf(exc: BadCSRFToken, request: Request) -> Response:
    # Over plain HTTP with taskdesk.https on, the session cookie never comes back: reloading
    # would not help, so the page says what would.
    return _page(request, 400, _("The form has expired"),
                 plain_http_problem(request)
                 or _("The form was open too long or your session changed. "
                      "Please go back, reload the page and try again."))


@exception_view_config(HTTPException)
def http_exception(exc: HTTPException, request: Request) -> HTTPException:
    """Other HTTP exceptions (redirects, 400s from the guard) answer as they are."""
    return exc


@exception_view_config(Exception, database_outage=True)
def database_outage(exc: Exception, request: Request) -> Response:
    """The database is unavailable (taskdesk.ops logs it). The page asks nothing of the
    database: the security policy gives no identity while this error is being answered,
    so the layout shows the anonymous header and the language comes from the browser."""
    answer = outage_answer(exc)
    assert answer is not None  # the view predicate made sure
    response = _page(request, 503, _("Temporarily unavailable"), answer.message)
    response.headers["Retry-After"] = str(answer.retry_after)
    return response


@exception_view_config(Exception)
def server_error(exc: Exception, request: Request) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path_qs,
                  exc_info=(type(exc), exc, exc.__traceback__))
    try:
        return _page(request, 500, _("Something went wrong"),
                     _("The error has been logged. Please try again in a moment."))
    except Exception:
        log.exception("the error page could not be rendered either")
        return Response(PLAIN_500, status=500, content_type="text/html", charset="utf-8")
