"""Site administration: the security audit log and the permission explainer (site admins).

Both are pages driven by GET parameters, so an answer can be bookmarked or sent to a
colleague ("why can 李娜 edit #42?"). The explainer's "what if" writes, but only inside a
savepoint it rolls back (``security.explain``).
"""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

from taskdesk.domain import audit
from taskdesk.domain.errors import ValidationError
from taskdesk.resources import AuditLog, Explainer
from taskdesk.security.explain import EXPLAIN_QUERY, explain, read_question
from taskdesk.security.permissions import Permission
from taskdesk.settings import settings_of
from taskdesk.web.declare import web_view
from taskdesk.web.forms import form_errors

#: Entries per page of the audit log.
PAGE_SIZE = 50


@web_view(context=AuditLog, renderer="admin/audit.jinja2", request_method="GET",
          permission=Permission.ADMINISTER)
def audit_log(context: AuditLog, request: Request) -> dict[str, Any]:
    form = {key: request.GET.get(key, "") for key in audit.AUDIT_QUERY.form_keys}
    page: dict[str, Any] = {"nav": "admin", "form": form, "errors": {}, "rows": [],
                            "next_before": None, "kinds": audit.LABELS,
                            "filtered": any(form.values())}
    try:
        values = audit.AUDIT_QUERY.read(request.GET, None)
    except ValidationError as error:
        request.response.status = 400
        page["errors"] = form_errors(error)
        return page
    filters = audit.AuditFilter(values.get("kind"), values.get("actor"), values.get("since"),
                                values.get("until"))
    rows = audit.browse(request.dbsession, filters, before=values.get("before", 0),
                        limit=PAGE_SIZE + 1)
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        page["next_before"] = rows[-1].entry.id
    page["rows"] = rows
    return page


@web_view(context=Explainer, renderer="admin/explain.jinja2", request_method="GET",
          permission=Permission.ADMINISTER)
def explain_page(context: Explainer, request: Request) -> dict[str, Any]:
    form = {key: request.GET.get(key, "") for key in EXPLAIN_QUERY.form_keys}
    page: dict[str, Any] = {
        "nav": "admin", "form": form, "errors": {}, "answer": None, "whatif": None,
        "permissions": list(Permission), "roles": sorted(settings_of(request.registry).roles),
    }
    if not any(form.values()):
        return page
    try:
        question = read_question(request, request.GET)
    except ValidationError as error:
        request.response.status = 400
        page["errors"] = form_errors(error)
        return page
    page["answer"] = explain(request, question.user, question.path, question.permission,
                             resource=question.resource)
    if question.change is not None:
        page["whatif"] = explain(request, question.user, question.path, question.permission,
                                 question.change)
    return page
