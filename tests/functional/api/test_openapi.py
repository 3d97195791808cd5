"""The OpenAPI document covers every registered API view and uses the domain's schemas;
the reference page and its assets are served locally."""

from __future__ import annotations

import re

import pytest

from taskdesk.api.openapi import PATHS, api_views
from taskdesk.api.operations import allowed_methods, method_not_allowed, operation_of
from taskdesk.api.representations import SCHEMAS
from taskdesk.domain.schemas import (
    COMMENT,
    PROJECT_CREATE,
    TOKEN_CREATE,
    move_schema,
    project_update_schema,
    task_schemas,
)
from taskdesk.security.permissions import Permission


def test_document_is_served_and_matches_the_builder(client_for, openapi_document):
    response = client_for(None).get("/api/v1/openapi.json", status=200)
    assert response.json == openapi_document
    assert response.json["openapi"] == "3.1.0"


def test_every_registered_api_view_is_an_operation(wsgi_app, openapi_document):
    views = api_views(wsgi_app.registry)
    assert len(views) >= 25
    for context, name, method, view in views:
        path = PATHS[context] + (f"/{name}" if name else "")
        operation = openapi_document["paths"][path][method.lower()]
        assert operation["operationId"] == view.__name__
        assert isinstance(operation_of(view).permission, Permission)
    documented = {(path, method) for path, item in openapi_document["paths"].items()
                  for method in item if method != "parameters"}
    assert len(documented) == len(views)


def test_every_api_context_has_a_405_catch_all_knowing_its_methods(wsgi_app):
    catch_alls = {
        (view["context"], view["name"])
        for view in (e["introspectable"] for e in
                     wsgi_app.registry.introspector.get_category("views"))
        if view["callable"] is method_not_allowed
    }
    registered: dict[tuple[type, str], set[str]] = {}
    for context, name, method, _view in api_views(wsgi_app.registry):
        registered.setdefault((context, name), set()).add(method)
    assert set(registered) == catch_alls
    for (context, name), methods in registered.items():
        # GET implies HEAD; a POST-only action (``only_method``) allows just its method.
        implied = {"HEAD"} if "GET" in methods else set()
        assert allowed_methods(wsgi_app.registry, context, name) == sorted(methods | implied)


def test_request_bodies_are_the_domains_schemas(openapi_document, settings):
    schemas = openapi_document["components"]["schemas"]
    create, update = task_schemas(settings.workflow)
    assert schemas["TaskCreateInput"] == create.json_schema()
    assert schemas["TaskUpdatePatchInput"] == update.json_schema(partial=True)
    assert schemas["ProjectCreateInput"] == PROJECT_CREATE.json_schema()
    assert schemas["ProjectUpdatePatchInput"] == project_update_schema(
        settings.workflow.status_names).json_schema(partial=True)
    assert schemas["TaskMoveInput"] == move_schema(settings.workflow).json_schema()
    assert schemas["CommentInput"] == COMMENT.json_schema()
    assert schemas["TokenCreateInput"] == TOKEN_CREATE.json_schema()
    for name, schema in SCHEMAS.items():
        assert schemas[name] == schema
    status = schemas["TaskCreateInput"]["properties"]["status"]
    assert status["enum"] == list(settings.workflow.status_names)


def test_every_reference_resolves(openapi_document):
    text = str(openapi_document)
    for name in set(re.findall(r"#/components/schemas/(\w+)", text)):
        assert name in openapi_document["components"]["schemas"]


@pytest.mark.parametrize("path", [
    "/api/static/vendor/swagger-ui/swagger-ui-bundle.js",
    "/api/static/vendor/swagger-ui/swagger-ui.css",
    "/api/static/docs.js",
])
def test_reference_assets_are_served_locally(testapp, path):
    assert testapp.get(path, status=200).body


def test_reference_page_has_no_inline_script(testapp):
    page = testapp.get("/api/docs", status=200)
    assert page.content_type == "text/html"
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
    assert scripts
    assert all('src="/api/static/' in attributes and not body.strip()
               for attributes, body in scripts)
    assert "http://" not in page.text
    assert "https://" not in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_api_view_refuses_a_view_without_a_permission():
    from pyramid.exceptions import ConfigurationError

    from taskdesk.api.operations import api_view
    from taskdesk.resources import Root

    with pytest.raises(ConfigurationError, match="needs a permission"):
        api_view(context=Root, method="GET", permission=None, summary="x", response=None)
    with pytest.raises(ConfigurationError, match="needs a permission"):
        api_view(context=Root, method="GET", permission="view", summary="x", response=None)


def test_operations_are_grouped_by_tag_in_the_documents_order(openapi_document):
    from taskdesk.api.openapi import TAGS

    names = [tag["name"] for tag in openapi_document["tags"]]
    assert names == [name for name, _text in TAGS]
    grouped: dict[str, set[str]] = {}
    for path, item in openapi_document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert len(operation["tags"]) == 1, (path, method)
            assert operation["tags"][0] in names, (path, method)
            grouped.setdefault(operation["tags"][0], set()).add(operation["operationId"])
    assert set(grouped) == set(names)
    assert {"task_list", "task_csv", "task_csv_all", "task_activity"} <= grouped["Tasks"]
    assert {"me_show", "token_list"} <= grouped["Account"]
    assert grouped["Reference"] == {"openapi_document"}
