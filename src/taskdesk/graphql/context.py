"""What one GraphQL request's resolvers share: the caller, the per-request batch loaders,
the ``allowed`` lists and the budget of objects.

Nested lists load through :class:`~strawberry.dataloader.DataLoader`\\ s: the resolvers of
one level of a query all ask before any statement runs, and each loader answers all of them
with one statement (:mod:`taskdesk.domain.feeds`' ``tasks_*``/``projects_*`` reads), so a
query's statement count depends on its shape, not on the number of rows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from graphql import GraphQLError
from pyramid.request import Request
from strawberry.dataloader import DataLoader

from taskdesk.domain.access import Viewer
from taskdesk.domain.cursor import decode_id_cursor
from taskdesk.domain.errors import ValidationError
from taskdesk.domain.feeds import (
    projects_members,
    tasks_activity,
    tasks_comments,
)
from taskdesk.domain.people import display_names
from taskdesk.i18n import header_locale, localizer_for
from taskdesk.messages import _
from taskdesk.security.actions import ListActions
from taskdesk.security.policy import identity_of
from taskdesk.settings import TaskdeskSettings, settings_of

Row = TypeVar("Row")
#: A nested list's key: (parent id, after, limit, newest first).
PageKey = tuple[int, int, int, bool]


def _grouped(keys: Sequence[PageKey],
             read: Callable[[list[int], int, int, bool, int], Mapping[int, list[Row]]],
             budget: int) -> list[list[Row]] | None:
    """Answer ``keys`` with one ``read`` per distinct paging (usually one in all); None
    when the pages would show more than ``budget`` rows.

    A key's ``limit`` is one more than its page shows (that row tells whether a next page
    exists), so a read of N parents needs at most ``budget + N`` rows to decide: no
    statement reads more."""
    groups: dict[tuple[int, int, bool], list[int]] = {}
    for parent, after, limit, newest in keys:
        groups.setdefault((after, limit, newest), []).append(parent)
    found: dict[PageKey, list[Row]] = {}
    for (after, limit, newest), parents in groups.items():
        rows = read(parents, after, limit, newest, budget + len(parents) + 1)
        budget -= sum(min(len(page), limit - 1) for page in rows.values())
        if budget < 0:
            return None
        found.update({(parent, after, limit, newest): rows[parent] for parent in parents})
    return [found[key] for key in keys]


class Context:
    """Built per request by the view; resolvers reach it as ``info.context``."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.settings: TaskdeskSettings = settings_of(request.registry)
        identity = identity_of(request)
        self.viewer = identity.viewer if identity is not None else Viewer(None)
        self.actions = ListActions(request)
        self._nodes = 0
        dbsession = request.dbsession

        def batch(read: Callable[[list[int], int, int, bool, int], Mapping[int, list[Row]]]
                  ) -> Callable[[list[PageKey]], Awaitable[list[list[Row] | GraphQLError]]]:
            """A batch function loading the pages of many parents, refusing (for every key)
            a batch that alone would hold more objects than the budget has left: no
            statement reads more rows than the answer may show."""
            async def load(keys: list[PageKey]) -> list[list[Row] | GraphQLError]:
                pages = _grouped(keys, read, self.settings.graphql_max_nodes - self._nodes)
                if pages is None:
                    return [self.too_many_nodes() for _ in keys]
                return list(pages)

            return load

        comments = batch(lambda ids, after, limit, newest, total: tasks_comments(
            dbsession, ids, after=after, limit=limit, newest_first=newest, total=total))
        activity = batch(lambda ids, after, limit, _newest, total: tasks_activity(
            dbsession, ids, after=after, limit=limit, total=total))
        members = batch(lambda ids, after, limit, _newest, total: projects_members(
            dbsession, ids, after=after, limit=limit, total=total))

        async def names(usernames: list[str]) -> list[str | None]:
            found = display_names(dbsession, usernames)
            return [found.get(username) for username in usernames]

        self.comments = DataLoader(load_fn=comments)
        self.activity = DataLoader(load_fn=activity)
        self.members = DataLoader(load_fn=members)
        self.display_names = DataLoader(load_fn=names)

    def translate(self, message: Any) -> str:
        """A message in the language of the request's ``Accept-Language`` (as the JSON
        API's errors)."""
        localizer = localizer_for(self.request.registry, header_locale(self.request))
        return str(localizer.translate(message))

    def charge(self, count: int) -> None:
        """Count ``count`` more objects in the answer; an error past
        ``taskdesk.graphql.max_nodes``."""
        self._nodes += count
        if self._nodes > self.settings.graphql_max_nodes:
            raise self.too_many_nodes()

    def too_many_nodes(self) -> GraphQLError:
        limit = self.settings.graphql_max_nodes
        return GraphQLError(
            self.translate(_("The answer would hold more than ${limit} objects; ask for "
                             "fewer (smaller `first`, fewer nested lists).",
                             mapping={"limit": limit})),
            extensions={"code": "too_many_nodes"})

    def invalid(self, fields: Mapping[str, Any]) -> GraphQLError:
        """The error of invalid arguments, each with its message (``fields``)."""
        return GraphQLError(
            self.translate(_("Invalid arguments: ${names}.",
                             mapping={"names": ", ".join(sorted(fields))})),
            extensions={"code": "invalid_argument",
                        "fields": {name: self.translate(text) for name, text in fields.items()}})

    def first(self, first: int | None) -> int:
        """A list's page size: ``taskdesk.api.default_limit`` when not given, at most
        ``taskdesk.api.max_limit`` (the JSON API's rule)."""
        if first is None:
            return self.settings.api_default_limit
        maximum = self.settings.api_max_limit
        if not 1 <= first <= maximum:
            raise self.invalid({"first": _("Must be a whole number from ${a} to ${b}.",
                                           mapping={"a": 1, "b": maximum})})
        return first

    def id_cursor(self, after: str | None) -> int:
        """The id a nested list starts after (``after`` is its ``nextCursor``)."""
        try:
            return decode_id_cursor(after)
        except ValidationError as error:
            raise self.invalid({"after": error.fields["cursor"]}) from None
