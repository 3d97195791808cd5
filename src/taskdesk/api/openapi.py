"""The OpenAPI 3.1 document, generated from the registered API views.

Every view registered with :func:`taskdesk.api.operations.api_view` is an operation; its
request body is the domain's validation :class:`~taskdesk.domain.schema.Schema` (through
``json_schema()``, the very object the domain validates with), the task lists' query
parameters come from :data:`~taskdesk.domain.schemas.TASK_QUERY`, and its responses are the
schemas of :mod:`taskdesk.api.representations`. The document is built once per application
(it depends on the settings: workflow statuses, roles) and kept on the registry.
"""

from __future__ import annotations

from typing import Any

from taskdesk.api import API_ROUTE
from taskdesk.api.operations import Operation, operation_of, view_methods
from taskdesk.api.representations import SCHEMAS
from taskdesk.api.traversal import AllTasks
from taskdesk.domain.schema import QuerySchema, Schema
from taskdesk.domain.schemas import (
    ACTIVITY_QUERY,
    GROUP_PATTERN,
    SEARCH_QUERY,
    SLUG_PATTERN,
    TASK_QUERY,
    USERNAME_PATTERN,
)
from taskdesk.resources import (
    AttachmentContainer,
    AttachmentResource,
    CommentContainer,
    CommentResource,
    DeliveryContainer,
    DeliveryResource,
    Explainer,
    Inbox,
    Me,
    MemberContainer,
    MemberResource,
    MyViews,
    ProjectContainer,
    ProjectResource,
    ProjectWatch,
    Root,
    SavedViewContainer,
    SavedViewResource,
    SubtaskContainer,
    TaskContainer,
    TaskLinkResource,
    TaskLinks,
    TaskResource,
    TaskWatch,
    TokenContainer,
    TokenResource,
    WebhookContainer,
    WebhookResource,
)
from taskdesk.security.permissions import Permission
from taskdesk.settings import TaskdeskSettings, settings_of

ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
_PARAMETERS: dict[str, dict[str, Any]] = {
    "slug": {"type": "string", "pattern": f"^{SLUG_PATTERN}$"},
    "number": ID,
    "comment_id": ID,
    "link_id": ID,
    "token_id": ID,
    "webhook_id": ID,
    "delivery_id": ID,
    "attachment_id": ID,
    "view_id": ID,
    "principal": {
        "type": "string",
        "pattern": f"^(user:{USERNAME_PATTERN}|group:{GROUP_PATTERN})$",
    },
}

#: Where each kind of resource sits below /api/v1 (traversal has no route patterns).
PATHS: dict[type, str] = {
    Root: "",
    Me: "/me",
    TokenContainer: "/me/tokens",
    TokenResource: "/me/tokens/{token_id}",
    ProjectContainer: "/projects",
    ProjectResource: "/projects/{slug}",
    MemberContainer: "/projects/{slug}/members",
    MemberResource: "/projects/{slug}/members/{principal}",
    TaskContainer: "/projects/{slug}/tasks",
    TaskResource: "/projects/{slug}/tasks/{number}",
    CommentContainer: "/projects/{slug}/tasks/{number}/comments",
    SubtaskContainer: "/projects/{slug}/tasks/{number}/subtasks",
    CommentResource: "/projects/{slug}/tasks/{number}/comments/{comment_id}",
    TaskLinks: "/projects/{slug}/tasks/{number}/links",
    TaskLinkResource: "/projects/{slug}/tasks/{number}/links/{link_id}",
    AttachmentContainer: "/projects/{slug}/tasks/{number}/attachments",
    AttachmentResource: "/projects/{slug}/tasks/{number}/attachments/{attachment_id}",
    AllTasks: "/tasks",
    Inbox: "/me/notifications",
    TaskWatch: "/projects/{slug}/tasks/{number}/watchers/me",
    ProjectWatch: "/projects/{slug}/watchers/me",
    WebhookContainer: "/projects/{slug}/webhooks",
    WebhookResource: "/projects/{slug}/webhooks/{webhook_id}",
    DeliveryContainer: "/projects/{slug}/webhooks/{webhook_id}/deliveries",
    DeliveryResource: "/projects/{slug}/webhooks/{webhook_id}/deliveries/{delivery_id}",
    SavedViewContainer: "/projects/{slug}/views",
    MyViews: "/me/views",
    SavedViewResource: "/projects/{slug}/views/{view_id}",
    Explainer: "/admin/explain",
}

