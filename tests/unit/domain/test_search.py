"""The search tokeniser, stemmer, query expressions and marks (``domain.search``) and the
reading of ``#12`` jumps (``domain.search_results``)."""

from __future__ import annotations

import pytest

from taskdesk.domain.schema import TaskRef
from taskdesk.domain.search import (
    excerpt,
    marked,
    match_spans,
    query_terms,
    search_body,
    search_expression,
    stem,
    tokens,
)
from taskdesk.domain.search_results import parse_jump


def test_tokens_are_lower_case_words_and_single_cjk_characters():
    assert tokens("Fix the LOGIN_page 登录页面, \uff56\uff12!") == [
        "fix", "the", "login", "page", "登", "录", "页", "面", "v2"]


@pytest.mark.parametrize(("words", "common"), [
    (("migrate", "migrating", "migration", "migrations", "migrated"), "migrat"),
    (("log", "logs", "logging", "logged"), "log"),
    (("deploy", "deploying", "deployed", "deploys"), "deploy"),
])
def test_english_variations_share_a_stem(words, common):
    assert {stem(word) for word in words} == {common}


@pytest.mark.parametrize("token", ["数", "v2", "2026", "café", "\uff56"])
def test_only_plain_english_words_are_stemmed(token):
    assert stem(token) == token


def test_the_body_holds_stems_then_the_written_words_when_they_differ():
    assert search_body("Migrating logs", "数据库") == "migrat log 数 据 库 migrating logs 数 据 库"
    assert search_body("login page", "数据") == "login page 数 据"


def test_query_terms_keep_cjk_characters_together_and_are_bounded():
    assert query_terms("数据库 Log-in") == [["数", "据", "库"], ["log", "in"]]
    assert len(query_terms(" ".join(f"w{n}" for n in range(20)))) == 8
    assert query_terms("!!! ---") == []


def test_expressions_offer_the_stemmed_and_the_typed_form():
    assert search_expression("sqlite", "migrating 数据") == (
        '("migrat"* OR "migrating"*) AND ("数 据"*)')
    assert search_expression("postgresql", "migrating 数据") == (
        "(('migrat':*) | ('migrating':*)) & (('数' <-> '据':*))")
    assert search_expression("sqlite", "login") == '("login"*)'
    assert search_expression("sqlite", "  ") is None


@pytest.mark.parametrize(("text", "query", "found"), [
    ("Plan the migration", "migrating", ["migration"]),
    ("Plan the migration", "migratio", ["migration"]),         # typed prefix
    ("Login and logs", "log", ["Login", "logs"]),               # prefix of the last token
    ("迁移数据库", "数据", ["数据"]),                              # characters side by side
    ("数 据", "数据", ["数 据"]),                                 # as the index sees them
    ("据数", "数据", []),
    ("user-login", "user-log", ["user-login"]),
    ("login user", "user-log", []),
])
def test_spans_are_what_the_index_matches(text, query, found):
    assert [text[s:e] for s, e in match_spans(text, query)] == found


def test_marks_are_added_after_escaping():
    text = '<script>alert("migrate")</script> & migrations'
    result = marked(text, match_spans(text, "migrate"))
    assert str(result) == ('&lt;script&gt;alert(&#34;<mark>migrate</mark>&#34;)&lt;/script&gt;'
                           ' &amp; <mark>migrations</mark>')


def test_a_match_inside_what_looks_like_markup_is_still_text():
    text = '<a href="migrate">x</a>'
    assert "<a " not in str(marked(text, match_spans(text, "migrate")))


def test_excerpt_starts_near_the_first_match_and_says_where_it_was_cut():
    text = "word " * 100 + "we plan the\n\nmigration now " + "tail " * 100
    found = excerpt(text, "migrating", width=60)
    assert found is not None
    assert found.text.startswith("…")
    assert found.text.endswith("…")
    assert "\n" not in found.text
    assert [found.text[s:e] for s, e in found.spans] == ["migration"]
    assert excerpt("nothing here", "migrate") is None


@pytest.mark.parametrize(("query", "jump"), [
    ("#12", TaskRef(None, 12)),
    (" website#7 ", TaskRef("website", 7)),
    ("Website#7", TaskRef("website", 7)),
    ("12", None),           # a bare number is a word
    ("#0", None),
    ("#12 login", None),
    ("web site#3", None),
])
def test_jumps(query, jump):
    assert parse_jump(query) == jump
