"""Comments on tasks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from taskdesk.domain import search
from taskdesk.domain.activity import record
from taskdesk.domain.errors import ValidationError
from taskdesk.domain.mentions import newly_mentioned
from taskdesk.domain.merge import Merge, three_way
from taskdesk.domain.schemas import COMMENT
from taskdesk.domain.versions import expect_version, versioned_flush
from taskdesk.domain.watching import watch_task
from taskdesk.models import Comment, Task, User
from taskdesk.models.meta import utcnow


def add_comment(
    dbsession: Session, task: Task, actor: User, data: Mapping[str, Any], *, strict: bool = False
) -> Comment:
    values = COMMENT.validate(data, strict=strict)
    now = utcnow()
    comment = Comment(task_id=task.id, author_id=actor.id, body=values["body"],
                      created_at=now, updated_at=now)
    comment.author = actor
    dbsession.add(comment)
    dbsession.flush()
    search.reindex_task(dbsession, task.id)
    watch_task(dbsession, task.id, [actor.id])
    record(dbsession, project_id=task.project_id, task_id=task.id, actor_id=actor.id,
           action="comment.added", changes={"comment": [None, comment.id]},
           data={"comment_id": comment.id,
                 "mentioned": newly_mentioned(dbsession, comment.body)})
    return comment


def edit_comment(
    dbsession: Session,
    comment: Comment,
    task: Task,
    actor: User,
    data: Mapping[str, Any],
    *,
    expected_version: int | None = None,
    strict: bool = False,
) -> bool:
    """Change a comment's text; return whether anything changed.

    An ``expected_version`` other than the comment's refuses the change with ConflictError,
    as does another transaction's edit committed meanwhile (``raced``).
    """
    values = COMMENT.validate(data, strict=strict)
    expect_version(comment.version, expected_version)
    if values["body"] == comment.body:
        return False
    mentioned = newly_mentioned(dbsession, values["body"], before=comment.body)
    with versioned_flush(dbsession, comment):
        comment.body = values["body"]
        comment.updated_at = utcnow()
    search.reindex_task(dbsession, task.id)
    record(dbsession, project_id=task.project_id, task_id=task.id, actor_id=actor.id,
           action="comment.edited", changes={"comment": [comment.id, comment.id]},
           data={"comment_id": comment.id, "mentioned": mentioned})
    return True


def merge_comment_edit(comment: Comment, base: str | None, mine: str) -> Merge:
    """Decide a stale edit of ``comment`` (see :func:`three_way`): ``base`` is the text the
    editor started from (None, or no longer valid: unknown), ``mine`` their valid new text."""
    clean_base: dict[str, Any] = {}
    if base is not None:
        try:
            clean_base = COMMENT.validate({"body": base})
        except ValidationError:
            clean_base = {}
    return three_way(clean_base, COMMENT.validate({"body": mine}), {"body": comment.body})


def delete_comment(dbsession: Session, comment: Comment, task: Task, actor: User, *,
                   expected_version: int | None = None) -> None:
    expect_version(comment.version, expected_version)
    record(dbsession, project_id=task.project_id, task_id=task.id, actor_id=actor.id,
           action="comment.deleted", changes={"comment": [comment.id, None]},
           data={"comment_id": comment.id})
    dbsession.delete(comment)
    dbsession.flush()
    search.reindex_task(dbsession, task.id)