#: The reference page's groups, in order: (tag, description).
TAGS: tuple[tuple[str, str], ...] = (
    ("Projects", "Projects the caller may see: list, create, change, archive."),
    ("Members", "Who holds which role in a project."),
    ("Tasks", "Task lists (JSON, or CSV for spreadsheets), tasks and their history."),
    ("Comments", "Comments on a task."),
    ("Search", "Words in the tasks and comments of every project the caller may see, and "
               "tasks by number (`#12`, `project#12`)."),
    ("Links", "Links between tasks: blocks / blocked by, relates to, duplicates / "
              "duplicated by, across the projects the caller may see."),
    ("Attachments", "Files attached to a task or its comments: upload (multipart), list, "
                    "download, delete."),
    ("Notifications", "The caller's notifications (their inbox), and watching tasks and "
                      "projects to hear of their changes."),
    ("Views", "Saved views of a project: named task-list filters, private to their owner "
              "or shared with the project."),
    ("Webhooks", "A project's webhooks and their delivery logs (project managers)."),
    ("Account", "The caller and their API tokens."),
    ("Administration", "Site administration (site admins only)."),
    ("Reference", "This document."),
)
#: Each operation's tag: by view name where that decides it, else by the kind of resource.
_TAG_BY_NAME = {"tasks.csv": "Tasks", "activity": "Tasks", "openapi.json": "Reference",
                "search": "Search"}
_TAG_BY_CONTEXT: dict[type, str] = {
    ProjectContainer: "Projects",
    ProjectResource: "Projects",
    MemberContainer: "Members",
    MemberResource: "Members",
    TaskContainer: "Tasks",
    TaskResource: "Tasks",
    SubtaskContainer: "Tasks",
    AllTasks: "Tasks",
    CommentContainer: "Comments",
    CommentResource: "Comments",
    TaskLinks: "Links",
    TaskLinkResource: "Links",
    AttachmentContainer: "Attachments",
    AttachmentResource: "Attachments",
    Me: "Account",
    TokenContainer: "Account",
    TokenResource: "Account",
    Inbox: "Notifications",
    TaskWatch: "Notifications",
    ProjectWatch: "Notifications",
    WebhookContainer: "Webhooks",
    WebhookResource: "Webhooks",
    DeliveryContainer: "Webhooks",
    DeliveryResource: "Webhooks",
    SavedViewContainer: "Views",
    MyViews: "Views",
    SavedViewResource: "Views",
    Explainer: "Administration",
}


def operation_tag(context: type, name: str) -> str:
    """The group of the view ``name`` on ``context`` (a KeyError for a view nobody placed)."""
    return _TAG_BY_NAME.get(name) or _TAG_BY_CONTEXT[context]


#: Contexts inside a project: a project the caller may not see answers 404 there.
_IN_PROJECT = frozenset(
    PATHS[cls] for cls in (
        ProjectResource, MemberContainer, MemberResource, TaskContainer, TaskResource,
        CommentContainer, CommentResource, TaskWatch, ProjectWatch, TaskLinks,
        TaskLinkResource, SubtaskContainer,
        CommentContainer, CommentResource, WebhookContainer, WebhookResource,
        DeliveryContainer, DeliveryResource, AttachmentContainer, AttachmentResource,
        SavedViewContainer, SavedViewResource,
    )
)

#: Responses that are one resource, with its ETag.
_ENTITIES = ("Task", "Project", "Comment", "Member", "Token", "Me", "Webhook")

_DESCRIPTIONS = {
    200: "OK", 201: "Created", 202: "Accepted: done soon, after this request",
    204: "No content",
    304: "Not modified: If-None-Match names the current ETag (no body)",
    400: "Malformed request: bad JSON, unknown or invalid query parameter",
    401: "Not signed in, or the token is invalid, expired or revoked",
    403: "Not allowed (or a missing CSRF header on a cookie-authenticated request)",
    404: "No such resource (or one the caller may not see)",
    405: "Method not allowed here (see the Allow header)",
    409: "Conflict: a duplicate name, or the current state forbids the change",
    412: "The resource changed since it was read (If-Match or version)",
    413: "The request body is too large",
    415: "The request body is not application/json",
    422: "Invalid fields (see error.fields)",
    429: "Too many failed authentications from this address; retry after Retry-After seconds",
    503: "The database is busy or unreachable (error.code `busy` or `database_unavailable`); "
         "retry after the Retry-After seconds",
}


