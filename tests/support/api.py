"""A JSON client that checks every answer against the OpenAPI document (documented status,
media type, body schema, headers)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import orjson
import webtest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT_URI = "urn:taskdesk:openapi"


class OpenApiChecker:
    """Validates responses against the document, the way a generated client would read it."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.registry = Registry().with_resource(
            DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT202012)
        )
        self.paths = [
            (re.compile("^/api/v1" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"), template)
            for template in document["paths"]
        ]

    def operation(self, path: str, method: str) -> tuple[str, dict[str, Any]] | None:
        """The documented operation answering ``method`` on ``path`` (HEAD: its GET)."""
        for pattern, template in self.paths:
            if pattern.match(path):
                operation = self.document["paths"][template].get(method.lower())
                return (template, operation) if operation else None
        return None

    def validate(self, schema: dict[str, Any], instance: Any) -> None:
        ref = schema["$ref"].replace("#", DOCUMENT_URI + "#", 1) if "$ref" in schema else None
        Draft202012Validator(
            {"$ref": ref} if ref else schema, registry=self.registry
        ).validate(instance)

    def check(self, method: str, url: str, response: webtest.TestResponse) -> None:
        path = urlsplit(url).path
        head = method == "HEAD"
        found = self.operation(path, "GET" if head else method)
        if found is None:
            # Only a method without a view (405) or an unknown path (404) may be undocumented.
            assert response.status_int in (404, 405), f"{method} {path} is not documented"
            self.validate({"$ref": "#/components/schemas/Error"}, response.json)
            return
        template, operation = found
        status = str(response.status_int)
        assert status in operation["responses"], (
            f"{method} {template}: status {status} is not documented: {response.text[:300]}"
        )
        documented = operation["responses"][status]
        content = documented.get("content")
        if not content or head:
            assert not response.body, f"{method} {template} {status} should have no body"
            return
        media = response.content_type
        if "*/*" in content:
            return  # a file's bytes, of whatever type it is
        assert media in content, f"{method} {template} {status}: undocumented {media}"
        if media != "application/json":
            return  # a streamed CSV download has no ETag
        self.validate(content[media]["schema"], response.json)
        for header in documented.get("headers", {}):
            assert header in response.headers, f"{method} {template} {status}: no {header}"


class ApiClient:
    """A WebTest app speaking JSON with a bearer token (or a session), checking each answer."""

    def __init__(self, app: webtest.TestApp, checker: OpenApiChecker,
                 token: str | None = None) -> None:
        self.app = app
        self.checker = checker
        self.token = token

    def request(self, method: str, url: str, json: Any = None, *, status: Any = "*",
                headers: dict[str, str] | None = None, body: bytes | None = None,
                content_type: str | None = None) -> webtest.TestResponse:
        sent = dict(headers or {})
        if self.token is not None:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        kwargs: dict[str, Any] = {"headers": sent, "status": status, "expect_errors": True,
                                  "environ": dict(self.app.extra_environ)}
        if json is not None:
            kwargs["body"] = orjson.dumps(json)
            kwargs["content_type"] = content_type or "application/json"
        elif body is not None:
            kwargs["body"] = body
            kwargs["content_type"] = content_type
        response = self.app.request(url, method=method, **kwargs)
        self.checker.check(method, url, response)
        return response

    def get(self, url: str, **kwargs: Any) -> webtest.TestResponse:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, json: Any = None, **kwargs: Any) -> webtest.TestResponse:
        return self.request("POST", url, json, **kwargs)

    def patch(self, url: str, json: Any = None, **kwargs: Any) -> webtest.TestResponse:
        return self.request("PATCH", url, json, **kwargs)

    def put(self, url: str, json: Any = None, **kwargs: Any) -> webtest.TestResponse:
        return self.request("PUT", url, json, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> webtest.TestResponse:
        return self.request("DELETE", url, **kwargs)
