"""Webhook deliveries end to end: events dispatched to the real consumer, the real delivery
job run from the queue, POSTing to a real HTTP receiver on 127.0.0.1 that checks the
signature with the README's recipe."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from taskdesk.domain import webhooks
from taskdesk.domain.errors import ValidationError
from taskdesk.domain.tasks import delete_task
from taskdesk.models import Event, Project, User, Webhook, WebhookDelivery
from taskdesk.models.meta import utcnow
from taskdesk.notify.webhooks import retry_due
from taskdesk.queue import queue_of
from tests.support.factories import Factory
from tests.support.receiver import Answer, Receiver, readme_verifier, run_jobs


@pytest.fixture
def owner(factory: Factory) -> User:
    return factory.user("hookowner")


@pytest.fixture
def project(factory: Factory, owner: User) -> Project:
    return factory.project(owner, slug="hooked", name="Hooked")



@pytest.fixture
def app(hooks: Any) -> Any:
    """The app whose allow-list admits 127.0.0.1 (``hooks`` of tests/functional/conftest.py)."""
    return hooks

def add_hook(dbsession: Session, app: Any, owner: User, project_id: int | None, url: str,
             events: tuple[str, ...] = ("task.created",)) -> Webhook:
    return webhooks.create_webhook(dbsession, app.registry.taskdesk_settings, owner, project_id,
                                   {"payload_url": url, "events": list(events)})


def log_of(dbsession: Session, hook: Webhook) -> list[WebhookDelivery]:
    dbsession.expire_all()
    return list(dbsession.scalars(select(WebhookDelivery).where(
        WebhookDelivery.webhook_id == hook.id).order_by(WebhookDelivery.id)))


def make_due(dbsession: Session) -> None:
    """Let the retry schedule's wait pass."""
    dbsession.execute(update(WebhookDelivery).where(WebhookDelivery.status == "pending")
                      .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    dbsession.flush()


def retry(app: Any) -> None:
    retry_due(queue_of(app.registry).context)
    run_jobs(app)


def test_a_delivery_is_signed_logged_and_describes_the_task(
        app: Any, dbsession: Session, factory: Factory, owner: User, project: Project) -> None:
    verify = readme_verifier()
    with Receiver() as receiver:
        hook = add_hook(dbsession, app, owner, project.id, receiver.url())
        task = factory.task(project, owner, title="Ship it 发布", priority="high")
        run_jobs(app)
    [arrival] = receiver.arrivals
    assert arrival.path == "/hook"
    headers = {k.lower(): v for k, v in arrival.headers.items()}
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"].startswith("Taskdesk-Webhooks/")
    assert headers["x-taskdesk-event"] == "task.created"
    assert verify(hook.secret, headers["x-taskdesk-signature"], arrival.body)
    assert not verify("another secret", headers["x-taskdesk-signature"], arrival.body)
    assert not verify(hook.secret, headers["x-taskdesk-signature"], arrival.body + b" ")
    document = orjson.loads(arrival.body)
    [delivery] = log_of(dbsession, hook)
    assert headers["x-taskdesk-delivery"] == str(delivery.id) == str(document["delivery"])
    assert document["kind"] == "task.created"
    assert document["project"] == {"id": project.id, "slug": "hooked", "name": "Hooked",
                                   "url": "https://tasks.example.com/projects/hooked/"}
    assert document["task"]["number"] == task.number
    assert document["task"]["title"] == "Ship it 发布"
    assert document["task"]["status"] == "open"
    assert document["task"]["url"] == (
        f"https://tasks.example.com/projects/hooked/tasks/{task.number}")
    assert document["actor"]["username"] == "hookowner"
    assert document["occurred_at"].endswith("Z")
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        "delivered", 1, 200)
    assert delivery.response_excerpt == "ok"
    assert delivery.duration_ms is not None
    assert delivery.duration_ms >= 0
    assert delivery.event_kind == "task.created"


def test_a_stale_signature_fails_the_readme_check(app: Any) -> None:
    from taskdesk.notify.webhooks import signature
    verify = readme_verifier()
    body = b'{"id": 1}'
    assert verify("s3cret", signature("s3cret", int(utcnow().timestamp()), body), body)
    old = int(utcnow().timestamp()) - 3600
    assert not verify("s3cret", signature("s3cret", old, body), body)
    assert not verify("s3cret", "garbage", body)


