"""An edit that loses a race: another transaction commits a change to the task (or comment)
between the edit's read and its write. A web edit runs again (pyramid_retry) and is merged
with the change that won, instead of failing or overwriting it; an API edit answers 412.

PostgreSQL only: SQLite takes its write lock when a writing request begins, so another writer
cannot commit in between (it waits for the lock instead).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import transaction
import webtest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import selectinload

from taskdesk import main
from taskdesk.domain import accounts, comments, projects, tasks
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.models import Activity, Comment, Task, User, get_session_factory, get_tm_session
from taskdesk.settings import parse_settings
from tests.support.apps import app_settings
from tests.support.databases import create_database, migrated_engine
from tests.support.factories import Factory
from tests.support.web import find_form, login

pytestmark = pytest.mark.slow


@pytest.fixture
def committed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Any, int]]:
    """A fresh PostgreSQL database with Mia (a member), Manny (the manager) and task #1 of
    project apollo (and task #2 with a comment by Mia), committed; the app serving it; the
    id of task #1."""
    for url in create_database("postgresql", tmp_path_factory):
        engine = migrated_engine(url)
        settings = parse_settings(app_settings(url))
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            dbsession = get_tm_session(get_session_factory(engine), manager)
            factory = Factory(dbsession, settings)
            manny = factory.user("manny", display_name="Manny Manager")
            mia = factory.user("mia", display_name="Mia Member")
            project = projects.create_project(dbsession, manny,
                                              {"slug": "apollo", "name": "Apollo"})
            projects.set_member(dbsession, settings, project, mia, manny, {"role": "member"})
            task_id = factory.task(project, manny, title="Original").id
            commented = factory.task(project, manny, title="Commented")
            comments.add_comment(dbsession, commented, mia, {"body": "First words"})
        app = main({}, **app_settings(url))
        try:
            yield engine, app, task_id
        finally:
            app.registry["dbbinds"].engine.dispose()
            engine.dispose()


def _commit_change_by_manny(engine: Engine, settings: Any, task_id: int) -> None:
    """Manny sets the task's status, in a transaction of his own, committed at once."""
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        dbsession = get_tm_session(get_session_factory(engine), manager)
        task = dbsession.scalar(select(Task).options(selectinload(Task.label_rows),
                                                     selectinload(Task.assignee),
                                                     selectinload(Task.project))
                                .where(Task.id == task_id))
        manny = dbsession.scalar(select(User).where(User.username == "manny"))
        assert task is not None
        assert manny is not None
        tasks.update_task(dbsession, settings, task, manny, {"status": "in_progress"},
                          may=UNRESTRICTED)


def test_an_edit_that_loses_a_race_is_retried_and_merged(committed):
    engine, app, task_id = committed
    browser = webtest.TestApp(app, extra_environ={"HTTP_HOST": "taskdesk.test"})
    assert login(browser, "mia").status_int == 303
    form = find_form(browser.get("/projects/apollo/tasks/1/edit"), "/edit")
    form["title"] = "Mia's title"
    raced: list[str] = []

    def commit_first(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # Just before Mia's first UPDATE of the task, Manny's change is committed.
        if statement.startswith("UPDATE tasks") and not raced:
            raced.append(statement)
            _commit_change_by_manny(engine, app.registry.taskdesk_settings, task_id)

    app_engine = app.registry["dbbinds"].engine
    event.listen(app_engine, "before_cursor_execute", commit_first)
    try:
        page = form.submit().follow()
    finally:
        event.remove(app_engine, "before_cursor_execute", commit_first)
    assert raced, "Mia's save never updated the task"
    flash = page.html.find(class_="flash--success").get_text(" ", strip=True)
    assert flash == ("Task #1 saved and merged: Manny Manager changed it meanwhile, and "
                     "their changes to Status were kept.")
    with engine.connect() as connection:
        row = connection.execute(select(Task.title, Task.status, Task.version)
                                 .where(Task.id == task_id)).one()
        actions = connection.scalars(select(Activity.action).where(Activity.task_id == task_id)
                                     .order_by(Activity.id)).all()
    assert tuple(row) == ("Mia's title", "in_progress", 3)
    assert list(actions) == ["task.created", "task.updated", "task.updated"]


def _edit_comment_in_another_window(engine: Engine, body: str) -> None:
    """Mia edits her comment in a transaction of her own, committed at once."""
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        dbsession = get_tm_session(get_session_factory(engine), manager)
        comment = dbsession.scalar(select(Comment))
        assert comment is not None
        mia = dbsession.scalar(select(User).where(User.username == "mia"))
        task = dbsession.scalar(select(Task).where(Task.id == comment.task_id))
        assert mia is not None
        assert task is not None
        comments.edit_comment(dbsession, comment, task, mia, {"body": body})


def _commit_before_first_update(engine: Engine, body: str) -> tuple[list[str], Any]:
    """A listener committing the other window's edit just before the app's first UPDATE of
    the comment, when both edits have read version 1."""
    raced: list[str] = []

    def commit_first(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("UPDATE comments") and not raced:
            raced.append(statement)
            _edit_comment_in_another_window(engine, body)

    return raced, commit_first


def _stored_comment(engine: Engine) -> tuple[str, int]:
    with engine.connect() as connection:
        row = connection.execute(select(Comment.body, Comment.version)).one()
    return row.body, row.version


def test_two_concurrent_api_comment_edits_one_wins_the_other_is_412(committed):
    engine, app, _task_id = committed
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        dbsession = get_tm_session(get_session_factory(engine), manager)
        mia = dbsession.scalar(select(User).where(User.username == "mia"))
        _token, secret = accounts.create_token(dbsession, mia, {"name": "race", "scope": "write"})
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "taskdesk.test",
                                                 "HTTP_AUTHORIZATION": f"Bearer {secret}"})
    url = "/api/v1/projects/apollo/tasks/2/comments/1"
    etag = client.get(url).headers["ETag"]
    raced, commit_first = _commit_before_first_update(engine, "The other window's words")
    app_engine = app.registry["dbbinds"].engine
    event.listen(app_engine, "before_cursor_execute", commit_first)
    try:
        response = client.patch_json(url, {"body": "This window's words"},
                                     headers={"If-Match": etag}, status=412)
    finally:
        event.remove(app_engine, "before_cursor_execute", commit_first)
    assert raced, "the API edit never updated the comment"
    assert response.json["error"]["code"] == "version_conflict"
    assert _stored_comment(engine) == ("The other window's words", 2)


def test_a_web_comment_edit_that_loses_a_race_shows_both_texts(committed):
    engine, app, _task_id = committed
    browser = webtest.TestApp(app, extra_environ={"HTTP_HOST": "taskdesk.test"})
    assert login(browser, "mia").status_int == 303
    form = find_form(browser.get("/projects/apollo/tasks/2/comments/1/edit"), "/edit")
    form["body"] = "This window's words"
    raced, commit_first = _commit_before_first_update(engine, "The other window's words")
    app_engine = app.registry["dbbinds"].engine
    event.listen(app_engine, "before_cursor_execute", commit_first)
    try:
        page = form.submit(status=409)
    finally:
        event.remove(app_engine, "before_cursor_execute", commit_first)
    assert raced, "the web edit never updated the comment"
    # Run again (pyramid_retry), it is a stale save: both texts are shown to choose from.
    texts = page.html.get_text(" ")
    assert "The other window's words" in texts
    assert "This window's words" in texts
    assert _stored_comment(engine) == ("The other window's words", 2)
