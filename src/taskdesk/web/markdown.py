"""Markdown to safe HTML: markdown-it-py renders (raw HTML off), nh3 sanitises.

Raw HTML in the source is escaped by markdown-it already; nh3 is the second wall: it keeps
only an allow-list of tags and attributes (no scripts, no event handlers, no ``style``),
allows only http(s)/mailto links and adds ``rel="noopener nofollow noreferrer"`` to every link.

Mentions: ``@username`` of a known person (``Mentions.people``) becomes a link to them, made
as Markdown tokens before sanitising (so nh3 checks it like any link). Only plain text is
looked at: never code spans, code blocks or the text of another link. The page looks the
names up first, all at once (:func:`mentioned_names` over every text it shows).

Checklists: the items ``domain.checklists`` recognises (``- [ ] item``) become checkboxes,
made as tokens like mentions. They are disabled unless the page lets the reader tick them
(``checklist="editable"``): then each is ``<input type="checkbox" name="item" value="N">``
inside the task page's checklist form. nh3 lets through only that: an ``input`` whose type
is checkbox, named ``item``, with a number as its value (the source cannot hold raw HTML,
so only this renderer makes inputs; the filter is the second wall again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import nh3
from markdown_it.token import Token
from markupsafe import Markup

from taskdesk.domain.checklists import checklist_items, markdown_parser
from taskdesk.domain.mentions import MENTION


@dataclass(frozen=True)
class Mentions:
    """Who may be linked (username -> display name) and where a person's link goes."""

    people: Mapping[str, str]
    link: Callable[[str], str]


def _mentions_in(text: str) -> Iterable[tuple[int, int, str]]:
    """(start, end, lower-case username) of each ``@name`` in plain text (the span without
    the trailing dots or hyphens that are punctuation)."""
    for match in MENTION.finditer(text):
        name = match.group(1).rstrip(".-")
        if len(name) >= 2:
            yield match.start(), match.start() + 1 + len(name), name.lower()


def _plain_texts(tokens: list[Token]) -> Iterable[tuple[Token, int, Token]]:
    """(inline block, index, token) of every text token outside links (code spans and
    blocks are tokens of their own kinds, so they never appear)."""
    for block in tokens:
        if block.type != "inline" or not block.children:
            continue
        depth = 0
        for index, token in enumerate(block.children):
            if token.type == "link_open":
                depth += 1
            elif token.type == "link_close":
                depth -= 1
            elif token.type == "text" and depth == 0:
                yield block, index, token


def _link_mentions(state: Any) -> None:
    """Core rule: split text tokens around known mentions into links."""
    mentions: Mentions | None = state.env.get("mentions")
    if mentions is None or not mentions.people:
        return
    replaced: dict[int, tuple[Token, dict[int, list[Token]]]] = {}
    for block, index, token in list(_plain_texts(state.tokens)):
        pieces: list[Token] = []
        position = 0
        for start, end, name in _mentions_in(token.content):
            display_name = mentions.people.get(name)
            if display_name is None:
                continue
            if start > position:
                pieces.append(_text(token.content[position:start]))
            link = Token("link_open", "a", 1, attrs={
                "href": mentions.link(name), "title": display_name, "class": "mention"})
            pieces += [link, _text(token.content[start:end]), Token("link_close", "a", -1)]
            position = end
        if pieces:
            if position < len(token.content):
                pieces.append(_text(token.content[position:]))
            replaced.setdefault(id(block), (block, {}))[1][index] = pieces
    for block, changes in replaced.values():
        children: list[Token] = []
        for index, token in enumerate(block.children or []):
            children += changes.get(index, [token])
        block.children = children


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def _checkboxes(state: Any) -> None:
    """Core rule: the checklist items' ``[ ]``/``[x]`` as checkboxes (``state.env``'s
    ``checklist``: ``editable``, ``disabled``, or absent to leave them as text)."""
    mode = (state.env or {}).get("checklist")
    if mode is None:
        return
    tokens = state.tokens
    for item in checklist_items(tokens):
        inline = tokens[item.token]
        children = inline.children or []
        if not children or children[0].type != "text":
            continue
        first = children[0]
        first.content = first.content[3:].lstrip()
        attrs: dict[str, str | int | float] = {"type": "checkbox"}
        if item.done:
            attrs["checked"] = ""
        if mode == "editable":
            attrs.update(name="item", value=str(item.number))
        else:
            attrs["disabled"] = ""
        box = Token("html_inline", "", 0)
        box.content = _checkbox_html(attrs)
        inline.children = [box, *children]
        for back in range(item.token - 1, -1, -1):
            if tokens[back].type == "list_item_open":
                tokens[back].attrSet("class", "task-list-item")
                break


def _checkbox_html(attrs: Mapping[str, str | int | float]) -> str:
    parts = [f'{name}="{value}"' if value != "" else name for name, value in attrs.items()]
    return f"<input {' '.join(parts)}> "


_md = markdown_parser()
_md.core.ruler.push("mentions", _link_mentions)
_md.core.ruler.push("checkboxes", _checkboxes)


def mentioned_names(sources: Iterable[str]) -> set[str]:
    """The lower-case usernames ``@mentioned`` in the plain text of ``sources`` (not in
    code, nor inside links): the names a page must look up before rendering them."""
    names: set[str] = set()
    for source in sources:
        if source and "@" in source:
            for _block, _index, token in _plain_texts(_md.parse(source)):
                names.update(name for _s, _e, name in _mentions_in(token.content))
    return names

_TAGS = {
    "a", "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td", "img", "input",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
    "input": {"type", "checked", "disabled", "name", "value"},
}


def _strict_inputs(tag: str, attribute: str, value: str) -> str | None:
    """Keep an input's attributes only as the checklist renderer makes them."""
    if tag != "input":
        return value
    allowed = {"type": value == "checkbox", "name": value == "item",
               "value": value.isascii() and value.isdigit(),
               "checked": value == "", "disabled": value == ""}
    return value if allowed.get(attribute, False) else None


def render_markdown(source: str, mentions: Mentions | None = None,
                    checklist: str | None = None) -> Markup:
    """``source`` as sanitised HTML, safe to insert into a page; with ``mentions``, the
    people it names linked; with ``checklist`` (``editable`` or ``disabled``), its
    checklist items as checkboxes."""
    env: dict[str, Any] = {}
    if mentions:
        env["mentions"] = mentions
    if checklist:
        env["checklist"] = checklist
    html = _md.render(source or "", env or None)
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow noreferrer",
        allowed_classes={"a": {"mention"}, "li": {"task-list-item"}},
        attribute_filter=_strict_inputs,
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above
