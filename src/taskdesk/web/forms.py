"""Glue between HTML forms and the domain layer: flash messages, errors, redirects."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import Localizer
from pyramid.renderers import render_to_response
from pyramid.request import Request
from pyramid.response import Response

from taskdesk.domain.errors import DomainError, DuplicateError, ValidationError


def flash(request: Request, message: Any, queue: str = "success", *,
          localizer: Localizer | None = None) -> None:
    """Queue ``message`` (a TranslationString or text), translated now for the next page
    (by ``localizer`` when the page after will be in another language than this one)."""
    request.session.flash(str((localizer or request.localizer).translate(message)), queue)


def redirect(request: Request, resource: Any, *elements: str, **kw: Any) -> HTTPSeeOther:
    """POST-redirect-GET to ``resource`` (303, so the browser follows with a GET)."""
    return HTTPSeeOther(request.resource_url(resource, *elements, **kw))


def form_errors(error: DomainError) -> dict[str, Any]:
    """Field -> message for a form; a refusal without a field goes under ``""``."""
    if isinstance(error, ValidationError):
        return dict(error.fields)
    if isinstance(error, DuplicateError):
        return {error.field: error.message}
    return {"": error.message}


def form_values(request: Request, names: Iterable[str]) -> dict[str, str]:
    """The submitted text of ``names``, to pass to the domain and to show back unchanged
    when a form is refused. A field the form did not post (an unticked box, a control the
    user may not use) is left out, so a partial update leaves it alone."""
    return {name: request.POST[name] for name in names if name in request.POST}


def refuse(request: Request, status: int = 400) -> None:
    """Mark the response as a refusal, so pyramid_tm's commit veto rolls everything back."""
    request.response.status = status


#: The field a destructive form carries once the user has confirmed it.
CONFIRMED_FIELD = "confirmed"


def confirmed(request: Request) -> bool:
    """Whether a destructive POST was confirmed (by the dialog or the confirmation page)."""
    return bool(request.POST.get(CONFIRMED_FIELD) == "yes")


def confirmation(request: Request, *, title: Any, message: Any, button: Any, cancel_url: str,
                 subject: str = "", fields: Iterable[tuple[str, str]] | None = None,
                 nav: str = "") -> Response:
    """The page that asks to confirm a destructive action; its form posts to this URL again
    with the same ``fields`` (by default what was posted) and ``confirmed=yes``.

    With JavaScript a dialog asks before the form is sent (``data-confirm`` on the form), so
    this page is what a browser without it, or a link to the action, shows. Nothing changes
    until the confirmed form comes back.
    """
    if fields is None:
        fields = [(name, value) for name, value in request.POST.items()
                  if name not in ("csrf_token", CONFIRMED_FIELD)]
    translate = request.localizer.translate
    return render_to_response("confirm.jinja2", {
        "nav": nav,
        "title": translate(title),
        "message": translate(message),
        "button": translate(button),
        "subject": subject,
        "fields": list(fields),
        "action": request.path_url,
        "cancel_url": cancel_url,
    }, request=request)
