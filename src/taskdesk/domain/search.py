"""Free-text search over a task's title, description and comments, in the database's index.

Each task has one ``task_search`` row whose ``body`` holds its searchable text as tokens:
lower-cased words, and every CJK character as a token of its own, so that a Chinese word of
any length is found as a phrase of adjacent characters without a dictionary. The index over
it is the database's own: an FTS5 table kept in step by triggers on SQLite, a GIN index over
``to_tsvector('simple', body)`` on PostgreSQL (both made by the migrations).

English words are stemmed (Snowball's English stemmer), at index time and at query time,
so "migrate", "migrating" and "migration" find each other. The stemming is Python's, not the
database's, so that SQLite and PostgreSQL index and match exactly alike. A body holds the
stemmed tokens and then, when stemming changed any, the tokens as written: a typed prefix
of a word is not always a prefix of its stem ("migratio" of "migration", stem "migrat"), and
prefix matching must keep working. That costs up to twice the index size for English text
(CJK text is not stemmed and is not repeated).

A query matches when every term occurs; a term's tokens must stand next to each other,
stemmed in the stemmed tokens or as typed in the written ones, and its last token may be a
prefix, so ``log`` finds "login".
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NamedTuple

import snowballstemmer  # type: ignore[import-untyped]
from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, Select, String, bindparam, func, literal_column, select, text
from sqlalchemy.orm import Session

from taskdesk.models import Comment, Task, TaskSearch

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")
MAX_TERMS = 8
MAX_TOKENS_PER_TERM = 16
#: The tokens the English stemmer is given: plain ASCII words (not numbers, not CJK).
_ENGLISH = re.compile(r"[a-z]+")
#: Snowball stemmers keep state while they work: one per thread.
_stemmers = threading.local()


def _normal(value: str) -> str:
    return unicodedata.normalize("NFKC", value).lower()


def tokens(value: str) -> list[str]:
    return _TOKEN.findall(_normal(value))


@lru_cache(maxsize=65536)
def stem(token: str) -> str:
    """The English stem of a lower-case token; other tokens (CJK, digits, accented words)
    as they are."""
    if not _ENGLISH.fullmatch(token):
        return token
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        stemmer = _stemmers.english = snowballstemmer.stemmer("english")
    return str(stemmer.stemWord(token))


def search_body(*parts: str) -> str:
    """The indexed text of a task: its tokens stemmed, then as written if stemming changed
    any (see the module's docstring)."""
    written = [token for part in parts for token in tokens(part)]
    stemmed = [stem(token) for token in written]
    if stemmed == written:
        return " ".join(written)
    return " ".join(stemmed) + " " + " ".join(written)


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


def search_expression(dialect: str, query: str) -> str | None:
    """The backend's full-text query for ``query``, or None when it has no words.

    Tokens are word characters only, so the quoting below cannot be escaped from.
    """
    terms = query_terms(query)
    if not terms:
        return None
    if dialect == "sqlite":
        return " AND ".join(
            "(" + " OR ".join('"' + " ".join(form) + '"*' for form in _forms(term)) + ")"
            for term in terms
        )
    return " & ".join(
        "(" + " | ".join("(" + " <-> ".join(f"'{token}'" for token in form) + ":*)"
                         for form in _forms(term)) + ")"
        for term in terms
    )


def _forms(term: list[str]) -> list[list[str]]:
    """A query term stemmed, and as typed when that differs."""
    stemmed = [stem(token) for token in term]
    return [stemmed] if stemmed == term else [stemmed, term]


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


class _Word(NamedTuple):
    """A token of a text where it stands: ``text[start:end]``, normalised, and its stem."""

    start: int
    end: int
    token: str
    stem: str


def _words(text: str) -> list[_Word]:
    words = []
    for match in _TOKEN.finditer(text):
        token = _normal(match.group())
        words.append(_Word(match.start(), match.end(), token, stem(token)))
    return words


def _matches(word: _Word, token: str, stemmed: str, last: bool) -> bool:
    if last:
        return word.token.startswith(token) or word.stem.startswith(stemmed)
    return word.token == token or word.stem == stemmed


def match_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Where ``query``'s terms occur in ``text`` as the index matches them (stemmed or as
    typed, tokens side by side, the last a prefix of a word): ``(start, end)`` offsets of
    whole words, in order, merged where they overlap."""
    terms = query_terms(query)
    words = _words(text) if terms else []
    spans: list[tuple[int, int]] = []
    for term in terms:
        stems = [stem(token) for token in term]
        size = len(term)
        for first in range(len(words) - size + 1):
            if all(_matches(words[first + k], term[k], stems[k], k == size - 1)
                   for k in range(size)):
                spans.append((words[first].start, words[first + size - 1].end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def marked(text: str, spans: Sequence[Sequence[int]]) -> Markup:
    """``text`` escaped, with each span wrapped in ``<mark>``: the text is escaped piece by
    piece first and the marks are added between the pieces, so a mark never lands inside
    markup and nothing in ``text`` can become markup."""
    out = Markup()
    position = 0
    for start, end in spans:
        out += escape(text[position:start]) + Markup("<mark>") + escape(text[start:end])
        out += Markup("</mark>")
        position = end
    return out + escape(text[position:])


class Excerpt(NamedTuple):
    """A piece of text around its first match and the matches in it (offsets into
    ``text``)."""

    text: str
    spans: list[tuple[int, int]]


def excerpt(text: str, query: str, width: int = 160) -> Excerpt | None:
    """About ``width`` characters of ``text`` (white space folded) from a little before
    its first match, with "…" where it was cut; None when ``query`` does not occur."""
    folded = " ".join(text.split())
    spans = match_spans(folded, query)
    if not spans:
        return None
    start = max(0, spans[0][0] - width // 4)
    if start:
        # Start at a word's beginning (CJK text has no spaces: cut anywhere).
        space = folded.find(" ", start, spans[0][0])
        start = space + 1 if space != -1 else start
    end = min(len(folded), start + width)
    prefix = "…" if start else ""
    suffix = "…" if end < len(folded) else ""
    shift = len(prefix) - start
    kept = [(max(s, start) + shift, min(e, end) + shift) for s, e in spans if s < end]
    return Excerpt(prefix + folded[start:end] + suffix, kept)
