"""The number of SQL statements per page does not grow with the data."""

from __future__ import annotations

import pytest

from taskdesk.domain.comments import add_comment


def _grow(world, make_task, dbsession, tasks, comments, commented=None):
    """Add tasks (and comments on task #1, which is created first)."""
    made = [make_task(world.project, world.manager, title=f"任务 {i}", labels=["x", f"l{i}"],
                      assignee=("manny" if i % 2 else None), due_date="2030-01-01")
            for i in range(tasks)]
    commented = commented or made[0]
    for i in range(comments):
        add_comment(dbsession, commented, world.member, {"body": f"comment {i}"})
    dbsession.flush()
    return commented


def _count(testapp, count_statements, path):
    testapp.get(path)  # warm caches (templates, compiled statements)
    with count_statements() as statements:
        testapp.get(path)
    return len(statements)


# Exact counts: each signed-in page runs one statement for the bell's unread count (the
# counts before the inbox were one less); the task page's watchers cost none (traversal
# reads them with the task for web pages, not for the API); @mentions cost none here (these
# texts mention nobody). The task page reads its links to other tasks in one statement (the
# "Blocked by" notice comes from them) and its attachments (with their comments') in
# another; the list and board say "blocked" in their own. The list and board read their
# saved-view tabs (the shared views and the reader's own) in one statement (7 before them;
# test_saved_views_and_bulk shows it does not grow with the views).
@pytest.mark.parametrize(("path", "expected"), [
    ("/projects/apollo/", 8),
    ("/projects/apollo/?assignee=me&label=x&sort=due", 8),
    ("/projects/apollo/board", 8),
    ("/projects/apollo/charts", 8),
    ("/projects/apollo/tasks/1", 11),
    # The parent field offers the project's latest top-level tasks: one statement.
    ("/projects/apollo/tasks/1/edit", 8),
    ("/", 7),
    ("/projects", 7),
])
def test_statement_count_is_constant(testapp, login_as, world, make_task, dbsession,
                                     count_statements, path, expected):
    login_as("manny")
    first = _grow(world, make_task, dbsession, tasks=3, comments=3)
    small = _count(testapp, count_statements, path)
    _grow(world, make_task, dbsession, tasks=27, comments=27, commented=first)
    large = _count(testapp, count_statements, path)
    print(f"{path}: {small} statements with 3 tasks, {large} with 30")
    assert small == large == expected, (path, small, large)
