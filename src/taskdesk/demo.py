"""The demo data set behind ``taskdesk INI seed-demo``.

Everything is created through the domain layer, exactly as the web UI and the API would:
numbering, versions, activity entries and validation are the real ones, so the demo doubles
as a smoke test of those rules. A fixed random seed makes the data set reproducible; due
dates are relative to today so that "overdue" and "due this week" always have members.

The data tells a history over the last ten weeks, so the weekly charts and the activity
feed look like a team at work: each task's story (created, moved along the workflow,
reprioritised, reassigned, commented, finished) is planned first with times relative to
now, and all stories' steps then run in time order, so ids grow with time as they do in a
real database (the feeds order by id). The domain stamps what it writes with the current
time; while the history plays, two session event hooks date every new row, and every
change of an ``updated_at`` or a ``completed_at``, to the step's planned time instead,
before the row is written (no second UPDATE, so the tasks' edit versions are the real ones).
"""

# Chinese text is written with full-width punctuation, as Chinese users type it.
# ruff: noqa: RUF001

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Insert, event, func, select
from sqlalchemy.orm import Session, attributes

from taskdesk.domain import accounts, comments, projects, tasks
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.models import Comment, Group, Project, Task, User
from taskdesk.security.passwords import Argon2Cost
from taskdesk.settings import TaskdeskSettings
from taskdesk.timezones import local_today

ADMIN_USERNAME = "admin"
PASSWORD = "taskdesk-demo"

#: (username, display name, locale, groups); every demo user has the password above.
USERS: tuple[tuple[str, str, str | None, tuple[str, ...]], ...] = (
    ("wangwei", "王伟", "zh_CN", ("engineering",)),
    ("lina", "李娜", None, ("support",)),
    ("zhangmin", "张敏", None, ("support",)),
    ("alice", "Alice Johnson", "en", ("engineering",)),
    ("bob", "Bob Smith", None, ("engineering",)),
    ("carol", "Carol Nguyen", None, ("support",)),
    ("dave", "David Müller", None, ("engineering",)),
    ("erin", "Erin O'Brien", None, ()),
)
#: A former employee: deactivated at the end, after tasks were assigned to her.
DEPARTED = "erin"

GROUPS = (
    ("engineering", "Developers and operations"),
    ("support", "Customer support and office management"),
)


@dataclass(frozen=True)
class ProjectPlan:
    slug: str
    name: str
    description: str
    visibility: str
    owner: str
    #: username or ``group:<name>`` -> role; roles missing from the settings are skipped.
    members: dict[str, str]
    #: Share of the demo's tasks that land here.
    weight: float
    chinese: bool = False
    archived: bool = False
    labels: tuple[str, ...] = ()


PROJECTS: tuple[ProjectPlan, ...] = (
    ProjectPlan(
        "website", "Website relaunch",
        "New public website: design system, content migration and a faster search.",
        "internal", "alice",
        {"bob": "member", "wangwei": "member", "carol": "reporter", "group:support": "viewer"},
        0.30, labels=("frontend", "backend", "design", "content", "seo", "bug"),
    ),
    ProjectPlan(
        "mobile-app", "Mobile app 2.0",
        "Offline mode, push notifications and the new onboarding flow for iOS and Android.",
        "private", "bob",
        {"alice": "member", "dave": "member", "lina": "member", "erin": "member"},
        0.25, labels=("ios", "android", "api", "bug", "ux"),
    ),
    ProjectPlan(
        "beijing-office", "北京办公室搬迁",
        "将北京团队搬到新的办公室：网络、工位、会议室和门禁。",
        "private", "wangwei",
        {"lina": "manager", "zhangmin": "member", "carol": "viewer"},
        0.20, chinese=True, labels=("行政", "采购", "网络", "紧急", "it"),
    ),
    ProjectPlan(
        "infrastructure", "Infrastructure",
        "Servers, backups, monitoring and the database upgrade.",
        "private", "dave",
        {"group:engineering": "member", "zhangmin": "viewer"},
        0.15, labels=("ops", "security", "database", "monitoring"),
    ),
    ProjectPlan(
        "legacy-crm", "Legacy CRM retirement",
        "Export the old CRM's data and switch it off. Finished; kept for reference.",
        "internal", "carol",
        {"lina": "member", "bob": "member"},
        0.10, archived=True, labels=("migration", "data", "docs"),
    ),
)

_VERBS = ("Fix", "Update", "Review", "Document", "Migrate", "Design", "Test", "Investigate",
          "Clean up", "Speed up", "Add", "Remove")
_OBJECTS = ("the login page", "search results", "the CSV export", "the release notes",
            "API rate limits", "the onboarding e-mails", "push notifications", "the nightly backup",
            "error pages", "the settings screen", "the dashboard charts", "image uploads",
            "password reset", "the audit log", "date formatting", "the sign-up form")
