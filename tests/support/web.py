"""Helpers for driving the web UI's forms as a browser does (CSRF fields travel along)."""

from __future__ import annotations

import re
from typing import Any

import webtest
from sqlalchemy import select
from sqlalchemy.orm import Session

from taskdesk.models import Project, Task
from tests.support.factories import Factory

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
FLASH = re.compile(r'<p class="flash flash--(success|warning|error)"[^>]*>([^<]*)</p>')
FIELD_ERROR = re.compile(r'<p class="field-error" id="([\w-]+)-error">([^<]*)</p>')


def login(app: webtest.TestApp, username: str, password: str = Factory.PASSWORD) -> Any:
    page = app.get("/login")
    form = next(f for f in page.forms.values() if "username" in f.fields)
    form["username"] = username
    form["password"] = password
    return form.submit()


def csrf_token(app: webtest.TestApp) -> str:
    """The CSRF token of ``app``'s session, read from a form the way a browser sees it."""
    page = app.get("/login")
    match = CSRF_INPUT.search(page.text)
    assert match, "no CSRF token on the sign-in page"
    return match.group(1)


def confirm(page: webtest.TestResponse, **kw: Any) -> webtest.TestResponse:
    """Press the confirming button of the page a destructive form answers with when it
    comes without ``confirmed=yes`` (a browser without JavaScript), as a user would."""
    assert page.status_int == 200, page.status
    found = [f for f in page.forms.values() if "confirmed" in f.fields]
    assert len(found) == 1, f"no confirmation asked on {page.request.url}"
    assert found[0]["confirmed"].value == "yes"
    return found[0].submit(**kw)


def find_form(page: Any, action_suffix: str, method: str = "post") -> Any:
    """The one form of ``page`` whose action ends with ``action_suffix``."""
    found = [f for f in page.forms.values()
             if (f.action or "").endswith(action_suffix) and f.method.lower() == method]
    assert len(found) == 1, (action_suffix, [f.action for f in page.forms.values()])
    return found[0]


def form(page: webtest.TestResponse, action: str) -> webtest.forms.Form:
    """The one form on ``page`` whose action ends with ``action``."""
    found = [f for f in page.forms.values() if (f.action or "").endswith(action)]
    assert len(found) == 1, f"{len(found)} forms posting to …{action} on {page.request.url}"
    return found[0]


def post(app: webtest.TestApp, url: str, data: dict[str, Any], **kw: Any) -> Any:
    """A POST with the session's CSRF token, for actions the page does not offer (e.g. a
    disabled button, or a page that another user would see)."""
    token = CSRF_INPUT.search(app.get("/login").text)
    assert token, "no CSRF token on the sign-in page"
    return app.post(url, {**data, "csrf_token": token.group(1)}, **kw)


def flashes(page: webtest.TestResponse) -> list[tuple[str, str]]:
    """The (queue, text) of each flash message on ``page``."""
    return [(queue, text.strip()) for queue, text in FLASH.findall(page.text)]


def field_errors(page: webtest.TestResponse) -> dict[str, str]:
    """Each field-level error message on ``page``, by field name."""
    return {name: text.strip() for name, text in FIELD_ERROR.findall(page.text)}


def is_signed_in(app: webtest.TestApp) -> bool:
    """Whether ``app``'s session still signs it in (the profile page answers, no redirect)."""
    status = app.get("/me/", expect_errors=True).status_int
    assert status in (200, 303), status
    return status == 200


def list_titles(page: webtest.TestResponse) -> list[str]:
    """The task titles of a task-list page, in the order shown."""
    return [a.get_text() for a in page.html.select("tbody tr td:nth-of-type(2) > a")]


def reload_task(dbsession: Session, project: Project, number: int) -> Task | None:
    """Task ``number`` of ``project`` as the database holds it now."""
    dbsession.expire_all()
    return dbsession.scalar(select(Task).where(Task.project_id == project.id,
                                               Task.number == number))
