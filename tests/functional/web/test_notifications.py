"""The inbox (bell, grouped entries, mark read, open), watching, and @mention links."""

from __future__ import annotations

import re

from sqlalchemy import select

from taskdesk.domain.comments import add_comment
from taskdesk.domain.projects import remove_member
from taskdesk.models import Notification, ProjectWatcher, TaskWatcher
from tests.support.web import csrf_token


def _bell(page) -> str | None:
    """The bell's visible count, or None when it shows none."""
    bell = page.html.select_one("a.bell")
    assert bell is not None
    count = bell.select_one(".bell__count")
    return count.get_text(strip=True) if count else None


def _entries(page) -> list[str]:
    return [" ".join(li.get_text(" ", strip=True).split())
            for li in page.html.select("li.inbox__entry")]


def _unread(dbsession, user) -> int:
    return len(dbsession.scalars(select(Notification.id).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))).all())


# -- the bell ---------------------------------------------------------------------------------
def test_bell_counts_unread_entries_not_notifications(testapp, login_as, world, make_task,
                                                      factory):
    login_as("mia")
    one, two = make_task(world.project, title="One"), make_task(world.project, title="Two")
    assert _bell(testapp.get("/projects")) is None
    factory.notification(world.member, one, actor=world.manager)
    factory.notification(world.member, one, actor=world.viewer)
    factory.notification(world.member, two, actor=world.manager)
    factory.notification(world.member, two, actor=world.manager, read=True)
    factory.notification(world.manager, two, actor=world.member)  # someone else's
    assert _bell(testapp.get("/projects")) == "2"


def test_the_bell_costs_one_statement_on_signed_in_pages_and_none_elsewhere(
        testapp, login_as, world, make_task, factory, count_statements):
    task = make_task(world.project)
    factory.notification(world.member, task, actor=world.manager)
    testapp.get("/login")
    with count_statements() as statements:
        testapp.get("/login")
    assert not [s for s in statements if "notifications" in s]
    login_as("mia")
    for path in ("/", "/projects", "/projects/apollo/", f"/projects/apollo/tasks/{task.number}"):
        testapp.get(path)
        with count_statements() as statements:
            page = testapp.get(path)
        assert len([s for s in statements if "notifications" in s]) == 1, path
        assert _bell(page) == "1"


# -- the inbox page ---------------------------------------------------------------------------
def test_inbox_groups_by_task_newest_first(testapp, login_as, world, make_task, factory,
                                           dbsession):
    older = make_task(world.project, title="Older task")
    newer = make_task(world.project, title="Newer task")
    factory.notification(world.member, older, actor=world.manager)
    factory.notification(world.member, newer, actor=world.manager, kind="comment.added")
    factory.notification(world.member, newer, actor=world.viewer, kind="comment.added")
    factory.notification(world.member, newer, actor=world.admin, kind="task.updated",
                         data={"changes": {"status": ["open", "done"]}})
    login_as("mia")
    page = testapp.get("/me/notifications")
    entries = _entries(page)
    assert len(entries) == 2
    assert "Newer task" in entries[0]
    assert "Older task" in entries[1]
    assert "Ada Admin and 2 others changed the status to Done; commented" in entries[0]
    assert "3 updates" in entries[0]
    assert len(page.html.select(".inbox__entry--unread")) == 2


def test_inbox_in_chinese(testapp, login_as, world, make_task, factory):
    task = make_task(world.project, title="任务一")
    factory.notification(world.member, task, actor=world.manager)
    factory.notification(world.member, task, actor=world.viewer, reason="mentioned")
    login_as("mia")
    testapp.set_cookie("taskdesk_locale", "zh_CN")
    page = testapp.get("/me/notifications", headers={"Accept-Language": "zh-CN"})
    text = _entries(page)[0]
    assert "Viewer和另外 1 人 提到了你\uff1b发表了评论" in text, text


def test_mark_one_entry_read_then_all(testapp, login_as, world, make_task, factory,
                                      dbsession):
    one, two = make_task(world.project, title="One"), make_task(world.project, title="Two")
    factory.notification(world.member, one, actor=world.manager)
    factory.notification(world.member, one, actor=world.viewer)
    factory.notification(world.member, two, actor=world.manager)
    login_as("mia")
    page = testapp.get("/me/notifications")
    forms = [f for f in page.forms.values() if "entry" in f.fields]
    assert len(forms) == 2
    forms[1].submit().follow()  # "One" is the older entry: the second
    assert _unread(dbsession, world.member) == 1
    page = testapp.get("/me/notifications?show=unread")
    assert [e for e in _entries(page)]
    assert all("Two" in e for e in _entries(page))
    mark_all = next(f for f in page.forms.values()
                    if f.action.endswith("/read") and "entry" not in f.fields)
    page = mark_all.submit().follow()
    assert _unread(dbsession, world.member) == 0
    assert "All notifications are marked read." in page.text
    assert _bell(page) is None


