"""Glue between HTML forms and the domain layer: flash messages, errors, redirects."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import Localizer
from pyramid.request import Request

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
