"""Activity feeds: the project's and my own pages (filters, folding, visibility, paging),
the secret Atom feed (address, validity, conditional answers, revocation) and their
statement counts."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from taskdesk.domain import accounts
from taskdesk.domain.comments import add_comment
from taskdesk.domain.links import add_link
from taskdesk.domain.projects import remove_member
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.domain.tasks import update_task
from taskdesk.models import Activity
from taskdesk.models.meta import utcnow
from taskdesk.web.views import activity as activity_views
from tests.support.web import find_form

ATOM = "{http://www.w3.org/2005/Atom}"


def _change(dbsession, settings, task, actor, **values):
    update_task(dbsession, settings, task, actor, values, may=UNRESTRICTED)
    dbsession.flush()


def _lines(page):
    return [" ".join(li.get_text(" ").split())
            for li in page.html.select(".activity-feed__entry")]


def test_project_feed_folds_one_persons_changes_and_filters(
        testapp, login_as, world, make_task, dbsession, settings):
    task = make_task(world.project, world.manager, title="Write the plan")
    _change(dbsession, settings, task, world.member, status="in_progress")
    _change(dbsession, settings, task, world.member, priority="high")
    _change(dbsession, settings, task, world.member, status="done")
    add_comment(dbsession, task, world.manager, {"body": "Nice"})
    dbsession.flush()
    _change(dbsession, settings, task, world.member, title="Write the whole plan")
    login_as("vic")
    page = testapp.get("/projects/apollo/activity")
    lines = _lines(page)
    # The project's creation and its members' additions come last.
    assert len(lines) == 7, lines
    assert lines[4:] == [line for line in lines[4:] if "Manny Manager added a member" in line
                         or "created the project" in line]
    # Newest first: the change after the comment is not folded into the earlier ones.
    assert lines[0].startswith("Mia Member changed #1 Write the whole plan")
    assert "Manny Manager commented on #1" in lines[1]
    assert lines[2].startswith("Mia Member changed #1")
    assert "3 changes" in lines[2]
    # The combined changes: each field from its first old to its last new value.
    assert "Status: Open → Done" in lines[2]
    assert "Priority: Normal → High" in lines[2]
    assert lines[3].startswith("Manny Manager created #1")
    assert page.html.select_one('.tabs a[aria-current="page"]').get_text() == "Activity"

    only_mia = _lines(testapp.get("/projects/apollo/activity?person=mia"))
    # Without the comment between them, all of Mia's changes fold into one entry.
    assert len(only_mia) == 1
    assert "4 changes" in only_mia[0]
    comments = _lines(testapp.get("/projects/apollo/activity?kind=comments"))
    assert len(comments) == 1
    assert "commented" in comments[0]
    status = _lines(testapp.get("/projects/apollo/activity?kind=status"))
    assert len(status) == 1
    assert "2 changes" in status[0]
    assert _lines(testapp.get("/projects/apollo/activity?kind=created&person=me")) == []
    assert "No activity matches these filters." in testapp.get(
        "/projects/apollo/activity?kind=created&person=me").text


def test_folding_is_bounded_in_time(testapp, login_as, world, make_task, dbsession, settings):
    task = make_task(world.project, world.manager)
    _change(dbsession, settings, task, world.member, status="in_progress")
    _change(dbsession, settings, task, world.member, status="done")
    first = dbsession.scalar(select(Activity.id).where(Activity.action == "task.updated")
                             .order_by(Activity.id))
    dbsession.execute(update(Activity).where(Activity.id == first)
                      .values(created_at=utcnow() - timedelta(minutes=11)))
    dbsession.flush()
    login_as("mia")
    lines = _lines(testapp.get("/projects/apollo/activity?person=mia"))
    assert len(lines) == 2, lines
    assert "Open → In progress" in lines[1]
    assert "In progress → Done" in lines[0]


def test_bad_filters_are_form_errors(testapp, login_as, world):
    login_as("mia")
    page = testapp.get("/projects/apollo/activity?kind=gossip&before=x", status=400)
    assert "Unknown value: gossip." in page.text
    assert "Please correct the marked filters." in page.text
    assert "Correct the filters to see the activity." in page.text
    testapp.get("/me/activity?person=" + "x" * 80, status=400)


def test_pages_follow_older_link_without_repeats(testapp, login_as, world, make_task,
                                                  monkeypatch):
    monkeypatch.setattr(activity_views, "PAGE_SIZE", 3)
    for number in range(7):
        make_task(world.project, world.manager, title=f"Task {number}")
    login_as("mia")
    seen = []
    page = testapp.get("/projects/apollo/activity?person=manny&kind=created")
    while True:
        seen += _lines(page)
        more = page.html.select_one('a[rel="next"]')
        if more is None:
            break
        assert "person=manny" in more["href"]
        assert "kind=created" in more["href"]
        page = testapp.get("/projects/apollo/activity" + more["href"])
    assert [line.split(" ")[3] for line in seen] == [f"#{n}" for n in range(7, 0, -1)]


def test_my_feed_shows_only_my_projects_and_visible_links(
        testapp, login_as, world, factory, make_task, dbsession):
    hidden = factory.project(world.manager, slug="hidden", name="Hidden")
    internal = factory.project(world.outsider, slug="open-house", visibility="internal")
    mine = make_task(world.project, world.manager, title="Visible task")
    secret = make_task(hidden, world.manager, title="Secret task")
    make_task(internal, world.outsider, title="Internal task")
    add_link(dbsession, mine, world.manager, {"kind": "blocks", "task": f"hidden#{secret.number}"})
    dbsession.flush()
    login_as("mia")
    lines = _lines(testapp.get("/me/activity"))
    text = " ".join(lines)
    assert "Visible task" in text
    # Not a member of the internal project (it has its own page), none of the hidden one,
    # and not the link naming its task.
    assert "Internal task" not in text
    assert "Secret task" not in text
    assert "linked" not in text
    assert all("· Apollo" in line for line in lines)
    project_page = " ".join(_lines(testapp.get("/projects/apollo/activity")))
    assert "linked" not in project_page
    testapp.get("/projects/hidden/activity", status=404)
    # The manager sees the link in both projects.
    login_as("manny")
    assert "linked #1 Visible task" in " ".join(_lines(testapp.get("/me/activity")))


def _feed_address(testapp):
    profile = testapp.get("/me/")
    result = find_form(profile, "/me/feed").submit()
    assert result.headers["Cache-Control"] == "no-store"
    url = result.html.select_one("#feed-url")["value"]
    assert re.fullmatch(r"http://[^/]+/feeds/td_[A-Za-z0-9_-]{43}/activity\.atom", url)
    return url.split("/", 3)[3]


def _parse(response):
    root = ET.fromstring(response.body)  # noqa: S314 - our own feed, from the app
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{name}").text
    assert root.find(f"{ATOM}id").text.startswith("tag:")
    for link in root.iter(f"{ATOM}link"):
        assert link.get("href").startswith("http://")
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:
        assert entry.find(f"{ATOM}id").text.startswith("tag:")
        for name in ("title", "updated", "author"):
            assert entry.find(f"{ATOM}{name}") is not None
    return root, entries


def test_atom_feed_is_valid_private_and_conditional(
        testapp, make_testapp, login_as, world, make_task, dbsession, settings):
    task = make_task(world.project, world.manager, title="Ship <it> & done")
    _change(dbsession, settings, task, world.member, status="in_progress")
    login_as("mia")
    path = _feed_address(testapp)
    reader = make_testapp()  # a feed reader: no session, no cookie
    response = reader.get("/" + path)
    assert response.content_type == "application/atom+xml"
    assert "private" in response.headers["Cache-Control"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Set-Cookie" not in response.headers
    _root, entries = _parse(response)
    titles = [entry.find(f"{ATOM}title").text for entry in entries]
    assert titles[:2] == ["Mia Member changed #1 Ship <it> & done",
                      "Manny Manager created #1 Ship <it> & done"]
    link = entries[0].find(f"{ATOM}link").get("href")
    assert link.endswith("/projects/apollo/tasks/1")
    # 304 by ETag and by date.
    reader.get("/" + path, headers={"If-None-Match": response.headers["ETag"]}, status=304)
    reader.get("/" + path, headers={"If-Modified-Since": response.headers["Last-Modified"]},
               status=304)
    # One project only; a project the owner may not see is a 404 like a missing one.
    assert len(_parse(reader.get("/" + path + "?project=apollo"))[1]) == 5
    reader.get("/" + path + "?project=nowhere", status=404)
    # A change makes a new ETag.
    add_comment(dbsession, task, world.manager, {"body": "Go"})
    dbsession.flush()
    reader.get("/" + path, headers={"If-None-Match": response.headers["ETag"]}, status=200)


def test_atom_feed_speaks_the_owners_language(testapp, make_testapp, login_as, world,
                                              make_task, dbsession, factory):
    world.member.locale = "zh_CN"
    dbsession.flush()
    make_task(world.project, world.manager)
    login_as("mia")
    path = _feed_address(testapp)
    response = make_testapp().get("/" + path)
    root, entries = _parse(response)
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-CN"
    assert "创建" in entries[0].find(f"{ATOM}title").text


def test_feed_address_regeneration_removal_and_deactivation(
        testapp, make_testapp, login_as, world, make_task, dbsession):
    make_task(world.project, world.manager)
    login_as("mia")
    first = _feed_address(testapp)
    profile = testapp.get("/me/")
    assert "Make a new address" in profile.text
    token = accounts.feed_token(dbsession, world.member)
    assert token is not None
    assert token.prefix in first
    assert first.split("/")[1] not in token.token_hash  # stored hashed
    second = _feed_address(testapp)
    reader = make_testapp()
    reader.get("/" + first, status=404)
    assert _parse(reader.get("/" + second))[1]
    reader.get("/feeds/td_" + "a" * 43 + "/activity.atom", status=404)
    reader.get("/feeds/not-a-secret/activity.atom", status=404)
    # Removed from the project: its activity leaves the feed.
    remove_member(dbsession, world.project, world.member, world.manager)
    dbsession.flush()
    assert _parse(reader.get("/" + second))[1] == []
    reader.get("/" + second + "?project=apollo", status=404)
    accounts.set_active(dbsession, world.member, False)
    dbsession.flush()
    reader.get("/" + second, status=404)


def _count(app, count_statements, path):
    app.get(path)
    with count_statements() as statements:
        app.get(path)
    return len(statements)


# Exact counts, with the request's savepoint and its rollback (2) as on every page: the
# signed-in pages read the identity and the bell's unread count, the project page its
# project, and then the feed in one statement; the Atom feed finds its owner by the secret
# and reads the feed in one statement.
@pytest.mark.parametrize(("path", "expected"), [
    ("/projects/apollo/activity", 6),
    ("/projects/apollo/activity?person=mia&kind=changed,comments", 6),
    ("/me/activity", 5),
    ("atom", 4),
])
def test_statement_counts_do_not_grow(testapp, make_testapp, login_as, world, make_task,
                                      dbsession, settings, count_statements, path, expected):
    login_as("mia")
    reader = make_testapp()
    if path == "atom":
        path = "/" + _feed_address(testapp)

    def grow(number):
        for n in range(number):
            task = make_task(world.project, world.manager, title=f"Task {n}")
            _change(dbsession, settings, task, world.member, status="in_progress")
            add_comment(dbsession, task, world.member, {"body": "On it"})
        dbsession.flush()

    app = reader if path.startswith("/feeds/") else testapp
    grow(2)
    small = _count(app, count_statements, path)
    grow(20)
    large = _count(app, count_statements, path)
    assert small == large == expected, (path, small, large)


def test_a_page_does_not_end_inside_a_group(testapp, login_as, world, make_task, dbsession,
                                            settings, monkeypatch):
    monkeypatch.setattr(activity_views, "PAGE_SIZE", 3)
    task = make_task(world.project, world.manager, title="Plan")
    for status in ("in_progress", "done", "open"):
        _change(dbsession, settings, task, world.member, status=status)
    add_comment(dbsession, task, world.manager, {"body": "Hm"})
    dbsession.flush()
    login_as("mia")
    first = testapp.get("/projects/apollo/activity")
    # The comment, then Mia's changes: the page stops before them (they go on).
    assert [line.split(" ")[2] for line in _lines(first)] == ["commented"]
    second = testapp.get("/projects/apollo/activity" + first.html.select_one(
        'a[rel="next"]')["href"])
    lines = _lines(second)
    assert len(lines) == 1
    assert "3 changes" in lines[0]
