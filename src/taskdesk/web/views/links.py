"""Links between tasks on the task page: add one (kind and ``#12`` or ``project#12``), remove
one. Forms that htmx sends in the background where it can; each answers with the task page
(after a redirect), whose ``#links`` section htmx swaps in."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request

from taskdesk.domain.errors import DomainError
from taskdesk.domain.links import add_link, remove_link
from taskdesk.messages import _
from taskdesk.resources import TaskLinkResource, TaskLinks, TaskResource
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import signed_in
from taskdesk.web.declare import web_view
from taskdesk.web.forms import flash, form_errors, form_values


def _back(request: Request, task: TaskResource) -> HTTPSeeOther:
    return HTTPSeeOther(request.resource_url(task, anchor="links"))


@web_view(context=TaskLinks, permission=Permission.EDIT_TASK, request_method="POST")
def task_link_add(context: TaskLinks, request: Request) -> HTTPSeeOther:
    task = context.task
    try:
        add_link(request.dbsession, task.row, signed_in(request).user,
                 form_values(request, ("kind", "task")))
    except DomainError as error:
        # Nothing was written: the refusal is told on the task page, like a success.
        translate = request.localizer.translate
        flash(request, " ".join(translate(message) for message in form_errors(error).values()),
              "error")
    else:
        flash(request, _("Link added."))
    return _back(request, task)


@web_view(context=TaskLinkResource, name="delete", permission=Permission.EDIT_TASK,
          request_method="POST")
def task_link_remove(context: TaskLinkResource, request: Request) -> HTTPSeeOther:
    remove_link(request.dbsession, context.task.row, signed_in(request).user, context.row)
    flash(request, _("Link removed."))
    return _back(request, context.task)


@web_view(context=TaskLinks, permission=Permission.VIEW, request_method="GET")
def task_links_page(context: TaskLinks, request: Request) -> HTTPSeeOther:
    """The links are shown on the task page."""
    return _back(request, context.task)
