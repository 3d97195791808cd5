"""Comments: add (on the task page), edit and delete one's own; managers delete any."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid.view import view_config

from taskdesk.domain.comments import add_comment, delete_comment, edit_comment
from taskdesk.domain.errors import ConflictError, DomainError
from taskdesk.domain.schema import _
from taskdesk.resources import CommentContainer, CommentResource
from taskdesk.security.permissions import Permission
from taskdesk.web.forms import flash, form_errors, redirect, refuse
from taskdesk.web.views.tasks import task_show


@view_config(context=CommentContainer, renderer="tasks/detail.jinja2",
             permission=Permission.COMMENT, request_method="POST")
def comment_add(context: CommentContainer, request: Request) -> Any:
    body = request.POST.get("body", "")
    try:
        comment = add_comment(request.dbsession, context.task.row, request.identity.user,
                              {"body": body})
    except DomainError as error:
        refuse(request)
        page = task_show(context.task, request)
        return {**page, "comment_errors": form_errors(error), "comment_body": body}
    flash(request, _("Comment added."))
    return HTTPSeeOther(request.resource_url(context.task, anchor=f"comment-{comment.id}"))


@view_config(context=CommentContainer, permission=Permission.VIEW, request_method="GET")
def comment_container(context: CommentContainer, request: Request) -> HTTPSeeOther:
    return redirect(request, context.task)


def _edit_page(context: CommentResource, body: str, version: int, errors: dict[str, Any],
               conflict: bool = False) -> dict[str, Any]:
    task = context.task
    return {"nav": "projects", "project": task.project.row, "task": task.row, "body": body,
            "version": version, "errors": errors, "conflict": conflict,
            "current_body": context.row.body}


@view_config(context=CommentResource, name="edit", renderer="tasks/comment_edit.jinja2",
             permission=Permission.EDIT_COMMENT, request_method="GET")
def comment_edit(context: CommentResource, request: Request) -> dict[str, Any]:
    return _edit_page(context, context.row.body, context.row.version, {})


@view_config(context=CommentResource, name="edit", renderer="tasks/comment_edit.jinja2",
             permission=Permission.EDIT_COMMENT, request_method="POST")
def comment_update(context: CommentResource, request: Request) -> Any:
    body = request.POST.get("body", "")
    version = request.POST.get("version", "")
    try:
        changed = edit_comment(request.dbsession, context.row, context.task.row,
                               request.identity.user, {"body": body},
                               expected_version=int(version) if version.isdigit() else None)
    except ConflictError:
        refuse(request, 409)
        return _edit_page(context, body, context.row.version, {}, conflict=True)
    except DomainError as error:
        refuse(request)
        return _edit_page(context, body, context.row.version, form_errors(error))
    flash(request, _("Comment saved.") if changed else _("Nothing changed."))
    return HTTPSeeOther(request.resource_url(context.task, anchor=f"comment-{context.row.id}"))


@view_config(context=CommentResource, name="delete", permission=Permission.DELETE_COMMENT,
             request_method="POST")
def comment_delete(context: CommentResource, request: Request) -> HTTPSeeOther:
    delete_comment(request.dbsession, context.row, context.task.row, request.identity.user)
    flash(request, _("Comment deleted."))
    return redirect(request, context.task)
