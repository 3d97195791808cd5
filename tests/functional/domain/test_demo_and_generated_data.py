"""The demo data set (through the domain layer) and generated benchmark data (bulk inserts)
on both backends: the same data rules hold for both."""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import transaction
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from taskdesk import demo, generate
from taskdesk.domain import search, statistics, tasks
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.models import (
    Activity,
    Comment,
    Group,
    Project,
    ProjectMember,
    Task,
    TaskLabel,
    User,
    get_session_factory,
    get_tm_session,
)
from taskdesk.security.passwords import verify_password
from taskdesk.settings import TaskdeskSettings, parse_settings
from tests.support.apps import app_settings
from tests.support.databases import create_database, migrated_engine

CJK = re.compile(r"[\u4e00-\u9fff]")


def count(dbsession: Session, entity: type, *where: object) -> int:
    return int(dbsession.scalar(select(func.count()).select_from(entity).where(*where)) or 0)


# -- demo -------------------------------------------------------------------------------------


def check_history(dbsession: Session, started: datetime, ended: datetime) -> None:
    """The demo's timestamps tell a plausible story spread over the past weeks."""
    earliest = started - demo.HISTORY - timedelta(days=7)
    everything = list(dbsession.scalars(select(Task)))
    for task in everything:
        assert started - demo.HISTORY <= task.created_at <= task.updated_at <= ended
        if task.completed_at is not None:
            assert task.created_at < task.completed_at == task.updated_at
        if task.due_date is not None and task.due_date < ended.date():
            assert task.created_at.date() < task.due_date
    weeks = {(ended - task.created_at).days // 7 for task in everything}
    assert len(weeks) >= 8, weeks
    completed = {(ended - t.completed_at).days // 7 for t in everything if t.completed_at}
    assert len(completed) >= 5, completed

    tasks_by_id = {task.id: task for task in everything}
    for comment in dbsession.scalars(select(Comment)):
        task = tasks_by_id[comment.task_id]
        assert task.created_at < comment.created_at == comment.updated_at
        assert task.completed_at is None or comment.created_at < task.completed_at

    # The feeds list activity by id: ids and times grow together, as in a real database.
    entries = list(dbsession.execute(
        select(Activity.created_at, Activity.action, Activity.task_id).order_by(Activity.id)))
    times = [at for at, _action, _task in entries]
    assert times == sorted(times)
    assert earliest <= times[0]
    assert times[-1] <= ended
    created = {task_id: at for at, action, task_id in entries if action == "task.created"}
    assert created == {task.id: task.created_at for task in everything}
    assert all(user.created_at < times[0] for user in dbsession.scalars(select(User)))

    website = dbsession.scalar(select(Project).where(Project.slug == "website"))
    assert website is not None
    chart = statistics.weekly_created_completed(dbsession, website.id, today=ended.date(), zone=UTC)
    assert sum(1 for _week, made, _done in chart if made) >= 6, chart
    assert sum(1 for _week, _made, done in chart if done) >= 4, chart


def test_seed_demo_builds_a_realistic_data_set(
    dbsession: Session, settings: TaskdeskSettings
) -> None:
    started = datetime.now(UTC)
    message = demo.seed_demo(dbsession, settings, tasks=120)
    check_history(dbsession, started, datetime.now(UTC))
    assert "admin" in message
    assert "taskdesk-demo" in message

    admin = dbsession.scalar(select(User).where(User.username == "admin"))
    assert admin is not None
    assert admin.is_site_admin
    assert verify_password(admin.password_hash, "taskdesk-demo")[0]
    names = set(dbsession.scalars(select(User.display_name)))
    assert {"王伟", "李娜"} <= names
    assert count(dbsession, User, User.locale == "zh_CN") >= 1
    assert count(dbsession, User, User.is_active.is_(False)) == 1
    assert count(dbsession, Group) == 2

    projects = list(dbsession.scalars(select(Project)))
    assert 4 <= len(projects) <= 5
    assert {p.visibility for p in projects} == {"private", "internal"}
    assert sum(p.is_archived for p in projects) == 1
    chinese = [p for p in projects if CJK.search(p.name)]
    assert len(chinese) == 1
    chinese_titles = list(dbsession.scalars(select(Task.title).where(
        Task.project_id == chinese[0].id)))
    assert chinese_titles
    assert all(CJK.search(title) for title in chinese_titles)

    assert count(dbsession, ProjectMember, ProjectMember.group_id.is_not(None)) >= 1
    assert count(dbsession, ProjectMember, ProjectMember.role == "reporter") >= 1

    assert count(dbsession, Task) == 120
    for project in projects:
        numbers = sorted(dbsession.scalars(select(Task.number).where(
            Task.project_id == project.id)))
        assert numbers == list(range(1, project.task_counter + 1))
    workflow = settings.workflow
    statuses = set(dbsession.scalars(select(Task.status).distinct()))
    assert len(statuses) >= 4
    assert {s.name for s in workflow.statuses if s.is_done} <= statuses
    done = workflow.names_in("done")
    assert count(dbsession, Task, Task.status.in_(done), Task.completed_at.is_(None)) == 0
    assert count(dbsession, Task, Task.status.not_in(done), Task.completed_at.is_not(None)) == 0
    assert len(set(dbsession.scalars(select(Task.priority).distinct()))) >= 3
    assert count(dbsession, Task, Task.assignee_id.is_(None)) > 0
    assert count(dbsession, Task, Task.assignee_id.is_not(None)) > 0

    today = datetime.now(UTC).date()
    open_statuses = workflow.names_in("open", "active")
    assert count(dbsession, Task, Task.due_date < today, Task.status.in_(open_statuses)) > 0
    week_end = today + timedelta(days=6 - today.weekday())
    assert count(dbsession, Task, Task.due_date >= today, Task.due_date <= week_end) > 0
    assert count(dbsession, TaskLabel) > 0

    assert count(dbsession, Comment) > 60
    bodies = list(dbsession.scalars(select(Comment.body)))
    assert any(CJK.search(body) for body in bodies)
    assert count(dbsession, Activity, Activity.action == "task.updated") > 20

    before = [count(dbsession, entity) for entity in (User, Project, Task, Comment, Activity)]
    again = demo.seed_demo(dbsession, settings, tasks=120)
    assert "already there" in again
    assert "taskdesk-demo" in again
    assert [count(dbsession, e) for e in (User, Project, Task, Comment, Activity)] == before


def test_seed_demo_skips_roles_the_settings_do_not_define(
    dbsession: Session, settings: TaskdeskSettings
) -> None:
    roles = {name: perms for name, perms in settings.roles.items() if name != "reporter"}
    without_reporter = dataclasses.replace(settings, roles=roles)
    demo.seed_demo(dbsession, without_reporter, tasks=20)
    assert count(dbsession, ProjectMember, ProjectMember.role == "reporter") == 0
    assert count(dbsession, Task) == 20


def test_seed_demo_is_reproducible(dbsession: Session, settings: TaskdeskSettings) -> None:
    def snapshot() -> list[tuple[object, ...]]:
        rows = dbsession.execute(
            select(Project.slug, Task.number, Task.title, Task.status, Task.priority)
            .join(Project, Project.id == Task.project_id)
            .order_by(Project.slug, Task.number)
        )
        return [tuple(row) for row in rows]

    savepoint = dbsession.begin_nested()
    demo.seed_demo(dbsession, settings, tasks=40)
    first = snapshot()
    savepoint.rollback()
    assert count(dbsession, Task) == 0
    demo.seed_demo(dbsession, settings, tasks=40)
    assert snapshot() == first


# -- generate-data ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, TaskdeskSettings, str]]:
    """A database of its own with two rounds of generated data in several batches."""
    for url in create_database(backend, tmp_path_factory):
        engine = migrated_engine(url)
        settings = parse_settings(app_settings(url))
        out = io.StringIO()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(generate, "BATCH_SIZE", 400)
            generate.generate_data(engine, settings, tasks=1500, projects=3, users=6, seed=7,
                                   progress=False, out=out)
            generate.generate_data(engine, settings, tasks=500, projects=2, users=2, seed=8,
                                   progress=False, out=out)
        try:
            yield engine, settings, out.getvalue()
        finally:
            engine.dispose()


@pytest.fixture
def generated_session(
    generated: tuple[Engine, TaskdeskSettings, str],
) -> Iterator[Session]:
    """A read-only look at the generated database, aborted afterwards."""
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    try:
        yield get_tm_session(get_session_factory(generated[0]), manager)
    finally:
        manager.abort()


def test_generated_counts_and_report(
    generated: tuple[Engine, TaskdeskSettings, str], generated_session: Session
) -> None:
    report = generated[2]
    assert "generated 1,500 tasks" in report
    assert "generated 500 tasks" in report
    assert "rows/s" in report
    assert "benchmark-password" in report
    dbsession = generated_session
    assert count(dbsession, Task) == 2000
    assert count(dbsession, Project) == 5
    assert sorted(dbsession.scalars(select(User.username))) == [
        f"bench{i:04d}" for i in range(1, 9)]
    assert count(dbsession, TaskLabel) > 0
    assert count(dbsession, Comment) > 0


def test_generated_data_leaves_the_planner_statistics(
    generated: tuple[Engine, TaskdeskSettings, str], generated_session: Session
) -> None:
    """Without ANALYZE, PostgreSQL plans the first queries after a bulk load for a handful of
    rows and SQLite has no statistics at all."""
    dbsession = generated_session
    if generated[0].dialect.name == "postgresql":
        estimated = dbsession.scalar(text(
            "SELECT reltuples FROM pg_class WHERE relname = 'tasks'"))
        assert estimated == 2000
    else:
        stat = dbsession.scalar(text(
            "SELECT stat FROM sqlite_stat1 WHERE tbl = 'tasks' AND idx IS NOT NULL LIMIT 1"))
        assert stat is not None
        assert stat.split()[0] == "2000"


def test_generated_numbers_continue_across_batches(generated_session: Session) -> None:
    dbsession = generated_session
    for project in dbsession.scalars(select(Project)):
        numbers = list(dbsession.scalars(
            select(Task.number).where(Task.project_id == project.id).order_by(Task.number)))
        assert numbers == list(range(1, project.task_counter + 1)), project.slug
        assert numbers


def test_the_first_user_manages_the_largest_project(generated_session: Session) -> None:
    """Each run's first user (the benchmarks sign in as bench0001) manages that run's
    largest project, so a benchmark's board and list are full at small sizes too."""
    dbsession = generated_session
    sizes = {slug: size for slug, size in dbsession.execute(
        select(Project.slug, Project.task_counter))}
    managers = {slug: name for slug, name in dbsession.execute(
        select(Project.slug, User.username)
        .join(ProjectMember, ProjectMember.project_id == Project.id)
        .join(User, User.id == ProjectMember.user_id)
        .where(ProjectMember.role == "manager"))}
    # Two runs: 3 projects for bench0001-0006, then 2 for bench0007-0008.
    assert max(sizes, key=sizes.__getitem__) == "bench-0001"
    assert managers["bench-0001"] == "bench0001"
    assert max(("bench-0004", "bench-0005"), key=sizes.__getitem__) == "bench-0004"
    assert managers["bench-0004"] == "bench0007"


def test_generated_tasks_follow_the_data_rules(
    generated: tuple[Engine, TaskdeskSettings, str], generated_session: Session
) -> None:
    settings = generated[1]
    dbsession = generated_session
    workflow = settings.workflow
    done = workflow.names_in("done")
    assert set(dbsession.scalars(select(Task.status).distinct())) <= set(workflow.status_names)
    assert set(dbsession.scalars(select(Task.priority).distinct())) <= set(workflow.priorities)
    assert count(dbsession, Task, Task.status.in_(done), Task.completed_at.is_(None)) == 0
    assert count(dbsession, Task, Task.status.not_in(done), Task.completed_at.is_not(None)) == 0
    assert count(dbsession, Task, Task.version != 1) == 0
    assert count(dbsession, Task, Task.updated_at < Task.created_at) == 0
    workers = select(ProjectMember.user_id).where(
        ProjectMember.project_id == Task.project_id,
        ProjectMember.role.in_(("member", "manager")),
    )
    assert count(dbsession, Task, Task.reporter_id.not_in(workers.scalar_subquery())) == 0
    assert count(dbsession, Task, Task.assignee_id.is_not(None),
                 Task.assignee_id.not_in(workers.scalar_subquery())) == 0
    sample = dbsession.scalars(select(Task).limit(20))
    for task in sample:
        assert task.created_at.tzinfo is not None
        assert task.created_at.utcoffset() == timedelta(0)
        assert task.created_at <= datetime.now(UTC)


def test_generated_tasks_are_searchable(
    generated: tuple[Engine, TaskdeskSettings, str], generated_session: Session
) -> None:
    dbsession = generated_session
    dialect = generated[0].dialect.name
    expression = search.search_expression(dialect, "login")
    assert expression is not None
    found = set(dbsession.scalars(search.matching_task_ids(dialect), {"search": expression}))
    expected = set(dbsession.scalars(select(Task.id).where(Task.title.contains("login"))))
    assert expected
    assert expected <= found


def test_the_application_creates_tasks_after_generated_ones(
    generated: tuple[Engine, TaskdeskSettings, str],
) -> None:
    """Generated ids and numbers leave the id sequence and the counters consistent."""
    engine, settings, _report = generated
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    try:
        dbsession = get_tm_session(get_session_factory(engine), manager)
        project = dbsession.scalars(select(Project).order_by(Project.id)).first()
        assert project is not None
        actor = dbsession.get(User, project.created_by_id)
        assert actor is not None
        counter = project.task_counter
        task = tasks.create_task(dbsession, settings, project, actor, {"title": "After"},
                                 may=UNRESTRICTED)
        assert task.number == counter + 1
        assert task.id > dbsession.scalar(
            select(func.max(Task.id)).where(Task.id != task.id))
    finally:
        manager.abort()
