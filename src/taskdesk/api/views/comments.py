"""Comments on a task: list, add, show, edit, delete."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from taskdesk.api import conditional
from taskdesk.api.operations import api_view
from taskdesk.api.paging import id_page, next_url, page, simple_list
from taskdesk.api.rendering import json_body
from taskdesk.api.representations import Urls, comment_json
from taskdesk.api.support import actor, created, no_content
from taskdesk.domain.comments import add_comment, delete_comment, edit_comment
from taskdesk.domain.feeds import task_comments
from taskdesk.domain.schemas import COMMENT
from taskdesk.resources import CommentContainer, CommentResource
from taskdesk.security.actions import CommentActions, allowed_actions
from taskdesk.security.permissions import Permission


def _state(comment: CommentResource) -> str:
    return conditional.state("comment", comment.row.id, comment.row.version)


def _url(request: Request, comment: CommentResource) -> str:
    task = comment.task
    return Urls(request).comment(task.project.row.slug, task.row.number, comment.row.id)


def _body(request: Request, comment: CommentResource) -> dict[str, Any]:
    author = comment.row.author
    return comment_json(_url(request, comment), comment.row,
                        author.username if author else None,
                        author.display_name if author else None,
                        allowed_actions(request, comment))


@api_view(context=CommentContainer, method="GET", permission=Permission.VIEW,
          summary="A task's comments, oldest first", response="CommentList", query="page",
          conditional=True)
def comment_list(context: CommentContainer, request: Request) -> Response:
    params, paging_, after = simple_list(request)
    rows, cursor = id_page(
        task_comments(request.dbsession, context.task.row.id, after=after,
                      limit=paging_.limit + 1, offset=paging_.offset),
        paging_,
    )
    task = context.task
    urls = Urls(request)
    allowed = CommentActions(request, context)
    items = [
        comment_json(urls.comment(task.project.row.slug, task.row.number, row.id), row,
                     row.author, row.author_name, allowed(row.author_id))
        for row in rows
    ]
    return page(request, items, next_url(request, params, paging_, cursor))


@api_view(context=CommentContainer, method="POST", permission=Permission.COMMENT,
          summary="Comment on a task", response="Comment", status=201, body=COMMENT)
def comment_create(context: CommentContainer, request: Request) -> dict[str, Any]:
    task = context.task
    row = add_comment(request.dbsession, task.row, actor(request), json_body(request),
                      strict=True)
    comment = CommentResource(request, str(row.id), context, row)
    body = conditional.tagged(request, _body(request, comment), _state(comment))
    return created(request, body, body["url"])


@api_view(context=CommentResource, method="GET", permission=Permission.VIEW,
          summary="A comment", response="Comment", conditional=True)
def comment_show(context: CommentResource, request: Request) -> dict[str, Any] | Response:
    return conditional.respond(request, _body(request, context), _state(context))


@api_view(context=CommentResource, method="PATCH", permission=Permission.EDIT_COMMENT,
          summary="Edit one's own comment", response="Comment", body=COMMENT,
          conditional=True)
def comment_update(context: CommentResource, request: Request) -> dict[str, Any]:
    comment = context.row
    edit_comment(request.dbsession, comment, context.task.row, actor(request), json_body(request),
                 expected_version=conditional.if_match_version(request, "comment", comment.id),
                 strict=True)
    return conditional.tagged(request, _body(request, context), _state(context))


@api_view(context=CommentResource, method="DELETE", permission=Permission.DELETE_COMMENT,
          summary="Delete a comment", response=None, status=204, conditional=True)
def comment_delete(context: CommentResource, request: Request) -> Response:
    comment = context.row
    delete_comment(request.dbsession, comment, context.task.row, actor(request),
                   expected_version=conditional.if_match_version(request, "comment", comment.id))
    return no_content()
