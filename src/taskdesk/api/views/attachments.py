"""A task's attachments: list, upload (``multipart/form-data``, one or more ``file``
parts), show, download, thumbnail, delete. Reading needs ``view`` on the task (404 for
those who cannot see it, like the task); uploading ``comment``; deleting the uploader's own
right or ``delete_attachment``."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPNotFound
from pyramid.request import Request
from pyramid.response import Response

from taskdesk.api.errors import ApiError
from taskdesk.api.operations import api_view
from taskdesk.api.paging import id_page, next_url, page, simple_list
from taskdesk.api.representations import Urls, attachment_json
from taskdesk.api.support import actor, created, no_content, settings
from taskdesk.domain import attachments
from taskdesk.downloads import attachment_response
from taskdesk.messages import _
from taskdesk.models import Attachment
from taskdesk.resources import AttachmentContainer, AttachmentResource
from taskdesk.security.actions import allowed_actions, attachment_actions
from taskdesk.security.permissions import Permission
from taskdesk.storage import store_of
from taskdesk.uploads import is_multipart, uploads


def _json(request: Request, container: AttachmentContainer, row: Attachment,
          allowed: list[str]) -> dict[str, Any]:
    task = container.task
    return attachment_json(Urls(request), task.project.row.slug, task.row.number, row,
                           attachments.inline(row), allowed)


@api_view(context=AttachmentContainer, method="GET", permission=Permission.VIEW,
          summary="The task's attachments (its comments' included), oldest first",
          response="AttachmentList", query="page", conditional=True)
def attachment_list(context: AttachmentContainer, request: Request) -> Response:
    params, paging_, after = simple_list(request)
    rows, cursor = id_page(
        attachments.task_attachments(request.dbsession, context.task.row.id, after=after,
                                     limit=paging_.limit + 1, offset=paging_.offset),
        paging_,
    )
    allowed = attachment_actions(request, context)
    items = [_json(request, context, row, allowed(row.uploader_id)) for row in rows]
    return page(request, items, next_url(request, params, paging_, cursor))


@api_view(context=AttachmentContainer, method="POST", permission=Permission.COMMENT,
          summary="Upload one or more files to the task", response="AttachmentsCreated",
          status=201, files="file",
          description="`multipart/form-data` with one or more `file` parts (all are "
          "attached, or none: 422 names the field `file`). Limits: "
          "taskdesk.attachments.max_file_bytes per file, max_project_bytes per project, the "
          "types in taskdesk.attachments.types (sniffed from the bytes), images at most "
          "50 megapixels; a body past taskdesk.max_upload_bytes gets 413 before it is read.")
def attachment_create(context: AttachmentContainer, request: Request) -> dict[str, Any]:
    if not is_multipart(request):
        raise ApiError(415, "unsupported_media_type",
                       _("Send the files as multipart/form-data, in parts named file."))
    task = context.task
    added = attachments.add_attachments(
        request.dbsession, store_of(request.registry), settings(request), task.row,
        actor(request), uploads(request))
    allowed = attachment_actions(request, context)
    items = [_json(request, context, row, allowed(row.uploader_id)) for row in added]
    return created(request, {"items": items}, items[0]["url"])


@api_view(context=AttachmentResource, method="GET", permission=Permission.VIEW,
          summary="One attachment", response="Attachment")
def attachment_show(context: AttachmentResource, request: Request) -> dict[str, Any]:
    return _json(request, context.__parent__, context.row, allowed_actions(request, context))


@api_view(context=AttachmentResource, method="DELETE", permission=Permission.DELETE_ATTACHMENT,
          summary="Delete an attachment (the uploader's own, or any for managers)",
          response=None, status=204)
def attachment_delete(context: AttachmentResource, request: Request) -> Response:
    attachments.delete_attachment(request.dbsession, context.row, actor(request))
    return no_content()


@api_view(context=AttachmentResource, name="download", method="GET",
          permission=Permission.VIEW, response=None, binary=True,
          summary="The file's bytes: raster images inline, everything else as an "
          "attachment (Content-Disposition with the UTF-8 name, nosniff, a sandboxing CSP)")
def attachment_download(context: AttachmentResource, request: Request) -> Response:
    return attachment_response(request, store_of(request.registry), context.row)


@api_view(context=AttachmentResource, name="thumbnail", method="GET",
          permission=Permission.VIEW, response=None, binary=True,
          summary="A PNG thumbnail of an image attachment (404 for other files)")
def attachment_thumbnail(context: AttachmentResource, request: Request) -> Response:
    if not context.row.thumbnail_sha256:
        raise HTTPNotFound()
    return attachment_response(request, store_of(request.registry), context.row,
                               thumbnail=True)
