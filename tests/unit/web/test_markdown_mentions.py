"""``@mentions`` in rendered Markdown: only known people, only in plain text, always safe."""

from __future__ import annotations

import pytest

from taskdesk.web.markdown import Mentions, mentioned_names, render_markdown

PEOPLE = Mentions({"lina": "李娜", "bob": 'Bob "<script>"'}, lambda name: f"/people?u={name}")


def _links(html: str) -> int:
    return html.count('class="mention"')


@pytest.mark.parametrize(("source", "names"), [
    ("hi @lina and @Bob.", {"lina", "bob"}),
    ("mail lina@example.com", set()),
    ("`@lina` and\n\n    @bob in a block\n\n```\n@bob\n```", set()),
    ("[@lina](https://example.com) @bob", {"bob"}),
    ("@a is too short, @李娜 is no username", set()),
])
def test_names_to_look_up_come_from_plain_text_only(source, names):
    assert mentioned_names([source]) == names


def test_known_people_become_links_with_their_name_as_title():
    html = render_markdown("Ask @Lina, then @nobody.", PEOPLE)
    assert '<a href="/people?u=lina" title="李娜" class="mention"' in html
    assert ">@Lina</a>, then @nobody." in html
    assert _links(html) == 1


def test_no_links_in_code_or_inside_other_links():
    html = render_markdown("`@lina` [see @lina](https://example.com)\n\n    @lina\n", PEOPLE)
    assert _links(html) == 0
    assert "<code>@lina</code>" in html


def test_mentions_stay_safe():
    html = render_markdown("@bob <img src=x onerror=alert(1)> **@lina**", PEOPLE)
    assert 'title="Bob &quot;&lt;script&gt;&quot;"' in html
    assert "<img" not in html
    assert "<strong><a " in html
    # Without mentions (or with nobody known), the class is not allowed either.
    assert 'class="mention"' not in render_markdown("@bob", None)
    assert 'class="mention"' not in render_markdown("@bob", Mentions({}, str))


def test_checklists_render_as_checkboxes_and_nothing_else_gets_an_input():
    source = "- [x] done\n- [ ] todo <input type=text name=csrf_token>\n\n[ ] not an item"
    editable = str(render_markdown(source, checklist="editable"))
    assert ('<li class="task-list-item"><input type="checkbox" checked="" name="item" '
            'value="0"> done</li>') in editable
    assert '<input type="checkbox" name="item" value="1"> todo &lt;input' in editable
    assert editable.count("<input") == 2
    assert "<p>[ ] not an item</p>" in editable
    disabled = str(render_markdown(source, checklist="disabled"))
    assert disabled.count('disabled=""') == 2
    assert 'name="item"' not in disabled
    # Without a checklist mode (comments), the boxes stay text.
    assert "<input" not in str(render_markdown(source))