def test_marking_read_needs_the_csrf_token(testapp, login_as, world, make_task, factory,
                                           dbsession):
    task = make_task(world.project)
    factory.notification(world.member, task, actor=world.manager)
    login_as("mia")
    testapp.post("/me/notifications/read", {}, status=400)
    testapp.post("/me/notifications/read", {"csrf_token": "forged"}, status=400)
    assert _unread(dbsession, world.member) == 1
    testapp.post("/me/notifications/read", {"csrf_token": csrf_token(testapp)}, status=303)
    assert _unread(dbsession, world.member) == 0


def test_opening_an_entry_marks_it_read_and_leads_to_the_comment(
        testapp, login_as, world, make_task, factory, dbsession):
    task = make_task(world.project, title="Commented")
    comment = add_comment(dbsession, task, world.manager, {"body": "Look"})
    dbsession.flush()
    factory.notification(world.member, task, actor=world.manager, comment_id=comment.id)
    other = make_task(world.project)
    factory.notification(world.member, other, actor=world.manager)
    login_as("mia")
    page = testapp.get("/me/notifications")
    link = next(a for a in page.html.select("a.inbox__link") if "Commented" in a.get_text())
    answer = testapp.get(link["href"], status=303)
    assert answer.location.endswith(f"/projects/apollo/tasks/{task.number}#comment-{comment.id}")
    assert f'id="comment-{comment.id}"' in answer.follow().text
    assert _unread(dbsession, world.member) == 1  # only that entry
    # A request another site started marks nothing.
    factory.notification(world.member, task, actor=world.viewer)
    testapp.get(link["href"], headers={"Sec-Fetch-Site": "cross-site"}, status=303)
    assert _unread(dbsession, world.member) == 2


def test_nothing_leaks_about_a_private_project_one_left(testapp, login_as, world, make_task,
                                                        factory, dbsession):
    secret = make_task(world.project, title="Secret plans")
    factory.notification(world.member, secret, actor=world.manager)
    login_as("mia")
    assert _bell(testapp.get("/me/notifications")) == "1"
    remove_member(dbsession, world.project, world.member, world.manager)
    dbsession.flush()
    page = testapp.get("/me/notifications")
    assert _bell(page) is None
    assert "Secret plans" not in page.text
    assert not _entries(page)
    key = secret.id
    page = testapp.get(f"/me/notifications/open?entry={key}", status=303).follow()
    assert "no longer available" in page.text


def test_inbox_pages_by_entry(testapp, login_as, world, make_task, factory, monkeypatch):
    from taskdesk.web.views import notifications

    monkeypatch.setattr(notifications, "PAGE_SIZE", 2)
    tasks = [make_task(world.project, title=f"T{i}") for i in range(5)]
    for task in tasks:
        factory.notification(world.member, task, actor=world.manager)
    login_as("mia")
    seen = []
    page = testapp.get("/me/notifications")
    while True:
        seen += [re.search(r"T\d", e).group(0) for e in _entries(page)]
        older = page.html.find("a", string="Older")
        if older is None:
            break
        page = testapp.get(older["href"])
    assert seen == ["T4", "T3", "T2", "T1", "T0"]


def test_the_inbox_needs_a_signed_in_user(testapp):
    answer = testapp.get("/me/notifications", status="*")
    assert answer.status_int in (302, 303, 403)
    assert "Notifications" not in answer.text or answer.status_int != 200


# -- watching ---------------------------------------------------------------------------------
def test_watch_and_unwatch_a_task(testapp, login_as, world, make_task, dbsession):
    task = make_task(world.project, world.manager, title="Watched")
    login_as("vic")  # a viewer may watch
    url = f"/projects/apollo/tasks/{task.number}"
    page = testapp.get(url)
    watch = page.html.select_one("#watch")
    assert "Manny Manager" in watch.get_text()  # the reporter watches already
    assert "(1)" in watch.select_one("h2").get_text()
    form = next(f for f in page.forms.values() if f.action.endswith("/watch"))
    page = form.submit().follow()
    assert dbsession.get(TaskWatcher, (task.id, world.viewer.id)) is not None
    watch = page.html.select_one("#watch")
    assert "Vic Viewer" in watch.get_text()
    assert "Unwatch" in watch.get_text()
    form = next(f for f in page.forms.values() if f.action.endswith("/unwatch"))
    form.submit().follow()
    dbsession.expire_all()
    assert dbsession.get(TaskWatcher, (task.id, world.viewer.id)) is None


