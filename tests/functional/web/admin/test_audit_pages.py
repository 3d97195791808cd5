"""Admin: the audit log page (filters, keyset paging, a fixed statement count) and the
permission explainer page (answers, what if, bad input)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import webtest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from taskdesk.domain import audit
from taskdesk.domain.audit import AuditKind
from taskdesk.models import AuditEntry, ProjectMember, User
from tests.support.factories import Factory
from tests.support.web import field_errors


def rows(page: webtest.TestResponse) -> list[str]:
    """The ``kind`` code of each row shown."""
    return [code.text for code in page.html.select("table.audit-log code.audit-log__kind")]


def fill(dbsession: Session, count: int, kind: AuditKind = AuditKind.TOKEN_CREATED,
         actor: User | None = None) -> None:
    for n in range(count):
        audit.record(dbsession, kind=kind, actor_id=actor.id if actor else None,
                     target=f"token:{n}", details={"name": f"t{n}"})
    dbsession.flush()


def test_only_site_admins(factory: Factory, login_as: Callable[..., webtest.TestApp]) -> None:
    factory.user("lina")
    app = login_as("lina")
    app.get("/admin/audit", status=403)
    app.get("/admin/explain", status=403)


def test_newest_first_with_who_and_what(admin_app: webtest.TestApp, admin: User,
                                        factory: Factory, dbsession: Session) -> None:
    lina = factory.user("lina", display_name="李娜")
    fill(dbsession, 1, AuditKind.USER_DEACTIVATED, actor=lina)
    page = admin_app.get("/admin/audit")
    assert rows(page)[:2] == ["user.deactivated", "auth.sign_in"]
    first = page.html.select_one("table.audit-log tbody tr")
    assert "User deactivated" in first.text
    assert "李娜" in first.text
    assert "@lina" in first.text
    assert "token:0" in first.text
    assert '"t0"' in first.text


def test_filters(admin_app: webtest.TestApp, admin: User, factory: Factory,
                 dbsession: Session) -> None:
    lina = factory.user("lina")
    fill(dbsession, 2, AuditKind.TOKEN_CREATED, actor=lina)
    fill(dbsession, 1, AuditKind.TOKEN_REVOKED, actor=admin)
    assert rows(admin_app.get("/admin/audit?kind=token.created")) == ["token.created"] * 2
    assert rows(admin_app.get("/admin/audit?actor=LINA")) == ["token.created"] * 2
    assert rows(admin_app.get("/admin/audit?actor=root&kind=token.revoked")) == [
        "token.revoked"]
    today = audit.utcnow().date().isoformat()
    assert len(rows(admin_app.get(f"/admin/audit?since={today}&until={today}"))) == 4
    empty = admin_app.get("/admin/audit?until=2000-01-01")
    assert rows(empty) == []
    assert "No entries match." in empty.text
    bad = admin_app.get("/admin/audit?since=yesterday&kind=nope", status=400)
    assert field_errors(bad) == {"since": "Must be a date like 2026-12-31.",
                                 "kind": bad.html.select_one("#kind-error").text}
    assert bad.html.select_one("#f-since")["value"] == "yesterday"


def test_keyset_paging(admin_app: webtest.TestApp, dbsession: Session) -> None:
    fill(dbsession, 60)
    first = admin_app.get("/admin/audit?kind=token.created")
    assert len(rows(first)) == 50
    shown = [tr["id"] for tr in first.html.select("table.audit-log tbody tr")]
    following = first.click(linkid=None, href="before=", index=0)
    assert len(rows(following)) == 10
    rest = [tr["id"] for tr in following.html.select("table.audit-log tbody tr")]
    assert not set(shown) & set(rest)
    assert following.html.select_one("a[rel=next]") is None
    assert "kind=token.created" in following.request.url


@pytest.mark.parametrize("query", ["", "?kind=token.created&actor=root&since=2026-01-01"])
def test_statement_count_is_constant(admin_app: webtest.TestApp, dbsession: Session,
                                     count_statements: Callable[..., Any], query: str) -> None:
    def count() -> int:
        admin_app.get(f"/admin/audit{query}")
        with count_statements() as statements:
            admin_app.get(f"/admin/audit{query}")
        return len(statements)

    root = dbsession.scalars(select(User).where(User.username == "root")).one()
    fill(dbsession, 3, actor=root)
    small = count()
    fill(dbsession, 80, actor=root)
    large = count()
    # identity, the bell's unread count, one page of entries with their actors (and the
    # test harness's SAVEPOINT and RELEASE around the request)
    assert small == large == 5


# -- the explainer ---------------------------------------------------------------------------

@pytest.fixture
def acme(factory: Factory) -> Any:
    lina = factory.user("lina", display_name="李娜")
    project = factory.project(slug="acme", members={lina: "viewer"})
    factory.task(project)
    return project


def test_explain_answers_and_what_if(admin_app: webtest.TestApp, acme: Any,
                                     dbsession: Session) -> None:
    page = admin_app.get("/admin/explain")
    form = page.forms[1] if len(page.forms) > 1 and "user" in page.forms[1].fields else next(
        f for f in page.forms.values() if "user" in f.fields)
    form["user"] = "lina"
    form["path"] = "acme#1"
    form["permission"] = "edit_task"
    form["if_role"] = "member"
    answer = form.submit()
    cards = answer.html.select("section.explain-answer")
    assert len(cards) == 2
    assert "李娜 may not “edit_task” on /projects/acme/tasks/1." in cards[0].text
    assert "denied by default" in cards[0].text
    assert "李娜 may “edit_task” on /projects/acme/tasks/1." in cards[1].text
    assert "Direct member of acme with the built-in role “member”" in cards[1].text
    dbsession.expire_all()
    assert dbsession.scalars(select(ProjectMember.role).join(
        User, User.id == ProjectMember.user_id).where(User.username == "lina")).all() == [
        "viewer"]


def test_explain_bad_input(admin_app: webtest.TestApp, acme: Any) -> None:
    page = admin_app.get("/admin/explain?user=nobody&path=acme%2399&permission=fly"
                         "&if_join=x&if_leave=y", status=400)
    errors = field_errors(page)
    assert set(errors) == {"user", "path", "permission", "if_leave"}
    assert errors["user"] == "No user has this username."
    assert errors["path"] == "Nothing is found at this path."
    assert page.html.select_one("#f-path")["value"] == "acme#99"
    assert not page.html.select("section.explain-answer")
    missing = admin_app.get("/admin/explain?user=lina", status=400)
    assert field_errors(missing) == {"path": "Required.", "permission": "Required."}


def test_explain_statement_count(admin_app: webtest.TestApp, acme: Any,
                                 count_statements: Callable[..., Any]) -> None:
    url = "/admin/explain?user=lina&path=acme%231&permission=edit_task"
    admin_app.get(url)
    with count_statements() as statements:
        admin_app.get(url)
    # identity, bell; the user; the project, the task and its labels (traversal); the
    # user's groups (they are in none, so no names are read); the harness's SAVEPOINT and
    # RELEASE
    assert len(statements) == 9, statements


def test_counts_of_a_chain(dbsession: Session) -> None:
    fill(dbsession, 2)
    assert dbsession.scalar(select(func.count()).select_from(AuditEntry)) == 2
