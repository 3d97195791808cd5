"""The layout, security headers and the HTML error pages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from taskdesk.models import Project

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def test_layout_has_nav_csrf_meta_and_sign_out_form(testapp, login_as, world):
    login_as("ada")
    page = testapp.get("/")
    assert re.search(r'<meta name="csrf-token" content="[^"]+">', page.text)
    nav = page.html.find("nav", class_="site-nav")
    assert [a.get_text() for a in nav.find_all("a")] == ["Dashboard", "Projects", "Admin"]
    sign_out = page.forms[[f.action for f in page.forms.values()].index(
        "http://taskdesk.test/logout")]
    assert sign_out.method.upper() == "POST"
    assert sign_out["csrf_token"].value
    assert page.html.find("html")["lang"] == "en"


def test_admin_link_only_for_site_admins(testapp, login_as, world):
    login_as("mia")
    nav = testapp.get("/").html.find("nav", class_="site-nav")
    assert "Admin" not in nav.get_text()


def test_sign_out_through_the_layout_form(testapp, login_as, world):
    login_as("mia")
    page = testapp.get("/projects")
    form = next(f for f in page.forms.values() if f.action.endswith("/logout"))
    assert form.submit().status_int == 303
    assert testapp.get("/").status_int == 303  # anonymous again


def test_security_headers_on_pages_and_static_files(testapp):
    for path in ("/login", "/static/css/taskdesk.css", "/no-such-page"):
        response = testapp.get(path, status="*")
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in response.headers  # https is off here


def test_no_inline_scripts_or_handlers_on_pages(testapp, login_as, world, make_task):
    task = make_task(world.project, world.manager, title="Inline check")
    login_as("manny")
    for path in ("/", "/projects", "/projects/apollo/", "/projects/apollo/board",
                 "/projects/apollo/charts", f"/projects/apollo/tasks/{task.number}",
                 "/projects/apollo/tasks/new", "/projects/apollo/members/"):
        text = testapp.get(path).text
        assert not INLINE_SCRIPT.search(text), path
        assert not EVENT_HANDLER.search(text), path
        assert " style=" not in text, path


def test_vendored_htmx_is_served_locally(testapp):
    page = testapp.get("/login")
    sources = [s["src"] for s in page.html.find_all("script")]
    assert sources
    assert all(s.startswith("http://taskdesk.test/static/") for s in sources)
    assert testapp.get("/static/vendor/htmx.min.js").status_int == 200
    assert testapp.get("/static/js/taskdesk.js").status_int == 200


def test_anonymous_is_sent_to_login_and_back(testapp, world):
    response = testapp.get("/projects/apollo/?status=open&q=x", status=303)
    assert response.location == (
        "http://taskdesk.test/login?next=%2Fprojects%2Fapollo%2F%3Fstatus%3Dopen%26q%3Dx")
    page = testapp.get(response.location)
    form = page.forms["login-form"]
    form["username"], form["password"] = "mia", "correct horse battery"
    assert form.submit().location == "http://taskdesk.test/projects/apollo/?status=open&q=x"


def test_private_project_is_a_404_for_outsiders(testapp, login_as, world):
    login_as("olga")
    for path in ("/projects/apollo/", "/projects/apollo/settings", "/projects/apollo/board",
                 "/projects/apollo/members/"):
        page = testapp.get(path, status=404)
        assert "Page not found" in page.text
        assert "Apollo" not in page.text


def test_lacking_permission_in_a_visible_project_is_a_403(testapp, login_as, world):
    login_as("vic")
    page = testapp.get("/projects/apollo/settings", status=403)
    assert "Not allowed" in page.text
    assert 'class="site-header"' in page.text  # in the layout


def test_unknown_page_is_a_404_in_the_layout(testapp, login_as, world):
    login_as("mia")
    for path in ("/nothing-here", "/projects/NOT_A_SLUG/", "/projects/apollo/tasks/0",
                 "/projects/apollo/tasks/99999"):
        page = testapp.get(path, status=404)
        assert "Page not found" in page.text
        assert 'class="site-header"' in page.text


def test_missing_csrf_token_is_a_400_page_and_changes_nothing(testapp, login_as, world,
                                                              dbsession):
    login_as("manny")
    page = testapp.post("/projects/apollo/settings", {"name": "Hacked"}, status=400)
    assert "The form has expired" in page.text
    name = dbsession.scalar(select(Project.name).where(Project.slug == "apollo"))
    assert name == "Apollo"


def test_unexpected_error_is_a_500_page_without_traceback(testapp, login_as, world,
                                                          monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("taskdesk.web.views.dashboard.activity", broken)
    login_as("mia")
    page = testapp.get("/", status=500)
    assert "Something went wrong" in page.text
    assert "secret internals" not in page.text
    assert "Traceback" not in page.text


@pytest.mark.parametrize(("path", "status"), [("/api/v1/projects/apollo", 401),
                                              ("/api/v1/no-such-thing", 404),
                                              ("/api/v1/me", 401)])
def test_html_error_pages_do_not_answer_the_api(testapp, world, path, status):
    response = testapp.get(path, status="*")
    assert response.status_int == status
    assert not response.content_type.startswith("text/html")


def test_hsts_when_served_over_https(database_url, engine):
    import webtest

    from taskdesk import main
    from tests.support.apps import app_settings

    app = webtest.TestApp(main({}, **app_settings(database_url, **{"taskdesk.https": "true"})),
                          extra_environ={"HTTP_HOST": "taskdesk.test",
                                         "wsgi.url_scheme": "https"})
    response = app.get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_anonymous_cannot_tell_a_private_project_from_a_missing_one(testapp, world):
    for slug in ("apollo", "no-such-project"):
        response = testapp.get(f"/projects/{slug}/tasks/1", status=303)
        assert response.location.startswith("http://taskdesk.test/login?next=")
    # Outside the projects tree a missing page stays a plain 404.
    assert "Page not found" in testapp.get("/no-such-page", status=404).text