def test_a_server_error_is_retried_until_it_succeeds(
        app: Any, dbsession: Session, factory: Factory, owner: User, project: Project) -> None:
    with Receiver(Answer(500, b"boom"), Answer(200, b"fine")) as receiver:
        hook = add_hook(dbsession, app, owner, project.id, receiver.url())
        factory.task(project, owner)
        run_jobs(app)
        [delivery] = log_of(dbsession, hook)
        assert (delivery.status, delivery.attempts, delivery.response_status) == (
            "pending", 1, 500)
        assert delivery.response_excerpt == "boom"
        assert delivery.next_attempt_at is not None
        assert delivery.next_attempt_at > utcnow() + timedelta(seconds=50)
        retry(app)  # not due yet: nothing is sent
        assert len(receiver.arrivals) == 1
        make_due(dbsession)
        retry(app)
    [delivery] = log_of(dbsession, hook)
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        "delivered", 2, 200)
    ids = {a.headers["X-Taskdesk-Delivery"] for a in receiver.arrivals}
    assert ids == {str(delivery.id)}
    assert len(receiver.arrivals) == 2


def test_too_many_requests_is_retried_and_parked_after_the_last_attempt(
        app: Any, dbsession: Session, factory: Factory, owner: User, project: Project) -> None:
    with Receiver(Answer(429, b"slow down")) as receiver:
        hook = add_hook(dbsession, app, owner, project.id, receiver.url())
        factory.task(project, owner)
        run_jobs(app)
        for _ in range(4):
            make_due(dbsession)
            retry(app)
    [delivery] = log_of(dbsession, hook)
    assert (delivery.status, delivery.attempts) == ("parked", 3)  # attempts = 3 in this app
    assert len(receiver.arrivals) == 3
    assert delivery.next_attempt_at is None


def test_a_client_error_fails_without_retry(
        app: Any, dbsession: Session, factory: Factory, owner: User, project: Project) -> None:
    with Receiver(Answer(404, b"no such hook")) as receiver:
        hook = add_hook(dbsession, app, owner, project.id, receiver.url())
        factory.task(project, owner)
        run_jobs(app)
        make_due(dbsession)
        retry(app)
    [delivery] = log_of(dbsession, hook)
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        "failed", 1, 404)
    assert "404" in delivery.error
    assert len(receiver.arrivals) == 1


def test_a_slow_receiver_times_out_and_is_retried(
        app: Any, dbsession: Session, factory: Factory, owner: User, project: Project) -> None:
    with Receiver(Answer(200, b"late", delay=3)) as receiver:
        hook = add_hook(dbsession, app, owner, project.id, receiver.url())
        factory.task(project, owner)
        run_jobs(app)
    [delivery] = log_of(dbsession, hook)
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        "pending", 1, None)
    assert "timed out" in delivery.error


def test_a_redirect_is_not_followed(
        app: Any, dbsession: Session, factory: Factory, owner: User, project: Project) -> None:
    with Receiver() as receiver:
        redirect = Answer(302, b"", {"Location": receiver.url("/elsewhere")})
        receiver.answers = [redirect, Answer()]
        hook = add_hook(dbsession, app, owner, project.id, receiver.url())
        factory.task(project, owner)
        run_jobs(app)
    assert [a.path for a in receiver.arrivals] == ["/hook"]
    [delivery] = log_of(dbsession, hook)
    assert (delivery.status, delivery.response_status) == ("failed", 302)
    assert "redirects are not followed" in delivery.error


def test_a_huge_answer_is_read_only_in_part(
        app: Any, dbsession: Session, factory: Factory, owner: User, project: Project) -> None:
    with Receiver(Answer(200, b"x" * (2 * 1024 * 1024))) as receiver:
        hook = add_hook(dbsession, app, owner, project.id, receiver.url())
        factory.task(project, owner)
        run_jobs(app)
    [delivery] = log_of(dbsession, hook)
    assert delivery.status == "delivered"
    assert delivery.response_excerpt == "x" * 1024


def test_loopback_is_refused_at_save_with_the_default_allow_list(
        wsgi_app: Any, dbsession: Session, owner: User, project: Project) -> None:
    settings = wsgi_app.registry.taskdesk_settings
    for url in ("http://127.0.0.1:9/hook", "http://localhost/hook", "http://[::1]/",
                "http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/",
                "http://[::ffff:127.0.0.1]/"):
        with pytest.raises(ValidationError) as refused:
            webhooks.create_webhook(dbsession, settings, owner, project.id, {"payload_url": url})
        assert "payload_url" in refused.value.fields, url
    for url in ("ftp://example.com/", "http://user:pw@example.com/", "https:///x"):
        with pytest.raises(ValidationError):
            webhooks.create_webhook(dbsession, settings, owner, project.id, {"payload_url": url})


