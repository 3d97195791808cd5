"""The demo data set behind ``taskdesk INI seed-demo``.

Everything is created through the domain layer, exactly as the web UI and the API would:
numbering, versions, activity entries and validation are the real ones, so the demo doubles
as a smoke test of those rules. A fixed random seed makes the data set reproducible; due
dates are relative to today so that "overdue" and "due this week" always have members.
"""

# Chinese text is written with full-width punctuation, as Chinese users type it.
# ruff: noqa: RUF001

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from taskdesk.domain import accounts, comments, projects, tasks
from taskdesk.models import Comment, Group, Project, Task, User
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
    users = _create_users(dbsession)
    groups = _create_groups(dbsession, users)
    today = local_today(settings.time_zone)  # due dates as the site's people count days
    created = 0
    for index, plan in enumerate(PROJECTS):
        project, team = _create_project(dbsession, settings, plan, users, groups)
        # The last project takes the remainder so the total is exactly ``tasks``.
        count = tasks - created if index == len(PROJECTS) - 1 else round(tasks * plan.weight)
        count = max(0, min(count, tasks - created))
        for _ in range(count):
            _create_task(dbsession, settings, rng, project, plan, team, today)
        created += count
        if plan.archived:
            projects.archive_project(dbsession, project, users[plan.owner], True)
    accounts.set_active(dbsession, users[DEPARTED], False)
    dbsession.flush()
    comment_count = dbsession.scalar(select(func.count()).select_from(Comment))
    return (f"Demo data loaded: {len(PROJECTS)} projects, {len(users)} users, {created} tasks, "
            f"{comment_count} comments. " + _logins())


def _create_users(dbsession: Session) -> dict[str, User]:
    users = {
        ADMIN_USERNAME: accounts.create_user(dbsession, {
            "username": ADMIN_USERNAME, "display_name": "Demo Admin",
            "email": "admin@example.com", "password": PASSWORD, "is_site_admin": True,
        })
    }
    for username, display_name, locale, _groups in USERS:
        user = accounts.create_user(dbsession, {
            "username": username, "display_name": display_name,
            "email": f"{username}@example.com", "password": PASSWORD,
        })
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


def _create_task(
    dbsession: Session,
    settings: TaskdeskSettings,
    rng: random.Random,
    project: Project,
    plan: ProjectPlan,
    team: _Team,
    today: date,
) -> Task:
    workflow = settings.workflow
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
    task = tasks.create_task(dbsession, settings, project, reporter, {
        "title": title,
        "description": description,
        "priority": priority,
        "assignee": assignee.username if assignee else None,
        "due_date": due.isoformat() if due else None,
        "labels": rng.sample(plan.labels, rng.randint(0, min(3, len(plan.labels)))),
    })

    # Move most tasks along the workflow, so they carry an activity history.
    status = _weighted_status(rng, settings)
    actor = assignee or reporter
    if status != task.status:
        tasks.update_task(dbsession, settings, task, actor, {"status": status})
    if rng.random() < 0.15:
        tasks.update_task(dbsession, settings, task, reporter,
                          {"priority": priorities[-1], "version": task.version})
    if rng.random() < 0.1:
        other = _pick(rng, team.workers)
        tasks.update_task(dbsession, settings, task, reporter, {"assignee": other.username})

    for _ in range(rng.choice((0, 0, 1, 1, 2, 3, 4))):
        author = _pick(rng, team.commenters)
        chinese = plan.chinese or (author.locale == "zh_CN" and rng.random() < 0.5)
        body = rng.choice(_CN_COMMENTS if chinese else _COMMENTS)
        comments.add_comment(dbsession, task, author, {"body": body})
    return task