_CN_VERBS = ("确认", "采购", "安排", "联系", "检查", "更新", "准备", "协调")
_CN_OBJECTS = ("新办公室网络布线", "会议室投影仪", "搬家公司报价", "员工工位分配", "门禁卡",
               "打印机和复印机", "茶水间设备", "办公家具清单", "无线网络覆盖", "消防检查",
               "停车位申请", "新地址通知客户")
_DESCRIPTIONS = (
    "",
    "Steps to reproduce:\n\n1. Sign in\n2. Open the page\n3. Watch it fail",
    "Customers asked for this twice last month. See the support ticket for details.",
    "Acceptance criteria:\n\n- works on mobile\n- covered by tests\n- documented",
    "Low effort, but it keeps coming up in reviews.",
)
_CN_DESCRIPTIONS = (
    "",
    "请在周五之前完成，并在群里同步进度。",
    "需要和物业确认时间。\n\n- 预算：待定\n- 负责人：见指派",
    "供应商已经发来报价，请比较后决定。",
)
_COMMENTS = (
    "I can take this one.", "Is this still needed?", "Done on staging, please check.",
    "Blocked by the API change, see the linked task.", "Looks good to me.",
    "Can we move the due date? The release slipped.", "Added screenshots to the description.",
)
_CN_COMMENTS = ("我来处理这个。", "已经联系供应商了，等回复。", "这个需要领导审批。",
                "周三之前可以完成。", "好的，谢谢！", "请补充一下具体需求。")

#: Share of tasks per status category; within a category the statuses share equally.
_CATEGORY_WEIGHTS = {"open": 35.0, "active": 30.0, "done": 25.0, "cancelled": 7.0}
#: How far back the demo's history goes (the project charts show twelve weeks).
HISTORY = timedelta(weeks=10)
#: An archived project's work ended this long ago; it was archived a few days later.
ARCHIVED_AGO = timedelta(weeks=3)


@dataclass
class _Team:
    """Who works in a demo project: reporters/assignees, and everyone who may comment."""

    workers: list[User] = field(default_factory=list)
    commenters: list[User] = field(default_factory=list)


def _logins() -> str:
    others = ", ".join(username for username, *_ in USERS if username != DEPARTED)
    return (f"Sign in as {ADMIN_USERNAME} with password {PASSWORD} (site admin); "
            f"the demo users {others} have the same password.")


def seed_demo(dbsession: Session, settings: TaskdeskSettings, tasks: int = 300) -> str:
    """Load the demo data set once; return a message with the demo logins."""
    if accounts.find_user(dbsession, ADMIN_USERNAME) is not None:
        return "The demo data is already there. " + _logins()
    rng = random.Random(42)
    now = datetime.now(UTC)
    start = now - HISTORY
    clock = _Clock(start - timedelta(days=7))
    with clock.dating(dbsession):
        users = _create_users(dbsession, settings.password_cost)
        groups = _create_groups(dbsession, users)
        created = 0
        events: list[Event] = []
        for index, plan in enumerate(PROJECTS):
            clock.time = start + timedelta(minutes=10 * index)
            project, team = _create_project(dbsession, settings, plan, users, groups)
            # The last project takes the remainder so the total is exactly ``tasks``.
            count = (tasks - created if index == len(PROJECTS) - 1
                     else round(tasks * plan.weight))
            count = max(0, min(count, tasks - created))
            until = now - ARCHIVED_AGO if plan.archived else now
            for _ in range(count):
                story = _plan_story(rng, settings, project, plan, team, now,
                                    start + timedelta(days=1), until)
                events.extend(story.events(dbsession, settings))
            created += count
            if plan.archived:
                events.append((until + timedelta(days=3), partial(
                    projects.archive_project, dbsession, project, users[plan.owner], True)))
        clock.play(events)
        accounts.set_active(dbsession, users[DEPARTED], False)
        dbsession.flush()
    comment_count = dbsession.scalar(select(func.count()).select_from(Comment))
    return (f"Demo data loaded: {len(PROJECTS)} projects, {len(users)} users, {created} tasks, "
            f"{comment_count} comments. " + _logins())


#: Something that happens in the demo's history, and when.
Event = tuple[datetime, Callable[[], Any]]
#: One step of a task's story (a domain operation on its task).
Step = Callable[["_Story", Session, TaskdeskSettings], None]


@dataclass
class _Story:
    """One demo task's life: what it is created with, then its steps at their times."""

    project: Project
    reporter: User
    values: dict[str, Any]
    created_at: datetime
    steps: list[tuple[datetime, Step]] = field(default_factory=list)
    task: Task | None = None

    def events(self, dbsession: Session, settings: TaskdeskSettings) -> Iterator[Event]:
        for when, step in [(self.created_at, _create), *self.steps]:
            yield when, partial(step, self, dbsession, settings)


