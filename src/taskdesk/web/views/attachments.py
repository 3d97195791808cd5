"""Attachments on the task page: upload (the section's form, or files dropped or pasted),
download and thumbnails (as the task: 404 for those who cannot see it), delete."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response

from taskdesk.domain.attachments import add_attachments, delete_attachment
from taskdesk.domain.errors import DomainError
from taskdesk.downloads import attachment_response
from taskdesk.messages import _
from taskdesk.resources import AttachmentContainer, AttachmentResource
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import signed_in
from taskdesk.settings import settings_of
from taskdesk.storage import store_of
from taskdesk.uploads import uploads
from taskdesk.web.declare import web_view
from taskdesk.web.forms import flash, form_errors, redirect, refuse
from taskdesk.web.views.tasks import task_show


@web_view(context=AttachmentContainer, renderer="tasks/detail.jinja2",
          permission=Permission.COMMENT, request_method="POST")
def attachment_add(context: AttachmentContainer, request: Request) -> Any:
    task = context.task
    try:
        added = add_attachments(request.dbsession, store_of(request.registry),
                                settings_of(request.registry), task.row,
                                signed_in(request).user, uploads(request))
    except DomainError as error:
        refuse(request)
        return {**task_show(task, request), "attachment_errors": form_errors(error)}
    flash(request, _("${n} file(s) attached.", mapping={"n": len(added)}))
    return HTTPSeeOther(request.resource_url(task, anchor="attachments"))


@web_view(context=AttachmentContainer, permission=Permission.VIEW, request_method="GET")
def attachment_container(context: AttachmentContainer, request: Request) -> HTTPSeeOther:
    return redirect(request, context.task, anchor="attachments")


@web_view(context=AttachmentResource, name="download", permission=Permission.VIEW,
          request_method="GET")
def attachment_download(context: AttachmentResource, request: Request) -> Response:
    return attachment_response(request, store_of(request.registry), context.row)


@web_view(context=AttachmentResource, name="thumbnail", permission=Permission.VIEW,
          request_method="GET")
def attachment_thumbnail(context: AttachmentResource, request: Request) -> Response:
    if not context.row.thumbnail_sha256:
        raise HTTPNotFound()
    return attachment_response(request, store_of(request.registry), context.row,
                               thumbnail=True)


@web_view(context=AttachmentResource, name="delete", permission=Permission.DELETE_ATTACHMENT,
          request_method="POST")
def attachment_remove(context: AttachmentResource, request: Request) -> HTTPSeeOther:
    name = context.row.filename
    delete_attachment(request.dbsession, context.row, signed_in(request).user)
    flash(request, _("${name} deleted.", mapping={"name": name}))
    return redirect(request, context.task, anchor="attachments")
