"""What the browser tests share: installing Debian's Chromium, serving the app with
Waitress, numbered screenshots, signing in."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import waitress
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from taskdesk.domain import projects
from taskdesk.models import Project, User
from taskdesk.settings import TaskdeskSettings, parse_settings
from tests.support.apps import app_settings
from tests.support.system import install

CHROMIUM = Path("/usr/bin/chromium")
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
PACKAGES = ["chromium", "fonts-wqy-microhei"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "browser" / "artifacts"
#: Flags that keep Chromium from reaching for outside hosts (refused on this machine).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "browser test password"


def install_browser() -> str | None:
    """Install Chromium and a CJK font if missing; the reason it is impossible, or None."""
    if CHROMIUM.exists() and CJK_FONT.exists():
        return None
    reason = install(PACKAGES, "Chromium")
    if reason is not None:
        return reason
    if not CHROMIUM.exists():
        return f"apt-get installed {' '.join(PACKAGES)} but {CHROMIUM} is still missing"
    return None


class LiveServer:
    """The WSGI app served by Waitress from a background thread on 127.0.0.1."""

    def __init__(self, app: Any) -> None:
        self.server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self.server.run, name="waitress", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Close every connection and the listening socket from the server's own loop
        thread (asyncore is not thread-safe), then wait for the loop to end."""

        def close_all() -> None:
            for channel in list(self.server._map.values()):
                if channel is not self.server.trigger:
                    channel.close()
            self.server.close()

        self.server.trigger.pull_trigger(close_all)
        self.thread.join(timeout=10)
        self.server.task_dispatcher.shutdown()
        assert not self.thread.is_alive(), "the Waitress thread did not stop"


@dataclass(frozen=True)
class Site:
    """Where the app runs, and who may sign in (both with ``PASSWORD``)."""

    url: str
    #: An employee.
    username: str
    #: A site admin.
    admin: str
    password: str = PASSWORD
    #: The database the app serves, for tests that seed their own data.
    database_url: str = ""


class Seed(NamedTuple):
    """What a browser test seeds its data with (:func:`seeded_project`)."""

    dbsession: Session
    settings: TaskdeskSettings
    #: The site's employee and its admin.
    user: User
    admin: User
    project: Project


class SiteData(NamedTuple):
    """A session on a site's database, the settings, and its employee and admin."""

    dbsession: Session
    settings: TaskdeskSettings
    user: User
    admin: User


@contextmanager
def site_session(site: Site) -> Iterator[SiteData]:
    """A session of the site's database with its employee and admin, committed when the
    block ends (for tests that seed data the pages then show)."""
    engine = create_engine(site.database_url)
    try:
        with Session(engine) as dbsession:
            user = dbsession.scalar(select(User).where(User.username == site.username))
            admin = dbsession.scalar(select(User).where(User.username == site.admin))
            assert user is not None
            assert admin is not None
            yield SiteData(dbsession, parse_settings(app_settings(site.database_url)), user,
                           admin)
            dbsession.commit()
    finally:
        engine.dispose()


@contextmanager
def seeded_project(site: Site, slug: str, name: str, role: str = "member") -> Iterator[Seed]:
    """A project of the site's admin in which its employee holds ``role``, on a session of
    the site's database that is committed when the block ends."""
    with site_session(site) as (dbsession, settings, user, admin):
        project = projects.create_project(dbsession, admin, {"slug": slug, "name": name})
        projects.set_member(dbsession, settings, project, user, admin, {"role": role})
        yield Seed(dbsession, settings, user, admin, project)


class Steps:
    """Numbered full-page screenshots of one page: ``<flow>-NN-<step>.png``."""

    def __init__(self, page: Any, folder: Path, flow: str) -> None:
        self.page = page
        self.folder = folder
        self.flow = flow
        self.count = 0

    def shot(self, name: str) -> None:
        self.count += 1
        path = self.folder / f"{self.flow}-{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)



def choose_language(page: Any, code: str) -> None:
    """Switch the signed-in user's language with the header's switch, and wait for it (a flow
    that ran before on the same server may have left the user in another language)."""
    from playwright.sync_api import expect  # only browser tests call this; they need it

    page.locator(f".lang-switch button[value='{code}']").click()
    expect(page.locator("html")).to_have_attribute(
        "lang", "zh-CN" if code == "zh_CN" else code)


def sign_in(page: Any, site: Site, username: str) -> None:
    page.goto(f"{site.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(site.password)
    page.get_by_role("button", name="Sign in").click()