#: What the errors mean on operations that honour Idempotency-Key (taskdesk.api.idempotency).
_IDEMPOTENT_DESCRIPTIONS = {
    400: _DESCRIPTIONS[400] + ", or a malformed Idempotency-Key (`invalid_idempotency_key`)",
    409: _DESCRIPTIONS[409] + "; or a request with the same Idempotency-Key is still in "
         "progress (`idempotency_key_in_use`, with Retry-After)",
    422: _DESCRIPTIONS[422] + "; or the Idempotency-Key was used for a different request "
         "(`idempotency_key_reused`)",
}
IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "A key of the client's choosing (e.g. a UUID) that makes retrying safe: "
    "a retry with the same key from the same token or session within the server's window "
    "(a day by default) gets the first answer again, marked `Idempotent-Replayed: true`, "
    "instead of creating twice.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
}


def _paging_parameters(settings: TaskdeskSettings) -> list[dict[str, Any]]:
    return [
        {"name": "limit", "in": "query", "description": "Items per page.",
         "schema": {"type": "integer", "minimum": 1, "maximum": settings.api_max_limit,
                    "default": settings.api_default_limit}},
        {"name": "cursor", "in": "query",
         "description": "Opaque: the `next` link of the previous page carries it.",
         "schema": {"type": "string", "maxLength": 500}},
        {"name": "offset", "in": "query",
         "description": "Items to skip, for simple clients (bounded; not with a cursor).",
         "schema": {"type": "integer", "minimum": 0, "maximum": settings.api_max_offset}},
    ]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(status: int, idempotent: bool = False) -> dict[str, Any]:
    descriptions = _IDEMPOTENT_DESCRIPTIONS if idempotent else {}
    response: dict[str, Any] = {
        "description": descriptions.get(status) or _DESCRIPTIONS[status],
        "content": {"application/json": {"schema": _ref("Error")}},
    }
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    if status == 405:
        response["headers"] = {"Allow": {"schema": {"type": "string"}}}
    if status in (429, 503):
        response["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
    return response


def _request_schema(operation: Operation, settings: TaskdeskSettings) -> Schema | None:
    body = operation.body
    if body is None or isinstance(body, Schema):
        return body
    return body(settings)


def _operation(path: str, method: str, view: Any, operation: Operation,
               settings: TaskdeskSettings, schemas: dict[str, Any], public: bool,
               tag: str) -> dict[str, Any]:
    success: dict[str, Any] = {"description": _DESCRIPTIONS[operation.status]}
    content: dict[str, Any] = {}
    if operation.response is not None:
        content["application/json"] = {"schema": _ref(operation.response)}
    if operation.csv:
        content["text/csv"] = {"schema": {"type": "string"}}
    if operation.binary:
        content["*/*"] = {"schema": {"type": "string", "format": "binary"}}
    if content:
        success["content"] = content
    if operation.response in _ENTITIES:
        success["headers"] = {"ETag": {"schema": {"type": "string"}}}
    elif operation.conditional and method == "get":
        success["headers"] = {"ETag": {
            "description": "JSON answers: a weak ETag of the whole page (the items, their "
            "`allowed`, the `next` link). Send it in If-None-Match to poll: 304 while "
            "nothing on the page changed.",
            "schema": {"type": "string"}}}
    if operation.status == 201:
        success.setdefault("headers", {})["Location"] = {"schema": {"type": "string"}}
    responses: dict[str, Any] = {str(operation.status): success}
    if operation.may_create:
        responses["201"] = {
            **success, "description": _DESCRIPTIONS[201],
            "headers": {**success.get("headers", {}), "Location": {"schema": {"type": "string"}}},
        }
    if operation.binary:
        success["headers"] = {
            "ETag": {"description": "The content's SHA-256: send it in If-None-Match to "
                     "get 304 while you have the file.", "schema": {"type": "string"}},
            "Content-Disposition": {"description": "`inline` for raster images, else "
                                    "`attachment`; the file's name as `filename*` (UTF-8).",
                                    "schema": {"type": "string"}},
        }
    if (operation.conditional or operation.binary) and method == "get":
        responses["304"] = {"description": _DESCRIPTIONS[304]}
    errors = {400, 405, 503}
    if not public:
        errors |= {401, 403, 429}
    if "{" in path or path in _IN_PROJECT:
        errors.add(404)
    if operation.body is not None or operation.files is not None:
        errors |= {413, 415, 422}
    if method in ("post", "put", "patch", "delete"):
        errors |= {409, 413, 415, 422}
    if operation.conditional and method != "get":
        errors.add(412)
    for status in sorted(errors):
        responses[str(status)] = _error(status, operation.idempotent)

    result: dict[str, Any] = {
        "operationId": view.__name__,
        "tags": [tag],
        "summary": operation.summary,
        "responses": responses,
    }
    if operation.description:
        result["description"] = operation.description
    parameters: list[dict[str, Any]] = []
    if operation.query in ("tasks", "filters"):
        parameters += TASK_QUERY.openapi_parameters(settings.workflow)
    if isinstance(operation.query, QuerySchema):
        parameters += operation.query.openapi_parameters(settings)
    if operation.query == "notifications":
        parameters.append({"name": "unread", "in": "query", "required": False,
                           "description": "`true`: only unread notifications.",
                           "schema": {"type": "string", "enum": ["true", "false"]}})
    if operation.query == "activity":
        parameters += ACTIVITY_QUERY.openapi_parameters(None)
    if operation.query in ("tasks", "page", "notifications", "activity"):
        parameters += _paging_parameters(settings)
    if operation.query == "search":
        parameters += SEARCH_QUERY.openapi_parameters(None)
        parameters += [p for p in _paging_parameters(settings) if p["name"] != "offset"]
    if operation.idempotent:
        parameters.append(IDEMPOTENCY_KEY_PARAMETER)
    if operation.conditional:
        header = "If-None-Match" if method == "get" else "If-Match"
        parameters.append({"name": header, "in": "header", "required": False,
                           "schema": {"type": "string"}})
    if parameters:
        result["parameters"] = parameters
    schema = _request_schema(operation, settings)
    if schema is not None:
        name = schema.name + ("Patch" if operation.partial else "") + "Input"
        described = schema.json_schema(partial=operation.partial)
        if schemas.setdefault(name, described) != described:
            raise ValueError(f"two request schemas are named {name}")
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(name)}},
        }
    if operation.files is not None:
        result["requestBody"] = {"required": True, "content": {"multipart/form-data": {
            "schema": {
                "type": "object", "required": [operation.files],
                "properties": {operation.files: {
                    "type": "array", "minItems": 1,
                    "items": {"type": "string", "format": "binary"}}},
            },
            "encoding": {operation.files: {"contentType": "application/octet-stream"}},
        }}}
    if public:
        result["security"] = [{}]
    return result


