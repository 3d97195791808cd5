"""A PostgreSQL outage under each real server: 503 with Retry-After while the database
refuses connections, one log line per refused request, and service again once it is back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import connections_refused, create_database
from tests.support.servers import SERVERS, Client, free_port, prepare_database, write_ini

pytestmark = pytest.mark.slow


@pytest.fixture
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from create_database("postgresql", tmp_path_factory)


def test_a_database_outage_is_503_and_the_server_recovers(
    tmp_path: Path, postgres_url: str, server_kind: str
) -> None:
    port = free_port()
    ini = write_ini(tmp_path, postgres_url, port)
    prepare_database(ini, "alice")
    with SERVERS[server_kind](ini, port, tmp_path / f"{server_kind}.log") as server:
        client = Client(port)
        assert client.login("alice").status == 303
        client.create_token()
        assert client.api("GET", "/api/v1/me").status == 200
        with connections_refused(postgres_url):
            api = client.api("GET", "/api/v1/me")
            assert api.status == 503, api.text[:500]
            assert api.header("Retry-After") == "5"
            assert json.loads(api.body)["error"]["code"] == "database_unavailable"
            client.token = ""
            page = client.get("/projects")
            assert page.status == 503, page.text[:500]
            assert page.header("Retry-After") == "5"
            assert "Temporarily unavailable" in page.text
        assert client.get("/projects").status == 200
        client.create_token()
        assert client.api("GET", "/api/v1/me").status == 200
    log = server.output()
    assert "Traceback" not in log
    for rid in (api.header("X-Request-ID"), page.header("X-Request-ID")):
        assert log.count(f"request_id={rid} answered 503") == 1
