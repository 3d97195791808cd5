"""Free-text search over a task's title, description and comments, in the database's index.

Each task has one ``task_search`` row whose ``body`` holds its searchable text as tokens:
lower-cased words, and every CJK character as a token of its own, so that a Chinese word of
any length is found as a phrase of adjacent characters without a dictionary. The index over
it is the database's own: an FTS5 table kept in step by triggers on SQLite, a GIN index over
``to_tsvector('simple', body)`` on PostgreSQL (both made by the migrations).

A query matches when every term occurs; the last token of a term may be a prefix, so
``log`` finds "login".
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import ColumnElement, Select, String, bindparam, func, literal_column, select, text
from sqlalchemy.orm import Session

from taskdesk.models import Comment, Task, TaskSearch

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")
MAX_TERMS = 8
MAX_TOKENS_PER_TERM = 16


def tokens(value: str) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFKC", value).lower())


def search_body(*parts: str) -> str:
    return " ".join(token for part in parts for token in tokens(part))


def query_terms(query: str) -> list[list[str]]:
    """The query's terms, each a list of tokens that must stand next to each other."""
    terms = [tokens(word) for word in query.split()]
    return [t[:MAX_TOKENS_PER_TERM] for t in terms if t][:MAX_TERMS]


def reindex_task(dbsession: Session, task_id: int) -> None:
    """Rewrite one task's search row from its current title, description and comments."""
    task = dbsession.get(Task, task_id)
    if task is None:
        return
    comments = dbsession.scalars(select(Comment.body).where(Comment.task_id == task_id))
    body = search_body(task.title, task.description, *comments)
    row = dbsession.get(TaskSearch, task_id)
    if row is None:
        dbsession.add(TaskSearch(task_id=task_id, body=body))
    else:
        row.body = body
    dbsession.flush()


def index_new_task(dbsession: Session, task: Task) -> None:
    """Add the search row of a task just created: it has no comments and no row yet, so
    nothing needs reading (:func:`reindex_task` would select both)."""
    dbsession.add(TaskSearch(task_id=task.id, body=search_body(task.title, task.description)))


def search_expression(dialect: str, query: str) -> str | None:
    """The backend's full-text query for ``query``, or None when it has no words.

    Tokens are word characters only, so the quoting below cannot be escaped from.
    """
    terms = query_terms(query)
    if not terms:
        return None
    if dialect == "sqlite":
        return " AND ".join('"' + " ".join(term) + '"*' for term in terms)
    return " & ".join(
        "(" + " <-> ".join(f"'{token}'" for token in term) + ":*)" for term in terms
    )


def matching_task_ids(dialect: str) -> Select[Any]:
    """A SELECT of the ids of tasks matching the bound parameter ``search``, which holds
    :func:`search_expression`'s result."""
    if dialect == "sqlite":
        return select(literal_column("rowid").label("task_id")).select_from(
            text("task_search_fts")
        ).where(text("task_search_fts MATCH :search"))
    document = func.to_tsvector(literal_column("'simple'"), TaskSearch.body)
    condition: ColumnElement[bool] = document.bool_op("@@")(
        func.to_tsquery(literal_column("'simple'"), bindparam("search", type_=String))
    )
    return select(TaskSearch.task_id).where(condition)
