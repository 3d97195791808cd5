"""``/api/graphql``: the GraphQL endpoint, a Pyramid view running the schema.

``POST`` with a JSON body ``{"query": ..., "variables": {...}, "operationName": ...}``, or
``GET`` with the same as query parameters (``variables`` as JSON text). The schema has
queries only, so either method only reads: the route marks its requests as reads
(:data:`taskdesk.security.policy.READS_ONLY`), and a read-only token may use both. Cookie
sessions need the ``X-CSRF-Token`` header on ``POST``, as everywhere.

Transport errors (no credentials, malformed JSON, a body or query over its limit) answer
with the JSON API's error shape and status; errors in a query (limits, invalid arguments)
answer 200 with GraphQL's ``errors`` list, as GraphQL clients expect.

The schema runs on a private event loop (``asyncio.run``) in the request's thread: its
batch loaders need one, and their statements use the request's database session, which
belongs to this thread.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from graphql import GraphQLError
from pyramid.csrf import BadCSRFToken
from pyramid.httpexceptions import HTTPException, HTTPForbidden
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import exception_view_config, view_config
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from taskdesk.bodies import BodyError, json_object
from taskdesk.graphql.context import Context
from taskdesk.graphql.schema import Schema
from taskdesk.messages import _
from taskdesk.ops import outage_answer
from taskdesk.resources import Root
from taskdesk.security.permissions import Permission
from taskdesk.security.refusals import error_response, unauthorized
from taskdesk.settings import settings_of

log = logging.getLogger(__name__)

GRAPHQL_ROUTE = "graphql"
SCHEMA = "taskdesk.graphql.schema"
METHODS = ("GET", "POST")


class TransportError(Exception):
    """A request the endpoint cannot run: answered with the JSON API's error body."""

    def __init__(self, status: int, code: str, message: Any) -> None:
        super().__init__(str(message))
        self.status = status
        self.code = code
        self.message = message


def _operation(request: Request) -> tuple[str, dict[str, Any] | None, str | None]:
    """(query, variables, operation name) from the body (POST) or the query string (GET)."""
    if request.method == "POST":
        try:
            data = json_object(request)
        except BodyError as error:
            raise TransportError(error.status, error.code, error.message) from None
        variables = data.get("variables")
    else:
        data = dict(request.GET)
        variables = data.get("variables")
        if isinstance(variables, str):
            try:
                variables = orjson.loads(variables)
            except orjson.JSONDecodeError:
                raise TransportError(400, "invalid_parameter",
                                     _("`variables` is not valid JSON.")) from None
    query = data.get("query")
    if not isinstance(query, str) or not query.strip():
        raise TransportError(400, "invalid_parameter", _("Send the query as `query` (text)."))
    if variables is not None and not isinstance(variables, dict):
        raise TransportError(400, "invalid_parameter",
                             _("`variables` must be a JSON object."))
    name = data.get("operationName")
    if name is not None and not isinstance(name, str):
        raise TransportError(400, "invalid_parameter", _("`operationName` must be text."))
    limit = settings_of(request.registry).graphql_max_query_bytes
    if len(query.encode()) > limit:
        raise TransportError(413, "query_too_large",
                             _("The query is longer than ${limit} bytes.",
                               mapping={"limit": limit}))
    return query, variables, name


def _unexpected(error: GraphQLError) -> BaseException | None:
    """The exception behind an error that is no refusal of the query (a bug, an outage)."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return None
    return original


@view_config(route_name=GRAPHQL_ROUTE, context=Root, request_method=METHODS,
             permission=Permission.SIGNED_IN)
def graphql_endpoint(context: Root, request: Request) -> Response:
    try:
        query, variables, name = _operation(request)
    except TransportError as error:
        return error_response(request, error.status, error.code, error.message)
    schema: Schema = request.registry[SCHEMA]
    try:
        result = asyncio.run(schema.execute(
            query, variable_values=variables, context_value=Context(request),
            operation_name=name, allowed_operation_types=(OperationType.QUERY,)))
    except InvalidOperationTypeError:
        return error_response(request, 400, "operation_not_allowed",
                              _("This endpoint answers queries only."))
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        for failure in result.errors:
            original = _unexpected(failure)
            if original is not None:
                # Answered (and retried, when retryable) like any view's error.
                raise original
        body["errors"] = [failure.formatted for failure in result.errors]
    response = Response(body=orjson.dumps(body, option=orjson.OPT_UTC_Z),
                        content_type="application/json", charset=None)
    response.cache_control = "no-store"
    return response


@view_config(route_name=GRAPHQL_ROUTE, context=Root, permission=Permission.SIGNED_IN,
             require_csrf=False)
def method_not_allowed(context: Root, request: Request) -> Response:
    allow = ", ".join(METHODS)
    return error_response(request, 405, "method_not_allowed",
                          _("${method} is not allowed here; allowed: ${allow}.",
                            mapping={"method": request.method, "allow": allow}),
                          headers={"Allow": allow})


@exception_view_config(HTTPForbidden, route_name=GRAPHQL_ROUTE)
def forbidden(exc: HTTPForbidden, request: Request) -> Response:
    if request.identity is None:
        return unauthorized(request)
    return error_response(request, 403, "forbidden", _("You do not have permission to do this."))


@exception_view_config(BadCSRFToken, route_name=GRAPHQL_ROUTE)
def bad_csrf(exc: BadCSRFToken, request: Request) -> Response:
    return error_response(
        request, 403, "csrf_failed",
        _("A request signed in by cookie must send the X-CSRF-Token header."),
    )


@exception_view_config(HTTPException, route_name=GRAPHQL_ROUTE)
def http_error(exc: HTTPException, request: Request) -> Response:
    status = exc.status_int
    if status < 400:
        return exc
    return error_response(request, status, "bad_request" if status < 500 else "server_error",
                          exc.explanation or exc.title)


@exception_view_config(Exception, route_name=GRAPHQL_ROUTE, database_outage=True)
def database_outage(exc: Exception, request: Request) -> Response:
    answer = outage_answer(exc)
    assert answer is not None  # the view predicate made sure
    return error_response(request, 503, answer.code, answer.message,
                          headers={"Retry-After": str(answer.retry_after)})


@exception_view_config(Exception, route_name=GRAPHQL_ROUTE)
def server_error(exc: Exception, request: Request) -> Response:
    log.exception("unhandled GraphQL error on %s %s", request.method, request.path,
                  exc_info=(type(exc), exc, exc.__traceback__))
    return error_response(request, 500, "server_error",
                          _("Something went wrong; the error has been logged."))
