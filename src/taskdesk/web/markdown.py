"""Markdown to safe HTML: markdown-it-py renders (raw HTML off), nh3 sanitises.

Raw HTML in the source is escaped by markdown-it already; nh3 is the second wall: it keeps
only an allow-list of tags and attributes (no scripts, no event handlers, no ``style``),
allows only http(s)/mailto links and adds ``rel="noopener nofollow noreferrer"`` to every link.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)

_TAGS = {
    "a", "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td", "img",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
}


def render_markdown(source: str) -> Markup:
    """``source`` as sanitised HTML, safe to insert into a page."""
    html = _md.render(source or "")
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow noreferrer",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above
