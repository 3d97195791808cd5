"""The endpoint: authentication as the JSON API's, GET and POST, introspection, errors."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.functional.graphql.conftest import URL, GraphQLClient
from tests.support.web import csrf_token, login

ME = "{ me { username } }"


def test_anonymous_and_broken_tokens_get_401(testapp) -> None:
    answer = testapp.post_json(URL, {"query": ME}, status=401)
    assert answer.json["error"]["code"] == "unauthorized"
    assert answer.headers["WWW-Authenticate"].startswith('Bearer realm="taskdesk"')
    answer = testapp.get(URL, {"query": ME}, status=401)
    assert answer.json["error"]["code"] == "unauthorized"
    broken = GraphQLClient(testapp, "td_not-a-token").post(ME, status=401)
    assert broken.json["error"]["message"] == "The token is not valid."


def test_get_and_post_answer_alike(gql_for, people) -> None:
    client = gql_for(people["member"])
    posted = client.post(ME).json
    fetched = client.app.get(f"{URL}?{urlencode({'query': ME})}", headers=client.headers)
    assert posted == fetched.json == {"data": {"me": {"username": "member"}}}
    assert fetched.headers["Cache-Control"] == "no-store"
    with_variables = client.app.get(URL, {
        "query": "query($p: String!) { project(slug: $p) { name } }",
        "variables": '{"p": "alpha"}'}, headers=client.headers)
    assert with_variables.json == {"data": {"project": {"name": "Alpha 项目"}}}
    bad = client.app.get(URL, {"query": ME, "variables": "{nope"}, headers=client.headers,
                         status=400)
    assert bad.json["error"]["code"] == "invalid_parameter"


def test_no_mutations_and_other_methods(gql_for, people) -> None:
    client = gql_for(people["member"])
    for method in (client.app.post_json, client.app.get):
        query = {"query": "mutation { me { username } }"}
        refused = method(URL, query, headers=client.headers, status=400)
        assert refused.json["error"] == {"status": 400, "code": "operation_not_allowed",
                                         "message": "This endpoint answers queries only."}
    answer = client.app.put_json(URL, {"query": ME}, headers=client.headers, status=405)
    assert answer.headers["Allow"] == "GET, POST"
    assert answer.json["error"]["code"] == "method_not_allowed"


def test_read_only_tokens_may_query_by_post(gql_for, people) -> None:
    client = gql_for(people["manager"], scope="read")
    data = client.data('{ me { username allowed } project(slug: "alpha") { allowed } }')
    # The same read-only view of what they may do as the JSON API gives them.
    assert data == {"me": {"username": "manager", "allowed": []},
                    "project": {"allowed": ["view"]}}


def test_cookie_sessions_need_the_csrf_header_for_post(testapp, people) -> None:
    assert login(testapp, "member").status_int == 303
    assert testapp.get(URL, {"query": ME}).json == {"data": {"me": {"username": "member"}}}
    refused = testapp.post_json(URL, {"query": ME}, status=403)
    assert refused.json["error"]["code"] == "csrf_failed"
    answer = testapp.post_json(URL, {"query": ME},
                               headers={"X-CSRF-Token": csrf_token(testapp)})
    assert answer.json == {"data": {"me": {"username": "member"}}}


def test_introspection_can_be_switched_off(gql_for, app_with, make_token, people) -> None:
    query = "{ __schema { queryType { name } } }"
    assert gql_for(people["member"]).data(query) == {"__schema": {"queryType": {"name": "Query"}}}
    closed = GraphQLClient(app_with(**{"taskdesk.graphql.introspection": "false"}),
                           make_token(people["member"]))
    errors = closed.errors(query)
    assert errors[0]["message"] == ("GraphQL introspection has been disabled, but the "
                                    "requested query contained the field '__schema'.")
    assert closed.data(ME) == {"me": {"username": "member"}}


def test_messages_follow_accept_language(gql_for, people) -> None:
    client = gql_for(people["member"])
    client.headers["Accept-Language"] = "zh-CN"
    [error] = client.errors('{ tasks(first: 0) { items { id } } }')
    assert error["extensions"]["fields"]["first"] != "Must be a whole number from 1 to 200."