def api_views(registry: Any) -> list[tuple[Any, str, str, Any]]:
    """(context, view name, method, view callable) of every registered API view."""
    found = []
    for entry in registry.introspector.get_category("views"):
        view = entry["introspectable"]
        if view["route_name"] != API_ROUTE:
            continue
        for method in view_methods(view):
            if method != "HEAD":
                found.append((view["context"], view["name"], method, view["callable"]))
    return found


def build_document(registry: Any) -> dict[str, Any]:
    settings: TaskdeskSettings = settings_of(registry)
    schemas: dict[str, Any] = dict(SCHEMAS)
    paths: dict[str, Any] = {}
    for context, name, method, view in sorted(
        api_views(registry), key=lambda v: (PATHS[v[0]], v[1], v[2])
    ):
        operation = operation_of(view)
        if operation is None:
            raise LookupError(f"API view {view!r} was not registered with api_view")
        path = PATHS[context] + (f"/{name}" if name else "")
        public = operation.permission == Permission.PUBLIC
        item = paths.setdefault(path, {})
        item[method.lower()] = _operation(path, method.lower(), view, operation, settings,
                                          schemas, public, operation_tag(context, name))
        names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        if names:
            item["parameters"] = [
                {"name": n, "in": "path", "required": True, "schema": _PARAMETERS[n]}
                for n in names
            ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Taskdesk API",
            "version": "1",
            "description": (
                "JSON API for integrations. Authenticate with `Authorization: Bearer <token>` "
                "(create tokens under /me/tokens). Errors always have the shape "
                "`{\"error\": {\"status\", \"code\", \"message\", \"fields\"?}}`. Lists page "
                "with `limit` and the opaque `cursor` of the `next` link. Every resource has "
                "an ETag (If-None-Match gives 304; If-Match on PATCH/DELETE gives 412 when "
                "stale) and `allowed`: the permissions the caller holds on it; every list "
                "page has a weak ETag too, for cheap polling with If-None-Match. JSON bodies "
                "take JSON types only, and a 422 lists every invalid field at once. Error "
                "messages follow Accept-Language (`en`, `zh-CN`; English otherwise). Every "
                "create (POST answering 201) takes an `Idempotency-Key` header: a retry with "
                "the same key gets the first answer instead of creating twice."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "tags": [{"name": name, "description": text} for name, text in TAGS],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "taskdesk",
                            "description": "A signed-in browser; unsafe methods need the "
                            "X-CSRF-Token header."},
            },
        },
    }