@dataclass
class _Clock:
    """The demo's time: what the rows written now are dated to."""

    time: datetime

    @contextmanager
    def dating(self, dbsession: Session) -> Iterator[None]:
        """Date the rows ``dbsession`` writes to :attr:`time`: new rows' ``created_at`` and
        ``updated_at`` (ORM objects, and rows a Core INSERT writes, as a task's create
        does), and changed ``updated_at`` and ``completed_at`` values."""

        def date_new_row(session: Session, row: Any) -> None:
            for name in ("created_at", "updated_at"):
                if hasattr(type(row), name):
                    setattr(row, name, self.time)

        def date_inserted_rows(connection: Any, statement: Any, multiparams: Any,
                               params: Any, options: Any) -> tuple[Any, Any, Any]:
            if isinstance(statement, Insert):
                dated = {name: self.time for name in ("created_at", "updated_at")
                         if name in statement.table.c}
                if dated:
                    multiparams = [{**row, **dated} for row in multiparams]
                    params = {**params, **dated} if params else params
            return statement, multiparams, params

        def date_changes(session: Session, context: Any, rows: Any) -> None:
            for row in session.dirty:
                for name in ("updated_at", "completed_at"):
                    if (hasattr(type(row), name) and getattr(row, name) is not None
                            and attributes.get_history(row, name).added):
                        setattr(row, name, self.time)

        connection = dbsession.connection()
        event.listen(dbsession, "transient_to_pending", date_new_row)
        event.listen(dbsession, "before_flush", date_changes)
        event.listen(connection, "before_execute", date_inserted_rows, retval=True)
        try:
            yield
        finally:
            event.remove(connection, "before_execute", date_inserted_rows)
            event.remove(dbsession, "before_flush", date_changes)
            event.remove(dbsession, "transient_to_pending", date_new_row)

    def play(self, events: list[Event]) -> None:
        """Run ``events`` in time order (those at the same time in the order given)."""
        for when, run in sorted(events, key=lambda event: event[0]):
            self.time = when
            run()


def _create_users(dbsession: Session, cost: Argon2Cost) -> dict[str, User]:
    users = {
        ADMIN_USERNAME: accounts.create_user(dbsession, {
            "username": ADMIN_USERNAME, "display_name": "Demo Admin",
            "email": "admin@example.com", "password": PASSWORD, "is_site_admin": True,
        }, cost=cost)
    }
    for username, display_name, locale, _groups in USERS:
        user = accounts.create_user(dbsession, {
            "username": username, "display_name": display_name,
            "email": f"{username}@example.com", "password": PASSWORD,
        }, cost=cost)
        if locale is not None:
            accounts.update_profile(dbsession, user, {"locale": locale})
        users[username] = user
    return users


def _create_groups(dbsession: Session, users: dict[str, User]) -> dict[str, Group]:
    groups: dict[str, Group] = {}
    for name, description in GROUPS:
        group = accounts.create_group(dbsession, {"name": name, "description": description})
        for username, _name, _locale, memberships in USERS:
            if name in memberships:
                accounts.add_group_member(dbsession, group, users[username])
        groups[name] = group
    return groups


def _create_project(
    dbsession: Session,
    settings: TaskdeskSettings,
    plan: ProjectPlan,
    users: dict[str, User],
    groups: dict[str, Group],
) -> tuple[Project, _Team]:
    owner = users[plan.owner]
    project = projects.create_project(dbsession, owner, {
        "slug": plan.slug, "name": plan.name, "description": plan.description,
        "visibility": plan.visibility,
    })
    team = _Team(workers=[owner], commenters=[owner])
    for key, role in plan.members.items():
        if role not in settings.roles:
            continue
        principal: User | Group
        if key.startswith("group:"):
            principal = groups[key.removeprefix("group:")]
            people = [users[username] for username, _name, _locale, member_of in USERS
                      if principal.name in member_of]
        else:
            principal = users[key]
            people = [principal]
        projects.set_member(dbsession, settings, project, principal, owner, {"role": role})
        if role != "viewer":
            team.commenters.extend(p for p in people if p not in team.commenters)
        if role in ("member", "manager"):
            team.workers.extend(p for p in people if p not in team.workers)
    return project, team


def _weighted_status(rng: random.Random, settings: TaskdeskSettings) -> str:
    statuses = settings.workflow.statuses
    per_category = {
        category: sum(1 for s in statuses if s.category == category)
        for category in _CATEGORY_WEIGHTS
    }
    weights = [_CATEGORY_WEIGHTS[s.category] / per_category[s.category] for s in statuses]
    return rng.choices([s.name for s in statuses], weights=weights)[0]