def test_loopback_is_refused_at_delivery_with_the_default_allow_list(
        wsgi_app: Any, dbsession: Session, factory: Factory, owner: User,
        project: Project) -> None:
    queue_of(wsgi_app.registry).huey.flush()  # jobs earlier tests left in the shared app
    with Receiver() as receiver:
        # Saved while the allow-list admitted it (written directly: the check passed then).
        hook = Webhook(project_id=project.id, url=receiver.url(), secret="s" * 64,
                       events=[], created_by_id=owner.id)
        dbsession.add(hook)
        dbsession.flush()
        factory.task(project, owner)
        run_jobs(wsgi_app)
    assert receiver.arrivals == []
    deliveries = log_of(dbsession, hook)
    assert deliveries
    assert all(d.status == "failed" for d in deliveries)
    assert "internal address" in deliveries[0].error


def test_redeliver_sends_again_after_commit(
        app: Any, dbsession: Session, factory: Factory, owner: User, project: Project) -> None:
    with Receiver(Answer(404), Answer(200)) as receiver:
        hook = add_hook(dbsession, app, owner, project.id, receiver.url())
        factory.task(project, owner)
        run_jobs(app)
        [delivery] = log_of(dbsession, hook)
        assert delivery.status == "failed"
        context = queue_of(app.registry).context
        with context.transaction() as session:
            webhooks.redeliver(session, session.get_one(WebhookDelivery, delivery.id))
        run_jobs(app)
    [delivery] = log_of(dbsession, hook)
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        "delivered", 1, 200)
    assert len(receiver.arrivals) == 2


def test_an_event_dispatched_twice_is_delivered_once(
        app: Any, dbsession: Session, factory: Factory, owner: User, project: Project) -> None:
    with Receiver() as receiver:
        hook = add_hook(dbsession, app, owner, project.id, receiver.url())
        factory.task(project, owner)
        run_jobs(app)
        # A worker killed after its consumers ran, before it marked the events dispatched.
        dbsession.execute(update(Event).values(dispatched_at=None))
        dbsession.flush()
        run_jobs(app)
    assert len(log_of(dbsession, hook)) == 1
    assert len(receiver.arrivals) == 1


def test_hooks_hear_their_project_and_kinds_and_all_projects_hooks_hear_all(
        app: Any, dbsession: Session, factory: Factory, owner: User, project: Project) -> None:
    other = factory.project(owner, slug="elsewhere")
    admin = factory.user(admin=True)
    with Receiver() as receiver:
        mine = add_hook(dbsession, app, owner, project.id, receiver.url("/mine"))
        comments = add_hook(dbsession, app, owner, project.id, receiver.url("/comments"),
                            events=("comment.added",))
        theirs = add_hook(dbsession, app, owner, other.id, receiver.url("/theirs"))
        everything = add_hook(dbsession, app, admin, None, receiver.url("/all"), events=())
        off = add_hook(dbsession, app, owner, project.id, receiver.url("/off"))
        off.is_active = False
        dbsession.flush()
        factory.task(project, owner)
        run_jobs(app)
    paths = sorted(a.path for a in receiver.arrivals)
    # The all-projects hook also hears the projects' creation and their members' events.
    assert "/mine" in paths
    assert "/all" in paths
    assert "/comments" not in paths
    assert "/theirs" not in paths
    assert "/off" not in paths
    assert log_of(dbsession, mine)[0].status == "delivered"
    assert log_of(dbsession, comments) == []
    assert log_of(dbsession, theirs) == []
    assert {d.event_kind for d in log_of(dbsession, everything)} >= {
        "project.created", "task.created"}


def test_a_task_deleted_before_delivery_is_described_from_the_event(
        app: Any, dbsession: Session, factory: Factory, owner: User, project: Project) -> None:
    with Receiver() as receiver:
        add_hook(dbsession, app, owner, project.id, receiver.url(),
                 events=("task.created", "task.deleted"))
        task = factory.task(project, owner)
        number = task.number
        delete_task(dbsession, task, owner)
        dbsession.flush()
        run_jobs(app)
    documents = {orjson.loads(a.body)["kind"]: orjson.loads(a.body) for a in receiver.arrivals}
    assert documents["task.deleted"]["task"]["number"] == number
    assert documents["task.deleted"]["task"]["deleted"] is True
    assert documents["task.created"]["task"]["deleted"] is True


def test_every_recorded_action_is_a_kind_hooks_can_choose() -> None:
    import re
    from pathlib import Path

    import taskdesk.domain
    source = "\n".join(p.read_text() for p in Path(taskdesk.domain.__file__).parent.glob("*.py"))
    actions = set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', source))
    assert actions
    assert actions <= set(webhooks.EVENT_KINDS)
