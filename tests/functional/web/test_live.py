"""Live updates a page polls for (``/projects/<slug>/changes``, ``/me/notifications/changes``),
the bell fragment, and what a page tells ``live.js``."""

from __future__ import annotations

import pytest

from taskdesk.domain.live import STREAMS_ENVIRON_KEY
from tests.support.web import csrf_token, find_form, login


def _changes(testapp, path="/projects/apollo/changes", after=None, **kw):
    query = {} if after is None else {"after": str(after)}
    return testapp.get(path, query, **kw)


def _move(testapp, number, status):
    page = testapp.get("/projects/apollo/board")
    form = find_form(page, f"/tasks/{number}/move")
    form["status"] = status
    form.submit()


def test_a_poll_returns_the_changes_made_through_the_app_as_ids_and_kinds(
        testapp, login_as, world, make_task, make_testapp, factory):
    task = make_task(world.project, world.manager, title="Moving card")
    login_as("vic")
    start = _changes(testapp).json
    assert start["changes"] == []
    assert start["reset"] is False
    assert start["project"] == world.project.id
    assert start["user"] == world.viewer.id

    mover = make_testapp()
    login(mover, "mia")
    _move(mover, task.number, "in_progress")

    found = _changes(testapp, after=start["last"]).json
    assert [(c["kind"], c["task"], c["comment"]) for c in found["changes"]] == [
        ("task.updated", task.id, None)]
    assert found["last"] == found["changes"][0]["id"] > start["last"]
    assert "Moving card" not in str(found)  # ids, never text

    comment_page = mover.get(f"/projects/apollo/tasks/{task.number}")
    form = find_form(comment_page, "/comments/")
    form["body"] = "On it"
    form.submit()
    later = _changes(testapp, after=found["last"]).json
    [added] = later["changes"]
    assert added["kind"] == "comment.added"
    assert added["task"] == task.id
    assert isinstance(added["comment"], int)


def test_an_unchanged_poll_is_a_304_without_a_body(testapp, login_as, world, make_task):
    task = make_task(world.project, world.manager)
    login_as("mia")
    first = _changes(testapp, after=0)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = _changes(testapp, after=0, headers={"If-None-Match": etag}, status=304)
    assert again.body == b""
    assert again.headers["ETag"] == etag
    last = first.json["last"]
    same = _changes(testapp, after=last)
    _changes(testapp, after=last, headers={"If-None-Match": same.headers["ETag"]}, status=304)
    _move(testapp, task.number, "done")
    changed = _changes(testapp, after=last, headers={"If-None-Match": same.headers["ETag"]})
    assert changed.status_int == 200
    assert len(changed.json["changes"]) == 1


def test_other_projects_changes_are_not_told(testapp, login_as, world, make_task, factory):
    other = factory.project(world.manager, slug="secret", name="Secret")
    login_as("mia")
    last = _changes(testapp).json["last"]
    make_task(other, world.manager, title="Hidden")
    found = _changes(testapp, after=last).json
    assert found["changes"] == []
    assert found["last"] > last  # the cursor moves past them all the same


def test_a_project_one_may_not_see_is_not_found(testapp, login_as, world, make_testapp):
    login_as("olga")
    _changes(testapp, status=404)
    anonymous = make_testapp()
    response = _changes(anonymous, status=303)  # to the sign-in page, as any page
    assert "/login" in response.location
    assert response.content_type != "application/json"


def test_a_removed_member_stops_getting_changes(testapp, login_as, world, make_task, dbsession,
                                                settings):
    from taskdesk.domain.projects import remove_member

    login_as("mia")
    last = _changes(testapp).json["last"]
    remove_member(dbsession, world.project, world.member, world.manager)
    dbsession.flush()
    _changes(testapp, after=last, status=404)


def test_a_client_too_far_behind_or_ahead_is_told_to_reload(testapp, login_as, world):
    login_as("mia")
    last = _changes(testapp).json["last"]
    ahead = _changes(testapp, after=last + 1000).json
    assert ahead["reset"] is True
    assert ahead["last"] == last


def test_a_malformed_after_is_a_400(testapp, login_as, world):
    login_as("mia")
    for bad in ("x", "-1", "1.5", "9" * 20):
        _changes(testapp, after=bad, status=400)


def test_the_inbox_poll_and_the_bell(testapp, login_as, world, make_task, factory):
    task = make_task(world.project, world.manager)
    login_as("mia")
    first = _changes(testapp, "/me/notifications/changes")
    assert first.json["unread"] == 0
    _changes(testapp, "/me/notifications/changes",
             headers={"If-None-Match": first.headers["ETag"]}, status=304)
    factory.notification(world.member, task, actor=world.manager)
    factory.dbsession.flush()
    later = _changes(testapp, "/me/notifications/changes",
                     headers={"If-None-Match": first.headers["ETag"]})
    assert later.json["unread"] == 1
    bell = testapp.get("/me/notifications/bell")
    assert bell.html.select_one("a.bell .bell__count").get_text(strip=True) == "1"
    assert bell.html.select_one("header") is None  # the bell alone, not a page
    assert _changes(testapp).json["unread"] == 1  # a project's poll tells the bell too


