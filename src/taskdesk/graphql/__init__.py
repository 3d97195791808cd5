"""A read-only GraphQL API at ``/api/graphql`` over the same resources and permissions as
the JSON API (feature package: list ``taskdesk.graphql`` in ``taskdesk.includes``).

The schema (:mod:`taskdesk.graphql.schema`, exported as ``schema.graphql`` beside this file
by ``python -m taskdesk.graphql``) is built once at start-up with the cost limits of the
settings: query depth, aliases, tokens and query size, objects per answer, and whether
introspection is on.
"""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.request import Request

from taskdesk.resources import Root, root_factory
from taskdesk.security.policy import READS_ONLY
from taskdesk.settings import settings_of


def endpoint_root(request: Request) -> Root:
    """The root of the endpoint's requests, marked as reads: the schema changes nothing,
    so a read-only token may query by POST too."""
    request.environ[READS_ONLY] = True
    return root_factory(request)


def includeme(config: Configurator) -> None:
    from taskdesk.graphql.schema import build_schema
    from taskdesk.graphql.views import GRAPHQL_ROUTE, SCHEMA

    config.add_route(GRAPHQL_ROUTE, "/api/graphql", factory=endpoint_root)
    config.registry[SCHEMA] = build_schema(settings_of(config.registry))
    config.scan("taskdesk.graphql.views")
