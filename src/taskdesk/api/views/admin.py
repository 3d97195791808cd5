"""Site administration over the API (site admins only): the permission explainer."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

from taskdesk.api.operations import api_view
from taskdesk.api.paging import bad_parameters, query_params
from taskdesk.domain.errors import ValidationError
from taskdesk.resources import Explainer
from taskdesk.security.explain import EXPLAIN_QUERY, Explanation, explain, read_question
from taskdesk.security.permissions import Permission


def _json(request: Request, answer: Explanation) -> dict[str, Any]:
    translate = request.localizer.translate
    return {"user": answer.user.username, "path": answer.path,
            "permission": answer.permission.value, "allowed": answer.allowed,
            "decision": translate(answer.decision), "ace": answer.ace,
            "grants": [translate(grant) for grant in answer.grants],
            "notes": [translate(note) for note in answer.notes], "what_if": None}


@api_view(context=Explainer, method="GET", permission=Permission.ADMINISTER,
          summary="Why a user may, or may not, do something (site admins)",
          response="Explanation", query=EXPLAIN_QUERY,
          description="Asks the security policy itself, for the principals the user would "
          "have, on the resource `path` names; `decision` and `ace` name the ACL entry that "
          "decided. With `if_role`, `if_join` or `if_leave`, `what_if` is the answer after "
          "that change, made in a savepoint that is rolled back: nothing changes.")
def explain_show(context: Explainer, request: Request) -> dict[str, Any]:
    try:
        question = read_question(request, query_params(request), strict=True)
    except ValidationError as error:
        raise bad_parameters(error.fields) from None
    body = _json(request, explain(request, question.user, question.path, question.permission,
                                  resource=question.resource))
    if question.change is not None:
        body["what_if"] = _json(request, explain(request, question.user, question.path,
                                                 question.permission, question.change))
    return body
