"""Search everywhere: the tasks matching a free-text query in every project the viewer may
see, grouped by project with excerpts of where they match; and jumps to a task by number
(``#12`` in the current project, ``website#12`` in a named one).

A page costs two statements whatever it holds: the matching tasks (visibility and the
full-text index in SQL, keyset paging by project slug, then newest task first), and the
comments of the tasks whose title and description do not show the match (none when every
task's does). The excerpts and marks are made in Python with the index's own tokeniser and
stemmer (``domain.search``), so what is marked is what matched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Integer, Select, String, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from taskdesk.domain.access import Viewer, visible_projects
from taskdesk.domain.cursor import decode_cursor, encode_cursor, invalid_cursor, is_whole_number
from taskdesk.domain.schema import FieldError, TaskRef, TaskReference
from taskdesk.domain.search import (
    Excerpt,
    excerpt,
    match_spans,
    matching_task_ids,
    search_expression,
)
from taskdesk.models import Comment, Project, Task, read_rows

#: The most tasks a jump without a project offers to choose from.
JUMP_CHOICES = 20
_JUMP = TaskReference("q")


def parse_jump(query: str) -> TaskRef | None:
    """The task a query names by number (``#12``, ``website#12``), or None for words (a
    bare number is a word)."""
    if "#" not in query:
        return None
    try:
        return _JUMP.convert(query)
    except FieldError:
        return None


class NumberedTask(NamedTuple):
    project_slug: str
    project_name: str
    number: int
    title: str
    status: str


def tasks_numbered(dbsession: Session, viewer: Viewer, number: int, *,
                   slug: str | None = None) -> list[NumberedTask]:
    """The tasks of this number the viewer may see (in the project ``slug`` if given), by
    project slug, at most :data:`JUMP_CHOICES`. A hidden task is not there, as a missing one
    is not."""
    statement = (
        select(Project.slug, Project.name, Task.number, Task.title, Task.status)
        .join(Project, Project.id == Task.project_id)
        .where(Task.number == number, visible_projects(viewer))
    )
    if slug is not None:
        statement = statement.where(Project.slug == slug)
    statement = statement.order_by(Project.slug).limit(JUMP_CHOICES)
    return [NumberedTask._make(row) for row in read_rows(dbsession, statement)]


class Hit(NamedTuple):
    """A matching task; ``excerpt`` shows where it matched (``field``: description or
    comment), None when the title shows it (or the match is in words no excerpt shows)."""

    project_slug: str
    project_name: str
    number: int
    title: str
    title_spans: list[tuple[int, int]]
    status: str
    field: str | None
    excerpt: Excerpt | None


@dataclass(frozen=True)
class ProjectHits:
    slug: str
    name: str
    hits: list[Hit]


@dataclass(frozen=True)
class SearchPage:
    groups: list[ProjectHits]
    next_cursor: str | None

    @property
    def hits(self) -> list[Hit]:
        return [hit for group in self.groups for hit in group.hits]


def _search_statement(dialect: str, viewer: Viewer, after: bool) -> Select[*tuple[Any, ...]]:
    # The matches first, then their tasks: as ``Task.id IN (matches)`` PostgreSQL walks
    # the projects in slug order to stop early at the LIMIT, computing each task's
    # tsvector; at 100,000 tasks that took 1-7 s, with the GIN index unused. A
    # materialized CTE makes it read the index (SQLite 3.35+ and PostgreSQL 12+ know it).
    matches = matching_task_ids(dialect).cte("matches").prefix_with("MATERIALIZED")
    statement = (
        select(Task.id, Project.slug, Project.name, Task.number, Task.title,
               Task.description, Task.status)
        .select_from(matches)
        .join(Task, Task.id == matches.c.task_id)
        .join(Project, Project.id == Task.project_id)
        .where(visible_projects(viewer))
    )
    if after:
        slug = bindparam("after_slug", type_=String)
        number = bindparam("after_number", type_=Integer)
        statement = statement.where(
            or_(Project.slug > slug, and_(Project.slug == slug, Task.number < number)))
    return (statement.order_by(Project.slug, Task.number.desc())
            .limit(bindparam("limit", type_=Integer)))


def _decode(cursor: str) -> tuple[str, int]:
    values = decode_cursor(cursor)
    if (len(values) != 3 or values[0] != "search" or not isinstance(values[1], str)
            or not is_whole_number(values[2])):
        raise invalid_cursor()
    return values[1], values[2]


def search_tasks(dbsession: Session, viewer: Viewer, query: str, *, limit: int,
                 cursor: str | None = None) -> SearchPage:
    """One page of the tasks matching ``query`` (``domain.search``'s rules), grouped by
    project; ``cursor`` comes from the previous page. A query without words finds nothing."""
    dialect = dbsession.get_bind().dialect.name
    expression = search_expression(dialect, query)
    if expression is None:
        return SearchPage([], None)
    after = _decode(cursor) if cursor else None
    params: dict[str, Any] = {"search": expression, "limit": limit + 1}
    if after is not None:
        params.update(after_slug=after[0], after_number=after[1])
    statement = _search_statement(dialect, viewer, after is not None)
    rows = read_rows(dbsession, statement, params).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor("search", rows[-1].slug, rows[-1].number)
    hits: dict[int, Hit] = {}
    for row in rows:
        found = excerpt(row.description, query)
        hits[row.id] = Hit(row.slug, row.name, row.number, row.title,
                           match_spans(row.title, query), row.status,
                           "description" if found else None, found)
    unexplained = [task_id for task_id, hit in hits.items()
                   if not hit.title_spans and hit.excerpt is None]
    if unexplained:
        comments = read_rows(dbsession, select(Comment.task_id, Comment.body)
                             .where(Comment.task_id.in_(unexplained)).order_by(Comment.id))
        for comment in comments:
            hit = hits[comment.task_id]
            if hit.excerpt is None:
                found = excerpt(comment.body, query)
                if found is not None:
                    hits[comment.task_id] = hit._replace(field="comment", excerpt=found)
    groups: list[ProjectHits] = []
    for hit in hits.values():
        if not groups or groups[-1].slug != hit.project_slug:
            groups.append(ProjectHits(hit.project_slug, hit.project_name, []))
        groups[-1].hits.append(hit)
    return SearchPage(groups, next_cursor)