def test_watch_project_from_its_page(testapp, login_as, world, dbsession):
    login_as("vic")
    page = testapp.get("/projects/apollo/")
    form = page.forms["project-watch"]
    page = form.submit().follow()
    assert dbsession.get(ProjectWatcher, (world.project.id, world.viewer.id)) is not None
    assert "Unwatch project" in page.forms["project-watch"].text
    page.forms["project-watch"].submit()
    dbsession.expire_all()
    assert dbsession.get(ProjectWatcher, (world.project.id, world.viewer.id)) is None


def test_who_may_not_view_may_not_watch(testapp, login_as, world, make_task, dbsession):
    task = make_task(world.project)
    login_as("olga")
    token = csrf_token(testapp)
    answer = testapp.post(f"/projects/apollo/tasks/{task.number}/watch", {"csrf_token": token},
                          status="*")
    assert answer.status_int in (403, 404)
    answer = testapp.post("/projects/apollo/watch", {"csrf_token": token}, status="*")
    assert answer.status_int in (403, 404)
    assert dbsession.get(TaskWatcher, (task.id, world.outsider.id)) is None
    assert dbsession.get(ProjectWatcher, (world.project.id, world.outsider.id)) is None


# -- mentions ---------------------------------------------------------------------------------
def test_mentions_link_known_active_people_only_outside_code(testapp, login_as, world,
                                                             make_task, factory, dbsession,
                                                             count_statements):
    factory.user("evil", display_name='<img src=x onerror=alert(1)>"')
    factory.user("gone", active=False)
    task = make_task(world.project, description="Ask @mia and @evil, not `@mia`:\n\n"
                                                "    @mia in a block\n")
    add_comment(dbsession, task, world.manager,
                {"body": "@MIA. see @nobody and @gone [@mia](https://example.com)"})
    dbsession.flush()
    login_as("manny")
    url = f"/projects/apollo/tasks/{task.number}"
    testapp.get(url)
    with count_statements() as statements:
        page = testapp.get(url)
    lookups = [s for s in statements if "users.username IN" in s.replace('"', "")]
    assert len(lookups) == 1, lookups
    links = page.html.select(".markdown a.mention")
    assert [a.get_text() for a in links] == ["@mia", "@evil", "@MIA"]
    assert links[0]["href"].endswith("/projects/apollo/?assignee=mia&state=all")
    assert links[0]["title"] == "Mia Member"
    assert links[1]["title"] == '<img src=x onerror=alert(1)>"'
    assert "<img src=x" not in page.text  # escaped in the attribute
    codes = [c.get_text() for c in page.html.select(".markdown code")]
    assert "@mia" in codes
    assert any("@mia in a block" in c for c in codes)
    text = page.html.select(".comment .markdown")[0]
    assert "@nobody" in text.get_text()
    assert "@gone" in text.get_text()
    assert [a["href"] for a in text.select("a")][-1] == "https://example.com"


def test_mention_suggestions_offer_people_who_may_see_the_project(testapp, login_as, world,
                                                                  factory):
    factory.user("lina", display_name="李娜", locale="zh_CN")
    login_as("mia")
    found = testapp.get("/projects/apollo/mentionable", {"q": "李"}).json["people"]
    assert found == []  # lina is not a member of the private project
    factory.user("lina2", display_name="李娜娜")
    internal = factory.project(world.manager, slug="open", visibility="internal")
    assert internal
    found = testapp.get("/projects/open/mentionable", {"q": "李"}).json["people"]
    assert {p["username"] for p in found} == {"lina", "lina2"}
    found = testapp.get("/projects/apollo/mentionable?q=vic").json["people"]
    assert [p["username"] for p in found] == ["vic"]
    page = testapp.get("/projects/apollo/tasks/new")
    assert page.html.select_one("textarea[data-mentions]")["data-mentions"].endswith(
        "/projects/apollo/mentionable")


def test_a_notification_about_no_task_is_an_entry_leading_to_the_project(
        testapp, login_as, world, factory, dbsession):
    factory.notification(world.member, project=world.project, kind="member.added",
                         reason="member", actor=world.manager)
    login_as("mia")
    page = testapp.get("/me/notifications")
    [entry] = _entries(page)
    assert entry.startswith("Unread: Apollo Manny Manager added you to the project"), entry
    link = page.html.select_one("a.inbox__link")["href"]
    assert "entry=-" in link
    answer = testapp.get(link, status=303)
    assert answer.location.endswith("/projects/apollo")
    assert _unread(dbsession, world.member) == 0
