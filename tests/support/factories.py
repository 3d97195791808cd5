"""Factories that create rows through the domain layer (or directly where that is the point),
flushing so the app sees them inside the test's transaction."""

from __future__ import annotations

import itertools
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from taskdesk.domain import accounts, projects, tasks
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.models import Comment, Group, Notification, Project, Task, User
from taskdesk.models.meta import utcnow
from taskdesk.security.passwords import Argon2Cost, hash_password
from taskdesk.settings import TaskdeskSettings

_counter = itertools.count(1)
PASSWORD = "correct horse battery"


@cache
def password_hash(cost: Argon2Cost) -> str:
    """``PASSWORD`` hashed at ``cost``: one hash, made once, that every factory user shares.
    At the app's cost, so signing in neither costs more than the app's own hashes nor
    replaces the hash."""
    return hash_password(PASSWORD, cost)


class Factory:
    PASSWORD = PASSWORD

    def __init__(self, dbsession: Session, settings: TaskdeskSettings) -> None:
        self.dbsession = dbsession
        self.settings = settings

    @property
    def password_hash(self) -> str:
        return password_hash(self.settings.password_cost)

    def user(self, username: str | None = None, *, admin: bool = False, active: bool = True,
             display_name: str | None = None, locale: str | None = None,
             time_zone: str | None = None) -> User:
        username = username or f"user{next(_counter)}"
        user = User(username=username, display_name=display_name or username.title(),
                    email=f"{username}@example.com", password_hash=self.password_hash,
                    is_site_admin=admin, is_active=active, locale=locale,
                    time_zone=time_zone)
        self.dbsession.add(user)
        self.dbsession.flush()
        return user

    def group(self, name: str | None = None, members: tuple[User, ...] = ()) -> Group:
        group = accounts.create_group(self.dbsession, {"name": name or f"group{next(_counter)}"})
        for user in members:
            accounts.add_group_member(self.dbsession, group, user)
        return group

    def project(self, owner: User | None = None, *, slug: str | None = None,
                visibility: str = "private", archived: bool = False,
                members: dict[User | Group, str] | None = None, **values: Any) -> Project:
        owner = owner or self.user()
        slug = slug or f"project-{next(_counter)}"
        project = projects.create_project(self.dbsession, owner, {
            "slug": slug, "name": values.pop("name", slug.title()),
            "visibility": visibility, **values,
        })
        for principal, role in (members or {}).items():
            projects.set_member(self.dbsession, self.settings, project, principal, owner,
                                {"role": role})
        if archived:
            project.is_archived = True
        self.dbsession.flush()
        return project

    def task(self, project: Project, actor: User | None = None, **values: Any) -> Task:
        values.setdefault("title", f"Task {next(_counter)}")
        reporter = actor or self.dbsession.get(User, project.created_by_id)
        assert reporter is not None
        task = tasks.create_task(self.dbsession, self.settings, project, reporter, values,
                                 may=UNRESTRICTED)
        self.dbsession.flush()  # the activity entry too, so the app sees every row
        return task

    def notification(self, user: User, task: Task | None = None, *, kind: str = "comment.added",
                     reason: str = "watching", actor: User | None = None,
                     project: Project | None = None, comment: Comment | None = None,
                     comment_id: int | None = None, data: dict[str, Any] | None = None,
                     read: bool = False, created_at: datetime | None = None) -> Notification:
        """A row of ``user``'s inbox, as the notification consumer writes it (its own event
        id, so any number can be made)."""
        project_id = task.project_id if task is not None else (project.id if project else None)
        row = Notification(
            user_id=user.id, event_id=next(_counter) + 1_000_000, kind=kind, reason=reason,
            project_id=project_id, task_id=task.id if task is not None else None,
            comment_id=comment.id if comment is not None else comment_id,
            actor_id=actor.id if actor is not None else None,
            data=data or {}, read_at=utcnow() if read else None,
            created_at=created_at or utcnow(),
        )
        self.dbsession.add(row)
        self.dbsession.flush()
        return row
