"""The inbox consumer through the real dispatcher, in-process, on SQLite and PostgreSQL: who
is told of what and why (taskdesk.domain.recipients), and what the pipeline guarantees."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from taskdesk.domain import comments, projects, tasks, watching
from taskdesk.domain.events import DUE_SOON, emit
from taskdesk.domain.preferences import set_channels
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.models import Event, Notification, Project, Task, User
from taskdesk.queue import DISPATCH_ATTEMPTS, Queue
from tests.support.factories import Factory

Told = set[tuple[str, str]]


def told(dbsession: Session, event: Event) -> Told:
    """(username, reason) of everyone ``event`` notified."""
    rows = dbsession.execute(
        select(User.username, Notification.reason)
        .join(User, User.id == Notification.user_id)
        .where(Notification.event_id == event.id))
    return {(name, reason) for name, reason in rows}


def last_event(dbsession: Session, kind: str) -> Event:
    event = dbsession.scalar(select(Event).where(Event.kind == kind).order_by(Event.id.desc()))
    assert event is not None, f"no {kind} event"
    return event


class People:
    def __init__(self, factory: Factory) -> None:
        self.owner = factory.user("owen")
        self.member = factory.user("mina")
        self.viewer = factory.user("vera")
        self.outsider = factory.user("oscar")       # may not see the private project
        self.admin = factory.user("adele", admin=True)
        self.grouped = factory.user("gus")          # a member through a group
        self.fan = factory.user("fay")              # watches the project
        group = factory.group("crew", members=(self.grouped,))
        self.project = factory.project(self.owner, slug="orbit", members={
            self.member: "member", self.viewer: "viewer", self.fan: "viewer", group: "member"})
        watching.watch_project(factory.dbsession, self.project.id, self.fan.id)


@pytest.fixture
def people(factory: Factory) -> People:
    return People(factory)


def create(factory: Factory, project: Project, actor: User, **values: Any) -> Task:
    return factory.task(project, actor, **values)


def test_task_created_tells_the_assignee_the_mentioned_and_project_watchers(
    people: People, factory: Factory, dbsession: Session, dispatch: Callable[[], None]
) -> None:
    create(factory, people.project, people.owner, title="Launch", assignee="mina",
           description="@vera @oscar @adele @gus @owen please look")
    dispatch()
    assert told(dbsession, last_event(dbsession, "task.created")) == {
        ("mina", "assigned"),
        ("vera", "mentioned"),
        ("adele", "mentioned"),   # a site admin sees every project
        ("gus", "mentioned"),     # a member through the group
        ("fay", "watching"),
    }  # not oscar (no member of the private project), not owen (the actor)


def test_the_strongest_reason_wins_and_each_person_is_told_once(
    people: People, factory: Factory, dbsession: Session, dispatch: Callable[[], None]
) -> None:
    create(factory, people.project, people.owner, title="Launch", assignee="fay",
           description="@fay, this is yours")
    dispatch()
    assert told(dbsession, last_event(dbsession, "task.created")) == {("fay", "assigned")}


def test_task_updated_tells_a_new_assignee_the_newly_mentioned_and_all_watchers(
    people: People, factory: Factory, dbsession: Session, settings: Any,
    dispatch: Callable[[], None]
) -> None:
    task = create(factory, people.project, people.owner, title="Launch", assignee="mina",
                  description="@vera")
    watching.watch_task(dbsession, task.id, [people.grouped.id])
    tasks.update_task(dbsession, settings, task, people.member,
                      {"assignee": "vera", "description": "@vera and @adele"},
                      may=UNRESTRICTED)
    dispatch()
    assert told(dbsession, last_event(dbsession, "task.updated")) == {
        ("vera", "assigned"),     # newly assigned (her old mention does not count again)
        ("adele", "mentioned"),   # newly mentioned
        ("owen", "watching"),     # the reporter watches the task
        ("gus", "watching"),      # watches it by choice
        ("fay", "watching"),      # watches the project
    }  # not mina: she made the change


def test_comments_tell_mentioned_and_watchers_and_link_the_comment(
    people: People, factory: Factory, dbsession: Session, dispatch: Callable[[], None]
) -> None:
    task = create(factory, people.project, people.owner, title="Launch", assignee="mina")
    comment = comments.add_comment(dbsession, task, people.viewer, {"body": "@gus @oscar ok?"})
    dispatch()
    added = last_event(dbsession, "comment.added")
    assert told(dbsession, added) == {
        ("gus", "mentioned"), ("owen", "watching"), ("mina", "watching"), ("fay", "watching")}
    links = set(dbsession.scalars(
        select(Notification.comment_id).where(Notification.event_id == added.id)))
    assert links == {comment.id}

    comments.edit_comment(dbsession, comment, task, people.viewer,
                          {"body": "@gus @oscar @adele ok?"})
    dispatch()
    assert told(dbsession, last_event(dbsession, "comment.edited")) == {("adele", "mentioned")}


def test_a_new_member_is_told_and_due_reminders_go_to_the_assignee(
    people: People, factory: Factory, dbsession: Session, settings: Any,
    dispatch: Callable[[], None]
) -> None:
    newcomer = factory.user("nell")
    projects.set_member(dbsession, settings, people.project, newcomer, people.owner,
                        {"role": "member"})
    task = create(factory, people.project, people.owner, title="Launch", assignee="mina")
    emit(dbsession, DUE_SOON, project_id=people.project.id, task_id=task.id,
         data={"due_date": date(2030, 1, 2).isoformat()},
         dedupe_key=f"due_soon:{task.id}:2030-01-02")
    dbsession.flush()
    dispatch()
    assert told(dbsession, last_event(dbsession, "member.added")) == {("nell", "member")}
    assert told(dbsession, last_event(dbsession, DUE_SOON)) == {("mina", "due")}


def test_nobody_who_may_not_see_it_now_inactive_or_switched_off_is_told(
    people: People, factory: Factory, dbsession: Session, settings: Any,
    dispatch: Callable[[], None]
) -> None:
    task = create(factory, people.project, people.owner, title="Launch")
    watching.watch_task(dbsession, task.id, [people.viewer.id, people.member.id,
                                             people.grouped.id, people.outsider.id])
    # The viewer leaves the project; the member is deactivated; the grouped one switched
    # watching off but mentions on.
    assert projects.remove_member(dbsession, people.project, people.viewer, people.owner)
    people.member.is_active = False
    set_channels(dbsession, people.grouped.id, {"watching": "off"})
    set_channels(dbsession, people.fan.id, {"mentioned": "off"})
    comments.add_comment(dbsession, task, people.owner, {"body": "@fay @gus news"})
    dispatch()
    assert told(dbsession, last_event(dbsession, "comment.added")) == {
        ("gus", "mentioned"),   # watching is off for gus, mentions are not
        ("fay", "watching"),    # mentions are off for fay, but she watches the project
    }  # not vera (left the private project), mina (inactive), oscar (never a member)


def test_an_internal_project_tells_any_watcher(
    people: People, factory: Factory, dbsession: Session, dispatch: Callable[[], None]
) -> None:
    project = factory.project(people.owner, slug="open-house", visibility="internal")
    task = create(factory, project, people.owner, title="Lunch")
    watching.watch_task(dbsession, task.id, [people.outsider.id])
    comments.add_comment(dbsession, task, people.owner, {"body": "Noodles"})
    dispatch()
    assert told(dbsession, last_event(dbsession, "comment.added")) == {("oscar", "watching")}


def test_nobody_is_told_of_a_task_deleted_before_dispatch(
    people: People, factory: Factory, dbsession: Session, dispatch: Callable[[], None]
) -> None:
    task = create(factory, people.project, people.owner, title="Oops", assignee="mina")
    created = last_event(dbsession, "task.created")
    tasks.delete_task(dbsession, task, people.owner)
    dbsession.flush()
    dispatch()
    assert told(dbsession, created) == set()
    assert dbsession.scalar(select(Event.dispatched_at).where(Event.id == created.id))


def test_dispatching_an_event_twice_notifies_once(
    people: People, factory: Factory, dbsession: Session, dispatch: Callable[[], None]
) -> None:
    create(factory, people.project, people.owner, title="Twice", assignee="mina",
           description="@vera")
    created = last_event(dbsession, "task.created")
    dispatch()
    # As if a worker died after the consumers ran but before marking it dispatched.
    dbsession.execute(update(Event).where(Event.id == created.id).values(dispatched_at=None))
    dbsession.flush()
    dispatch()
    assert dbsession.scalar(select(Event.dispatched_at).where(Event.id == created.id))
    rows = dbsession.scalars(select(Notification.user_id).where(
        Notification.event_id == created.id)).all()
    assert sorted(rows) == sorted({people.member.id, people.viewer.id, people.fan.id})


@pytest.fixture
def statements(connection: Connection) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa_event.listen(connection, "before_cursor_execute", record)
    yield seen
    sa_event.remove(connection, "before_cursor_execute", record)


def test_dispatching_one_event_takes_the_same_statements_for_one_or_many_people(
    people: People, factory: Factory, dbsession: Session, dispatch: Callable[[], None],
    statements: list[str]
) -> None:
    def count_for(watchers: list[User]) -> int:
        task = create(factory, people.project, people.owner, title="Counted")
        watching.watch_task(dbsession, task.id, [w.id for w in watchers])
        dispatch()  # everything so far
        comments.add_comment(dbsession, task, people.owner, {"body": "@mina hello"})
        dbsession.flush()
        statements.clear()
        dispatch()
        count = len(statements)
        event = last_event(dbsession, "comment.added")
        assert len(told(dbsession, event)) == len({*watchers, people.member, people.fan})
        return count

    few = count_for([])
    many = count_for([people.viewer, people.grouped, people.admin, people.fan])
    assert few == many
    # The job's transaction (a savepoint inside the test's); the pending batch; the event's
    # savepoint; the candidates, their channels, the insert; its release; the dispatched
    # mark; the job's commit.
    # 9, and the webhooks consumer's one look for interested hooks, and taskdesk.live's one
    # look, before the commit, for the people notified in the batch (their bells are told).
    assert few == 11, "\n".join(s[:90] for s in statements)


def test_a_failing_consumer_parks_its_event_and_the_others_still_go(
    people: People, factory: Factory, dbsession: Session, queue: Queue,
    dispatch: Callable[[], None]
) -> None:
    doomed = create(factory, people.project, people.owner, title="Doomed", assignee="mina")
    fine = create(factory, people.project, people.owner, title="Fine", assignee="vera")

    def explode(context: Any, session: Session, event: Event) -> None:
        if event.task_id == doomed.id:
            raise RuntimeError("the mail server said no")

    queue.consumers["explode"] = explode
    try:
        for _attempt in range(DISPATCH_ATTEMPTS):
            dispatch()
    finally:
        del queue.consumers["explode"]
    rows = dbsession.execute(
        select(Event.task_id, Event.attempts, Event.parked_at, Event.dispatched_at,
               Event.last_error).where(Event.kind == "task.created")).all()
    state = {row.task_id: row for row in rows}
    assert state[doomed.id].attempts == DISPATCH_ATTEMPTS
    assert state[doomed.id].parked_at is not None
    assert state[doomed.id].dispatched_at is None
    assert state[doomed.id].last_error == "RuntimeError: the mail server said no"
    assert state[fine.id].dispatched_at is not None
    assert state[fine.id].attempts == 0
    # The inbox consumer's rows for the doomed event were rolled back with its savepoint.
    assert told(dbsession, last_event(dbsession, "task.created")) == {
        ("vera", "assigned"), ("fay", "watching")}
    assert not dbsession.scalar(select(Notification.id).where(Notification.task_id == doomed.id))

    dispatch()  # a parked event is left alone
    assert dbsession.scalar(select(Event.attempts).where(
        Event.task_id == doomed.id, Event.kind == "task.created")) == DISPATCH_ATTEMPTS