def _due_date(rng: random.Random, today: date) -> date | None:
    kind = rng.random()
    if kind < 0.35:
        return None
    if kind < 0.55:  # overdue
        return today - timedelta(days=rng.randint(1, 21))
    if kind < 0.75:  # this week (from today to Sunday)
        return today + timedelta(days=rng.randint(0, 6 - today.weekday()))
    return today + timedelta(days=rng.randint(7, 75))


def _pick(rng: random.Random, people: Sequence[User]) -> User:
    return people[rng.randrange(len(people))]


def _moments(rng: random.Random, after: datetime, before: datetime, count: int
             ) -> Iterator[datetime]:
    """``count`` times between ``after`` and ``before``, earliest first."""
    span = (before - after).total_seconds()
    return (after + timedelta(seconds=offset)
            for offset in sorted(rng.uniform(0.02, 0.98) * span for _ in range(count)))


def _create(story: _Story, dbsession: Session, settings: TaskdeskSettings) -> None:
    story.task = tasks.create_task(dbsession, settings, story.project, story.reporter,
                                   story.values, may=UNRESTRICTED)


def _update(actor: User, values: dict[str, Any]) -> Step:
    def step(story: _Story, dbsession: Session, settings: TaskdeskSettings) -> None:
        assert story.task is not None
        tasks.update_task(dbsession, settings, story.task, actor, values, may=UNRESTRICTED)

    return step


def _comment(author: User, body: str) -> Step:
    def step(story: _Story, dbsession: Session, settings: TaskdeskSettings) -> None:
        assert story.task is not None
        comments.add_comment(dbsession, story.task, author, {"body": body})

    return step


def _plan_story(
    rng: random.Random,
    settings: TaskdeskSettings,
    project: Project,
    plan: ProjectPlan,
    team: _Team,
    now: datetime,
    opened: datetime,
    until: datetime,
) -> _Story:
    """A task's values and history: created at some time between ``opened`` and ``until``
    (before its due date when that has passed), then worked on, commented and finally moved
    to its status, every step after the one before and before ``until``."""
    workflow = settings.workflow
    today = local_today(settings.time_zone, now)  # due dates as the site's people count days
    if plan.chinese:
        title = rng.choice(_CN_VERBS) + rng.choice(_CN_OBJECTS)
        description = rng.choice(_CN_DESCRIPTIONS)
    else:
        title = f"{rng.choice(_VERBS)} {rng.choice(_OBJECTS)}"
        description = rng.choice(_DESCRIPTIONS)
    reporter = _pick(rng, team.workers)
    assignee = _pick(rng, team.workers) if rng.random() < 0.8 else None
    due = _due_date(rng, today)
    priorities = workflow.priorities
    priority = (workflow.default_priority if rng.random() < 0.5
                else priorities[rng.randrange(len(priorities))])
    latest = until - timedelta(hours=1)
    if due is not None and due < today:  # an overdue task was created before it was due
        latest = min(latest, datetime(due.year, due.month, due.day, tzinfo=UTC)
                     - timedelta(days=1))
    # More work lately than at the start, as a project gathers pace.
    created_at = opened + (latest - opened) * rng.random() ** 0.7
    story = _Story(project, reporter, {
        "title": title,
        "description": description,
        "priority": priority,
        "assignee": assignee.username if assignee else None,
        "due_date": due.isoformat() if due else None,
        "labels": rng.sample(plan.labels, rng.randint(0, min(3, len(plan.labels)))),
    }, created_at)

    # Most tasks move along the workflow, so they carry an activity history; an archived
    # project's work is finished.
    status = _weighted_status(rng, settings)
    if plan.archived and workflow.status(status).category not in ("done", "cancelled"):
        status = workflow.first_done
    actor = assignee or reporter
    end = min(until, created_at + timedelta(days=rng.uniform(0.2, 21)))
    middle: list[Step] = []
    active = workflow.names_in("active")
    if (workflow.status(status).category in ("done", "cancelled") and active
            and rng.random() < 0.6):
        middle.append(_update(actor, {"status": active[0]}))
    if rng.random() < 0.15:
        middle.append(_update(reporter, {"priority": priorities[-1]}))
    if rng.random() < 0.1:
        middle.append(_update(reporter, {"assignee": _pick(rng, team.workers).username}))
    for _ in range(rng.choice((0, 0, 1, 1, 2, 3, 4))):
        author = _pick(rng, team.commenters)
        chinese = plan.chinese or (author.locale == "zh_CN" and rng.random() < 0.5)
        middle.append(_comment(author, rng.choice(_CN_COMMENTS if chinese else _COMMENTS)))
    last = [_update(actor, {"status": status})] if status != workflow.initial_status else []
    times = list(_moments(rng, created_at, end, len(middle) + len(last)))
    story.steps = list(zip(times, [*middle, *last], strict=True))
    return story
