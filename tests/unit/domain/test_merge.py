"""The three-way merge of a stale edit: base (what the editor started from), mine, theirs."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from taskdesk.domain.activity import task_changes_after
from taskdesk.domain.merge import Merge, three_way
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.domain.tasks import merge_task_edit, update_task
from taskdesk.settings import TaskdeskSettings
from tests.support.factories import Factory

BASE = {"title": "T", "status": "open", "priority": "normal", "labels": ["a"]}


@pytest.mark.parametrize(("mine", "theirs", "expected"), [
    # Nobody changed anything.
    ({**BASE}, {**BASE}, Merge((), (), ())),
    # Only I changed the title: mine applies.
    ({**BASE, "title": "Mine"}, {**BASE}, Merge(("title",), (), ())),
    # Only they changed the status: theirs stays, even though my form still sent the old one.
    ({**BASE}, {**BASE, "status": "done"}, Merge((), ("status",), ())),
    # Both changed the title to the same value: nothing to apply, nothing to choose.
    ({**BASE, "title": "Same"}, {**BASE, "title": "Same"}, Merge((), (), ())),
    # Both changed the title differently: a real conflict; disjoint fields still merge.
    ({**BASE, "title": "Mine", "labels": ["b"]}, {**BASE, "title": "Theirs", "status": "done"},
     Merge(("labels",), ("status",), ("title",))),
])
def test_three_way_decides_each_field(mine, theirs, expected):
    assert three_way(BASE, mine, theirs) == expected


def test_a_field_missing_from_mine_is_never_mine():
    """A field the editor may not change is left out of what they sent: it is theirs."""
    theirs = {**BASE, "priority": "urgent"}
    assert three_way(BASE, {"title": "T"}, theirs) == Merge((), ("priority",), ())
    assert three_way(BASE, {"title": "T"}, BASE) == Merge((), (), ())


def test_a_field_without_base_is_a_conflict_when_the_values_differ():
    """An old form without the base: a difference is shown, never guessed."""
    assert three_way({}, {"title": "Mine"}, {"title": "Theirs"}) == Merge((), (), ("title",))
    assert three_way({}, {"title": "Same"}, {"title": "Same"}) == Merge((), (), ())
    assert three_way({}, {}, {"title": "Theirs"}) == Merge((), (), ())


def test_merge_task_edit_compares_cleaned_values(dbsession: Session, factory: Factory,
                                                 settings: TaskdeskSettings):
    manager = factory.user()
    project = factory.project(manager)
    task = factory.task(project, manager, title="Title", labels=["a", "b"],
                        description="One\ntwo", due_date="2030-01-02")
    base = {"title": "Title", "labels": "a, b", "description": "One\ntwo",
            "due_date": "2030-01-02", "status": "open", "priority": "normal", "assignee": ""}
    update_task(dbsession, settings, task, manager, {"title": "Theirs", "due_date": None},
                may=UNRESTRICTED)
    mine = {**base, "labels": "a,b", "description": "One\r\ntwo  ", "title": " Title ",
            "priority": "high"}
    merge = merge_task_edit(settings.workflow, task, base, mine, may=UNRESTRICTED)
    # Whitespace, line ends and the labels' commas are no change of mine.
    assert merge == Merge(("priority",), ("title", "due_date"), ())
    # A base value that no longer validates counts as unknown: a difference is a conflict.
    merge = merge_task_edit(settings.workflow, task, {**base, "status": "gone"},
                            {**mine, "status": "done"}, may=UNRESTRICTED)
    assert merge.conflicts == ("status",)


def test_task_changes_after_names_the_latest_change_of_each_field(
        dbsession: Session, factory: Factory, settings: TaskdeskSettings):
    manager = factory.user(display_name="Manny")
    member = factory.user(display_name="Mia")
    project = factory.project(manager, members={member: "member"})
    task = factory.task(project, manager, title="v1")
    update_task(dbsession, settings, task, member, {"title": "v2"}, may=UNRESTRICTED)  # version 2
    update_task(dbsession, settings, task, manager, {"priority": "high"},
                may=UNRESTRICTED)  # version 3
    update_task(dbsession, settings, task, member, {"priority": "low"},
                may=UNRESTRICTED)  # version 4
    dbsession.flush()
    changes = task_changes_after(dbsession, task, 2)
    assert {field: change.actor_name for field, change in changes.items()} == {
        "priority": "Mia"}
    changes = task_changes_after(dbsession, task, 1)
    assert {field: change.actor_name for field, change in changes.items()} == {
        "title": "Mia", "priority": "Mia"}
    assert task_changes_after(dbsession, task, 4) == {}