def test_pages_say_where_to_listen(testapp, login_as, world, make_task):
    task = make_task(world.project, world.manager)
    assert "data-live-poll" not in testapp.get("/login").text  # nobody to tell
    login_as("mia")
    body = testapp.get("/projects/apollo/board").html.body
    assert body["data-live-poll"] == "http://taskdesk.test/projects/apollo/changes"
    assert body["data-live-bell"] == "http://taskdesk.test/me/notifications/bell"
    assert body["data-live-seconds"] == "10"
    assert "data-live-stream" not in body.attrs  # Waitress: the page polls
    assert "data-live-task" not in body.attrs
    page = testapp.get(f"/projects/apollo/tasks/{task.number}",
                       extra_environ={STREAMS_ENVIRON_KEY: True})
    assert page.html.body["data-live-stream"] == "http://taskdesk.test/live/projects/apollo"
    assert page.html.body["data-live-task"] == str(task.id)
    assert page.html.select_one("#task-comments") is not None
    edit = testapp.get(f"/projects/apollo/tasks/{task.number}/edit")
    assert edit.html.select_one("form[data-live-edit]") is not None
    assert "Someone else changed this task" in edit.html.body["data-live-notice"]
    home = testapp.get("/", extra_environ={STREAMS_ENVIRON_KEY: True}).html.body
    assert home["data-live-poll"] == "http://taskdesk.test/me/notifications/changes"
    assert home["data-live-stream"] == "http://taskdesk.test/live/me"
    script = testapp.get("/static/js/live.js")  # the one script, served from the package
    assert "EventSource" in script.text


def test_a_poll_costs_five_statements(testapp, login_as, world, make_task, count_statements):
    make_task(world.project, world.manager)
    login_as("mia")
    last = _changes(testapp).json["last"]
    with count_statements() as statements:
        _changes(testapp, after=last)
    # the project with its memberships, the identity (session, user, groups), the newest
    # event id, the project's events after the cursor, the unread count
    # (the test's savepoint around the request aside)
    queries = [s for s in statements if not s.startswith(("SAVEPOINT", "ROLLBACK", "RELEASE"))]
    assert len(queries) == 5, queries


def test_polls_do_not_keep_an_idle_session_alive(testapp, login_as, world, dbsession):
    from datetime import timedelta

    from sqlalchemy import select, update

    from taskdesk.models import AuthSession
    from taskdesk.models.meta import utcnow

    login_as("mia")
    ten_minutes_ago = utcnow() - timedelta(minutes=10)

    def last_seen():
        dbsession.expire_all()
        return dbsession.scalar(select(AuthSession.last_seen_at)
                                .where(AuthSession.user_id == world.member.id))

    dbsession.execute(update(AuthSession).where(AuthSession.user_id == world.member.id)
                      .values(last_seen_at=ten_minutes_ago))
    dbsession.flush()
    _changes(testapp, headers={"X-Taskdesk-Background": "1"})  # live.js, a stream's re-check
    assert last_seen() == ten_minutes_ago
    testapp.get("/projects/apollo/board")  # the person
    assert last_seen() > ten_minutes_ago


# -- publishing after commit (taskdesk.live) --------------------------------------------------
class Recorder:
    """A broker that keeps what is published, in place of the app's in-memory one."""

    def __init__(self) -> None:
        self.published: list[list[dict]] = []

    def publish(self, messages: list[dict]) -> None:
        self.published.append(messages)

    async def relay(self, hub) -> None:  # pragma: no cover - no streams in these tests
        raise NotImplementedError


@pytest.fixture
def published(wsgi_app, connection):
    from taskdesk.live.publish import SESSION_BROKER_KEY
    from taskdesk.models import database_binds

    info = database_binds(wsgi_app.registry).session_info
    saved = info[SESSION_BROKER_KEY]
    recorder = info[SESSION_BROKER_KEY] = Recorder()
    try:
        yield recorder.published
    finally:
        info[SESSION_BROKER_KEY] = saved


def test_a_committed_change_is_published_once_after_its_commit(
        testapp, login_as, world, make_task, published):
    task = make_task(world.project, world.manager)
    login_as("mia")
    testapp.get("/projects/apollo/board")
    assert published == []  # reading publishes nothing
    _move(testapp, task.number, "in_progress")
    [messages] = published
    [message] = messages
    assert message["project"] == world.project.id
    assert message["change"]["kind"] == "task.updated"
    assert message["change"]["task"] == task.id
    found = _changes(testapp, after=message["change"]["id"] - 1).json["changes"]
    assert found == [message["change"]]  # the same change as a poll reads it


def test_a_rejected_change_publishes_nothing(testapp, login_as, world, make_task, published):
    task = make_task(world.project, world.manager)
    login_as("vic")  # a viewer may not move cards
    testapp.post(f"/projects/apollo/tasks/{task.number}/status",
                 {"status": "done", "csrf_token": csrf_token(testapp)}, status=403)
    assert published == []


def test_the_dispatcher_tells_the_streams_of_the_people_it_notified(
        wsgi_app, world, make_task, dbsession, published):
    from taskdesk.domain.comments import add_comment
    from taskdesk.queue import dispatch_events, queue_of

    task = make_task(world.project, world.manager, assignee="mia")
    add_comment(dbsession, task, world.manager, {"body": "@vic have a look"})
    dbsession.flush()
    published.clear()
    dispatch_events(queue_of(wsgi_app.registry).context)
    inbox = [m for messages in published for m in messages if "users" in m]
    assert inbox == [{"users": sorted([world.member.id, world.viewer.id])}]


def test_savepoints_publish_nothing_and_a_rolled_back_ones_changes_never(
        wsgi_app, world, published):
    from taskdesk.domain.events import emit
    from taskdesk.queue import queue_of

    def change(dbsession, task_id):
        emit(dbsession, "task.updated", project_id=world.project.id, task_id=task_id)

    with queue_of(wsgi_app.registry).context.transaction() as dbsession:
        change(dbsession, 1)
        with dbsession.begin_nested():  # released
            change(dbsession, 2)
        assert published == []  # not before the transaction commits
        rolled_back = dbsession.begin_nested()
        change(dbsession, 3)
        dbsession.flush()
        rolled_back.rollback()
        assert published == []
    [messages] = published
    assert [m["change"]["task"] for m in messages] == [1, 2]
