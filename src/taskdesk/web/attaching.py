"""What the task page shows of its attachments (``tasks/_attachments.jinja2``): read once,
with the uploaders, in one statement; grouped by the comment they belong to."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

from taskdesk.domain.attachments import inline, size_text, task_attachments
from taskdesk.resources import AttachmentContainer, TaskResource
from taskdesk.security.actions import attachment_actions
from taskdesk.security.permissions import Permission
from taskdesk.settings import settings_of


def attachments_page(request: Request, task: TaskResource) -> dict[str, Any]:
    """The task page's values for its attachments and upload forms."""
    container = AttachmentContainer(request, "attachments", task)
    rows = task_attachments(request.dbsession, task.row.id)
    by_comment: dict[int, list[Any]] = {}
    for row in rows:
        if row.comment_id is not None:
            by_comment.setdefault(row.comment_id, []).append(row)
    allowed = attachment_actions(request, container)
    return {
        "task_files": [row for row in rows if row.comment_id is None],
        "comment_files": by_comment,
        "attachments_url": request.resource_url(container),
        "may_attach": bool(request.has_permission(Permission.COMMENT, container)),
        "may_delete_file": lambda row: Permission.DELETE_ATTACHMENT in allowed(row.uploader_id),
        "file_inline": inline,
        "file_size": size_text,
        "max_file_size": size_text(settings_of(request.registry).attachments_max_file_bytes),
    }
