"""Checklist items: what counts as one, their progress, and ticking them in the source."""

from __future__ import annotations

from taskdesk.domain.checklists import Progress, progress, with_items_done

SOURCE = """Plan:

- [ ] one
- [x] two
  - [X] nested
1. [ ] numbered
> - [ ] quoted

```
- [ ] in code: not an item
```

    - [ ] indented code: not an item
Not a list: [ ] nor this
- plain item
- [] no space inside"""


def test_items_are_list_items_starting_with_a_box():
    assert progress(SOURCE) == Progress(2, 5)
    assert progress("") == Progress(0, 0)
    assert progress("no brackets at all") == Progress(0, 0)


def test_ticking_changes_only_the_boxes_asked_for():
    ticked = with_items_done(SOURCE, {0, 3, 4})
    assert ticked == (SOURCE.replace("- [ ] one", "- [x] one")
                      .replace("- [x] two", "- [ ] two")
                      .replace("  - [X] nested", "  - [ ] nested")
                      .replace("1. [ ] numbered", "1. [x] numbered")
                      .replace("> - [ ] quoted", "> - [x] quoted"))
    assert progress(ticked) == Progress(3, 5)
    # Nothing else moves: code blocks and text keep their brackets.
    assert "- [ ] in code" in ticked
    assert "Not a list: [ ] nor this" in ticked
    assert with_items_done(SOURCE, {1, 2}) == SOURCE


def test_line_numbers_follow_markdown_not_unicode_line_breaks():
    # U+2028 is no line break for Markdown: the item after it is still found on its line.
    source = "Intro\u2028still intro\n\n- [ ] item"
    assert with_items_done(source, {0}) == "Intro\u2028still intro\n\n- [x] item"


def test_a_task_read_without_its_parent_is_changed_and_its_parent_cleared(
        dbsession, settings, factory, project, owner):
    from sqlalchemy import select
    from sqlalchemy.orm import joinedload

    from taskdesk.domain import tasks
    from taskdesk.domain.rights import UNRESTRICTED
    from taskdesk.models import Task

    parent = factory.task(project, title="Parent")
    child = factory.task(project, title="Child", parent=str(parent.number),
                         description="- [ ] a")
    dbsession.expunge_all()
    # Read with its project (as every change needs) but not its parent, which may not be
    # loaded lazily.
    child = dbsession.scalars(select(Task).options(joinedload(Task.project))
                              .where(Task.id == child.id)).one()
    tasks.update_task(dbsession, settings, child, owner, {"description": "- [x] a"},
                      may=UNRESTRICTED)
    assert (child.checklist_done, child.checklist_total) == (1, 1)
    changes = tasks.update_task(dbsession, settings, child, owner, {"parent": None},
                                may=UNRESTRICTED)
    assert changes == {"parent": [parent.number, None]}
    assert child.parent_id is None
