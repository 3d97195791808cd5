"""Checklists: the Markdown task-list items (``- [ ] item``, ``- [x] item``) of a description.

The one home of what counts as an item. The web renderer turns the same items into
checkboxes (it parses with :func:`markdown_parser` and asks :func:`checklist_items`), the
domain counts them into ``tasks.checklist_done``/``checklist_total`` whenever a description
is written (so lists and boards show "3/5" without parsing Markdown per row), and a tick
rewrites the description through :func:`with_items_done`.

An item is a list item (bullet or numbered, at any depth, in a quote too) whose first
paragraph starts with ``[ ]``, ``[x]`` or ``[X]`` and a space (or nothing). Items are
numbered in document order from 0; a tick names items by that number, and the task's version
guarantees the number means the same item it did when the page was drawn.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import NamedTuple

from markdown_it import MarkdownIt
from markdown_it.token import Token

_BOX = re.compile(r"\[([ xX])\](?=\s|$)")


def markdown_parser() -> MarkdownIt:
    """A parser of the Markdown dialect Taskdesk renders (CommonMark, tables,
    strikethrough, no raw HTML): the web renderer builds on it, so it sees the same items."""
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}
                      ).enable(["table", "strikethrough"])


_parser = markdown_parser()


class ChecklistItem(NamedTuple):
    """One item: its number, the index of its ``inline`` token, whether it is ticked, and
    the source line its box is on."""

    number: int
    token: int
    done: bool
    line: int


class Progress(NamedTuple):
    done: int
    total: int


def checklist_items(tokens: Sequence[Token]) -> list[ChecklistItem]:
    """The items of a parsed document, in order."""
    items: list[ChecklistItem] = []
    for position, token in enumerate(tokens):
        if (token.type != "inline" or position < 2 or token.map is None
                or tokens[position - 1].type != "paragraph_open"
                or tokens[position - 2].type != "list_item_open"):
            continue
        match = _BOX.match(token.content)
        if match:
            items.append(ChecklistItem(len(items), position, match.group(1) != " ",
                                       token.map[0]))
    return items


def progress(description: str) -> Progress:
    """How many items of ``description`` are ticked, and how many there are."""
    if "[" not in description:  # most descriptions: no parse
        return Progress(0, 0)
    items = checklist_items(_parser.parse(description))
    return Progress(sum(item.done for item in items), len(items))


def with_items_done(description: str, done: Collection[int]) -> str:
    """``description`` with exactly the items numbered in ``done`` ticked (the others
    unticked); every other character stays as it was."""
    items = checklist_items(_parser.parse(description))
    # markdown-it counts lines at "\n" only (not at U+2028 and the like, as splitlines does).
    lines = description.split("\n")
    for item in items:
        wanted = item.number in done
        if wanted == item.done:
            continue
        line = lines[item.line]
        # Only container markers (indent, ">", the list marker) come before the box.
        box = line.index("[")
        lines[item.line] = f"{line[:box]}[{'x' if wanted else ' '}]{line[box + 3:]}"
    return "\n".join(lines)
