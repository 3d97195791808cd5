"""Lists filter in SQL: ``visible_projects`` keeps exactly what each kind of viewer may see."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from taskdesk.domain.access import Viewer, visible_projects
from taskdesk.models import Project
from tests.support.factories import Factory
from tests.support.sessions import sign_in


def visible(dbsession: Session, viewer: Viewer) -> set[str]:
    return set(dbsession.scalars(select(Project.slug).where(visible_projects(viewer))))


def test_visible_projects_per_kind_of_viewer(factory: Factory, dbsession: Session) -> None:
    owner = factory.user("owner")
    direct = factory.user("direct")
    grouped = factory.user("grouped")
    outsider = factory.user("outsider")
    other_group_member = factory.user("elsewhere")
    admin = factory.user("root", admin=True)
    team = factory.group("team", members=(grouped,))
    factory.group("other", members=(other_group_member,))

    factory.project(owner, slug="direct-private", members={direct: "viewer"})
    factory.project(owner, slug="group-private", members={team: "member"})
    factory.project(owner, slug="lonely-private")
    factory.project(owner, slug="open-internal", visibility="internal")
    factory.project(owner, slug="old-private", archived=True, members={direct: "member"})
    factory.project(owner, slug="old-internal", visibility="internal", archived=True)
    everything = {"direct-private", "group-private", "lonely-private", "open-internal",
                  "old-private", "old-internal"}
    internal = {"open-internal", "old-internal"}

    assert visible(dbsession, Viewer(None)) == set()
    assert visible(dbsession, Viewer(outsider.id)) == internal
    assert visible(dbsession, Viewer(other_group_member.id)) == internal
    assert visible(dbsession, Viewer(direct.id)) == internal | {"direct-private", "old-private"}
    assert visible(dbsession, Viewer(grouped.id)) == internal | {"group-private"}
    assert visible(dbsession, Viewer(owner.id)) == everything  # the creator manages them all
    assert visible(dbsession, Viewer(admin.id, is_site_admin=True)) == everything
    assert visible(dbsession, Viewer(admin.id)) == internal  # the flag, not the id, decides


def test_project_lists_show_only_visible_projects(
    factory: Factory, browser: Callable[[], Any]
) -> None:
    """The web list and the API list agree with the SQL filter (and leak no slug)."""
    owner = factory.user("owner")
    reader = factory.user("reader")
    factory.project(owner, slug="shared-private", members={reader: "viewer"})
    factory.project(owner, slug="secret-private")
    factory.project(owner, slug="open-internal", visibility="internal")
    app = browser()
    sign_in(app, "reader")
    page = app.get("/projects/")
    api = app.get("/api/v1/projects/")
    api_slugs = {item["slug"] for item in api.json["items"]}
    assert api_slugs == {"shared-private", "open-internal"}
    for text in (page.text, api.text):
        assert "shared-private" in text
        assert "open-internal" in text
        assert "secret-private" not in text


def test_a_private_projects_existence_is_not_revealed(
    factory: Factory, browser: Callable[[], Any]
) -> None:
    """Whoever may not see a private project gets the same answer as for one that does not
    exist, anonymous callers included (on the web and on the API)."""
    owner = factory.user("owner")
    factory.user("outsider")
    project = factory.project(owner, slug="secret-plans")
    task = factory.task(project, owner)
    anonymous = browser()
    outsider = browser()
    sign_in(outsider, "outsider")
    paths = ["/projects/{}/", "/projects/{}/tasks/" + str(task.number) + "/",
             "/projects/{}/members/"]
    paths += [f"/api/v1{path}" for path in paths]
    differences = []
    for name, app in (("anonymous", anonymous), ("outsider", outsider)):
        for path in paths:
            answers = []
            for slug in ("secret-plans", "no-such-project"):
                response = app.get(path.format(slug), expect_errors=True)
                location = urlsplit(response.location or "").path
                answers.append((response.status_int, location))
            if answers[0] != answers[1]:
                differences.append(f"{name} GET {path}: existing {answers[0]}, "
                                   f"missing {answers[1]}")
    assert not differences, "\n".join(differences)
