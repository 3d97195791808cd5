"""Comments: add (on the task page), edit and delete one's own; managers delete any."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid_retry import mark_error_retryable

from taskdesk.domain.activity import FieldChange
from taskdesk.domain.attachments import add_attachments
from taskdesk.domain.comments import (
    add_comment,
    delete_comment,
    edit_comment,
    merge_comment_edit,
)
from taskdesk.domain.errors import ConflictError, DomainError
from taskdesk.messages import _
from taskdesk.resources import CommentContainer, CommentResource
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import signed_in
from taskdesk.settings import settings_of
from taskdesk.storage import store_of
from taskdesk.uploads import uploads
from taskdesk.web.declare import web_view
from taskdesk.web.forms import flash, form_errors, redirect, refuse
from taskdesk.web.helpers import Helpers
from taskdesk.web.views.tasks import retry_if_raced, task_show


@web_view(context=CommentContainer, renderer="tasks/detail.jinja2",
          permission=Permission.COMMENT, request_method="POST")
def comment_add(context: CommentContainer, request: Request) -> Any:
    body = request.POST.get("body", "")
    user = signed_in(request).user
    try:
        comment = add_comment(request.dbsession, context.task.row, user, {"body": body})
        files = uploads(request)
        if files:  # screenshots pasted or dropped into the box, or chosen: all or none
            add_attachments(request.dbsession, store_of(request.registry),
                            settings_of(request.registry), context.task.row, user, files,
                            comment=comment)
    except DomainError as error:
        refuse(request)
        page = task_show(context.task, request)
        return {**page, "comment_errors": form_errors(error), "comment_body": body}
    flash(request, _("Comment added."))
    return HTTPSeeOther(request.resource_url(context.task, anchor=f"comment-{comment.id}"))


@web_view(context=CommentContainer, permission=Permission.VIEW, request_method="GET")
def comment_container(context: CommentContainer, request: Request) -> HTTPSeeOther:
    return redirect(request, context.task)


def _edit_page(request: Request, context: CommentResource, body: str, base: str,
               errors: dict[str, Any], conflicts: list[dict[str, Any]] | None = None,
               ) -> dict[str, Any]:
    """The edit form; ``base`` (the text the editor started from) travels in a hidden field
    so a stale save can be merged, and ``conflicts`` holds the text to choose."""
    task = context.task
    return {"nav": "projects", "project": task.project.row, "task": task.row, "body": body,
            "base": base, "version": context.row.version, "errors": errors,
            "conflicts": conflicts or []}


@web_view(context=CommentResource, name="edit", renderer="tasks/comment_edit.jinja2",
          permission=Permission.EDIT_COMMENT, request_method="GET")
def comment_edit(context: CommentResource, request: Request) -> dict[str, Any]:
    return _edit_page(request, context, context.row.body, context.row.body, {})


@web_view(context=CommentResource, name="edit", renderer="tasks/comment_edit.jinja2",
          permission=Permission.EDIT_COMMENT, request_method="POST")
def comment_update(context: CommentResource, request: Request) -> Any:
    comment = context.row
    body = request.POST.get("body", "")
    base = request.POST.get("base_body")
    version = request.POST.get("version", "")
    try:
        changed = edit_comment(request.dbsession, comment, context.task.row,
                               signed_in(request).user, {"body": body},
                               expected_version=int(version) if version.isdigit() else None)
    except ConflictError as error:
        retry_if_raced(error)
        # Changed in another window meanwhile: merged like a task edit (its one field).
        merge = merge_comment_edit(comment, base, body)
        if merge.conflicts:
            refuse(request, 409)
            author = comment.author
            conflict = {"field": "body", "label": Helpers(request).field("comment"),
                        "base": base, "theirs": comment.body, "mine": body,
                        "changed_by": FieldChange(author.display_name if author else None,
                                                  author.username if author else None,
                                                  comment.updated_at)}
            return _edit_page(request, context, comment.body, comment.body, {}, [conflict])
        changed = bool(merge.mine)
        if changed:
            try:
                edit_comment(request.dbsession, comment, context.task.row,
                             signed_in(request).user, {"body": body},
                             expected_version=comment.version)
            except ConflictError as error:  # a lost race: the version was read just now
                mark_error_retryable(error)
                raise
    except DomainError as error:
        refuse(request)
        return _edit_page(request, context, body, base or comment.body, form_errors(error))
    flash(request, _("Comment saved.") if changed else _("Nothing changed."))
    return HTTPSeeOther(request.resource_url(context.task, anchor=f"comment-{comment.id}"))


@web_view(context=CommentResource, name="delete", permission=Permission.DELETE_COMMENT,
          request_method="POST")
def comment_delete(context: CommentResource, request: Request) -> HTTPSeeOther:
    delete_comment(request.dbsession, context.row, context.task.row, signed_in(request).user)
    flash(request, _("Comment deleted."))
    return redirect(request, context.task)
