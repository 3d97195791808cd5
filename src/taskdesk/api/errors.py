"""One error shape for every API failure, and the exception views producing it.

``{"error": {"status": 422, "code": "validation_failed", "message": "...", "fields": {...}}}``

The exception views carry ``route_name=API_ROUTE``: Pyramid prefers them for API requests and
never uses them for the web UI. The guard tween (400/413 before routing) answers with the same
shape through :func:`taskdesk.guard.error_response`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pyramid.csrf import BadCSRFToken
from pyramid.httpexceptions import HTTPException, HTTPForbidden, HTTPNotFound
from pyramid.location import lineage
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import exception_view_config

from taskdesk.api import API_ROUTE
from taskdesk.domain.errors import (
    ConflictError,
    DomainError,
    DuplicateError,
    ForbiddenFieldsError,
    ValidationError,
)
from taskdesk.messages import _
from taskdesk.ops import outage_answer
from taskdesk.resources import ProjectContainer
from taskdesk.security.actions import hidden_project
from taskdesk.security.policy import session_ended
from taskdesk.security.refusals import error_response, unauthorized

log = logging.getLogger(__name__)

#: Codes of the HTTP errors Pyramid itself raises.
HTTP_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
}


class ApiError(Exception):
    """Raised by API views to answer with an error of the common shape."""

    def __init__(
        self,
        status: int,
        code: str,
        message: Any,
        fields: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(str(message))
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.headers = headers


def precondition_failed() -> ApiError:
    """412 for a stale ``If-Match``."""
    return ApiError(412, "precondition_failed",
                    _("The resource has changed since you read it (If-Match); reload it."))


@exception_view_config(ApiError, route_name=API_ROUTE)
def api_error(exc: ApiError, request: Request) -> Response:
    return error_response(request, exc.status, exc.code, exc.message, exc.fields, exc.headers)


@exception_view_config(ValidationError, route_name=API_ROUTE)
def validation_failed(exc: ValidationError, request: Request) -> Response:
    return error_response(request, 422, exc.code, _("The request has invalid fields."),
                          exc.fields)


@exception_view_config(ForbiddenFieldsError, route_name=API_ROUTE)
def forbidden_fields(exc: ForbiddenFieldsError, request: Request) -> Response:
    """403 naming each field the caller may not change."""
    return error_response(request, 403, exc.code, exc.message,
                          {name: _("You may not change this field.") for name in exc.fields}
                          or None)


@exception_view_config(ConflictError, route_name=API_ROUTE)
def version_conflict(exc: ConflictError, request: Request) -> Response:
    """412: a stale ``If-Match`` as a failed precondition, a stale ``version`` in the body
    or a lost race as a version conflict."""
    if exc.field is None and not exc.raced and "If-Match" in request.headers:
        failed = precondition_failed()
        return error_response(request, failed.status, failed.code, failed.message)
    return error_response(
        request, 412, exc.code,
        _("Changed by someone else since version ${v} was read; reload and try again.",
          mapping={"v": exc.current_version}),
    )


@exception_view_config(DuplicateError, route_name=API_ROUTE)
def duplicate(exc: DuplicateError, request: Request) -> Response:
    return error_response(request, 409, exc.code, exc.message, {exc.field: exc.message})


@exception_view_config(DomainError, route_name=API_ROUTE)
def domain_refusal(exc: DomainError, request: Request) -> Response:
    return error_response(request, 409, exc.code, exc.message)


@exception_view_config(HTTPForbidden, route_name=API_ROUTE)
def forbidden(exc: HTTPForbidden, request: Request) -> Response:
    if request.identity is None:
        return unauthorized(request)
    if hidden_project(request, request.context):
        return not_found(exc, request)
    return error_response(request, 403, "forbidden",
                          _("You do not have permission to do this."))


@exception_view_config(BadCSRFToken, route_name=API_ROUTE)
def bad_csrf(exc: BadCSRFToken, request: Request) -> Response:
    return error_response(
        request, 403, "csrf_failed",
        _("A request signed in by cookie must send the X-CSRF-Token header."),
    )


def _in_projects(request: Request) -> bool:
    context = getattr(request, "context", None)
    return context is not None and any(
        isinstance(resource, ProjectContainer) for resource in lineage(context)
    )


@exception_view_config(HTTPNotFound, route_name=API_ROUTE)
def not_found(exc: HTTPException, request: Request) -> Response:
    if request.environ.get("taskdesk.auth_error") or session_ended(request):
        # A broken token or an ended session must not read as "nothing here".
        return unauthorized(request)
    if request.identity is None and _in_projects(request):
        # An anonymous caller gets 401 for an existing private project: the same for a
        # missing one, so that the answer does not reveal which projects exist.
        return unauthorized(request)
    return error_response(request, 404, "not_found", _("There is nothing here."))


@exception_view_config(HTTPException, route_name=API_ROUTE)
def http_error(exc: HTTPException, request: Request) -> Response:
    status = exc.status_int
    if status < 400:
        return exc
    code = HTTP_CODES.get(status, "bad_request" if status < 500 else "server_error")
    headers = {name: exc.headers[name] for name in ("Allow", "Retry-After")
               if name in exc.headers}
    return error_response(request, status, code, exc.explanation or exc.title, headers=headers)


@exception_view_config(Exception, route_name=API_ROUTE, database_outage=True)
def database_outage(exc: Exception, request: Request) -> Response:
    """The database is unavailable: 503 ``busy`` or ``database_unavailable`` with
    ``Retry-After`` (taskdesk.ops logs it; a retryable error is still retried first)."""
    answer = outage_answer(exc)
    assert answer is not None  # the view predicate made sure
    return error_response(request, 503, answer.code, answer.message,
                          headers={"Retry-After": str(answer.retry_after)})


@exception_view_config(Exception, route_name=API_ROUTE)
def server_error(exc: Exception, request: Request) -> Response:
    """Any other error. pyramid_retry still retries a retryable one (it discards this
    response when ``request.exception`` is retryable), so no retry predicate is needed."""
    log.exception("unhandled API error on %s %s", request.method, request.path_qs,
                  exc_info=(type(exc), exc, exc.__traceback__))
    return error_response(request, 500, "server_error",
                          _("Something went wrong; the error has been logged."))
